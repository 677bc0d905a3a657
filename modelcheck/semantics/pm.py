"""System sleep and reboot: driver suspend, resume and shutdown callbacks, run in dpm_list
order (drivers/base/power/main.c), with user space frozen (kernel/power/process.c) and
probing blocked (drivers/base/dd.c device_block_probing) across a suspend; device_shutdown
(drivers/base/core.c) for a reboot.

dpm_list holds devices in the order device_add put them there. When the spec adds or deletes
devices at run time each device has a position `dpm_pos` (0: not on the list, else 1..k
without gaps) that device_add and device_del keep; otherwise the order is the declaration
order of the devices present at boot, known when compiling."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import FALSE, TRUE, Arith, Cmp, Const, Expr, Ite, Ref, conj, disj, eq, neg
from ..syntax import ast
from .context import Frame, internal
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler
    from .driver_core import Instance

DEFER_ALL_PROBES = internal("defer_all_probes")
USERSPACE_FROZEN = internal("userspace_frozen")


class PowerManagement:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler

    @property
    def used(self) -> bool:
        """Whether the spec suspends or reboots; nothing here costs state otherwise."""
        return self.c.uses("suspend") or self.c.uses("reboot")

    @property
    def freezes(self) -> bool:
        return self.c.uses("suspend")

    @property
    def dynamic_order(self) -> bool:
        """dpm_list order changes at run time only when the spec adds or deletes devices."""
        return self.used and (self.c.uses("device_add") or self.c.uses("platform_device_add")
                              or self.c.uses("device_del"))

    # -- setup --
    def declare(self) -> None:
        if not self.used:
            return
        ctx = self.c.ctx
        ctx.flag(DEFER_ALL_PROBES)
        instances = self.c.driver_core.instances
        for inst in instances:
            if self.dynamic_order:
                ctx.var(self.pos_var(inst), 0, len(instances), self.boot_position(inst))
            if self.freezes:
                ctx.flag(f"{inst.name}.suspended")
        if self.freezes:
            ctx.flag(USERSPACE_FROZEN)
            for flag in self.syscall_flags():
                ctx.flag(flag)

    def boot_position(self, inst: "Instance") -> int:
        """Devices present at boot are on dpm_list in declaration order, each parent before its
        children (semantics/parents.py); others are not on it."""
        present = [i for i in self.c.parents.dpm_order(self.c.driver_core.instances) if i.decl.present and i.copy == 1]
        return present.index(inst) + 1 if inst in present else 0

    @staticmethod
    def pos_var(inst: "Instance") -> str:
        return f"{inst.name}.dpm_pos"

    def at_position(self, inst: "Instance", p: int) -> Expr:
        if self.dynamic_order:
            return eq(self.pos_var(inst), p)
        return TRUE if self.boot_position(inst) == p else FALSE

    def positions_of(self, inst: "Instance") -> list[int]:
        if self.dynamic_order:
            return list(range(1, len(self.c.driver_core.instances) + 1))
        p = self.boot_position(inst)
        return [p] if p else []

    def syscall_flags(self) -> list[str]:
        """One flag per user-space thread: set while it is inside a system call."""
        return [self.syscall_flag(name) for name in self.c.modules.userspace_thread_names()]

    @staticmethod
    def syscall_flag(thread: str) -> str:
        # "udev: modprobe m" -> "kernel:in_syscall.udev.m"; "userspace:admin" -> "kernel:in_syscall.userspace.admin"
        kind, _, rest = thread.partition(":")
        return internal(f"in_syscall.{kind}.{rest.split()[-1]}")

    # -- user space: the freezer's view of a thread --
    def syscall_enter(self, thread: str) -> tuple[Expr, tuple]:
        """(guard, assigns) of a user-space thread entering the kernel: not while frozen."""
        if not self.freezes:
            return TRUE, ()
        return eq(USERSPACE_FROZEN, 0), ((self.syscall_flag(thread), Const(1)),)

    def syscall_leave(self, thread: str) -> tuple:
        return ((self.syscall_flag(thread), Const(0)),) if self.freezes else ()

    # -- dpm_list order, kept by device_add and device_del --
    def on_device_add(self, inst: "Instance") -> tuple:
        """device_add -> device_pm_add: list_add_tail(&dev->power.entry, &dpm_list)."""
        if not self.dynamic_order:
            return ()
        length: Expr = Const(1)
        for o in self.c.driver_core.instances:
            if o != inst:
                length = Arith("+", length, Ite(Cmp("!=", Ref(self.pos_var(o)), Const(0)), Const(1), Const(0)))
        me = self.pos_var(inst)
        return ((me, Ite(eq(me, 0), length, Ref(me))),)

    def on_device_del(self, inst: "Instance") -> tuple:
        """device_del -> device_pm_remove: off dpm_list (and off the suspended list, so a
        later resume pass skips it); the devices after it move up."""
        out = [(f"{inst.name}.suspended", Const(0))] if self.freezes else []
        if not self.dynamic_order:
            return tuple(out)
        me = self.pos_var(inst)
        out.append((me, Const(0)))
        for o in self.c.driver_core.instances:
            if o != inst:
                p = self.pos_var(o)
                out.append((p, Ite(conj(Cmp(">", Ref(p), Ref(me)), Cmp("!=", Ref(me), Const(0))),
                                   Arith("-", Ref(p), Const(1)), Ref(p))))
        return tuple(out)

    # -- probing blocked --
    def probe_blocked(self) -> Optional[Expr]:
        """really_probe (drivers/base/dd.c): while defer_all_probes is set, every probe
        returns -EPROBE_DEFER before calling the driver; None when the spec never sets it."""
        return eq(DEFER_ALL_PROBES, 1) if self.used else None

    # -- statements and queries --
    def statements(self) -> dict:
        return {"suspend": self.suspend, "reboot": self.reboot}

    def queries(self) -> dict:
        return {"suspended": self.q_suspended}

    def q_suspended(self, call, frame) -> Expr:
        """The device's suspend step ran (dev->power.is_suspended) and its resume has not yet."""
        inst = self.c.driver_core.device_arg(call, frame)
        return eq(f"{inst.name}.suspended", 1) if self.freezes else FALSE

    def _userspace_only(self, call, frame) -> None:
        if frame.context != "userspace":
            raise SpecError("E260", call.span, f"{call.func}() is a request from user space",
                            f"call {call.func}() in a `userspace NAME {{ }}` block (it is a write to "
                            "/sys/power/state or the reboot system call)")

    def suspend(self, call, frame, at, nxt, target) -> None:
        """enter_state (kernel/power/suspend.c): suspend_freeze_processes (try_to_freeze_tasks
        waits until every other user task is out of the kernel; its 20 s timeout is not
        modelled), then suspend_devices_and_enter: dpm_prepare (device_block_probing, which
        waits for probes in flight), dpm_suspend (dpm_list from the tail), the sleep,
        dpm_resume (from the head), dpm_complete (device_unblock_probing: clear and trigger
        the deferred list), and suspend_thaw_processes."""
        self._userspace_only(call, frame)
        arity(call, 0)
        b = frame.b
        others = [f for f in self.syscall_flags() if f != self.syscall_flag(b.name)]
        at = b.step(at, "suspend: user space frozen; dpm_prepare: device_block_probing()", call.span,
                    guard=conj(*(eq(f, 0) for f in others)),
                    assigns=((USERSPACE_FROZEN, Const(1)), (DEFER_ALL_PROBES, Const(1))))
        waited, asleep = b.new(), b.new()
        self.c.driver_core.wait_for_device_probe(call, frame, at, waited, None)
        self._walk(frame, waited, asleep, call, "suspend", ("PM: system asleep, then woken up", ()))
        thaw = ((DEFER_ALL_PROBES, Const(0)), (USERSPACE_FROZEN, Const(0))) + self.c.driver_core.trigger_assigns()
        self._walk(frame, asleep, nxt, call, "resume",
                   ("dpm_complete: device_unblock_probing() (trigger deferred probes); user space thawed", thaw))

    def reboot(self, call, frame, at, nxt, target) -> None:
        """kernel_restart (kernel/reboot.c) -> device_shutdown (drivers/base/core.c):
        wait_for_device_probe, device_block_probing, then each device from the tail of the
        list, under its lock, gets its driver's shutdown callback; then machine_restart."""
        self._userspace_only(call, frame)
        arity(call, 0)
        b = frame.b
        waited = b.new()
        self.c.driver_core.wait_for_device_probe(call, frame, at, waited, None)
        at = b.step(waited, "device_shutdown: device_block_probing()", call.span,
                    assigns=((DEFER_ALL_PROBES, Const(1)),))
        self._walk(frame, at, nxt, call, "shutdown", ("machine_restart", ()))

    # -- one pass over dpm_list --
    def _walk(self, frame: Frame, at: int, end: int, call: ast.Call, which: str, last: tuple) -> None:
        """dpm_suspend / device_shutdown take devices from the tail, dpm_resume from the head.
        Each due device gets one step that locks it and starts its callback; the step after
        the callback unlocks it and already picks the next due device (or takes `last`, the
        step that ends the pass), so devices with nothing to do cost no step."""
        b = frame.b
        n_all = len(self.c.driver_core.instances)
        order = list(range(n_all, 0, -1)) if which != "resume" else list(range(1, n_all + 1))
        walkers = [i for i in self.c.driver_core.instances
                   if self._callback(i, which) is not None or which != "shutdown"]
        starts = {i.name: b.new() for i in walkers}

        def due_at(p: int) -> Expr:
            return disj(*(conj(self.at_position(i, p), self._due(i, which)) for i in walkers))

        def leave(src: int, here: Expr, rest: list[int], assigns: tuple, prefix: str) -> None:
            for k, p in enumerate(rest):
                gap = conj(*(neg(due_at(r)) for r in rest[:k]))
                for i in walkers:
                    lock, lockdep = self.c.locks.device_acquire(i.name, b)
                    b.edge(src, starts[i.name], prefix + self._start_label(i, which), call.span,
                           guard=conj(here, gap, self.at_position(i, p), self._due(i, which),
                                      eq(f"{i.name}.locked", 0)),
                           assigns=assigns + lock, checks=lockdep)
            b.edge(src, end, prefix + last[0], call.span,
                   guard=conj(here, *(neg(due_at(r)) for r in rest)), assigns=assigns + last[1])

        leave(at, TRUE, order, (), "")
        for i in walkers:
            body, finish = self._callback(i, which), starts[i.name]
            if body is not None:
                finish = b.new()
                inner = Frame(b, which, module=self.c.driver_core.drivers[i.decl.driver].owner,
                              device=i.name, ret=finish, loading=frame.loading)
                self.c.stmts.block(body, inner, starts[i.name], finish)
            done = ((f"{i.name}.locked", Const(0)),) + self._mark(i, which)
            for q in self.positions_of(i):
                leave(finish, self.at_position(i, q), order[order.index(q) + 1:], done,
                      f"{which}: {i.name} done, unlocked; ")

    def _due(self, inst: "Instance", which: str) -> Expr:
        if which == "resume":
            return eq(f"{inst.name}.suspended", 1)
        return eq(f"{inst.name}.bound", 1)

    def _mark(self, inst: "Instance", which: str) -> tuple:
        if which == "suspend":
            return ((f"{inst.name}.suspended", Const(1)),)
        if which == "resume":
            return ((f"{inst.name}.suspended", Const(0)),)
        return ()

    def _callback(self, inst: "Instance", which: str) -> Optional[ast.Block]:
        return getattr(self.c.driver_core.driver_of(inst), which)

    def _start_label(self, inst: "Instance", which: str) -> str:
        d = inst.decl.driver
        if self._callback(inst, which) is None:
            return f"{which}: {inst.name} (device locked; {d} has no {which} callback)"
        return f"{which}: {d}.{which}({inst.name}) (device locked)"
