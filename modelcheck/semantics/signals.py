"""Waits a signal may end: mutex_lock_interruptible, mutex_lock_killable,
wait_for_completion_interruptible and wait_for_completion_killable.

Each returns 0 once the lock or completion is taken, or an error code when a signal arrives
while the caller waits; then nothing is taken. The kernel tests for a signal only on the slow
path, after a failed attempt to take the lock (kernel/locking/mutex.c __mutex_lock_common:
`if (__mutex_trylock(lock)) goto acquired;` comes before `if (signal_pending_state(state,
current)) { ret = -EINTR; goto err; }`) or when the completion is not done
(kernel/sched/completion.c do_wait_for_common: the signal test is inside `if (!x->done)`, and
wait_for_completion_interruptible returns -ERESTARTSYS). So the error is possible exactly while
the mutex is held by someone or the completion has nothing to take; whether a signal comes is a
choice the checker explores. A fatal signal (the _killable forms) is a signal like any other here.

Forms: `f(x);` (value ignored), `ret = f(x);` (ret an int variable), and `if f(x) { ... }` /
`if not f(x) { ... }` (the C idiom `if (mutex_lock_interruptible(&m)) return -ERESTARTSYS;`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import FALSE, Cmp, Const, Ref, eq, neg
from ..syntax import ast
from .atomic import may_sleep, might_sleep
from .context import ERRNO, Frame
from .locks import UNLOCKED

if TYPE_CHECKING:
    from .compile import Compiler

# primitive -> (what it waits on, the error code it returns when a signal ends the wait)
INTERRUPTIBLE = {
    "mutex_lock_interruptible": ("mutex", "EINTR"),
    "mutex_lock_killable": ("mutex", "EINTR"),
    "wait_for_completion_interruptible": ("completion", "ERESTARTSYS"),
    "wait_for_completion_killable": ("completion", "ERESTARTSYS"),
}

# all four sleep (might_sleep() in __mutex_lock_common and __wait_for_common)
may_sleep(*INTERRUPTIBLE)


class Signals:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler

    def statements(self) -> dict:
        return {name: self.call for name in INTERRUPTIBLE}

    def queries(self) -> dict:
        return {}

    @staticmethod
    def is_branch(cond: ast.ExprNode) -> bool:
        """Whether an `if` condition is one of these calls, alone or under `not`."""
        if isinstance(cond, ast.Unary):
            cond = cond.arg
        return isinstance(cond, ast.Call) and cond.func in INTERRUPTIBLE

    def call(self, call: ast.Call, frame: Frame, at: int, nxt: int, target: Optional[str]) -> None:
        """`f(x);` or `ret = f(x);`: both outcomes continue at nxt."""
        self.lower(call, frame, at, nxt, nxt, target)

    def if_(self, node: ast.If, frame: Frame, at: int, nxt: int) -> None:
        """`if f(x) { A } else { B }`: A on the error (a non-zero result is true, as in C), B once
        taken; `if not f(x)` swaps them. No step of its own: each outcome leads into its branch."""
        negated = isinstance(node.cond, ast.Unary)
        call = node.cond.arg if negated else node.cond
        at = might_sleep(self.c, call, frame, at)
        then_at = frame.b.new() if node.then.stmts else nxt
        else_at = frame.b.new() if node.other is not None and node.other.stmts else nxt
        ok, failed = (then_at, else_at) if negated else (else_at, then_at)
        self.lower(call, frame, at, ok, failed, None)
        if then_at != nxt:
            self.c.stmts.block(node.then, frame, then_at, nxt)
        if else_at != nxt:
            self.c.stmts.block(node.other, frame, else_at, nxt)

    def lower(self, call: ast.Call, frame: Frame, at: int, ok: int, failed: int, target: Optional[str]) -> None:
        """Two edges from `at`: taken (to ok, result 0) and interrupted (to failed, the error)."""
        kind, code = INTERRUPTIBLE[call.func]
        err = Const(ERRNO[code])
        set_ok, ok_checks = self._result(target, Const(0), call)
        set_err, err_checks = self._result(target, err, call)
        b = frame.b
        if kind == "mutex":
            m = self.c.locks.mutex_arg(call)
            free = eq(f"{m}.owner", UNLOCKED)
            # lockdep sees the attempt (mutex_acquire_nest before waiting), taken or not
            dep, dep_checks = self.c.locks.lockdep_acquire("mutex", m, b)
            b.edge(at, ok, f"{call.func}({m}) = 0", call.span, guard=free,
                   assigns=((f"{m}.owner", Const(self.c.locks.tid(b))),) + dep + set_ok,
                   checks=dep_checks + ok_checks)
            b.edge(at, failed, f"{call.func}({m}) = -{code}: a signal while {m} is held, not taken",
                   call.span, guard=neg(free), assigns=dep + set_err, checks=dep_checks + err_checks)
            return
        c = self.c.completions.completion_arg(call)
        done = Cmp(">", Ref(f"{c}.done"), Const(0))
        b.edge(at, ok, f"{call.func}({c}) = 0", call.span, guard=done,
               assigns=self.c.completions.take(c) + set_ok, checks=ok_checks)
        b.edge(at, failed, f"{call.func}({c}) = -{code}: a signal before complete(), nothing taken",
               call.span, guard=neg(done), assigns=set_err, checks=err_checks)

    def _result(self, target: Optional[str], value: Const, call: ast.Call) -> tuple[tuple, tuple]:
        """The assignment of the result to `target`, with value_in_range when it does not fit
        (the variable then keeps its value, as for any assignment out of range)."""
        if target is None:
            return (), ()
        var = self.c.ctx.variables[target]
        if var.lo <= value.value <= var.hi:
            return ((target, value),), ()
        name = "0" if value.value == 0 else f"-{INTERRUPTIBLE[call.func][1]}"
        check = self.c.ctx.check("value_in_range", FALSE,
                                 f"{target} = {call.func}(): {name} is outside {target}'s range "
                                 f"{var.lo}..{var.hi}")
        return (), (check,)


def check_target(call: ast.Call, kind: str, span) -> None:
    """`x = f(...)` needs x to be a number (E205 for a bool: the result is 0 or an error code)."""
    if kind == "bool":
        raise SpecError("E205", span, f"{call.func}() gives 0 or an error code, not true or false",
                        f"declare the variable as a number (`var ret : int 0..12;`), or write "
                        f"`if {call.func}(...) {{ ... }}` for the error path")
