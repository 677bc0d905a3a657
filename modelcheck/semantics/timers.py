"""Timers (kernel/time/timer.c): a callback that runs once, at any later moment, in softirq.

State per timer: `T.func` (NULL or one of its callbacks; timer_shutdown_sync sets it back to
NULL, after which mod_timer does nothing, as __mod_timer's `if (!timer->function)` makes it),
`T.pending` (armed) and `T.running` (the callback runs). A `timer:T` thread fires an armed
timer whenever it likes: the expiry is a scheduling choice, never a number. The callback runs
in atomic context, where sleeping primitives are `sleep_in_atomic` violations (atomic.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..ir import Const, Expr, Ref, conj, eq, neg
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler


class Timers:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.timers = compiler.devdata.expand("timer")                   # key -> symbol (copies per device)
        self.funcs: dict[str, list[str]] = {t: [] for t in self.timers}  # callbacks each may have

    def prescan(self, calls: list[ast.Call]) -> None:
        for t, sym in self.timers.items():
            if sym.decl.func:
                self.c.sym.require(sym.decl.func, ("fn",), sym.decl.span, "a function (fn NAME)")
                self.funcs[t].append(sym.decl.func)
        for call in calls:
            if call.func == "timer_setup" and len(call.args) == 2:
                t, fn = (a.id if isinstance(a, ast.Name) else None for a in call.args)
                sym = self.c.sym.get(t) if t else None
                if sym is None or sym.kind != "timer" or not fn:
                    continue
                for key in self.c.devdata.copies(sym):
                    if fn not in self.funcs[key]:
                        self.c.sym.require(fn, ("fn",), call.args[1].span, "a function (fn NAME)")
                        self.funcs[key].append(fn)

    def declare(self) -> None:
        ctx = self.c.ctx
        for t, sym in self.timers.items():
            labels = ("NULL",) + tuple(self.funcs[t])
            ctx.var(f"{t}.func", 0, len(labels) - 1, self.static(t), labels=labels, span=sym.span)
            ctx.flag(f"{t}.pending")
            ctx.flag(f"{t}.running")

    def static(self, t: str) -> int:
        func = self.timers[t].decl.func
        return self.funcs[t].index(func) + 1 if func else 0

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        """A reloaded module's timers come back as their static initializers, idle."""
        out: list[tuple[str, Expr]] = []
        for t, sym in self.timers.items():
            if sym.owner == module:
                out += [(f"{t}.func", Const(self.static(t))), (f"{t}.pending", Const(0)),
                        (f"{t}.running", Const(0))]
        return out

    def idle(self, t: str) -> Expr:
        return conj(eq(f"{t}.pending", 0), eq(f"{t}.running", 0))

    # -- statements --
    def statements(self) -> dict:
        return {"timer_setup": self.timer_setup, "mod_timer": self.mod_timer,
                "timer_delete": self.timer_delete, "del_timer": self.timer_delete,
                "timer_delete_sync": self.timer_delete_sync, "del_timer_sync": self.timer_delete_sync,
                "timer_shutdown_sync": self.timer_shutdown_sync}

    def queries(self) -> dict:
        return {"timer_pending": self.timer_pending}

    def timer(self, call: ast.Call, frame: Frame) -> str:
        sym = self.c.exprs.symbol_arg(call, 0, ("timer",), "a timer (timer NAME)")
        return self.c.devdata.key(sym, frame, call.args[0].span)

    def timer_pending(self, call, frame) -> Expr:
        arity(call, 1)
        return eq(f"{self.timer(call, frame)}.pending", 1)

    def timer_setup(self, call, frame, at, nxt, target) -> None:
        """kernel/time/timer.c init_timer_key -> do_init_timer: sets the callback; the timer is
        not armed by it."""
        arity(call, 2)
        t = self.timer(call, frame)
        fn = self.c.exprs.symbol_arg(call, 1, ("fn",), "a function").name
        frame.b.edge(at, nxt, f"timer_setup({t}, {fn})", call.span,
                     assigns=((f"{t}.func", Const(self.funcs[t].index(fn) + 1)),))

    def mod_timer(self, call, frame, at, nxt, target) -> None:
        """kernel/time/timer.c __mod_timer: no-op on a timer without a callback (shut down);
        otherwise armed, returning whether it was armed already."""
        arity(call, 1)
        t = self.timer(call, frame)
        ret = ((target, Ref(f"{t}.pending")),) if target else ()
        frame.b.edge(at, nxt, f"mod_timer({t}): shut down or never set up, does nothing", call.span,
                     guard=eq(f"{t}.func", 0), assigns=((target, Const(0)),) if target else ())
        frame.b.edge(at, nxt, f"mod_timer({t}): armed", call.span, guard=neg(eq(f"{t}.func", 0)),
                     assigns=((f"{t}.pending", Const(1)),) + ret)

    def timer_delete(self, call, frame, at, nxt, target) -> None:
        """kernel/time/timer.c timer_delete (del_timer): disarms, returns whether it was armed;
        does not wait for a running callback."""
        arity(call, 1)
        t = self.timer(call, frame)
        ret = ((target, Ref(f"{t}.pending")),) if target else ()
        frame.b.edge(at, nxt, f"{call.func}({t}): disarmed, does not wait", call.span,
                     assigns=((f"{t}.pending", Const(0)),) + ret)

    def timer_delete_sync(self, call, frame, at, nxt, target) -> None:
        """kernel/time/timer.c __timer_delete_sync: retries until the callback is not running,
        then disarms in that same moment (a callback that re-armed itself is disarmed too)."""
        self._sync(call, frame, at, nxt, target, shutdown=False)

    def timer_shutdown_sync(self, call, frame, at, nxt, target) -> None:
        """kernel/time/timer.c timer_shutdown_sync: as timer_delete_sync, and the callback is
        cleared, so a later mod_timer does nothing."""
        self._sync(call, frame, at, nxt, target, shutdown=True)

    def _sync(self, call, frame, at, nxt, target, shutdown: bool) -> None:
        arity(call, 1)
        t = self.timer(call, frame)
        assigns = [(f"{t}.pending", Const(0))]
        if shutdown:
            assigns.append((f"{t}.func", Const(0)))
        if target:
            assigns.append((target, Ref(f"{t}.pending")))
        frame.b.edge(at, nxt, f"{call.func}({t}): callback not running, disarmed", call.span,
                     guard=eq(f"{t}.running", 0), assigns=tuple(assigns))

    # -- the timer threads --
    def build_threads(self) -> None:
        for t in self.timers:
            if self.funcs[t]:
                self.c.ctx.threads.append(self._thread(t))

    def _thread(self, t: str):
        """run_timer_softirq -> expire_timers -> call_timer_fn: detached (not pending), then the
        callback runs with base->running_timer set, in softirq context."""
        b = self.c.thread(f"timer:{t}", "worker")
        b.mark_rest(0)
        done = b.new()
        sym = self.timers[t]
        for i, fn in enumerate(self.funcs[t], start=1):
            body = b.new()
            b.edge(0, body, f"timer {t} fires -> {fn}()", None,
                   guard=conj(eq(f"{t}.pending", 1), eq(f"{t}.func", i)),
                   assigns=((f"{t}.pending", Const(0)), (f"{t}.running", Const(1))))
            frame = Frame(b, "timer", module=sym.owner, device=self.c.devdata.home.get(t), ret=done,
                          stack=(fn,), atomic=True)
            self.c.stmts.block(self.c.sym.get(fn).decl.body, frame, body, done)
        b.edge(done, 0, f"{t} callback returned", None, assigns=((f"{t}.running", Const(0)),))
        return b.finish(b.new())
