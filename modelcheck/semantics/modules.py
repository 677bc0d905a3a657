"""Modules and initcalls (kernel-semantics.md §1, §2): boot order, modprobe, request_module,
symbol dependencies, unload and reload."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import FALSE, TRUE, Const, Expr, Wait, conj, disj, eq, neg
from ..syntax import ast
from .devdata import may_fail
from .context import ERRNO, ERRNO_NAMES, Frame, internal
from .exprs import arity
from .program import ThreadBuilder

if TYPE_CHECKING:
    from .compile import Compiler

LEVELS = ("pure", "core", "postcore", "arch", "subsys", "fs", "rootfs", "device", "late")
MODULE_STATES = ("unloaded", "coming", "live", "going")
UNLOADED, COMING, LIVE, GOING = range(4)

BOOT_DONE = internal("boot_done")
USERMODEHELPERS_ENABLED = internal("usermodehelpers_enabled")


def level_order() -> list[str]:
    """Each level, then its _sync variant (§1.1)."""
    return [name for level in LEVELS for name in (level, f"{level}_sync")]


class Modules:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.spec = compiler.spec
        self.modules = [m for m in self.spec.modules if not m.is_object]
        self.by_name = {m.name: m for m in self.spec.modules}

    # -- setup --
    def declare(self) -> None:
        for m in self.modules:
            for dep in m.uses:
                target = self.c.sym.require(dep, ("module",), m.span, "a module it imports symbols from")
                if target.decl.is_object:
                    raise SpecError("E202", m.span, f"{dep} is built-in code, always present; drop `uses {dep}`")
                self._require_linkable(m, target.decl)
            for dep in m.softdeps + m.post_softdeps:
                self.c.sym.require(dep, ("module",), m.span, "a module")
            if m.mode == "config":
                self.c.sym.require(m.config, ("config",), m.span, "a Kconfig option")
            self.c.ctx.var(f"{m.name}.state", 0, 3, UNLOADED, labels=MODULE_STATES, span=m.span)
        self._check_cycles()
        for m in self.spec.modules:
            for block in m.initcalls:
                self._level(block.level, block.span)
            if m.level:
                self._level(m.level, m.span)
        if self.c.uses_request_module:
            self.c.ctx.flag(USERMODEHELPERS_ENABLED)
        self.c.ctx.flag(BOOT_DONE)

    def _require_linkable(self, importer: ast.ModuleDecl, provider: ast.ModuleDecl) -> None:
        """Built-in code cannot call a module's exports: vmlinux is linked without the module,
        so the symbol is undefined (modpost/ld fail the build). A fixed pair is an error; with
        Kconfig, the configurations that build it in and the provider as a module are not
        buildable, so they are left out (as `depends on PROVIDER` leaves them out in Kconfig)."""
        both = self.c.fold(conj(self.builtin(importer), self.loadable(provider)))
        if both == TRUE:
            raise SpecError("E217", importer.span,
                            f"built-in {importer.name} uses loadable {provider.name}: vmlinux would not "
                            f"link ({provider.name}'s symbols are undefined in it)",
                            f"make {provider.name} builtin, or {importer.name} loadable")
        if both != FALSE:
            self.c.ctx.constraints.append(neg(both))

    def _level(self, name: str, span) -> str:
        if name not in level_order():
            raise SpecError("E210", span, f"unknown initcall level {name!r}")
        return name

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}

        def visit(m: ast.ModuleDecl, path: tuple[str, ...]) -> None:
            if state.get(m.name) == 2:
                return
            if state.get(m.name) == 1:
                raise SpecError("E209", m.span, f"modules depend on each other: {' -> '.join(path + (m.name,))}")
            state[m.name] = 1
            for dep in m.uses:
                visit(self.by_name[dep], path + (m.name,))
            state[m.name] = 2

        for m in self.modules:
            visit(m, ())

    # -- how a module is built (§1.1: y built in, m loadable, n absent) --
    def builtin(self, m: ast.ModuleDecl) -> Expr:
        if m.is_object or m.mode == "builtin":
            return TRUE
        if m.mode == "loadable":
            return FALSE
        return self.c.fold(eq(m.config, 2))

    def loadable(self, m: ast.ModuleDecl) -> Expr:
        if m.mode == "config":
            return self.c.fold(eq(m.config, 1))
        return TRUE if m.mode == "loadable" else FALSE

    def absent(self, m: ast.ModuleDecl) -> Expr:
        return self.c.fold(eq(m.config, 0)) if m.mode == "config" else FALSE

    def live(self, name: str) -> Expr:
        return eq(f"{name}.state", LIVE)


    def reset_assigns(self, m: ast.ModuleDecl) -> tuple:
        """A module's own .data comes back from the image at each load (§2.2)."""
        out = [(v.name, self.c.ctx.variables[v.name].init) for v in m.vars]
        out = [(name, Const(value)) for name, value in out]
        out += self.c.workqueues.reset_assigns(m.name)
        out += self.c.locks.reset_assigns(m.name) + self.c.completions.reset_assigns(m.name)
        out += self.c.timers.reset_assigns(m.name)
        out += self.c.refcounts.reset_assigns(m.name)
        out += self.c.kthreads.reset_assigns(m.name)
        return tuple(out)

    # -- boot (§1.1) --
    def build_boot(self) -> None:
        b = self.c.thread("init (boot)", "boot")
        at = 0
        for level in level_order():
            if level == "rootfs" and self.c.uses_request_module:
                at = b.step(at, "populate_rootfs: usermode helpers enabled", None,
                            assigns=((USERMODEHELPERS_ENABLED, Const(1)),))
            if level == "late":
                at = self.c.driver_core.late_initcall_steps(b, at)
            for m in self.spec.modules:
                for block in m.initcalls:
                    if block.level == level:
                        at = self._initcall(m, block, b, at)
                if not m.is_object and (m.level or "device") == level and self.builtin(m) != FALSE:
                    at = self._builtin_module_init(m, b, at)
        if self.c.driver_core.all_async_done() != TRUE:
            at = b.step(at, "kernel_init: async_synchronize_full()", None,
                        guard=self.c.driver_core.all_async_done(), waits=self.c.driver_core.async_wait())
        end = b.step(at, "boot done: userspace starts", None, assigns=((BOOT_DONE, Const(1)),))
        self.c.ctx.threads.append(b.finish(end))

    def _initcall(self, m: ast.ModuleDecl, block: ast.InitcallBlock, b: ThreadBuilder, at: int) -> int:
        start, end = b.new(), b.new()
        guard = self.builtin(m)
        b.edge(at, start, f"{block.level}_initcall of {m.name}", block.span, guard=guard)
        if guard != TRUE:
            b.edge(at, end, f"{m.name} not built in: no {block.level}_initcall", block.span, guard=neg(guard))
        self.c.stmts.block(block.body, Frame(b, "initcall", module=m.name, ret=end), start, end)
        return end

    def _builtin_module_init(self, m: ast.ModuleDecl, b: ThreadBuilder, at: int) -> int:
        guard = self.builtin(m)
        end = b.new()
        if guard != TRUE:
            b.edge(at, end, f"{m.name} is not built in", None, guard=neg(guard))
        rc = self.c.ctx.local(f"rc:{m.name}_init", 0, len(ERRNO), ERRNO_NAMES)
        start, post = b.new(), b.new()
        b.edge(at, start, f"initcall {m.name}_init (built in)", m.span, guard=guard,
               assigns=((f"{m.name}.state", Const(COMING)), (rc, Const(0))))
        if m.init is not None:
            self.c.stmts.block(m.init, Frame(b, "init", module=m.name, ret=post, rc=rc), start, post)
        else:
            b.edge(start, post, "", None)
        b.edge(post, end, f"{m.name}_init returned", None,
               assigns=((f"{m.name}.state", Const(LIVE)), (rc, Const(0))))
        return end

    # -- loading (§2.1) --
    def load(self, m: ast.ModuleDecl, frame: Frame, at: int, nxt: int, how: str) -> None:
        """modprobe: providers first, then this module's init; waits if another load is under way."""
        b = frame.b
        if m.name in frame.loading:
            # This thread is inside m's own load: modprobe waits for the COMING module, forever.
            b.edge(at, nxt, f"{how} {m.name}: waits for {m.name}, whose load this thread is running",
                   None, guard=neg(eq(f"{m.name}.state", COMING)), waits=self.load_wait(m))
            return
        frame = replace(frame, loading=frame.loading + (m.name,))
        state = f"{m.name}.state"
        # libkmod kmod_module_probe_insert_module: a module that is built in or live
        # (module_is_inkernel) returns at once, before any softdep is looked at.
        if self.absent(m) != FALSE:
            b.edge(at, nxt, f"{how} {m.name}: not configured (n), -ENOENT", None, guard=self.absent(m))
        if self.builtin(m) != FALSE:
            b.edge(at, nxt, f"{how} {m.name}: built in, nothing to load", None, guard=self.builtin(m))
        loadable = self.loadable(m)
        if loadable == FALSE:
            return
        b.edge(at, nxt, f"{how} {m.name}: already loaded", None, guard=conj(loadable, eq(state, LIVE)),
               waits=self.load_wait(m))
        if m.softdeps or m.uses or m.post_softdeps:
            at = b.step(at, f"{how} {m.name}: not loaded yet, its probe list first", None,
                        guard=conj(loadable, neg(eq(state, LIVE))))
        # The probe list (__kmod_module_get_probe_list): "pre:" softdeps, hard dependencies, the
        # module, then "post:" softdeps. The kernel enforces no order beyond the symbol wait
        # (§2.1); insmod and built-in code skip softdeps. libkmod drops softdep loops; `uses`
        # loops are rejected as E209.
        softdeps = [d for d in m.softdeps if d not in frame.loading]
        for dep, why in [(d, "softdep pre:") for d in softdeps] + [(d, "dependency") for d in m.uses]:
            after = b.new()
            self.load(self.by_name[dep], frame, at, after, f"modprobe {m.name}: {why}")
            at = after
        post_softdeps = [d for d in m.post_softdeps if d not in frame.loading]
        if post_softdeps:
            final, nxt = nxt, b.new()
            post_at = nxt
            for k, dep in enumerate(post_softdeps):
                after = final if k == len(post_softdeps) - 1 else b.new()
                self.load(self.by_name[dep], frame, post_at, after, f"modprobe {m.name}: softdep post:")
                post_at = after
        # A provider configured out leaves only its IS_ENABLED() stubs: no symbol to wait for.
        providers = self.c.fold(conj(*(disj(self.absent(self.by_name[d]), self.live(d)) for d in m.uses)))
        b.edge(at, nxt, f"{how} {m.name}: already loaded", None, guard=conj(loadable, eq(state, LIVE)),
               waits=self.load_wait(m))
        if providers != TRUE:
            b.edge(at, nxt, f"{how} {m.name}: unknown symbol (a provider is not loaded), fails", None,
                   guard=conj(loadable, eq(state, UNLOADED), neg(providers)))
        rc = self.c.ctx.local(f"rc:{m.name}_init", 0, len(ERRNO), ERRNO_NAMES)
        start, post = b.new(), b.new()
        b.edge(at, start, f"{how} {m.name}: {m.name}_init starts", m.span,
               guard=conj(loadable, eq(state, UNLOADED), providers),
               assigns=((state, Const(COMING)), (rc, Const(0))) + self.reset_assigns(m))
        if m.init is not None:
            self.c.stmts.block(m.init, replace(frame, context="init", module=m.name, ret=post, rc=rc,
                                               cont=None, stack=(), work=None, device=None, bindings=()),
                               start, post)
        else:
            b.edge(start, post, "", None)
        b.edge(post, nxt, f"{m.name}_init failed: module freed", None, guard=neg(eq(rc, 0)),
               assigns=((state, Const(UNLOADED)), (rc, Const(0))),   # rc is dead from here on
               checks=self.c.devdata.freed_check(f"{m.name}_init failed and the module is freed", module=m.name)
               if may_fail(m.init) else ())
        live = b.new()
        b.edge(post, live, f"{m.name}_init returned 0: {m.name} is live", None, guard=eq(rc, 0),
               assigns=((state, Const(LIVE)),))
        self._async_sync_after_init(m, b, live, nxt)

    def _async_sync_after_init(self, m: ast.ModuleDecl, b: ThreadBuilder, at: int, nxt: int) -> None:
        """do_init_module waits for async probes unless the module asked for async_probe (§2.1)."""
        done = self.c.driver_core.all_async_done()
        if done == TRUE:
            b.edge(at, nxt, "", None)
            return
        opted_out = self.c.fold(self.c.exprs.cond(m.async_probe, Frame(None, "module"))) if m.async_probe else FALSE
        if opted_out != FALSE:
            b.edge(at, nxt, f"{m.name} loaded with async_probe: no async_synchronize_full", None, guard=opted_out)
        b.edge(at, nxt, f"do_init_module({m.name}): async_synchronize_full()", None,
               guard=conj(neg(opted_out), done), waits=self.c.driver_core.async_wait())

    def load_wait(self, m: ast.ModuleDecl) -> Wait:
        """A modprobe finding m COMING waits for that load to end (kernel/module/main.c:
        add_unformed_module, wait_event_interruptible on module_wq)."""
        return Wait(f"module {m.name}", f"{m.name} is no longer loading (its init has returned)",
                    (f"{m.name}.state",))

    def unload(self, m: ast.ModuleDecl, frame: Frame, at: int, nxt: int) -> None:
        """delete_module: refused while importers are loaded or when init has no exit (§2.2)."""
        b = frame.b
        state = f"{m.name}.state"
        users = [u.name for u in self.modules if m.name in u.uses]
        free = conj(*(eq(f"{u}.state", UNLOADED) for u in users))
        can = self.c.fold(conj(self.loadable(m), eq(state, LIVE), free))   # built-in code never unloads
        if m.init is not None and m.exit is None:
            can = FALSE   # a module with init and no exit cannot be removed
        self._refusals(m, users, b, at, nxt, can)
        if can == FALSE:
            return
        start, post = b.new(), b.new()
        b.edge(at, start, f"rmmod {m.name}: {m.name}_exit runs", m.span, guard=can,
               assigns=((state, Const(GOING)),))
        if m.exit is not None:
            self.c.stmts.block(m.exit, Frame(b, "exit", module=m.name, ret=post), start, post)
        else:
            b.edge(start, post, "", None)
        leak = self.c.ctx.check("module_unload_leaks", self._nothing_left(m),
                                f"{m.name} is freed while its work is queued or running, or its driver is registered")
        outlives = self.c.devdata.freed_check(f"{m.name}_exit returned and the module is freed", module=m.name)
        b.edge(post, nxt, f"{m.name} unloaded", None, assigns=((state, Const(UNLOADED)),),
               checks=(leak,) + outlives)

    def _refusals(self, m: ast.ModuleDecl, users: list[str], b: ThreadBuilder, at: int, nxt: int,
                  can: Expr) -> None:
        """The refused rmmod, one edge per reason, in the order delete_module tests them
        (kernel/module/main.c: find_module -ENOENT, try_stop_module/state checks -EBUSY,
        source_list -EWOULDBLOCK, init without exit -EBUSY); together they cover neg(can)."""
        state = f"{m.name}.state"
        loadable = self.loadable(m)
        if self.absent(m) != FALSE:
            b.edge(at, nxt, f"rmmod {m.name}: not configured (n), -ENOENT", None, guard=self.absent(m))
        if self.builtin(m) != FALSE:
            b.edge(at, nxt, f"rmmod {m.name}: built in, cannot be removed", None, guard=self.builtin(m))
        if loadable == FALSE:
            return
        for value, why in ((UNLOADED, "not loaded, -ENOENT"), (COMING, "still loading, -EBUSY"),
                           (GOING, "already being removed, -EBUSY")):
            b.edge(at, nxt, f"rmmod {m.name}: {why}", None, guard=conj(loadable, eq(state, value)))
        if m.init is not None and m.exit is None:
            b.edge(at, nxt, f"rmmod {m.name}: has init but no exit, -EBUSY", None,
                   guard=conj(loadable, eq(state, LIVE)))
            return
        if users:
            b.edge(at, nxt, f"rmmod {m.name}: in use by {' or '.join(users)}, -EWOULDBLOCK", None,
                   guard=conj(loadable, eq(state, LIVE), neg(conj(*(eq(f"{u}.state", UNLOADED) for u in users)))))

    def _nothing_left(self, m: ast.ModuleDecl) -> Expr:
        drivers = [d.name for d in m.drivers]
        return conj(self.c.workqueues.module_works_idle(m.name),
                    *(eq(f"{d}.registered", 0) for d in drivers))

    # -- statements --
    def statements(self) -> dict:
        return {"request_module": self.request_module, "modprobe": self.modprobe, "rmmod": self.rmmod}

    def queries(self) -> dict:
        return {"loaded": self.q_loaded, "IS_ENABLED": self.q_enabled,
                "IS_BUILTIN": self.q_builtin, "IS_MODULE": self.q_module}

    def module_arg(self, call: ast.Call) -> ast.ModuleDecl:
        arity(call, 1)
        sym = self.c.exprs.symbol_arg(call, 0, ("module",), "a module")
        if sym.decl.is_object:
            raise SpecError("E202", call.span, f"{sym.name} is built-in code, not a module")
        return sym.decl

    def config_arg(self, call: ast.Call) -> str:
        arity(call, 1)
        return self.c.exprs.symbol_arg(call, 0, ("config",), "a Kconfig option").name

    def q_loaded(self, call, frame) -> Expr:
        return self.live(self.module_arg(call).name)

    def q_enabled(self, call, frame) -> Expr:
        return neg(eq(self.config_arg(call), 0))

    def q_builtin(self, call, frame) -> Expr:
        return eq(self.config_arg(call), 2)

    def q_module(self, call, frame) -> Expr:
        return eq(self.config_arg(call), 1)

    def request_module(self, call, frame, at, nxt, target) -> None:
        """Synchronous: returns after the target's init (and its async probes) finished (§2.1)."""
        m = self.module_arg(call)
        blocked = eq(USERMODEHELPERS_ENABLED, 0)
        frame.b.edge(at, nxt, f"request_module({m.name}): usermode helpers disabled, -EBUSY", call.span,
                     guard=blocked)
        start = frame.b.new()
        frame.b.edge(at, start, f"request_module({m.name})", call.span, guard=neg(blocked))
        self.load(m, frame, start, nxt, "request_module")

    def modprobe(self, call, frame, at, nxt, target) -> None:
        m = self.module_arg(call)
        start = frame.b.step(at, f"modprobe {m.name}", call.span)
        self.load(m, frame, start, nxt, "modprobe")

    def rmmod(self, call, frame, at, nxt, target) -> None:
        self.unload(self.module_arg(call), frame, at, nxt)

    # -- userspace (§1.1: every loadable module loads after boot, in any order) --
    def udev_modules(self) -> list[ast.ModuleDecl]:
        """Modules udev may load at any moment after boot (loadable and not `manual`); one whose
        drivers match only hotplug devices is loaded on their KOBJ_ADD instead (hotplug.py)."""
        return [m for m in self.modules if not m.manual and self.loadable(m) != FALSE
                and not self.c.hotplug.only_hotplugged(m)]

    def userspace_thread_names(self) -> list[str]:
        return ([f"udev: modprobe {m.name}" for m in self.udev_modules()]
                + [f"userspace:{u.name}" for u in self.spec.userspaces] + self.c.hotplug.udev_thread_names())

    def build_userspace(self) -> None:
        """One thread per udev load and per userspace block. Each system call (a modprobe, a
        top-level statement) enters the kernel only while user space is not frozen."""
        pm = self.c.pm
        for m in self.udev_modules():
            b = self.c.thread(f"udev: modprobe {m.name}", "userspace")
            start, loaded, end = b.new(), b.new(), b.new()
            guard, enter = pm.syscall_enter(b.name)
            b.edge(0, start, f"udev: modprobe {m.name}", None, guard=conj(eq(BOOT_DONE, 1), guard),
                   assigns=enter)
            self.load(m, Frame(b, "userspace"), start, loaded, "modprobe")
            b.edge(loaded, end, "", None, assigns=pm.syscall_leave(b.name))
            self.c.ctx.threads.append(b.finish(end))
        for u in self.spec.userspaces:
            b = self.c.thread(f"userspace:{u.name}", "userspace")
            b.fairness = "optional_start"    # a user's command may never be run (udev's modprobes are)
            start, end = b.new(), b.new()
            b.edge(0, start, f"userspace {u.name} starts", u.span, guard=eq(BOOT_DONE, 1))
            if not pm.freezes:
                self.c.stmts.block(u.body, Frame(b, "userspace", ret=end), start, end)
            else:
                self._syscalls(u, b, start, end)
            self.c.ctx.threads.append(b.finish(end))

    def _syscalls(self, u: ast.Userspace, b: ThreadBuilder, at: int, end: int) -> None:
        """Each top-level statement as one system call: entered while user space is not
        frozen, and left (also by `return`) before the next."""
        pm = self.c.pm
        guard, enter = pm.syscall_enter(b.name)
        leave_to_end = b.new()
        b.edge(leave_to_end, end, "", None, assigns=pm.syscall_leave(b.name))
        for stmt in u.body.stmts:
            inside, done, nxt = b.new(), b.new(), b.new()
            b.edge(at, inside, f"{u.name}: enters the kernel", stmt.span, guard=guard, assigns=enter)
            self.c.stmts.block(ast.Block((stmt,), u.body.span), Frame(b, "userspace", ret=leave_to_end),
                               inside, done)
            b.edge(done, nxt, "", None, assigns=pm.syscall_leave(b.name))
            at = nxt
        b.edge(at, end, "", None)
