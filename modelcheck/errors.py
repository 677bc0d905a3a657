"""Spec errors: one table of every error the front end can raise, and how they are shown.

The error reference in docs/errors.md is generated from ERRORS, so the two cannot drift.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .ir import Span


@dataclass(frozen=True)
class ErrorKind:
    code: str
    title: str
    example: str      # a spec fragment that triggers it
    fix: str          # what to write instead


def _lines(items: list[str], per_line: int) -> str:
    return "\n".join(" ".join(items[i:i + per_line]) for i in range(0, len(items), per_line))


# f0 -> f1 -> ... -> f65: one call deeper than the 64 allowed
_CHAIN_EXAMPLE = _lines([f"fn f{i} {{ f{i + 1}(); }}" for i in range(65)] + ["fn f65 { }"], 5) + \
    "\nmodule m loadable { init { f0(); } }"
# g15 calls g14 twice, ... : 2**15 inlined copies of g0
_DOUBLING_EXAMPLE = "fn g0 { }\n" + _lines([f"fn g{i} {{ g{i - 1}(); g{i - 1}(); }}" for i in range(1, 16)], 3) + \
    "\nmodule m loadable { init { g15(); } }"


ERRORS: dict[str, ErrorKind] = {e.code: e for e in (
    ErrorKind("E100", "syntax error",
              'module m loadable { init { x = ; } }',
              "complete the statement; the message lists the tokens that may come next"),
    ErrorKind("E101", "unexpected character",
              'spec "x" $',
              "remove the character; comments start with # or //"),
    ErrorKind("E102", "unexpected end of file",
              'module m loadable {',
              "close every { with a matching }"),
    ErrorKind("E103", "nesting too deep",
              "invariant i :\n  " + "not " * 100 + "true;",   # two lines: one caret, not 400
              "split the expression or block into named fns, properties or variables"),
    ErrorKind("E104", "spec is not a regular file",
              "(a FIFO, a device such as /dev/zero, or a socket given as a spec)",
              "give the path of a .probe file; a spec is read only from a regular file"),
    ErrorKind("E105", "spec file too large",
              "(a .probe file over 1 MiB)",
              "split the design into several specs; a spec describes a few modules, not a tree"),
    ErrorKind("E106", "integer literal too large",
              "platform p : int 0..99999999999999999999999;",
              "literals are at most 2**64 - 1 (0xffffffffffffffff); use a smaller range"),
    ErrorKind("E107", "function calls nested too deeply",
              _CHAIN_EXAMPLE,
              "functions are inlined; call at most 64 deep, or flatten the chain into fewer functions"),
    ErrorKind("E108", "spec too large once its functions are inlined",
              _DOUBLING_EXAMPLE,
              "functions are inlined at every call: share work through a work item or a loop "
              "instead of calling a function from many places at many levels"),
    ErrorKind("E200", "unknown name",
              'module m loadable { init { flag = true; } }',
              "declare the name first (var, work, workqueue, config, platform, range, ...) or fix its spelling"),
    ErrorKind("E201", "name declared twice",
              'platform p : bool;\nplatform p : bool;',
              "give each declaration its own name; names are global to the spec"),
    ErrorKind("E202", "wrong kind of name",
              'config C : bool;\nmodule m loadable { init { flush_work(C); } }',
              "pass the kind of object the primitive takes (the message names it)"),
    ErrorKind("E203", "unknown primitive or function",
              'module m loadable { init { flush_wrok(w); } }',
              "use one of the primitives listed in docs/language.md, or declare `fn NAME { ... }`"),
    ErrorKind("E204", "wrong number of arguments",
              'module m loadable { work w; init { flush_work(w, w); } }',
              "pass exactly the arguments the primitive takes"),
    ErrorKind("E205", "type mismatch",
              'module m loadable { var n : int 0..3 = 0; init { if n + true { } } }',
              "compare integers with == or < to get a condition; use true/false for booleans"),
    ErrorKind("E206", "value outside the declared range",
              'module m loadable { var n : int 0..3 = 7; }',
              "pick an initial value inside the range, or widen the range"),
    ErrorKind("E207", "expect names an unknown property",
              'expect violation no_such_property;',
              "name a built-in property (docs/language.md lists them) or one declared with invariant/final/assert"),
    ErrorKind("E208", "recursive function call",
              'fn a { a(); }\nmodule m loadable { init { a(); } }',
              "function bodies are inlined; rewrite the recursion as a bounded `for` loop"),
    ErrorKind("E209", "module dependency cycle",
              'module a loadable { uses b; }\nmodule b loadable { uses a; }',
              "symbol dependencies must form a DAG, as depmod requires"),
    ErrorKind("E210", "unknown initcall level",
              'builtin b { initcall early_boot { } }',
              "use one of: pure core postcore arch subsys fs rootfs device late, optionally with _sync"),
    ErrorKind("E211", "invalid Kconfig value",
              'config C : bool = m;',
              "a bool option is y or n; a tristate option is y, m or n"),
    ErrorKind("E212", "statement out of place",
              'module m loadable { init { continue; } }',
              "use `continue` only inside `for`, and the named primitive only where the message says"),
    ErrorKind("E213", "unknown error code",
              'module m loadable { init { return -EWHATEVER; } }',
              "use one of -EPROBE_DEFER -EBUSY -ENODEV -ENOMEM -ENXIO -ENOENT -EINVAL -EIO -EEXIST"),
    ErrorKind("E214", "unknown property to disable",
              'disable no_such_check;',
              "name a built-in property: flush_uninitialized_work, queue_uninitialized_work, reinit_busy_work, "
              "queue_on_dead_workqueue, module_unload_leaks, value_in_range, no_double_claim, deadlock, livelock, "
              "hung_task"),
    ErrorKind("E215", "a spec must say what it models",
              'module m loadable { }',
              'start the file with spec "title" (and, optionally, source "where the design comes from")'),
    ErrorKind("E216", "Kconfig dependency the spec cannot follow",
              'config DEV_DAX_CXL : tristate;\nkconfig "Kconfig";   # where DEV_DAX_CXL depends on CXL_BUS',
              "declare every symbol the message lists, with the type it gives: `config NAME : tristate;` "
              "(`external` for one no file read defines)"),
    ErrorKind("E217", "built-in code uses a loadable module",
              'module provider loadable { }\nmodule importer builtin { uses provider; }',
              "make the provider builtin, or the importer loadable (vmlinux cannot call a module's "
              "exports); with Kconfig, the importer `depends on` the provider"),
    ErrorKind("E230", "per-device data named where no device is served",
              'module m loadable {\n  driver d { work w; probe { return 0; } }\n  device dev : d present;\n'
              '  init { register_driver(d); queue_work(system_wq, w); }\n}',
              "name a driver's per-device data only in its probe, its remove, the functions they call and "
              "the work functions of its own items; declare it at module level if the module shares it"),
    ErrorKind("E231", "per-device data of a driver that has no device",
              'module m loadable { driver d { var ready : bool; probe { return 0; } } }\n'
              'fn poke { ready = true; }',
              "declare a device of the driver (`device dev : d;`), or move the item to module level"),
    ErrorKind("E232", "function value used wrongly",
              'fn setup { }\nmodule m loadable { var err : int 0..9 = 0; init { err = setup(); } }',
              "declare the function's result (`fn setup -> int { ... return 0; }`), assign it to a variable "
              "of the same kind, and test the variable: `err = setup(); if err != 0 { ... }`"),
    ErrorKind("E233", "return without a value in a function that returns one",
              'fn setup -> int { return; }\nmodule m loadable { var err : int 0..9 = 0; init { err = setup(); } }',
              "write `return VALUE;`: `return 0;` on success, `return -ENOMEM;` (or another code) on failure"),
    ErrorKind("E234", "delayed work on a module's own workqueue",
              'module m loadable {\n  workqueue q : unordered;\n  delayed_work d = f;\n'
              '  init { alloc_workqueue(q); queue_delayed_work(q, d); }\n}\nfn f { }',
              "queue delayed work on a system workqueue (schedule_delayed_work, or "
              "queue_delayed_work(system_wq, ...)); on a module's workqueue the expiry's own queueing is not modelled"),
    ErrorKind("E235", "kthread_should_stop() outside a kernel thread",
              'module m loadable { var x : bool = false; init { if kthread_should_stop() { x = true; } } }',
              "ask kthread_should_stop() in the function a `kthread NAME = FN;` runs, or in a function it calls"),
    ErrorKind("E236", "a device with too few or too many instances",
              'module m loadable {\n  driver d { probe { } }\n  device d0 : d instances 9;\n'
              '  init { register_driver(d); platform_device_add(d0); }\n}',
              "write `instances N` with N from 1 to 4: as many devices as the scenario allocates for the "
              "name (each platform_device_alloc + platform_device_add); a run that needs more reports "
              "device_instances"),
    ErrorKind("E237", "one device named where the declaration has several instances",
              'module m loadable {\n  driver d { probe { } }\n  device d0 : d instances 2;\n'
              '  init { register_driver(d); platform_device_add(d0); device_lock(d0); }\n}',
              "device_add (the first instance), platform_device_add (the next one), device_del, unbind and "
              "bound() (every instance) take such a device; a statement about one "
              "struct device (bind, device_lock, device_link_add, get_device, ...) needs a device declared "
              "with one instance"),
    ErrorKind("E245", "a guard class that is not modelled",
              'builtin b { mutex lk; }\nfn f { guard(spinlock)(lk); }',
              "write guard(mutex)(NAME) for a mutex declared with `mutex NAME;`, or lock and unlock by hand"),
    ErrorKind("E246", "`holds` on a declaration other than a kref",
              'builtin b { mutex lk holds count; var count : int 0..3; }',
              "only a reference-counted object holds variables: write `kref NAME holds VAR, ...;` "
              "and keep the mutex as `mutex lk;`"),
    ErrorKind("E247", "kref_put without a release function",
              'builtin b { kref ref; }\nfn drop { kref_put(ref, ref); }',
              "pass the function that frees the object: `fn foo_release { ... }` (no parameter, no "
              "result), then `kref_put(ref, foo_release);`"),
    ErrorKind("E248", "a kref holds a name that is not its module's variable",
              'builtin b { kref ref holds len; }',
              "declare each held variable with `var` in the same module or built-in object as the "
              "kref, and name it in one kref's `holds` only"),
    ErrorKind("E249", "a device's parent that is not another single device",
              'module m loadable {\n  driver cd { probe { } }\n  device c0 : cd parent c0;\n}',
              "name another device declared with `device NAME : DRIVER;` after `parent`: parents and "
              "children are single devices"),
    ErrorKind("E250", "device parents that form a cycle",
              'module m loadable {\n  driver cd { probe { } }\n  device a0 : cd parent b0;\n'
              '  device b0 : cd parent a0;\n}',
              "make the parent relation a tree: a device cannot be its own ancestor"),
    ErrorKind("E251", "a device present at boot whose parent is not",
              'module m loadable {\n  driver cd { probe { } }\n  device p0 : cd;\n'
              '  device c0 : cd present parent p0;\n}',
              "mark the parent `present` too, or add the child with device_add() after its parent: "
              "device_add of a child whose parent has no sysfs directory fails with -ENOENT"),
    ErrorKind("E252", "need_parent_lock on a device whose driver may probe asynchronously",
              'module m loadable {\n  driver pd { probe { } }\n  driver cd : prefer_async { probe { } }\n'
              '  device p0 : pd present;\n  device c0 : cd present parent p0 need_parent_lock;\n}',
              "make the child's driver `: force_sync`, or drop need_parent_lock: the parent lock that "
              "__driver_attach_async_helper takes is not modelled"),
    ErrorKind("E253", "a declared supplier that is not another single device, or a pair linked twice",
              'module m loadable {\n  driver cd { probe { } }\n  device c0 : cd present;\n}\nsupplier c0 -> c0;',
              "write `supplier S -> C;` with two different devices declared `device NAME : DRIVER;`, and "
              "link each pair once: by the declaration or by device_link_add"),
    ErrorKind("E260", "a user-space request made from kernel code",
              'module m loadable { init { suspend(); } }',
              "call suspend() or reboot() in a `userspace NAME { }` block: they are writes to "
              "/sys/power/state and the reboot system call"),
    ErrorKind("E261", "a device link flag that is not modelled",
              'module m loadable {\n  driver sd { probe { } }\n  driver cd { probe { device_link_add(c0, s0, DL_FLAG_PM_RUNTIME); } }\n'
              '  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}',
              "write 0 or a `|` of DL_FLAG_STATELESS, DL_FLAG_AUTOREMOVE_CONSUMER, DL_FLAG_AUTOREMOVE_SUPPLIER, "
              "DL_FLAG_AUTOPROBE_CONSUMER; runtime PM, sync_state and fw_devlink flags are not modelled"),
    ErrorKind("E262", "device link flags that device_link_add rejects",
              'module m loadable {\n  driver sd { probe { } }\n'
              '  driver cd { probe { device_link_add(c0, s0, DL_FLAG_STATELESS | DL_FLAG_AUTOREMOVE_CONSUMER); } }\n'
              '  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}',
              "device_link_add returns NULL for DL_FLAG_STATELESS with a managed-link flag, and for "
              "DL_FLAG_AUTOPROBE_CONSUMER with DL_FLAG_AUTOREMOVE_*: keep one kind of flag"),
    ErrorKind("E263", "`|` outside the flags of device_link_add",
              'module m loadable { var x : int 0..3 = 0; init { x = 1 | 2; } }',
              "`|` only joins DL_FLAG_* names in device_link_add(consumer, supplier, FLAGS); use `or` for conditions"),
    ErrorKind("E264", "device_link_remove on a managed link",
              'module m loadable {\n  driver sd { probe { } }\n'
              '  driver cd { probe { device_link_add(c0, s0, 0); } remove { device_link_remove(c0, s0); } }\n'
              '  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}',
              "the kernel only warns and keeps a managed link: let DL_FLAG_AUTOREMOVE_CONSUMER or "
              "DL_FLAG_AUTOREMOVE_SUPPLIER drop it, or make it DL_FLAG_STATELESS"),
    ErrorKind("E265", "device links that link a device to itself or form a cycle",
              'module m loadable {\n  driver sd { probe { device_link_add(s0, c0, 0); } }\n'
              '  driver cd { probe { device_link_add(c0, s0, 0); } }\n  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}',
              "link the devices in one direction only: the kernel refuses the link that closes a cycle "
              "(device_is_dependent)"),
    ErrorKind("E266", "one pair of devices linked with different flags",
              'module m loadable {\n  driver sd { probe { } }\n'
              '  driver cd { probe { device_link_add(c0, s0, 0); } remove { device_link_add(c0, s0, DL_FLAG_STATELESS); } }\n'
              '  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}',
              "use the same flags at every device_link_add of one consumer and supplier"),
    ErrorKind("E267", "a device link to an element of a device array",
              'range r0 : soft_reserved @ 0x1000 .. 0x1fff;\nmodule m loadable {\n  driver sd { probe(r) { } }\n'
              '  driver cd { probe { device_link_add(c0, s, 0); } }\n  device c0 : cd present;\n'
              '  device s[r in soft_reserved] : sd;\n}',
              "declare the linked devices one by one: `device NAME : DRIVER;`"),
    ErrorKind("E268", "device links in a spec that suspends or reboots",
              'module m loadable {\n  driver sd { probe { } }\n  driver cd { probe { device_link_add(c0, s0, 0); } }\n'
              '  device c0 : cd present;\n  device s0 : sd present;\n  init { register_driver(sd); register_driver(cd); }\n}\nuserspace u { suspend(); }',
              "check the links and the suspend or reboot in separate specs: the dpm_list reordering of "
              "device_link_add is not modelled"),
    ErrorKind("E269", "a device names a driver twice, or too many drivers",
              'module m builtin {\n  driver a { probe { } }\n  device d0 : a, a present;\n}',
              "name each driver that can bind the device once, at most three of them: the walk over the "
              "bus's drivers is unrolled for each order they can be registered in"),
    ErrorKind("E270", "a match block that does more than test and return",
              'module m builtin {\n  driver a { match { return 2; } probe { } }\n  device d0 : a present;\n}',
              "a match only tests and returns: `if (...) { return -EPROBE_DEFER; }`, then `return 1;` "
              "(match) or `return 0;` (no match), on every path"),
    ErrorKind("E271", "several drivers for one device with a feature the walk does not model",
              'module m builtin {\n  driver a : prefer_async { probe { } }\n  driver b { probe { } }\n'
              '  device d0 : a, b present;\n}',
              "check that feature in a spec with one driver for the device: asynchronous probing, "
              "per-device data, suspend/resume/shutdown callbacks, register ranges in a driver named "
              "after the first, device arrays and sysfs bind are not modelled with several drivers"),
    ErrorKind("E273", "a probe that reaches itself",
              'module m builtin {\n  driver a { probe { register_driver(b); } }\n'
              '  driver b { probe { register_driver(a); } }\n  device d0 : a present;\n  device d1 : b present;\n'
              '  init { register_driver(a); }\n}',
              "probes are inlined where they can run; a probe whose body registers a driver or adds a "
              "device whose probe leads back to it nests without end: register or add outside the probe"),
    ErrorKind("E272", "DEBUG_TEST_DRIVER_REMOVE declared as a tristate",
              'config DEBUG_TEST_DRIVER_REMOVE : tristate;\nmodule m builtin { driver a { probe { } } device d0 : a present; }',
              "it is a bool in lib/Kconfig.debug: `config DEBUG_TEST_DRIVER_REMOVE : bool = y;` turns the "
              "test remove on, `: bool;` explores both"),
    ErrorKind("E277", "hotplug devices in a spec that suspends or reboots",
              'module m loadable {\n  driver d { probe { } }\n  hotplug device d0 : d;\n'
              '  init { register_driver(d); }\n}\nuserspace u { suspend(); }',
              "check the hotplug and the suspend or reboot in separate specs: a device added or deleted "
              "while dpm_list is walked is not modelled"),
    ErrorKind("E278", "device_add or device_del of a hotplug device in code",
              'module m loadable {\n  driver d { probe { } }\n  hotplug device d0 : d;\n'
              '  init { register_driver(d); device_add(d0); }\n}',
              "the platform adds and removes a hotplug device (thread `hotplug: NAME`): drop the call, "
              "or declare the device without `hotplug` to add and delete it from code"),
    ErrorKind("E279", "a hotplug device array, or one with instances, a parent, children or several drivers",
              'range r0 : soft_reserved @ 0x1000 .. 0x1fff;\nmodule m loadable {\n  driver d { probe(r) { } }\n'
              '  hotplug device h[r in soft_reserved] : d;\n}',
              "declare each hotplugged device on its own: `hotplug device NAME : DRIVER;`"),
    ErrorKind("E280", "leads_to without ~>",
              'module m loadable { var up : bool = false; init { up = true; } }\nleads_to up_stays : up -> up;',
              "write `leads_to NAME : A ~> B;`: whenever A holds, B holds then or later"),
    ErrorKind("E281", "liveness condition that cannot change",
              'eventually settles : true;',
              "name a condition on the spec's state (e.g. bound(dev0)); a constant one decides nothing"),
    ErrorKind("E300", "cannot read spec file",
              "(a path that does not exist)",
              "check the path; directories are searched for *.probe files"),
    ErrorKind("E301", "a needed package is missing",
              'kconfig "Kconfig";   # without kconfiglib installed',
              "install it: pip install kconfiglib (it is a dependency of modelcheck)"),
    ErrorKind("E302", "cannot read Kconfig file",
              'kconfig "/etc/passwd";',
              "name a file called Kconfig* inside the Kconfig tree: `kconfig \"drivers/Kconfig\" tree \"linux\";`"),
    ErrorKind("E303", "Kconfig parse error",
              'kconfig "Kconfig.bad";   # where a line is not Kconfig',
              "fix the Kconfig line the message names (file:line); kconfiglib parses what the kernel's kconfig does"),
    ErrorKind("E304", "Kconfig would run code or read the environment",
              'kconfig "Kconfig.shell";   # where KERNEL := $(shell,uname -r)',
              "point `kconfig` below the files that call $(shell,...), and give $(VAR) values with "
              "`kconfig \"FILE\" with VAR = \"value\";`"),
    ErrorKind("E305", "Kconfig construct modelcheck does not model",
              'config MODULES : bool;\nkconfig "Kconfig";',
              "fix the option the message names (`= y|m|n`) so its Kconfig lines are not needed, "
              "or rewrite the construct in bool/tristate logic"),
    ErrorKind("E306", "type differs from Kconfig",
              'config CXL_BUS : tristate;\nkconfig "Kconfig.types";   # where CXL_BUS is bool',
              "declare the option with the type its Kconfig entry has"),
    ErrorKind("E307", "option defined in no Kconfig file",
              'config CXL_PCII : tristate;\nkconfig "Kconfig.names";   # which defines CXL_PCI',
              "fix the name, or mark an option defined outside the files read: `config NAME : tristate external;`"),
    ErrorKind("E500", "cannot read C file",
              "modelcheck extract drivers/missing.c",
              "check the path; `extract` and `drift` read kernel C files given on the command line or by `models`"),
    ErrorKind("E501", "spec names no C to compare with",
              'module m loadable { init { } }   # checked with `modelcheck drift SPEC`',
              'name the C files the spec models: `models "drivers/dax/hmem/hmem.c";` (resolved against '
              '--tree), or give them after the spec: `modelcheck drift SPEC FILE.c`'),
    ErrorKind("E502", "choose() inside an expression",
              'builtin b { var x : bool = false; initcall device { x = choose(); } }',
              "write `if choose() { ... } else { ... }`: a choice is a whole `if` condition"),
)}


class SpecError(Exception):
    """An error in a spec, located at a span, with what to write instead."""

    def __init__(self, code: str, span: Optional[Span], message: str, hint: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.span = span
        self.message = message
        self.hint = hint if hint is not None else ERRORS[code].fix

    def render(self, source: Optional[str] = None) -> str:
        where = str(self.span) if self.span else "<spec>"
        lines = [f"{where}: error[{self.code}]: {self.message}"]
        if self.span and source is not None:
            text = source.split("\n")   # lark counts lines by \n only; splitlines() also splits on \f, \x1c, ...
            if 1 <= self.span.line <= len(text):
                line = text[self.span.line - 1].rstrip("\r").replace("\t", " ")
                width = 1
                if self.span.end_line == self.span.line and self.span.end_col > self.span.col:
                    width = self.span.end_col - self.span.col
                lines.append(f"  {self.span.line:4d} | {line}")
                lines.append(f"       | {' ' * (self.span.col - 1)}{'^' * width}")
        lines.append(f"  help: {self.hint}")
        return "\n".join(lines)
