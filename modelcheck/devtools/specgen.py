"""Random well-formed .probe specs, for differential testing of the engines.

`generate(rng)` builds one spec text from a `random.Random`-like object (anything with
`random`, `randint` and `choice`), so the same code serves hypothesis (`st.randoms()`) in
tests/spec_strategy.py and the soak run in `modelcheck.devtools.soak`.

What a spec may hold: one to three modules with `init` bodies (loadable, built in, or `if`
an open tristate config), bool flags, work items with or without a static initializer,
init_work / queue_work / flush_work / cancel_work_sync, a driver whose probe returns 0 or
-EPROBE_DEFER and its device (with per-device data: a flag and a work item, delayed work,
timer or kthread, see device_data), claims on one or two soft_reserved ranges, requests and
mappings of one or two mmio register ranges (plain, and devm_* in the probe), a supplier and a
consumer joined by device_link_add or declared with `supplier S -> C;` (sizes 1-2, see
device_links), one device two drivers match (sizes 1-2, see several_drivers),
CONFIG_DEBUG_TEST_DRIVER_REMOVE (sizes 1-2), a parent and a child device
(sizes 1-2, see parent_child), a helper returning a value (sizes 1-2, see
returned_value), hotplug devices whose uevent loads their
driver's module (sizes 1-2, see hotplug), suspend/resume/
shutdown callbacks with a `suspend()` or `reboot()` from user space, the deferred-probe
timeout (`deferred_probe_timeout`, `driver_deferred_probe_check_state()`), a platform bool
fact, `uses` lines (acyclic), `exit` bodies, userspace threads (flag writes, work, reloads:
`rmmod(m); modprobe(m);`), asserts, cycles in the state graph (a work function that re-queues
its own work item, always or while a flag holds), invariants and finals over the flags, and
(`_SyncGen`) mutexes, rw-semaphores, completions and wait queues of a built-in object
(interruptible and killable waits, krefs and get_device/put_device at sizes 1 and 2 only).
Size 0 (CI's differential test against Z3) leaves out exits, userspace threads of its own,
asserts and cycles, which make the Z3 engines slow or inconclusive; sizes 1 and 2 (the soak,
and CI's comparison of reduced with unreduced search) hold them all. Sizes are kept small so
that the Z3 engines decide most specs within a few seconds.
"""
from __future__ import annotations

import random
import zlib

from dataclasses import dataclass, field


@dataclass
class GeneratedSpec:
    text: str
    flags: list[str] = field(default_factory=list)     # the user variables (bool flags)


USER_THREADS = 2     # userspace threads per random spec, the suspend and unbind threads included


class _Gen:
    def __init__(self, rng, size: int, choices: bool = False):
        self.r = rng
        self.size = size
        self.choices = choices                     # some `if`s are `if choose()`
        self.flags: list[str] = []
        self.works: list[tuple[str, bool]] = []   # name, has a static initializer
        self.work_fns: list[str] = []
        self.ranges: list[str] = []
        self.registers: list[str] = []            # mmio ranges (overlapping when two)
        self.pm_request = None                     # "suspend" or "reboot" from user space, or None
        self.probe_timeout = False                 # False: no timeout primitives; else the option's value
        self.platform = None
        self.config = None
        self.driver = None
        self.device = None
        self.device_present = True
        self.sync: "_SyncGen | None" = None
        self.asserts = 0

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def cond(self) -> str:
        atoms = list(self.flags)
        if self.platform:
            atoms.append(self.platform)
        atom = self.r.choice(atoms)
        return f"not {atom}" if self.chance(0.3) else atom

    def stmt(self, owner: str, depth: int = 0) -> str:
        kinds = ["assign", "assign"] + (["assert"] if self.size >= 1 else [])
        if self.works:
            kinds += ["queue", "flush", "cancel", "init_work"]
        if self.ranges and owner.startswith("m"):
            kinds.append("claim")
        if self.registers and owner.startswith("m"):
            kinds.append("register")
        if depth == 0 and self.size >= 1:
            kinds.append("if")
        if self.sync and depth == 0 and self.sync.budget > 0:
            kinds += ["sync", "sync"]
        kind = self.r.choice(kinds)
        if kind == "sync":
            return self.sync.stmt(lambda: self.stmt(owner, depth + 1))
        if kind == "assert":
            self.asserts += 1
            return f"assert a{self.asserts} : {self.prop_expr()};"
        if kind == "assign":
            value = self.r.choice(["true", "false", self.cond()])
            return f"{self.r.choice(self.flags)} = {value};"
        if kind == "if":
            then = self.stmt(owner, depth + 1)
            cond = "choose()" if self.choices and self.chance(0.3) else self.cond()   # a condition left open
            if self.chance(0.4):
                return f"if {cond} {{ {then} }} else {{ {self.stmt(owner, depth + 1)} }}"
            return f"if {cond} {{ {then} }}"
        if kind == "claim":
            rng = self.r.choice(self.ranges)
            if self.chance(0.4):
                return f"{self.r.choice(self.flags)} = claim({rng}, {owner});"
            return f"claim({rng}, {owner});"
        if kind == "register":
            return register_stmt(self, owner)
        work = self.r.choice(self.works)[0]
        if kind == "queue":
            if self.size >= 1 and self.chance(0.3):    # the soak's sizes only: size 0 draws as before
                return f"schedule_work({work});"
            return f"queue_work(system_wq, {work});"
        if kind == "flush":
            return f"flush_work({work});"
        if kind == "cancel":
            return f"cancel_work_sync({work});"
        if kind == "init_work":
            return f"init_work({work}, fn_{work});"
        raise AssertionError(kind)

    def body(self, owner: str, lo: int, hi: int) -> list[str]:
        return [self.stmt(owner) for _ in range(self.r.randint(lo, hi))]

    def build(self) -> GeneratedSpec:
        r = self.r
        n_modules = r.randint(1, 2 if self.size <= 1 else 3)
        modules = [f"m{i}" for i in range(n_modules)]
        if self.chance(0.5):
            self.platform = "p0"
        if self.chance(0.35):
            self.config = "C0"
        if self.chance(0.5):
            self.ranges = ["sr0"] if self.chance(0.6) else ["sr0", "sr1"]
        if self.chance(0.3):
            self.registers = ["io0"] if self.chance(0.5) else ["io0", "io1"]
        if self.size >= 1 and self.chance(0.2):
            # the timeout adds a second deferred pass and a timeout work to every run (soak sizes only)
            self.probe_timeout = r.choice([None, -1, 0, 10])
        if self.size >= 1 and self.chance(0.2):
            # a suspend adds two passes over dpm_list to every run: too deep for foata's
            # share of CI time (size 0), so only the soak's larger sizes get one
            self.pm_request = r.choice(["suspend", "suspend", "reboot"])
        n_flags = r.randint(1, 2 if self.size <= 1 else 3)
        self.flags = [f"f{i}" for i in range(n_flags)]
        flag_home = {f: r.choice(modules) for f in self.flags}
        n_works = r.choice([0, 1, 1] if self.size <= 1 else [0, 1, 1, 2])
        self.works = [(f"w{i}", self.chance(0.5)) for i in range(n_works)]
        work_home = {w: r.choice(modules) for w, _ in self.works}
        if self.chance(0.45):
            self.driver, self.device = "d0", "dev0"
            # a device_add racing register_driver doubles the binding paths the Z3 engines
            # unroll: size 0 (CI) keeps its devices present from boot
            self.device_present = self.chance(0.6) or self.size == 0
        driver_home = r.choice(modules)

        # Locks beside a device make lockdep pairs with its device lock, which slows the Z3
        # engines most: size 0 (CI) has none of those, so its specs stay decided within seconds.
        sync_chance = 0.4 if self.size > 0 else (0.0 if self.driver else 0.35)
        if self.chance(sync_chance):
            self.sync = _SyncGen(self)
        extra_fns: list[str] = []
        lines = ['spec "random differential spec"']
        if self.platform:
            lines.append(f"platform {self.platform} : bool;")
        if self.config:
            lines.append(f"config {self.config} : tristate;")
        if self.probe_timeout is not False and self.probe_timeout is not None:
            lines.append(f"deferred_probe_timeout {self.probe_timeout};")
        if self.ranges and self.chance(0.5):
            lines.append("dax_regions exclusive;")      # a second overlapping claim fails: races show
        for i, name in enumerate(self.ranges):
            lo = 0x1000 * (i + 1)
            lines.append(f"range {name} : soft_reserved @ {hex(lo)} .. {hex(lo + 0xfff)};")
        for i, name in enumerate(self.registers):       # io1 lies inside io0: requests conflict
            lo = 0xfe000000 + 0x800 * i
            lines.append(f"range {name} : mmio @ {hex(lo)} .. {hex(0xfe000fff)};")
        if self.sync:
            lines += self.sync.declarations()
        # the config's module is the last one, so `uses` (towards lower numbers) stays acyclic
        config_module = modules[-1] if self.config else None
        modes = {mod: f"if {self.config}" if mod == config_module else r.choice(["loadable", "loadable", "builtin"])
                 for mod in modules}
        for i, mod in enumerate(modules):
            mode = modes[mod]
            members = []
            # built-in code links only against built-in providers (E217 otherwise)
            providers = [p for p in modules[:i] if mode != "builtin" or modes[p] == "builtin"]
            if providers and self.chance(0.4):
                members.append(f"uses {r.choice(providers)};")
            members += [f"var {f} : bool = false;" for f in self.flags if flag_home[f] == mod]
            for w, static in self.works:
                if work_home[w] == mod:
                    members.append(f"work {w} = fn_{w};" if static else f"work {w};")
            init = self.body(mod, 1, 1 + self.size)
            if self.sync and self.sync.budget > 0 and self.chance(0.7):   # declared primitives get used
                init.append(self.sync.stmt(lambda: self.stmt(mod, 1)))
            if self.driver and driver_home == mod:
                probe = self.body(mod, 0, 1)
                if self.registers and self.chance(0.5):
                    probe.insert(0, devm_register_stmt(self))
                if self.chance(0.5):
                    probe.append(deferral(self))
                data, data_probe, remove, data_fns = self.device_data()
                probe += data_probe
                probe.append("return 0;")
                remove_block = f" remove {{ {' '.join(remove)} }}" if remove is not None else ""
                members.append(f"driver {self.driver} {{ {' '.join(data)} probe {{ {' '.join(probe)} }}{remove_block}"
                               f"{pm_callbacks(self)} }}")
                extra_fns += data_fns
                present = " present" if self.device_present else ""
                adds, instances = device_adds(self, init)
                members.append(f"device {self.device} : {self.driver}{present}{instances};")
                init.insert(r.randint(0, len(init)), f"register_driver({self.driver});")
                for add in adds:
                    init.insert(r.randint(0, len(init)), add)
            members.append("init { " + " ".join(init) + " }")
            if self.size >= 1 and mode != "builtin" and self.chance(0.4):
                members.append("exit { " + " ".join(self.body(mod, 0, 1)) + " }")
            lines.append(f"module {mod} {mode} {{")
            lines += ["  " + m for m in members]
            lines.append("}")
        for w, _ in self.works:
            lines.append(f"fn fn_{w} {{ {' '.join(self.work_body(w))} }}")
        lines += pm_request(self)
        linked = False
        if self.size >= 1 and self.pm_request is None:
            # a linked supplier and consumer (soak sizes only: the forced unbind of consumers
            # inlines one unbind in another, longer runs than CI's size-0 budget allows), drawn
            # from a generator of its own so that the rest of each seed's spec stays as it was
            main, self.r = self.r, random.Random(zlib.crc32("\n".join(lines).encode()))
            linked = self.chance(0.2)
            if linked:
                lines += device_links(self, sum(line.startswith("userspace ") for line in lines))
            if self.chance(0.2):
                lines += several_drivers(self, sum(line.startswith("userspace ") for line in lines))
            if self.driver and self.chance(0.2):
                # drivers/base/dd.c really_probe: remove and probe again after each successful probe
                lines.insert(1, f"config DEBUG_TEST_DRIVER_REMOVE : bool{self.r.choice(['', ' = y'])};")
            self.r = main
        if self.size >= 1:
            # a parent and a child device (soak sizes only), from a generator of its own too
            main, self.r = self.r, random.Random(zlib.crc32(("parent\n" + "\n".join(lines)).encode()))
            if self.chance(0.2):
                lines += parent_child(self, sum(line.startswith("userspace ") for line in lines))
            self.r = main
            # hotplug devices, likewise from a generator of their own, in specs without device
            # links or a parent and child: each adds threads, and together they take foata minutes
            main, self.r = self.r, random.Random(zlib.crc32(("hotplug\n" + "\n".join(lines)).encode()))
            parents = any(" parent " in line for line in lines)
            if self.pm_request is None and not linked and not parents and self.chance(0.2):
                lines += hotplug(self)
            self.r = main
        self.loadable = [m for m, line in zip(modules, [l for l in lines if l.startswith("module ")])
                         if " loadable " in line]
        lines += extra_fns
        self.user_threads = sum(line.startswith("userspace ") for line in lines)
        lines += self.extra_items(modules)
        if self.size >= 1:
            # a helper that returns a value, called from a user thread (soak sizes only), from a
            # generator of its own so the rest of each seed's spec stays as it was
            main, self.r = self.r, random.Random(zlib.crc32(("retval\n" + "\n".join(lines)).encode()))
            lines = returned_value(self, lines)
            self.r = main
        lines += self.properties()
        return GeneratedSpec(one_instance_if_named_alone("\n".join(lines) + "\n"), list(self.flags))

    def flag_writes(self) -> list[str]:
        return [f"{self.r.choice(self.flags)} = {self.r.choice(['true', 'false', self.cond()])};"
                for _ in range(self.r.randint(0, 1))]

    def work_body(self, work: str) -> list[str]:
        body = self.flag_writes()
        if self.size >= 1 and self.chance(0.25):   # a cycle: the work re-queues itself
            again = f"queue_work(system_wq, {work});"
            body.append(again if self.chance(0.4) else f"if {self.cond()} {{ {again} }}")
        return body

    def extra_items(self, modules: list[str]) -> list[str]:
        """Userspace threads (sizes 1-2), some reloading a loadable module or racing udev's load;
        at most USER_THREADS in all with the suspend and unbind threads (each one multiplies the
        interleavings, and the unreduced search the soak holds the engines to must stay small)."""
        r, lines = self.r, []
        wanted = 0 if self.size == 0 else r.choice([0, 1, 1, 2])
        for u in range(min(wanted, max(0, USER_THREADS - self.user_threads))):
            body = self.body(f"u{u}", 1, 1 + self.size)
            if self.loadable and self.chance(0.5):
                m = r.choice(self.loadable)
                body.insert(r.randint(0, len(body)), f"rmmod({m}); modprobe({m});"
                            if self.chance(0.6) else f"modprobe({m});")
            lines.append(f"userspace u{u} {{ {' '.join(body)} }}")
        return lines

    def properties(self) -> list[str]:
        out = []
        for i in range(self.r.randint(0, 2)):
            kind = self.r.choice(["invariant", "final"])
            out.append(f"{kind} {kind[:3]}{i} : {self.prop_expr()};")
        return out

    def device_data(self) -> tuple[list[str], list[str], list[str] | None, list[str]]:
        """Per-device data for the driver, half the time: a flag and a work item, delayed work,
        timer or kthread in the driver block, a probe that queues or arms it (and may wait for it, or fail),
        a remove that may cancel, flush or delete it, and a userspace unbind so remove runs. Returns (members, probe statements,
        remove body or None, extra top-level lines)."""
        if not self.chance(0.5):
            return [], [], None, []
        r = self.r
        kind = r.choice(["work", "delayed_work", "timer", "kthread"])
        members = ["var dv0 : bool = false;", f"{kind} dw0 = fn_dw0;"]
        arm, waits, stop = self.async_item_calls(kind)
        probe = [arm]
        if self.chance(0.4):
            probe.append(r.choice(waits))
        if self.chance(0.4):
            probe.append(f"if {self.cond()} {{ return -ENODEV; }}")
        remove = [r.choice(waits + stop + ["dv0 = false;"])] if self.chance(0.7) else []
        sleeps = "msleep(1); " if self.chance(0.3) else ""      # a sleeping timer callback: sleep_in_atomic
        fns = [f"fn fn_dw0 {{ {sleeps}dv0 = true; {r.choice(self.flags)} = dv0; }}"]
        if self.chance(0.6):
            fns.append(f"userspace unbinder {{ unbind({self.device}); }}")
        return members, probe, remove, fns

    def async_item_calls(self, kind: str) -> tuple[str, list[str], list[str]]:
        """For a work item, delayed work, timer or kthread named dw0: (the call that queues, arms or runs it,
        calls that wait for it, calls that stop it without waiting)."""
        if kind == "work":
            return "queue_work(system_wq, dw0);", ["cancel_work_sync(dw0);", "flush_work(dw0);"], []
        if kind == "delayed_work":
            arm = self.r.choice(["schedule_delayed_work(dw0);", "queue_delayed_work(system_wq, dw0);",
                                 "mod_delayed_work(system_wq, dw0);"])
            return arm, ["cancel_delayed_work_sync(dw0);", "flush_delayed_work(dw0);"], ["cancel_delayed_work(dw0);"]
        if kind == "kthread":
            return "kthread_run(dw0);", ["kthread_stop(dw0);"], []
        return ("mod_timer(dw0);", ["timer_delete_sync(dw0);", "timer_shutdown_sync(dw0);"], ["timer_delete(dw0);"])

    def prop_expr(self) -> str:
        a, b = self.r.choice(self.flags), self.cond()
        op = self.r.choice(["->", "or", "and"])
        return f"{a} {op} {b}" if self.chance(0.8) else f"not {a}"


def device_adds(gen: _Gen, init: list[str]) -> tuple[list[str], str]:
    """How a device that is not present is added: device_add; at sizes 1-2, from a generator of
    its own (so the rest of each seed's spec stays as it was), sometimes platform_device_add
    with `instances 1` or `2`, called once or twice (a second call past the bound is
    device_instances), or a second device_add (device_added_twice). Returns (the statements,
    the declaration's ` instances N` or "")."""
    if gen.device_present:
        return [], ""
    plain = [f"device_add({gen.device});"]
    if gen.size == 0:
        return plain, ""
    pick = random.Random(zlib.crc32(f"{gen.device} {' '.join(init)}".encode()))
    roll = pick.random()
    if roll < 0.1:
        return plain * 2, ""
    if roll < 0.4:
        n = pick.choice([1, 2])
        calls = pick.choice([1, 2])
        return [f"platform_device_add({gen.device});"] * calls, f" instances {n}" if n > 1 else ""
    return plain, ""


def one_instance_if_named_alone(text: str) -> str:
    """A device with `instances 2` that a statement about one struct device names (device_lock,
    a device link, get_device, ...: E237) goes back to one instance."""
    if " instances " not in text:
        return text
    from ..errors import SpecError
    from ..frontend import load_text
    try:
        load_text(text, file="random.probe")
    except SpecError as e:
        if e.code == "E237":
            return text.replace(" instances 2;", ";")
    return text


def register_stmt(gen: _Gen, owner: str) -> str:
    """A plain request, release or mapping of an mmio range by `owner` (kernel/resource.c)."""
    rng = gen.r.choice(gen.registers)
    kind = gen.r.choice(["request_mem_region", "request_mem_region", "release_mem_region", "ioremap", "iounmap"])
    if kind == "request_mem_region" and gen.chance(0.4):
        return f"{gen.r.choice(gen.flags)} = request_mem_region({rng}, {owner});"
    return f"{kind}({rng}, {owner});"


def devm_register_stmt(gen: _Gen) -> str:
    """A devres request in a probe body: released when the probe fails or the driver unbinds."""
    rng = gen.r.choice(gen.registers)
    func = gen.r.choice(["devm_request_mem_region", "devm_ioremap_resource"])
    if gen.chance(0.4):
        return f"{gen.r.choice(gen.flags)} = {func}({rng});"
    return f"{func}({rng});"


class _SyncGen:
    """Statements on sleeping locks, completions and wait queues. They belong to a built-in
    object, so any thread may use them at any time. Lock sections are mostly balanced; a stray
    unlock, a wait nobody may satisfy and opposite lock orders are left in on purpose, so that
    the lock checks and deadlock get both verdicts."""

    def __init__(self, gen: _Gen):
        self.g = gen
        kinds = ["mutex", "rwsem", "completion", "waitqueue"]
        if gen.size >= 1:   # reference counts at the soak's sizes only: size 0 (CI) draws as before
            kinds.append("kref")
        self.kinds = [gen.r.choice(kinds)]
        if gen.chance(0.3):
            self.kinds.append(gen.r.choice(kinds))
        self.mutexes = ["mx0", "mx1"] if "mutex" in self.kinds and gen.chance(0.4) else ["mx0"]
        self.budget = 2 + gen.size     # sync statements per spec: the Z3 engines stay within seconds

    def declarations(self) -> list[str]:
        members = []
        if "mutex" in self.kinds:
            members += [f"mutex {m};" for m in self.mutexes]
        if "rwsem" in self.kinds:
            members.append("rwsem rw0;")
        if "completion" in self.kinds:
            members.append("completion c0;")
        if "waitqueue" in self.kinds:
            members.append("waitqueue q0;")
        if "kref" in self.kinds:
            members.append("kref k0;")
        lines = ["builtin sync {"] + ["  " + m for m in members] + ["}"]
        if "kref" in self.kinds:
            lines.append("fn k0_release { }")
        return lines

    def stmt(self, inner) -> str:
        g, r = self.g, self.g.r
        self.budget -= 1
        kind = r.choice(self.kinds)
        flag = r.choice(g.flags)
        if kind == "mutex":
            m = r.choice(self.mutexes)
            shapes = ["section", "section", "nested", "guard", "trylock", "stray"]
            if g.size >= 1:   # the soak's sizes only: size 0 (CI) draws exactly as before
                shapes += ["interruptible", "interruptible_ignored"]
            shape = r.choice(shapes)
            if shape == "interruptible":
                call = r.choice(["mutex_lock_interruptible", "mutex_lock_killable"])
                return f"if not {call}({m}) {{ {inner()} mutex_unlock({m}); }}"
            if shape == "interruptible_ignored":   # the bug: a signal leaves it unheld, unlocked anyway
                return f"mutex_lock_interruptible({m}); {inner()} mutex_unlock({m});"
            if shape == "section":
                held = f" lockdep_assert_held({m});" if g.size >= 1 and g.chance(0.2) else ""
                return f"mutex_lock({m});{held} {inner()} mutex_unlock({m});"
            if shape == "nested":
                a, b = (self.mutexes * 2)[:2] if len(self.mutexes) > 1 else (m, None)
                if b is None:
                    return f"mutex_lock({m}); {inner()} mutex_unlock({m});"
                if g.chance(0.5):
                    a, b = b, a
                return f"mutex_lock({a}); mutex_lock({b}); {inner()} mutex_unlock({b}); mutex_unlock({a});"
            if shape == "guard":
                # the device lock, which probe and remove hold too; it makes lockdep pairs that
                # slow the Z3 engines, so only the larger sizes (the soak) take it
                if g.device and g.size > 0 and g.chance(0.3):
                    return f"{{ guard(device)({g.device}); {inner()} }}"
                return f"{{ guard(mutex)({m}); {inner()} }}"
            if shape == "trylock":
                if g.size >= 1 and g.chance(0.5):   # the C idiom: the call is the if's condition
                    return f"if mutex_trylock({m}) {{ {inner()} mutex_unlock({m}); }}"
                return f"{flag} = mutex_trylock({m}); if {flag} {{ {inner()} mutex_unlock({m}); }}"
            if g.size >= 1 and g.chance(0.4):   # include/linux/lockdep.h: holds only inside a section
                return f"lockdep_assert_held({m});"
            return f"mutex_unlock({m});"
        if kind == "rwsem":
            side = r.choice(["read", "read", "write", "trylock"])
            if side == "read":
                return f"down_read(rw0); {inner()} up_read(rw0);"
            if side == "write":
                return f"down_write(rw0); {inner()} up_write(rw0);"
            return f"{flag} = down_read_trylock(rw0); if {flag} {{ {inner()} up_read(rw0); }}"
        if kind == "completion":
            waits = ["complete(c0);", "complete(c0);", "complete_all(c0);", "reinit_completion(c0);",
                     f"{flag} = wait_for_completion_timeout(c0);", "wait_for_completion(c0);"]
            if g.size >= 1:
                waits += [f"if wait_for_completion_interruptible(c0) {{ {inner()} }}",
                          "wait_for_completion_killable(c0);"]
            return r.choice(waits)
        if kind == "kref":   # balanced or not: use_after_release and refcount_underflow get both verdicts
            if g.device and g.chance(0.3):
                return r.choice([f"get_device({g.device}); {inner()} put_device({g.device});",
                                 f"put_device({g.device});"])
            return r.choice([f"kref_get(k0); {inner()} kref_put(k0, k0_release);", "kref_get(k0);",
                             "kref_put(k0, k0_release);", f"{flag} = kref_put(k0, k0_release);",
                             f"{flag} = kref_get_unless_zero(k0); if {flag} {{ {inner()} kref_put(k0, k0_release); }}"])
        cond = g.cond()
        return r.choice(["wake_up(q0);", "wake_up(q0);", f"wait_event(q0, {cond});",
                         f"{flag} = wait_event_timeout(q0, {cond});"])


def deferral(gen: _Gen) -> str:
    """A probe that defers on a condition; with the timeout primitives in play, sometimes as an
    optional dependency that gives up once driver_deferred_probe_check_state() says so."""
    if gen.probe_timeout is not False and gen.chance(0.6):
        return (f"if {gen.cond()} {{ if driver_deferred_probe_check_state() == -EPROBE_DEFER "
                f"{{ return -EPROBE_DEFER; }} }}")
    return f"if {gen.cond()} {{ return -EPROBE_DEFER; }}"


LINK_FLAGS = ("0", "0", "DL_FLAG_STATELESS", "DL_FLAG_AUTOREMOVE_CONSUMER", "DL_FLAG_AUTOREMOVE_SUPPLIER",
              "DL_FLAG_AUTOPROBE_CONSUMER", "DL_FLAG_AUTOREMOVE_CONSUMER | DL_FLAG_AUTOREMOVE_SUPPLIER")


def device_links(gen: _Gen, user_threads: int) -> list[str]:
    """A supplier and a consumer device joined by device_link_add (drivers/base/core.c), made
    before the consumer can probe or in its probe, with flags of any valid kind, or declared
    with `supplier ls0 -> lc0;` (fw_devlink); probes and removes touch the flags, and a user
    thread may unbind one of them or unbind and rebind."""
    r = gen.r
    flags = r.choice(LINK_FLAGS)
    link = f"device_link_add(lc0, ls0, {flags});"
    in_probe = gen.chance(0.4)
    consumer_probe = gen.body("ml", 0, 1)
    if gen.chance(0.5):
        consumer_probe.insert(0, "if not bound(ls0) { return -EPROBE_DEFER; }")
    if in_probe:
        consumer_probe.append(link)
    init = ["register_driver(lc);", "register_driver(ls);"]
    r.shuffle(init)
    if not in_probe:
        init.insert(0, link)
    lines = ["module ml builtin {",
             f"  driver ls {{ probe {{ {' '.join(gen.body('ml', 0, 1))} }} remove {{ {' '.join(gen.body('ml', 0, 1))} }} }}",
             f"  driver lc {{ probe {{ {' '.join(consumer_probe)} }} remove {{ {' '.join(gen.body('ml', 0, 1))} }} }}",
             "  device ls0 : ls present;", "  device lc0 : lc present;",
             f"  init {{ {' '.join(init)} }}", "}"]
    if user_threads < USER_THREADS and gen.chance(0.6):
        lines.append("userspace relink { " + r.choice(["unbind(ls0);", "unbind(lc0); bind(lc0);",
                                                       "unbind(ls0); bind(ls0);"]) + " }")
    if gen.chance(0.25):
        # the same dependency declared in firmware instead (fw_devlink, semantics/fwdevlink.py),
        # drawn last so that the specs without it stay as they were
        lines = [line.replace(" " + link, "") for line in lines]
        lines.append("supplier ls0 -> lc0;")
    return lines


def parent_child(gen: _Gen, user_threads: int) -> list[str]:
    """A parent and a child device (`device pc0 : pc parent pp0`, semantics/parents.py): the
    child present at boot or added before or after its parent (device_add fails with -ENOENT
    before it), the bus's need_parent_lock or not, a parent remove that deletes the child or
    not, a child resume that checks its parent is awake; a user thread may unbind, rebind or
    delete one of them."""
    r = gen.r
    present = gen.chance(0.5)
    lock = " need_parent_lock" if gen.chance(0.5) else ""
    parent_remove = gen.body("mp", 0, 1) + (["device_del(pc0);"] if gen.chance(0.4) else [])
    child_pm = ""
    if gen.pm_request == "suspend":
        gen.asserts += 1
        child_pm = f" resume {{ assert a{gen.asserts} : not suspended(pp0); }}"
    init = ["register_driver(pp);", "register_driver(pc);"]
    r.shuffle(init)
    if not present:
        adds = ["device_add(pp0);", "device_add(pc0);"]
        if gen.chance(0.3):
            adds.reverse()                       # the child first: -ENOENT
        init += adds
    p_present = " present" if present else ""
    lines = ["module mp builtin {",
             f"  driver pp {{ probe {{ {' '.join(gen.body('mp', 0, 1))} }} remove {{ {' '.join(parent_remove)} }} }}",
             f"  driver pc {{ probe {{ {' '.join(gen.body('mp', 0, 1))} }} remove {{ {' '.join(gen.body('mp', 0, 1))} }}"
             f"{child_pm} }}",
             f"  device pp0 : pp{p_present};", f"  device pc0 : pc{p_present} parent pp0{lock};",
             f"  init {{ {' '.join(init)} }}", "}"]
    if user_threads < USER_THREADS and gen.chance(0.6):
        lines.append("userspace family { " + r.choice(["unbind(pp0);", "unbind(pc0); bind(pc0);",
                                                       "unbind(pp0); bind(pc0);", "device_del(pp0);"]) + " }")
    return lines


def several_drivers(gen: _Gen, user_threads: int) -> list[str]:
    """One device two drivers match (drivers/base/dd.c __device_attach walks the bus's drivers
    in registration order, a probe error lets the next one try, a match may return
    -EPROBE_DEFER), sometimes a driver_override, and a user thread that unbinds the device or
    unregisters a driver. Bodies are drawn with owner "xdrv": no range claims in them."""
    r = gen.r
    match = f" match {{ if {gen.cond()} {{ return -EPROBE_DEFER; }} return 1; }}" if gen.chance(0.4) else ""
    first = gen.body("xdrv", 0, 1)
    if gen.chance(0.5):
        first.insert(0, f"if {gen.cond()} {{ return {r.choice(['-ENODEV', '-ENOMEM', '-EPROBE_DEFER'])}; }}")
    init = ["register_driver(ma);", "register_driver(mb);"]
    r.shuffle(init)
    present = gen.chance(0.5)
    if not present:
        init.insert(r.randint(0, len(init)), "device_add(md0);")
    if gen.chance(0.3):
        init.insert(0, f"driver_override(md0, {r.choice(['ma', 'mb'])});")
    lines = ["module mm builtin {",
             f"  driver ma {{{match} probe {{ {' '.join(first)} }} remove {{ {' '.join(gen.body('xdrv', 0, 1))} }} }}",
             f"  driver mb {{ probe {{ {' '.join(gen.body('xdrv', 0, 1))} }} remove {{ {' '.join(gen.body('xdrv', 0, 1))} }} }}",
             f"  device md0 : ma, mb{' present' if present else ''};",
             f"  init {{ {' '.join(init)} }}", "}"]
    if user_threads < USER_THREADS and gen.chance(0.5):
        lines.append("userspace rebind { " + r.choice(["unbind(md0);", "unregister_driver(ma);",
                                                       "unregister_driver(mb); register_driver(mb);"]) + " }")
    return lines


def hotplug(gen: _Gen) -> list[str]:
    """One or two hotplug devices of a driver (semantics/hotplug.py): the platform adds and
    removes them after boot (drivers/base/core.c device_add, device_del), and when the driver's
    module is loadable and not manual their KOBJ_ADD uevent makes udev load it; the init
    registers the driver anywhere among statements that touch the flags, the probe and remove
    touch them too, and the driver may probe asynchronously; sometimes a property that the
    first device is bound whenever it is registered."""
    r = gen.r
    mode = r.choice(["loadable", "loadable", "builtin"])
    manual = "manual; " if mode == "loadable" and gen.chance(0.2) else ""
    probe_type = " : prefer_async" if gen.chance(0.3) else ""
    init = gen.body("mh", 0, 1)
    init.insert(r.randint(0, len(init)), "register_driver(hd);")
    devices = [f"  hotplug device hp{i} : hd{' present' if gen.chance(0.3) else ''};"
               for i in range(r.randint(1, 1 + (gen.size >= 2)))]
    # include/linux/device.h device_is_registered: "bound whenever plugged in"
    plugged = ["final hp0_bound_when_plugged : device_is_registered(hp0) -> bound(hp0);"] if gen.chance(0.5) else []
    return [f"module mh {mode} {{",
            f"  {manual}driver hd{probe_type} {{ probe {{ {' '.join(gen.body('mh', 0, 1))} }} "
            f"remove {{ {' '.join(gen.body('mh', 0, 1))} }} }}",
            *devices,
            f"  init {{ {' '.join(init)} }}", "}"] + plugged


def returned_value(gen: _Gen, lines: list[str]) -> list[str]:
    """Sometimes `fn rv0 -> bool` (a C helper's return value, as `ret = f();`), whose value the
    first user thread stores in a flag: lines with the call and the function added."""
    users = [i for i, line in enumerate(lines) if line.startswith("userspace u")]
    if not users or not gen.chance(0.3):
        return lines
    i = users[0]
    head, rest = lines[i].split("{", 1)
    call = f"{gen.r.choice(gen.flags)} = rv0();"
    out = list(lines)
    out[i] = f"{head}{{ {call}{rest}"
    return out + [f"fn rv0 -> bool {{ if {gen.cond()} {{ return true; }} return {gen.r.choice(['false', gen.cond()])}; }}"]


def pm_callbacks(gen: _Gen) -> str:
    """Suspend, resume and shutdown callbacks of the driver that touch the flags (drivers/base/power/main.c)."""
    if gen.pm_request is None:
        return ""
    out = ""
    for which in ("suspend", "resume", "shutdown"):
        if gen.chance(0.5):
            out += f" {which} {{ {gen.r.choice(gen.flags)} = {gen.r.choice(['true', 'false', gen.cond()])}; }}"
    return out


def pm_request(gen: _Gen) -> list[str]:
    """A user-space suspend-resume cycle or reboot, sometimes racing with a sysfs unbind."""
    if gen.pm_request is None:
        return []
    body = [f"{gen.pm_request}();"]
    if gen.device and gen.chance(0.4):
        body.insert(gen.r.randint(0, 1), f"unbind({gen.device});")
    return [f"userspace pm {{ {' '.join(body)} }}"]


class _LivenessGen(_Gen):
    """Specs whose executions may go on forever: work items that re-queue themselves (always,
    or while a flag says so: a retry loop), a userspace block (not scheduled eventually) that
    sets flags or queues work, and eventually / always_eventually / leads_to properties."""

    def work_body(self, work: str) -> list[str]:
        body = self.flag_writes()
        pick = self.r.random()
        if pick < 0.3:
            body.append(f"queue_work(system_wq, {work});")                       # re-queues forever
        elif pick < 0.7:
            body.append(f"if {self.cond()} {{ queue_work(system_wq, {work}); }}")   # a retry loop
        return body

    def extra_items(self, modules: list[str]) -> list[str]:
        if not self.chance(0.5):
            return []
        body = [f"{self.r.choice(self.flags)} = {self.r.choice(['true', 'false'])};"]
        if self.works and self.chance(0.5):
            body.append(f"queue_work(system_wq, {self.r.choice(self.works)[0]});")
        return ["userspace user { " + " ".join(body) + " }"]

    def properties(self) -> list[str]:
        out = []
        for i in range(self.r.randint(1, 3)):
            kind = self.r.choice(["eventually", "always_eventually", "leads_to"])
            if kind == "leads_to":
                out.append(f"leads_to lt{i} : {self.cond()} ~> {self.prop_expr()};")
            else:
                out.append(f"{kind} {kind[:2]}{i} : {self.prop_expr()};")
        return out


def generate_liveness(rng, size: int = 1) -> GeneratedSpec:
    """One random well-formed spec with liveness properties and possibly endless executions."""
    return _LivenessGen(rng, size).build()


def generate(rng, size: int = 1, choices: bool = False) -> GeneratedSpec:
    """One random well-formed spec; `size` 0 is tiny (CI), 1 small, 2 a little larger; with
    `choices`, some `if` conditions are `choose()` (the same random draws otherwise)."""
    return _Gen(rng, size, choices).build()
