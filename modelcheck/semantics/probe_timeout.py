"""The deferred-probe timeout (drivers/base/dd.c): the `deferred_probe_timeout` option (the
kernel's default with CONFIG_MODULES is 10 s), initcalls_done, driver_deferred_probe_check_state(),
the delayed timeout work that gives up on optional dependencies and retries the deferred
list once more, and driver_deferred_probe_trigger().

Time is not modelled: a positive timeout is a delayed work that may fire at any moment after
deferred_probe_initcall schedules it; 0 gives up as soon as initcalls are done; a negative
value never times out."""
from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING

from ..ir import Const, Expr, Ite, conj, eq
from .context import ERRNO, Frame, internal
from .exprs import arity
from .program import ThreadBuilder
from ..syntax import ast

if TYPE_CHECKING:
    from .compile import Compiler

KERNEL_DEFAULT = 10       # drivers/base/dd.c: driver_deferred_probe_timeout with CONFIG_MODULES
INITCALLS_DONE = internal("initcalls_done")
TIMED_OUT = internal("deferred_probe_timeout_expired")       # driver_deferred_probe_timeout == 0
TIMEOUT_WORK = internal("deferred_probe_timeout_work.pending")


class ProbeTimeout:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler

    @cached_property
    def used(self) -> bool:
        """Only specs that ask for it pay for initcalls_done and the timeout work."""
        return (self.c.spec.deferred_probe_timeout is not None
                or bool({"driver_deferred_probe_check_state", "driver_deferred_probe_trigger"}
                        & _called_anywhere(self.c.spec)))

    @property
    def seconds(self) -> int:
        value = self.c.spec.deferred_probe_timeout
        return KERNEL_DEFAULT if value is None else value

    @property
    def expires(self) -> bool:
        """Whether deferred_probe_timeout_work can run (a positive timeout)."""
        return self.used and self.seconds > 0

    def declare(self) -> None:
        if not self.used:
            return
        self.c.ctx.flag(INITCALLS_DONE)
        self.c.ctx.flag(TIMED_OUT, 1 if self.seconds == 0 else 0)
        if self.seconds > 0:
            self.c.ctx.flag(TIMEOUT_WORK)

    # -- deferred_probe_initcall, after the first pass --
    def initcalls_done_steps(self, b: ThreadBuilder, at: int) -> int:
        """The rest of deferred_probe_initcall: initcalls_done = true, trigger again ("this
        time we won't defer anything that is optional") and flush, then schedule the timeout
        work when the timeout is positive."""
        if not self.used:
            return at
        core = self.c.driver_core
        trigger = core.trigger_assigns()
        schedule = ((TIMEOUT_WORK, Const(1)),) if self.seconds > 0 else ()
        if not trigger:
            return b.step(at, "deferred_probe_initcall: initcalls_done", None,
                          assigns=((INITCALLS_DONE, Const(1)),) + schedule)
        at = b.step(at, "deferred_probe_initcall: initcalls_done; trigger deferred probing again", None,
                    assigns=((INITCALLS_DONE, Const(1)),) + trigger)
        return b.step(at, "deferred_probe_initcall: flush_work(deferred_probe_work)"
                      + ("; schedule the timeout work" if schedule else ""), None,
                      guard=core.deferred_work_idle(), assigns=schedule)

    def build_threads(self) -> None:
        """deferred_probe_timeout_work_func: fw_devlink_drivers_done (declared links to suppliers
        no driver matched are relaxed), driver_deferred_probe_timeout = 0, trigger, flush."""
        if not self.expires:
            return
        core = self.c.driver_core
        b = self.c.thread("kworker (deferred_probe_timeout_work)", "worker")
        b.mark_rest(0)
        relax = self.c.devlinks.relax_unmatched()
        at = b.step(0, f"deferred probe timeout ({self.seconds} s) expires: "
                    + ("fw_devlink_drivers_done relaxes the links of suppliers no driver matched; " if relax else "")
                    + "timeout = 0, trigger", None,
                    guard=eq(TIMEOUT_WORK, 1),
                    assigns=((TIMEOUT_WORK, Const(0)), (TIMED_OUT, Const(1))) + relax + core.trigger_assigns())
        end = b.new()
        if core.trigger_assigns():
            b.edge(at, end, "deferred_probe_timeout_work: flush_work(deferred_probe_work)", None,
                   guard=core.deferred_work_idle())
        else:
            b.edge(at, end, "", None)
        self.c.ctx.threads.append(b.finish(end))

    # -- primitives --
    def statements(self) -> dict:
        return {"driver_deferred_probe_trigger": self.trigger}

    def queries(self) -> dict:
        return {"driver_deferred_probe_check_state": self.q_check_state}

    def q_check_state(self, call, frame: Frame) -> Expr:
        """driver_deferred_probe_check_state (CONFIG_MODULES=y): -ETIMEDOUT once initcalls are
        done and the timeout is 0 (expired or set so), else -EPROBE_DEFER."""
        arity(call, 0)
        expired = conj(eq(INITCALLS_DONE, 1), eq(TIMED_OUT, 1))
        return Ite(expired, Const(ERRNO["ETIMEDOUT"]), Const(ERRNO["EPROBE_DEFER"]))

    def trigger(self, call, frame, at, nxt, target) -> None:
        """driver_deferred_probe_trigger (EXPORT_SYMBOL_GPL): pending list to active list, queue
        the deferred-probe work (once deferred probing is enabled)."""
        arity(call, 0)
        frame.b.edge(at, nxt, "driver_deferred_probe_trigger()", call.span,
                     assigns=self.c.driver_core.trigger_assigns())


def _called_anywhere(node) -> set[str]:
    """Every function name called anywhere in the spec, in statements and in expressions."""
    found: set[str] = set()
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Call):
            found.add(n.func)
        if dataclasses.is_dataclass(n) and not isinstance(n, type):
            todo.extend(getattr(n, f.name) for f in dataclasses.fields(n))
        elif isinstance(n, (tuple, list)):
            todo.extend(n)
    return found
