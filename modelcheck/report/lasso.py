"""How every trace format marks a liveness counterexample: the prefix, then the cycle."""
from __future__ import annotations

from typing import Optional

from ..ir import Model, is_liveness
from ..lasso import hung_threads, states_of


def cycle_start(outcome) -> Optional[int]:
    """The 1-based index of the first step of the cycle, or None (no cycle in this trace)."""
    trace = outcome.result.trace
    if trace is None or trace.cycle is None:
        return None
    return trace.cycle + 1


def prefix_label(outcome) -> Optional[str]:
    """The line shown before step 1 of a lasso with a prefix, or None."""
    first = cycle_start(outcome)
    if first is None or first == 1:
        return None
    return f"prefix: steps 1-{first - 1}, once"


def cycle_label(outcome) -> Optional[str]:
    """The line shown before the first step of the cycle, or None."""
    first = cycle_start(outcome)
    if first is None:
        return None
    last = len(outcome.result.trace.steps)
    return (f"cycle: steps {first}-{last}, repeated forever (after step {last} the state is the "
            f"one before step {first})")


def end_note(model: Model, outcome) -> Optional[str]:
    """What a liveness counterexample shows, said after its last step; None for other kinds."""
    prop = model.property(outcome.result.prop)
    if not is_liveness(prop):
        return None
    trace = outcome.result.trace
    if trace.cycle is None:
        return (f"the execution stops here: no thread the kernel schedules can move, and "
                f"{_never(prop)}")
    if prop.kind == "hung_task":
        hung = hung_threads(model, trace, states_of(outcome.replay))
        return f"blocked for good while the cycle repeats: {', '.join(hung)}"
    if prop.kind == "livelock":
        return "the cycle repeats forever: every thread it is fair to waits, finishes or goes round"
    return f"the cycle repeats forever, and {_never(prop)}"


def _never(prop) -> str:
    if prop.kind == "eventually":
        return f"{prop.name}'s condition never held"
    if prop.kind == "leads_to":
        return f"{prop.name}'s right-hand side never holds after its left-hand side did"
    return f"{prop.name}'s condition does not hold again"
