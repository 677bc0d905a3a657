"""Atomic context and the primitives that may sleep: the check `sleep_in_atomic`.

A timer callback runs in softirq context (kernel/time/timer.c: call_timer_fn, from
run_timer_softirq), where sleeping is a bug that might_sleep() reports (kernel/sched/core.c:
__might_sleep). Lowering code in an atomic frame (Frame.atomic) puts a failing check in front
of every call named in SLEEPING, so the violation shows wherever the callback really calls it.
An area whose primitives may sleep adds their names with `may_sleep(...)` when it is imported.
"""
from __future__ import annotations

from ..ir import FALSE
from ..syntax import ast
from .context import Frame

PROPERTY = "sleep_in_atomic"
SLEEPING: set[str] = set()


def may_sleep(*names: str) -> None:
    """Mark primitives as sleeping (they wait, or take a sleeping lock or GFP_KERNEL memory)."""
    SLEEPING.update(names)


# kernel/workqueue.c (__flush_work, __cancel_work_sync, __flush_workqueue, destroy_workqueue,
# alloc_workqueue allocates with GFP_KERNEL), drivers/base/dd.c (wait_for_device_probe waits on
# probe_waitqueue; probing, binding and unbinding take device_lock, a mutex), kernel/module/kmod.c
# (request_module waits for modprobe), kernel/time/sleep_timeout.c (msleep).
may_sleep("flush_work", "cancel_work_sync", "flush_workqueue", "destroy_workqueue", "alloc_workqueue",
          "flush_delayed_work", "cancel_delayed_work_sync", "wait_for_device_probe", "device_lock",
          "register_driver", "unregister_driver", "device_add", "device_del", "bind", "unbind",
          "bus_rescan", "request_module", "modprobe", "rmmod", "msleep", "kthread_stop")


def might_sleep(c, call: ast.Call, frame: Frame, at: int) -> int:
    """In an atomic frame, a step before a sleeping call that fails `sleep_in_atomic`; returns
    where the call itself starts (at, unchanged, outside atomic context)."""
    if not frame.atomic or call.func not in SLEEPING:
        return at
    check = c.ctx.check(PROPERTY, FALSE, f"{call.func}() may sleep, and {frame.b.name} runs in atomic context")
    return frame.b.step(at, f"might_sleep: {call.func}() in atomic context", call.span, checks=(check,))


def msleep(call, frame, at, nxt, target) -> None:
    """msleep(ms): the thread sleeps for a while; the model needs only that it may sleep."""
    frame.b.edge(at, nxt, f"{call.func}()", call.span)
