"""Re-execute a trace on the IR, step by step, independently of the engine that found it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .interp import Interpreter, State, state_violates
from .ir import Edge, Model, is_liveness
from .lasso import LassoError, check_lasso
from .result import Trace


class ReplayError(Exception):
    """The trace does not execute on the model, or does not reach the violation."""


@dataclass(frozen=True)
class ReplayedStep:
    index: int            # 1-based step number
    thread: str
    edge: Edge
    before: State
    after: State
    failed: tuple[str, ...]   # properties whose checks failed on this step


@dataclass(frozen=True)
class Replay:
    initial: State
    steps: tuple[ReplayedStep, ...]

    @property
    def final(self) -> State:
        return self.steps[-1].after if self.steps else self.initial


def replay(model: Model, trace: Trace) -> Replay:
    """Execute every step of `trace`, checking that each one is enabled."""
    interp = Interpreter(model)
    state = State(tuple(trace.initial), tuple(0 for _ in model.threads))
    if len(trace.initial) != len(model.variables):
        raise ReplayError("trace has values for a different set of variables")
    for var, value in zip(model.variables, trace.initial):
        if var.init is not None and value != var.init:
            raise ReplayError(f"initial value of {var.name} is {value}, the model says {var.init}")
    if not all(interp.eval(c, state.values) for c in model.constraints):
        raise ReplayError("the initial configuration breaks a `require` constraint")
    steps = []
    for n, step in enumerate(trace.steps, start=1):
        edge = _enabled_edge(interp, state, step.thread, step.edge)
        if edge is None:
            name = model.threads[step.thread].name if step.thread < len(model.threads) else "?"
            raise ReplayError(f"step {n}: thread {name} cannot take that step here")
        after = interp.step(state, step.thread, edge)
        steps.append(ReplayedStep(n, model.threads[step.thread].name, edge, state, after,
                                  tuple(interp.failed_checks(state, edge))))
        state = after
    return Replay(State(tuple(trace.initial), tuple(0 for _ in model.threads)), tuple(steps))


def confirm_violation(model: Model, trace: Trace, prop: str) -> Replay:
    """Replay `trace` and require that its end violates `prop`; raise ReplayError otherwise."""
    result = replay(model, trace)
    interp = Interpreter(model)
    kind = model.property(prop).kind
    if is_liveness(model.property(prop)):
        try:
            check_lasso(model, trace, result, model.property(prop))
        except LassoError as exc:
            raise ReplayError(str(exc)) from None
    elif kind == "check":
        if not result.steps or prop not in result.steps[-1].failed:
            raise ReplayError(f"the last step of the trace does not fail {prop}")
    elif not state_violates(interp, prop, result.final):
        raise ReplayError(f"the trace's last state does not violate {prop}")
    return result


def _enabled_edge(interp: Interpreter, state: State, thread: int, edge: int) -> Optional[Edge]:
    if thread >= len(interp.model.threads):
        return None
    th = interp.model.threads[thread]
    pc = state.pcs[thread]
    if pc >= len(th.locations) or edge >= len(th.locations[pc].edges):
        return None
    chosen = th.locations[pc].edges[edge]
    return chosen if interp.eval(chosen.guard, state.values) else None
