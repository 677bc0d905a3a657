"""Completions and wait queues (kernel/sched/completion.c, include/linux/wait.h,
kernel/sched/wait.c): who sleeps, what wakes them, and the timeouts that may fire at any time."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..ir import Arith, Cmp, Const, Edge, Expr, Ite, Location, Ref, conj, eq, neg
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

DONE_BOUND = 2                 # complete() calls counted without a wait in between
ALL = DONE_BOUND + 1           # complete_all: done = UINT_MAX
DONE_LABELS = tuple(str(i) for i in range(DONE_BOUND + 1)) + ("all (complete_all)",)
WAKE_ALL = "#wake_up"          # stands for "every sleeper of the queue" until finish() expands it

# Primitives that may sleep (might_sleep() in the kernel source), for the atomic-context check.
SLEEPS = frozenset({"wait_for_completion", "wait_for_completion_timeout", "wait_event", "wait_event_timeout"})


class Completions:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.completions = {s.name: s for s in compiler.sym.of_kind("completion")}
        self.waitqueues = {s.name: s for s in compiler.sym.of_kind("waitqueue")}
        self.sleepers: dict[str, list[str]] = {q: [] for q in self.waitqueues}

    def declare(self) -> None:
        for name, sym in self.completions.items():
            self.c.ctx.var(f"{name}.done", 0, ALL, 0, labels=DONE_LABELS, span=sym.span)

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        """A module's DECLARE_COMPLETION comes back at each load. (A wait queue head has no state
        of its own here: its sleepers are threads, which a reload does not wake.)"""
        return [(f"{c}.done", Const(0)) for c, s in self.completions.items() if s.owner == module]

    # -- statements --
    def statements(self) -> dict:
        return {"init_completion": self.init_completion, "reinit_completion": self.init_completion,
                "complete": self.complete, "complete_all": self.complete_all,
                "wait_for_completion": self.wait_for_completion,
                "wait_for_completion_timeout": self.wait_for_completion_timeout,
                "wait_event": self.wait_event, "wait_event_timeout": self.wait_event_timeout,
                "wake_up": self.wake_up}

    def queries(self) -> dict:
        return {"completion_done": self.q_completion_done}

    def completion_arg(self, call: ast.Call) -> str:
        """The completion a one-argument call names (E204, E202 otherwise)."""
        return self._completion(call)

    def _completion(self, call: ast.Call) -> str:
        arity(call, 1)
        return self.c.exprs.symbol_arg(call, 0, ("completion",), "a completion (completion NAME;)").name

    def _waitqueue(self, call: ast.Call, n: int) -> str:
        arity(call, n)
        return self.c.exprs.symbol_arg(call, 0, ("waitqueue",), "a wait queue (waitqueue NAME;)").name

    def q_completion_done(self, call, frame) -> Expr:
        """completion.c completion_done: true when a wait would not sleep."""
        return Cmp(">", Ref(f"{self._completion(call)}.done"), Const(0))

    def init_completion(self, call, frame, at, nxt, target) -> None:
        """init_completion / reinit_completion (include/linux/completion.h): done = 0."""
        c = self._completion(call)
        frame.b.edge(at, nxt, f"{call.func}({c})", call.span, assigns=((f"{c}.done", Const(0)),))

    def complete(self, call, frame, at, nxt, target) -> None:
        """completion.c complete: done++ (unless complete_all set it to UINT_MAX), wake one waiter."""
        c = self._completion(call)
        done = Ref(f"{c}.done")
        fits = self.c.ctx.check("value_in_range", neg(eq(f"{c}.done", DONE_BOUND)),
                                f"complete({c}): more than {DONE_BOUND} completions nobody waited for "
                                "(beyond the model's bound)")
        value = Ite(Cmp("<", done, Const(DONE_BOUND)), Arith("+", done, Const(1)), done)
        frame.b.edge(at, nxt, f"complete({c})", call.span, assigns=((f"{c}.done", value),), checks=(fits,))

    def complete_all(self, call, frame, at, nxt, target) -> None:
        """completion.c complete_all: done = UINT_MAX, every waiter now and later passes."""
        c = self._completion(call)
        frame.b.edge(at, nxt, f"complete_all({c})", call.span, assigns=((f"{c}.done", Const(ALL)),))

    def take(self, c: str) -> tuple:
        """The assignment of taking one completion of c (a wait that returns)."""
        return self._take(c)

    def _take(self, c: str) -> tuple:
        """completion.c do_wait_for_common: `if (x->done != UINT_MAX) x->done--;`"""
        done = Ref(f"{c}.done")
        return ((f"{c}.done", Ite(eq(f"{c}.done", ALL), done, Arith("-", done, Const(1)))),)

    def wait_for_completion(self, call, frame, at, nxt, target) -> None:
        """completion.c wait_for_completion: sleeps until done > 0, then takes one."""
        c = self._completion(call)
        frame.b.edge(at, nxt, f"wait_for_completion({c})", call.span,
                     guard=Cmp(">", Ref(f"{c}.done"), Const(0)), assigns=self._take(c))

    def wait_for_completion_timeout(self, call, frame, at, nxt, target) -> None:
        """completion.c wait_for_completion_timeout: like wait_for_completion, but the timeout
        may expire at any moment (a delay is not a number here): then it returns 0 and takes nothing."""
        c = self._completion(call)
        ok = ((target, Const(1)),) if target else ()
        no = ((target, Const(0)),) if target else ()
        frame.b.edge(at, nxt, f"wait_for_completion_timeout({c}): completed", call.span,
                     guard=Cmp(">", Ref(f"{c}.done"), Const(0)), assigns=self._take(c) + ok)
        frame.b.edge(at, nxt, f"wait_for_completion_timeout({c}): timed out, returns 0", call.span,
                     assigns=no)

    # -- wait queues --
    def _asleep(self, q: str, frame: Frame) -> str:
        name = f"{q}.asleep[{frame.b.name}]"
        if name not in self.sleepers[q]:
            self.sleepers[q].append(name)
        self.c.ctx.flag(name)
        return name

    def wait_event(self, call, frame, at, nxt, target) -> None:
        self._wait_event(call, frame, at, nxt, target, timeout=False)

    def wait_event_timeout(self, call, frame, at, nxt, target) -> None:
        self._wait_event(call, frame, at, nxt, target, timeout=True)

    def _wait_event(self, call, frame, at, nxt, target, timeout: bool) -> None:
        """include/linux/wait.h ___wait_event: test COND; if false, prepare_to_wait_event puts the
        thread on the queue and it sleeps; it tests COND again only once a wake_up took it off
        (kernel/sched/wait.c __wake_up_common -> autoremove_wake_function). The queueing and the
        test are one step here, as the kernel queues before it tests (no wake-up is lost between).
        wait_event_timeout may also time out at any moment: it returns COND's value then
        (___wait_cond_timeout), and 1 when woken with COND true."""
        q = self._waitqueue(call, 2)
        cond = self.c.fold(self.c.exprs.cond(call.args[1], frame))
        flag = self._asleep(q, frame)
        text = _show_call(call)
        b = frame.b
        ok = ((target, Const(1)),) if target else ()
        asleep = b.new()
        b.edge(at, nxt, f"{text}: condition true", call.span, guard=cond, assigns=ok)
        b.edge(at, asleep, f"{text}: condition false, sleeps", call.span, guard=neg(cond),
               assigns=((flag, Const(1)),))
        woken = eq(flag, 0)
        b.edge(asleep, nxt, f"{text}: woken, condition true", call.span, guard=conj(woken, cond), assigns=ok)
        b.edge(asleep, asleep, f"{text}: woken, condition still false, sleeps again", call.span,
               guard=conj(woken, neg(cond)), assigns=((flag, Const(1)),))
        if timeout:
            value = ((target, Ite(cond, Const(1), Const(0))),) if target else ()
            b.edge(asleep, nxt, f"{text}: timed out", call.span, assigns=((flag, Const(0)),) + value)

    def wake_up(self, call, frame, at, nxt, target) -> None:
        """kernel/sched/wait.c __wake_up: every non-exclusive sleeper (wait_event is one) is woken."""
        q = self._waitqueue(call, 1)
        frame.b.edge(at, nxt, f"wake_up({q})", call.span, assigns=((f"{q}{WAKE_ALL}", Const(0)),))

    def finish(self) -> None:
        """Expand each wake_up into clearing the sleep flag of every thread that waits on the
        queue: the sleepers are known only once every thread is built."""
        markers = {f"{q}{WAKE_ALL}": q for q in self.waitqueues}
        if not markers:
            return
        threads = self.c.ctx.threads
        for i, thread in enumerate(threads):
            if any(var in markers for loc in thread.locations for e in loc.edges for var, _ in e.assigns):
                threads[i] = replace(thread, locations=tuple(
                    Location(tuple(self._expand(e, markers) for e in loc.edges), loc.rest)
                    for loc in thread.locations))

    def _expand(self, edge: Edge, markers: dict[str, str]) -> Edge:
        assigns = []
        for var, value in edge.assigns:
            if var in markers:
                assigns += [(flag, Const(0)) for flag in self.sleepers[markers[var]]]
            else:
                assigns.append((var, value))
        return replace(edge, assigns=tuple(assigns))


def _show_call(call: ast.Call) -> str:
    from .statements import show
    return show(call)
