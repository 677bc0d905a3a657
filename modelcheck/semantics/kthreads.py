"""Kernel threads (kernel/kthread.c): kthread_run starts FN in a thread of its own,
kthread_stop asks it to stop and waits until FN has returned.

State per kthread: `K.state` (none, running: FN has not returned, exited: FN returned and
the task waits to be reaped by kthread_stop) and `K.should_stop` (KTHREAD_SHOULD_STOP). A
`kthread:K` thread runs FN once per kthread_run. A thread stopped before it got to run FN
never runs it (kthread(): threadfn is called only if KTHREAD_SHOULD_STOP is clear).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Const, Expr, conj, eq, neg
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

STATES = ("none", "running", "exited")
NONE, RUNNING, EXITED = range(3)
MISUSE = "kthread_misuse"


class Kthreads:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.kthreads = compiler.devdata.expand("kthread")     # key -> symbol (copies per device)
        self.by_thread: dict[str, str] = {}                   # thread name -> kthread key

    def declare(self) -> None:
        for k, sym in self.kthreads.items():
            self.c.sym.require(sym.decl.func, ("fn",), sym.decl.span, "a function (fn NAME)")
            self.c.ctx.var(f"{k}.state", 0, 2, NONE, labels=STATES, span=sym.span)
            self.c.ctx.flag(f"{k}.should_stop")

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        out: list[tuple[str, Expr]] = []
        for k, sym in self.kthreads.items():
            if sym.owner == module:
                out += [(f"{k}.state", Const(NONE)), (f"{k}.should_stop", Const(0))]
        return out

    def idle(self, k: str) -> Expr:
        """No code of the thread runs any more (an exited, unreaped task runs nothing)."""
        return neg(eq(f"{k}.state", RUNNING))

    # -- statements --
    def statements(self) -> dict:
        return {"kthread_run": self.kthread_run, "kthread_stop": self.kthread_stop}

    def queries(self) -> dict:
        return {"kthread_should_stop": self.kthread_should_stop}

    def kthread(self, call: ast.Call, frame: Frame) -> str:
        arity(call, 1)
        sym = self.c.exprs.symbol_arg(call, 0, ("kthread",), "a kernel thread (kthread NAME = FN)")
        return self.c.devdata.key(sym, frame, call.args[0].span)

    def kthread_should_stop(self, call, frame) -> Expr:
        """kernel/kthread.c kthread_should_stop: KTHREAD_SHOULD_STOP of the current thread.
        Raises E235 outside a kernel thread's function."""
        arity(call, 0)
        k = self.by_thread.get(frame.b.name) if frame.b is not None else None
        if k is None and frame.b is not None and frame.b.kind == "lint" and self.kthreads:
            k = next(iter(self.kthreads))   # code no thread runs is only checked for errors
        if k is None:
            raise SpecError("E235", call.span, "kthread_should_stop() asks about the current kernel thread, "
                            "and this code does not run in one")
        return eq(f"{k}.should_stop", 1)

    def kthread_run(self, call, frame, at, nxt, target) -> None:
        """kernel/kthread.c kthread_create_on_node + wake_up_process: a new task runs FN."""
        k = self.kthread(call, frame)
        check = self.c.ctx.check(MISUSE, eq(f"{k}.state", NONE),
                                 f"kthread_run({k}) while its previous thread was not stopped: that task is lost")
        frame.b.edge(at, nxt, f"kthread_run({k})", call.span, checks=(check,),
                     assigns=((f"{k}.state", Const(RUNNING)), (f"{k}.should_stop", Const(0))))

    def kthread_stop(self, call, frame, at, nxt, target) -> None:
        """kernel/kthread.c kthread_stop: set KTHREAD_SHOULD_STOP, wake the thread, wait for
        its exit (wait_for_completion(&kthread->exited)), reap it."""
        k = self.kthread(call, frame)
        check = self.c.ctx.check(MISUSE, neg(eq(f"{k}.state", NONE)),
                                 f"kthread_stop({k}) with no thread started: a NULL or freed task")
        wait = frame.b.step(at, f"kthread_stop({k}): should_stop set, thread woken", call.span,
                            checks=(check,), assigns=((f"{k}.should_stop", Const(1)),))
        frame.b.edge(wait, nxt, f"kthread_stop({k}) returns: the thread has exited", call.span,
                     guard=neg(eq(f"{k}.state", RUNNING)), assigns=((f"{k}.state", Const(NONE)),))

    # -- the threads --
    def build_threads(self) -> None:
        for k in self.kthreads:
            self.c.ctx.threads.append(self._thread(k))

    def _thread(self, k: str):
        sym = self.kthreads[k]
        fn = sym.decl.func
        name = f"kthread:{k}"
        self.by_thread[name] = k
        b = self.c.thread(name, "worker")
        b.mark_rest(0)
        body, done = b.new(), b.new()
        started = eq(f"{k}.state", RUNNING)
        b.edge(0, body, f"kthread {k} runs {fn}()", None, guard=conj(started, eq(f"{k}.should_stop", 0)))
        b.edge(0, done, f"kthread {k} stopped before {fn}() ran", None,
               guard=conj(started, eq(f"{k}.should_stop", 1)))
        frame = Frame(b, "kthread", module=sym.owner, device=self.c.devdata.home.get(k), ret=done, stack=(fn,))
        self.c.stmts.block(self.c.sym.get(fn).decl.body, frame, body, done)
        b.edge(done, 0, f"{fn}() returned: kthread {k} exited", None, assigns=((f"{k}.state", Const(EXITED)),))
        return b.finish(b.new())
