"""Delayed work (kernel/workqueue.c): a work item queued by a timer, at any later moment.

A `delayed_work` is a work item of the workqueue model (workqueue.py keeps its func, pending
and running flags and its kworker). Its PENDING bit is set from queue_delayed_work_on until a
worker starts it, whether the timer is still armed or the item already sits on the queue: the
expiry is a scheduling choice, so "timer armed" and "queued" are one state, and a worker may
start the item at any later moment. The calls below differ from the plain-work ones only where
the kernel's do (mod_delayed_work re-arms, cancel_delayed_work does not wait).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Cmp, Const, Ite, Ref, conj, eq, neg
from ..syntax import ast
from .exprs import arity
from .symbols import SYSTEM_WORKQUEUES

if TYPE_CHECKING:
    from .compile import Compiler

QUEUEING = ("queue_delayed_work", "mod_delayed_work")


class DelayedWork:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler

    @property
    def wq(self):
        return self.c.workqueues

    def prescan(self, calls: list[ast.Call]) -> None:
        """Functions, queues and cancels of delayed items, into the workqueue model's tables.
        Raises E234 for a delayed item queued on a module's own workqueue (not modelled: the
        queueing at expiry would be checked against the queue's state at the call)."""
        wq = self.wq
        for call in calls:
            names = [a.id if isinstance(a, ast.Name) else None for a in call.args]
            if call.func == "INIT_DELAYED_WORK" and len(names) == 2:
                for key in wq._copies(names[0]):
                    if key in wq.funcs and names[1] and names[1] not in wq.funcs[key]:
                        self.c.sym.require(names[1], ("fn",), call.args[1].span, "a function (fn NAME)")
                        wq.funcs[key].append(names[1])
            if call.func == "cancel_delayed_work_sync" and names and names[0]:
                wq.cancelled.update(wq._copies(names[0]))
            target = None
            if call.func in QUEUEING and len(names) == 2:
                target = names
            elif call.func == "schedule_delayed_work" and len(names) == 1:
                target = ["system_wq", names[0]]
            if target is None or target[0] not in wq.wqs:
                continue
            if target[0] not in SYSTEM_WORKQUEUES:
                raise SpecError("E234", call.span, f"{call.func}() on {target[0]}: delayed work is modelled "
                                "on the system workqueues only")
            for key in wq._copies(target[1]):
                if key in wq.targets and target[0] not in wq.targets[key]:
                    wq.targets[key].append(target[0])

    def statements(self) -> dict:
        wq = self.wq
        return {"INIT_DELAYED_WORK": wq.init_work, "queue_delayed_work": wq.queue_work,
                "schedule_delayed_work": self.schedule_delayed_work,
                "mod_delayed_work": self.mod_delayed_work, "cancel_delayed_work": self.cancel_delayed_work,
                "cancel_delayed_work_sync": wq.cancel_work_sync, "flush_delayed_work": wq.flush_work}

    def queries(self) -> dict:
        return {"delayed_work_pending": self.delayed_work_pending}

    def delayed_work_pending(self, call, frame):
        """include/linux/workqueue.h delayed_work_pending: the PENDING bit (timer armed or queued)."""
        arity(call, 1)
        return eq(f"{self.wq.work(call, 0, frame)}.pending", 1)

    def schedule_delayed_work(self, call, frame, at, nxt, target) -> None:
        """include/linux/workqueue.h: schedule_delayed_work is queue_delayed_work(system_wq, ...)."""
        arity(call, 1)
        as_queue = ast.Call("queue_delayed_work", (ast.Name("system_wq", call.span), call.args[0]), call.span)
        self.wq.queue_work(as_queue, frame, at, nxt, target)

    def mod_delayed_work(self, call, frame, at, nxt, target) -> None:
        """kernel/workqueue.c mod_delayed_work_on: grab the pending item (returns whether it was
        pending), then queue it again unless it is disabled: pending either way."""
        arity(call, 2)
        wq = self.wq
        q, w = wq.wq(call, 0), wq.work(call, 1, frame)
        check = self.c.ctx.check("queue_uninitialized_work", Cmp("!=", Ref(f"{w}.func"), Const(0)),
                                 f"mod_delayed_work of {w}, whose func is NULL")
        slot = ((f"{w}.wq", Const(wq.targets[w].index(q))),)
        ret = (lambda v: ((target, Const(v)),) if target else ())
        disabled = eq(f"{w}.disabled", 1) if w in wq.cancelled else None
        b = frame.b
        if disabled is not None:
            b.edge(at, nxt, f"mod_delayed_work({q}, {w}): disabled, not queued", call.span,
                   guard=disabled, assigns=ret(0))
        enabled = neg(disabled) if disabled is not None else None
        b.edge(at, nxt, f"mod_delayed_work({q}, {w}): pending, timer re-armed, returns true", call.span,
               guard=conj(eq(f"{w}.pending", 1), *([enabled] if enabled else [])),
               assigns=slot + ret(1), checks=(check,))
        b.edge(at, nxt, f"mod_delayed_work({q}, {w}): queued, returns false", call.span,
               guard=conj(eq(f"{w}.pending", 0), *([enabled] if enabled else [])),
               assigns=((f"{w}.pending", Const(1)),) + slot + ret(0), checks=(check,))

    def cancel_delayed_work(self, call, frame, at, nxt, target) -> None:
        """kernel/workqueue.c cancel_delayed_work: __cancel_work takes the item off its timer or
        queue and returns whether it was pending; it neither waits for a running instance nor
        disables the item."""
        arity(call, 1)
        wq = self.wq
        w = wq.work(call, 0, frame)
        # flushers behind the stolen instance are released, as for cancel_work_sync
        released = [(wq.waiter(w, t), Ite(eq(wq.waiter(w, t), 1), Const(0), Ref(wq.waiter(w, t))))
                    for t in list(wq.waiters[w])]
        assigns = [(f"{w}.pending", Const(0))] + wq._dequeue(w) + released
        if target:
            assigns.append((target, Ref(f"{w}.pending")))
        frame.b.edge(at, nxt, f"cancel_delayed_work({w}): off the timer and queue, does not wait", call.span,
                     assigns=tuple(assigns))
