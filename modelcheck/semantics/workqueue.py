"""Workqueues (kernel-semantics.md §4): work items, queues, workers, flushes and cancels."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import (FALSE, TRUE, Arith, Cmp, Const, Expr, Ite, Ref, Wait, conj, disj, eq, neg)
from ..reduce import variables_of
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

WQ_STATES = ("NULL", "alive", "destroying", "destroyed")
# Calls on a delayed_work that reuse the work item's lowering (delayedwork.py adds the rest).
DELAYED_CALLS = {"INIT_DELAYED_WORK", "delayed_work_pending", "queue_delayed_work", "mod_delayed_work", "cancel_delayed_work",
                 "cancel_delayed_work_sync", "flush_delayed_work"}
_INIT_NAME = {"init_work": "INIT_WORK"}
NULL, ALIVE, DESTROYING, DESTROYED = range(4)


class Workqueues:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.works = {**compiler.devdata.expand("work"),                   # per-device items: one copy each
                      **compiler.devdata.expand("delayed_work")}
        self.wqs = {s.name: s for s in compiler.sym.of_kind("wq")}
        self.funcs: dict[str, list[str]] = {w: [] for w in self.works}     # possible work functions
        self.targets: dict[str, list[str]] = {w: [] for w in self.works}   # workqueues it may be queued on
        self.cancelled: set[str] = set()                                   # items cancel_work_sync may disable
        self.cancel_sites: dict[str, int] = {}                             # inlined cancel_work_sync calls per item
        self.waiters: dict[str, list[str]] = {w: [] for w in self.works}   # flush barriers, one per thread
        self._workers: list = []                                           # built, waiting for their start steps

    # -- setup --
    def prescan(self, calls: list[ast.Call]) -> None:
        """Learn which functions and queues each work item can have, so state stays finite."""
        for w, sym in self.works.items():
            if sym.decl.func:
                self.c.sym.require(sym.decl.func, ("fn",), sym.decl.span, "a function (fn NAME)")
                self.funcs[w].append(sym.decl.func)
        for call in calls:
            if call.func == "init_work" and len(call.args) == 2:
                w, fn = (a.id if isinstance(a, ast.Name) else None for a in call.args)
                for key in self._copies(w):
                    if key in self.funcs and fn and fn not in self.funcs[key]:
                        self.c.sym.require(fn, ("fn",), call.args[1].span, "a function (fn NAME)")
                        self.funcs[key].append(fn)
            if call.func == "cancel_work_sync" and call.args and isinstance(call.args[0], ast.Name):
                self.cancelled.update(self._copies(call.args[0].id))
            queued = None
            if call.func == "queue_work" and len(call.args) == 2:
                queued = call.args
            elif call.func == "schedule_work" and len(call.args) == 1:     # queue_work(system_wq, w)
                queued = (ast.Name("system_wq", call.span), call.args[0])
            if queued is not None:
                q, w = (a.id if isinstance(a, ast.Name) else None for a in queued)
                for key in self._copies(w):
                    if key in self.targets and q in self.wqs and q not in self.targets[key]:
                        self.targets[key].append(q)

    def _copies(self, name) -> list[str]:
        """The work items a name in a call may mean: all copies of a per-device item."""
        sym = self.c.sym.get(name) if name else None
        if sym is None or sym.kind not in ("work", "delayed_work"):
            return [name] if name else []
        return self.c.devdata.copies(sym)

    def declare(self) -> None:
        ctx = self.c.ctx
        for q, sym in self.wqs.items():
            if sym.owner is not None:
                ctx.var(f"{q}.state", 0, 3, NULL, labels=WQ_STATES, span=sym.span)
        for w, sym in self.works.items():
            labels = ("NULL",) + tuple(self.funcs[w])
            static = self.funcs[w].index(sym.decl.func) + 1 if sym.decl.func else 0
            ctx.var(f"{w}.func", 0, len(labels) - 1, static, labels=labels, span=sym.span)
            ctx.flag(f"{w}.pending")
            ctx.flag(f"{w}.running")
            if self.targets[w]:
                names = tuple(self.targets[w]) + ("(dropped)",)
                ctx.var(f"{w}.wq", 0, len(names) - 1, 0, labels=names)
            if self._ordered_targets(w):
                ctx.var(f"{w}.pos", 0, len(self.works), 0)
            if w in self.cancelled:
                ctx.var(f"{w}.disabled", 0, 1, 0)   # a count; its bound is set in finish_workers

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        """A reloaded module's work items and queues come back as their static initializers."""
        out: list[tuple[str, Expr]] = []
        for w, sym in self.works.items():
            if sym.owner == module:
                v = self.c.ctx.variables[f"{w}.func"]
                out += [(f"{w}.func", Const(v.init)), (f"{w}.pending", Const(0)), (f"{w}.running", Const(0))]
        for q, sym in self.wqs.items():
            if sym.owner == module:
                out.append((f"{q}.state", Const(NULL)))
        return out

    def module_works_idle(self, module: str) -> Expr:
        return conj(*(self.idle(w) for w, s in self.works.items() if s.owner == module))

    # -- small expressions --
    def idle(self, w: str) -> Expr:
        return conj(eq(f"{w}.pending", 0), eq(f"{w}.running", 0))

    def wq_state(self, q: str) -> Expr:
        return Ref(f"{q}.state") if self.wqs[q].owner is not None else Const(ALIVE)

    def on_queue(self, w: str, q: str) -> Expr:
        if q not in self.targets[w]:
            return FALSE
        return eq(f"{w}.wq", self.targets[w].index(q))

    def _ordered_targets(self, w: str) -> list[str]:
        return [q for q in self.targets[w] if self.wqs[q].decl.ordered]

    def _sharing(self, q: str) -> list[str]:
        return [w for w in self.works if q in self.targets[w]]

    # -- statements --
    def statements(self) -> dict:
        return {"init_work": self.init_work, "queue_work": self.queue_work, "schedule_work": self.schedule_work,
                "flush_work": self.flush_work, "cancel_work_sync": self.cancel_work_sync,
                "flush_workqueue": self.flush_workqueue, "destroy_workqueue": self.destroy_workqueue,
                "alloc_workqueue": self.alloc_workqueue}

    def queries(self) -> dict:
        return {"work_pending": self.work_pending, "work_busy": self.work_busy}

    def schedule_work(self, call, frame, at, nxt, target) -> None:
        """include/linux/workqueue.h schedule_work: queue_work(system_wq, work), with its result."""
        arity(call, 1)
        as_queue = ast.Call("queue_work", (ast.Name("system_wq", call.span), call.args[0]), call.span)
        self.queue_work(as_queue, frame, at, nxt, target)

    def work(self, call: ast.Call, i: int, frame: Frame) -> str:
        if call.func in DELAYED_CALLS:
            sym = self.c.exprs.symbol_arg(call, i, ("delayed_work",), "a delayed work item (delayed_work NAME)")
        else:
            sym = self.c.exprs.symbol_arg(call, i, ("work",), "a work item")
        return self.c.devdata.key(sym, frame, call.args[i].span)

    def wq(self, call: ast.Call, i: int) -> str:
        return self.c.exprs.symbol_arg(call, i, ("wq",), "a workqueue").name

    def work_pending(self, call: ast.Call, frame: Frame) -> Expr:
        """include/linux/workqueue.h work_pending: the PENDING bit."""
        arity(call, 1)
        return eq(f"{self.work(call, 0, frame)}.pending", 1)

    def work_busy(self, call: ast.Call, frame: Frame) -> Expr:
        """kernel/workqueue.c work_busy: WORK_BUSY_PENDING or WORK_BUSY_RUNNING (a worker is
        executing it), as one truth value: queued, or its function is running."""
        arity(call, 1)
        w = self.work(call, 0, frame)
        return disj(eq(f"{w}.pending", 1), eq(f"{w}.running", 1))

    def init_work(self, call, frame, at, nxt, target) -> None:
        arity(call, 2)
        w = self.work(call, 0, frame)
        fn = self.c.exprs.symbol_arg(call, 1, ("fn",), "a function").name
        busy = self.c.ctx.check("reinit_busy_work", self.idle(w),
                                f"INIT_WORK on {w} while it is pending or running corrupts the queue")
        frame.b.edge(at, nxt, f"{_INIT_NAME.get(call.func, call.func)}({w}, {fn})", call.span,
                     assigns=((f"{w}.func", Const(self.funcs[w].index(fn) + 1)),), checks=(busy,))

    def queue_work(self, call, frame, at, nxt, target) -> None:
        arity(call, 2)
        q, w = self.wq(call, 0), self.work(call, 1, frame)
        ctx = self.c.ctx
        accepts = self._accepts(q, frame)
        checks = (ctx.check("queue_on_dead_workqueue", accepts,
                            f"queue_work on {q}, which is not allocated or is being destroyed"),
                  ctx.check("queue_uninitialized_work", Cmp("!=", Ref(f"{w}.func"), Const(0)),
                            f"queue_work of {w}, whose func is NULL"))
        ret_true = ((target, Const(1)),) if target else ()
        ret_false = ((target, Const(0)),) if target else ()
        busy = disj(eq(f"{w}.pending", 1),
                    Cmp(">", Ref(f"{w}.disabled"), Const(0)) if w in self.cancelled else FALSE)
        frame.b.edge(at, nxt, f"{call.func}({q}, {w}): already pending (or disabled), returns false", call.span,
                     guard=busy, assigns=ret_false, checks=checks)
        slot = Const(self.targets[w].index(q))
        dropped = Const(len(self.targets[w]))
        assigns = [(f"{w}.pending", Const(1)), (f"{w}.wq", Ite(accepts, slot, dropped))]
        if self.wqs[q].decl.ordered:
            ahead: Expr = Const(1)
            for v in self._sharing(q):
                if v != w:
                    ahead = Arith("+", ahead, Ite(conj(eq(f"{v}.pending", 1), self.on_queue(v, q)),
                                                  Const(1), Const(0)))
            assigns.append((f"{w}.pos", ahead))
        frame.b.edge(at, nxt, f"{call.func}({q}, {w})", call.span, guard=neg(busy),
                     assigns=tuple(assigns) + ret_true, checks=checks)

    def _accepts(self, q: str, frame: Frame) -> Expr:
        """A live queue takes any work; a draining or destroying one only chained work, queued by
        a work item running on that same queue (§4.2 __queue_work, is_chained_work)."""
        alive = Cmp("==", self.wq_state(q), Const(ALIVE))
        if frame.work is None or q not in self.targets.get(frame.work, []) or self.wqs[q].owner is None:
            return alive
        return disj(alive, conj(eq(f"{q}.state", DESTROYING), self.on_queue(frame.work, q)))

    def waiter(self, w: str, thread: str) -> str:
        """The flush barrier a thread waits on for w: 1 behind the queued instance, 2 behind the
        running one, 0 once that instance finished (§4.4 start_flush_work)."""
        name = f"{w}.flushed_by[{thread}]"
        if thread not in self.waiters[w]:
            self.waiters[w].append(thread)
            self.c.ctx.var(name, 0, 2, 0, labels=("none", "behind queued", "behind running"))
        return name

    def flush_work(self, call, frame, at, nxt, target) -> None:
        """Waits for the last queued instance only, not for re-queues made after the call (§4.4)."""
        arity(call, 1)
        w = self.work(call, 0, frame)
        check = self.c.ctx.check("flush_uninitialized_work", Cmp("!=", Ref(f"{w}.func"), Const(0)),
                                 f"{call.func}({w}) with func NULL: WARN in __flush_work")
        ret = ((target, Const(0)),) if target else ()
        b, slot = frame.b, self.waiter(w, frame.b.name)
        b.edge(at, nxt, f"{call.func}({w}): func is NULL, WARN and return", call.span,
               guard=eq(f"{w}.func", 0), checks=(check,), assigns=ret)
        live = neg(eq(f"{w}.func", 0))
        b.edge(at, nxt, f"{call.func}({w}): idle, returns at once", call.span,
               guard=conj(live, self.idle(w)), checks=(check,), assigns=ret)
        # An item a dying workqueue refused keeps PENDING but is on no list: start_flush_work
        # finds no pwq and no worker for it ("already_gone") and flush_work returns at once.
        refused = eq(f"{w}.wq", len(self.targets[w])) if self.targets[w] else FALSE
        wait = b.new()
        b.edge(at, wait, f"{call.func}({w}): waits for the queued instance", call.span,
               guard=conj(live, eq(f"{w}.pending", 1), neg(refused)), checks=(check,), assigns=((slot, Const(1)),))
        b.edge(at, wait, f"{call.func}({w}): waits for the running instance", call.span,
               guard=conj(live, disj(eq(f"{w}.pending", 0), refused), eq(f"{w}.running", 1)), checks=(check,),
               assigns=((slot, Const(2)),))
        if refused != FALSE:
            b.edge(at, nxt, f"{call.func}({w}): refused by its dying workqueue, on no list: returns at once",
                   call.span, guard=conj(live, eq(f"{w}.pending", 1), refused, eq(f"{w}.running", 0)),
                   checks=(check,), assigns=ret)
        b.edge(wait, nxt, f"{call.func}({w}) returns", call.span, guard=eq(slot, 0),
               assigns=((target, Const(1)),) if target else (),
               waits=Wait(f"work {w}", f"the instance of {w} it waits behind has finished", (slot,)))

    def cancel_work_sync(self, call, frame, at, nxt, target) -> None:
        """Disables the item, takes it off the queue, waits for a running instance (§4.4)."""
        arity(call, 1)
        w = self.work(call, 0, frame)
        check = self.c.ctx.check("flush_uninitialized_work", Cmp("!=", Ref(f"{w}.func"), Const(0)),
                                 f"{call.func}({w}) with func NULL: WARN in __flush_work")
        mid = frame.b.new()
        # Flushers behind the stolen instance are released: their barrier still runs.
        released = [(self.waiter(w, t), Ite(eq(self.waiter(w, t), 1), Const(0), Ref(self.waiter(w, t))))
                    for t in list(self.waiters[w])]
        self.cancel_sites[w] = self.cancel_sites.get(w, 0) + 1
        disable = Arith("+", Ref(f"{w}.disabled"), Const(1))
        assigns = [(f"{w}.pending", Const(0)), (f"{w}.disabled", disable)] + self._dequeue(w) + released
        if target:
            assigns.append((target, Ref(f"{w}.pending")))
        frame.b.edge(at, mid, f"{call.func}({w}): disables it (one more) and takes it off the queue", call.span,
                     assigns=tuple(assigns), checks=(check,))
        frame.b.edge(mid, nxt, f"{call.func}({w}) returns (enable_work: one disable less)", call.span,
                     guard=disj(eq(f"{w}.func", 0), eq(f"{w}.running", 0)),
                     assigns=((f"{w}.disabled", Arith("-", Ref(f"{w}.disabled"), Const(1))),),
                     waits=Wait(f"work {w}", f"the running instance of {w} has finished", (f"{w}.running",)))

    def _dequeue(self, w: str) -> list[tuple[str, Expr]]:
        """Items queued behind w on an ordered queue move up one place."""
        out = []
        if not self._ordered_targets(w):
            return out
        for v in self.works:
            if v == w or not set(self._ordered_targets(v)) & set(self._ordered_targets(w)):
                continue
            same = disj(*(conj(self.on_queue(v, q), self.on_queue(w, q)) for q in self._ordered_targets(w)))
            behind = conj(eq(f"{w}.pending", 1), same, Cmp(">", Ref(f"{v}.pos"), Ref(f"{w}.pos")))
            out.append((f"{v}.pos", Ite(behind, Arith("-", Ref(f"{v}.pos"), Const(1)), Ref(f"{v}.pos"))))
        out.append((f"{w}.pos", Const(0)))
        return out

    def drained(self, q: str) -> Expr:
        return conj(*(neg(conj(neg(self.idle(v)), self.on_queue(v, q))) for v in self._sharing(q)))

    def flush_workqueue(self, call, frame, at, nxt, target) -> None:
        """Waits for every item queued before the call, not for later ones (§4.4 flush colours)."""
        arity(call, 1)
        q = self.wq(call, 0)
        # __flush_workqueue has no check of __WQ_DRAINING/__WQ_DESTROYING: flushing a queue that
        # destroy_workqueue is draining is fine; only a NULL or freed one is a bug.
        state = self.wq_state(q)
        check = self.c.ctx.check("queue_on_dead_workqueue",
                                 disj(Cmp("==", state, Const(ALIVE)), Cmp("==", state, Const(DESTROYING))),
                                 f"flush_workqueue({q}) on a workqueue that is NULL or destroyed")
        thread = frame.b.name
        marks = []
        for v in self._sharing(q):
            on = self.on_queue(v, q)
            marks.append((self.waiter(v, thread),
                          Ite(conj(on, eq(f"{v}.pending", 1)), Const(1),
                              Ite(conj(on, eq(f"{v}.running", 1)), Const(2), Const(0)))))
        wait = frame.b.new()
        frame.b.edge(at, wait, f"flush_workqueue({q})", call.span, checks=(check,), assigns=tuple(marks))
        frame.b.edge(wait, nxt, f"flush_workqueue({q}) returns", call.span,
                     guard=conj(*(eq(name, 0) for name, _ in marks)),
                     waits=Wait(f"workqueue {q}", "every item queued before the flush has finished",
                                tuple(name for name, _ in marks)))

    def destroy_workqueue(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        q = self._module_wq(call)
        check = self.c.ctx.check("queue_on_dead_workqueue", eq(f"{q}.state", ALIVE),
                                 f"destroy_workqueue({q}) on a workqueue that is NULL or destroyed")
        mid = frame.b.new()
        frame.b.edge(at, mid, f"destroy_workqueue({q}): drains", call.span, checks=(check,),
                     assigns=((f"{q}.state", Ite(eq(f"{q}.state", ALIVE), Const(DESTROYING), Ref(f"{q}.state"))),))
        frame.b.edge(mid, nxt, f"destroy_workqueue({q}): destroyed", call.span,
                     guard=self.drained(q), assigns=((f"{q}.state", Const(DESTROYED)),),
                     waits=Wait(f"workqueue {q}", f"{q} is drained: no item on it is queued or running",
                                tuple(sorted(variables_of(self.drained(q))))))

    def alloc_workqueue(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        q = self._module_wq(call)
        frame.b.edge(at, nxt, f"{q} = alloc_workqueue()", call.span,
                     assigns=((f"{q}.state", Const(ALIVE)),))

    def _module_wq(self, call) -> str:
        q = self.wq(call, 0)
        if self.wqs[q].owner is None:
            raise SpecError("E202", call.span, f"{q} is a system workqueue; it is never allocated or destroyed")
        return q

    # -- workers --
    def build_workers(self) -> None:
        """Worker bodies now; their start and finish steps in finish_workers, once every flush
        barrier (some live in other workers' bodies) is known."""
        for w in self.works:
            if self.funcs[w]:
                self._workers.append((w, self._worker_body(w)))

    def finish_workers(self) -> None:
        # The disable count (kernel/workqueue.c work_offqd_disable) reaches at most one per
        # cancel_work_sync that can be waiting at once: one per inlined call site.
        for w, sites in self.cancel_sites.items():
            var = self.c.ctx.variables[f"{w}.disabled"]
            self.c.ctx.variables[f"{w}.disabled"] = replace(var, hi=max(1, sites))
        for w, (b, starts, done) in self._workers:
            promote = [(s, Ite(eq(s, 1), Const(2), Ref(s))) for s in self._slots(w)]
            release = [(s, Ite(eq(s, 2), Const(0), Ref(s))) for s in self._slots(w)]
            start = [(f"{w}.pending", Const(0)), (f"{w}.running", Const(1))] + self._dequeue(w) + promote
            for i, (fn, body) in enumerate(starts, start=1):
                b.edge(0, body, f"worker runs {w} -> {fn}()", None,
                       guard=conj(eq(f"{w}.pending", 1), eq(f"{w}.func", i), self._may_start(w)),
                       assigns=tuple(start))
            b.edge(done, 0, f"{w} finished", None, assigns=((f"{w}.running", Const(0)),) + tuple(release))
            self.c.ctx.threads.append(b.finish(b.new()))

    def _slots(self, w: str) -> list[str]:
        return [f"{w}.flushed_by[{t}]" for t in self.waiters[w]]

    def _worker_body(self, w: str):
        b = self.c.thread(f"kworker:{w}", "worker")
        b.mark_rest(0)
        done = b.new()
        starts = []
        for fn in self.funcs[w]:
            body = b.new()
            decl = self.c.sym.get(fn).decl
            frame = Frame(b, "work", module=self.works[w].owner, device=self.c.devdata.home.get(w),
                          ret=done, stack=(fn,), work=w)   # container_of: the work knows its device
            self.c.stmts.block(decl.body, frame, body, done)
            starts.append((fn, body))
        return b, starts, done

    def _may_start(self, w: str) -> Expr:
        """Dropped items never run; on an ordered queue only the head runs, one at a time."""
        if not self.targets[w]:
            return TRUE
        parts = [Cmp("!=", Ref(f"{w}.wq"), Const(len(self.targets[w])))]
        for q in self._ordered_targets(w):
            others_idle = conj(*(neg(conj(eq(f"{v}.running", 1), self.on_queue(v, q)))
                                 for v in self._sharing(q) if v != w))
            parts.append(disj(neg(self.on_queue(w, q)), conj(eq(f"{w}.pos", 1), others_idle)))
        return conj(*parts)
