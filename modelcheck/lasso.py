"""Checking a liveness counterexample (a lasso) on the reference interpreter.

A lasso is a replayed trace whose steps[cycle:] return to the state they start from, or, with
no cycle, one that ends in a quiescent state (see ir.Property). This module decides, without
the engine that found it, that it is a fair execution violating the property.
"""
from __future__ import annotations

from .interp import Interpreter, State
from .ir import Model, Property, fairness_applies


class LassoError(Exception):
    """The trace is not a fair execution violating the property."""


def states_of(replayed) -> list[State]:
    """The states of a replayed trace: the initial one, then one after each step."""
    return [replayed.initial] + [step.after for step in replayed.steps]


def enabled_threads(interp: Interpreter, state: State) -> set[int]:
    return {t for t, _, _ in interp.enabled(state)}


def bound_threads(model: Model, state: State) -> list[int]:
    """The threads weak fairness binds in `state` (ir.fairness_applies)."""
    return [t for t, th in enumerate(model.threads) if fairness_applies(th, state.pcs[t])]


def check_lasso(model: Model, trace, replayed, prop: Property) -> None:
    """Raise LassoError unless the replayed execution, with its cycle (or quiescent end),
    is fair and violates `prop`."""
    interp = Interpreter(model)
    states = states_of(replayed)
    cycle = trace.cycle
    if cycle is None:
        if prop.kind in ("livelock", "hung_task"):
            raise LassoError(f"{prop.name} needs a cycle; the trace has none")
        if movers := [model.threads[t].name for t in bound_threads(model, states[-1])
                      if t in enabled_threads(interp, states[-1])]:
            raise LassoError("the trace ends where a thread the kernel schedules can still "
                             f"move ({', '.join(movers)}): it is not quiescent")
        loop = [len(states) - 1]
    else:
        if not 0 <= cycle < len(replayed.steps):
            raise LassoError("the cycle has no step")
        if states[cycle] != states[-1]:
            raise LassoError(f"the cycle does not return to its first state (step {cycle + 1})")
        loop = list(range(cycle, len(states)))
        moved = {step.thread for step in trace.steps[cycle:]}
        for t in range(len(model.threads)):
            if t not in moved and all(t in enabled_threads(interp, states[i])
                                      and t in bound_threads(model, states[i]) for i in loop):
                raise LassoError(f"unfair cycle: {model.threads[t].name} can move in every state "
                                 "of it and never does")
    _check_property(interp, model, prop, states, loop, trace)


def _check_property(interp, model, prop, states, loop, trace) -> None:
    holds = (lambda e: lambda s: bool(interp.eval(e, s.values)))
    if prop.kind == "eventually":
        p = holds(prop.expr)
        if any(p(s) for s in states):
            raise LassoError(f"{prop.name}'s condition holds in a state of the trace")
    elif prop.kind == "always_eventually":
        p = holds(prop.expr)
        if any(p(states[i]) for i in loop):
            raise LassoError(f"{prop.name}'s condition holds in a state that repeats forever")
    elif prop.kind == "leads_to":
        a, b = holds(prop.trigger), holds(prop.expr)
        first = min(loop)
        start = next((i for i in range(len(states)) if a(states[i]) and not b(states[i])
                      and all(not b(states[j]) for j in range(min(i, first), len(states)))), None)
        if start is None:
            raise LassoError(f"no state of the trace has {prop.name}'s left-hand side without "
                             "its right-hand side ever holding afterwards")
    elif prop.kind == "hung_task":
        if not hung_threads(model, trace, states):
            raise LassoError("no thread waits blocked at one step through the whole cycle")
    elif prop.kind != "livelock":
        raise LassoError(f"{prop.name} is not a liveness property")


def hung_threads(model: Model, trace, states: list[State]) -> list[str]:
    """The threads a lasso shows blocked for good: through the whole cycle at one location
    where they are neither finished nor resting, unable to move in some state of it."""
    interp = Interpreter(model)
    cycle = trace.cycle
    loop = range(cycle, len(states))
    moved = {step.thread for step in trace.steps[cycle:]}
    return [th.name for t, th in enumerate(model.threads) if t not in moved
            and all(states[i].pcs[t] == states[cycle].pcs[t] for i in loop)
            and not interp.is_settled(th, states[cycle].pcs[t])
            and any(t not in enabled_threads(interp, states[i]) for i in loop)]
