"""Smaller counterexamples: drop the steps a violation does not need, and fold the steps that
do not matter to it when traces are drawn.

`drop_steps` changes the trace (fewer steps, then fewer thread switches) and keeps only
candidates that still replay to a violation of the same property. Which steps matter is
decided by `modelcheck.slicing` (a backward slice over data, control and enabling
dependencies); `fold_runs` groups the others for renderers. Step numbers are 1-based, as
traces print them.
"""
from __future__ import annotations

import os
from typing import Optional

from .interp import Interpreter, State
from .ir import Model
from .replay import ReplayError, confirm_violation
from .result import Trace
from .slicing import relevant_in_replay, relevant_steps   # noqa: F401  (re-exported for renderers)


# --- dropping steps -------------------------------------------------------------------

def drop_steps(model: Model, trace: Trace, prop: str) -> Trace:
    """A trace no longer than `trace` that still replays to a violation of `prop`: greedily
    without the steps it does not need, then with fewer thread switches."""
    if not _violates(model, trace, prop):
        return trace   # nothing to preserve: the checker reports the original's failure
    best = _shortest_prefix(model, trace, prop)
    changed = True
    while changed:
        changed = False
        for i in range(len(best.steps)):
            candidate = _without(model, best, i)
            if candidate is not None and _violates(model, candidate, prop):
                best, changed = candidate, True
                break
    return fewer_switches(model, best, prop)


def fewer_switches(model: Model, trace: Trace, prop: str) -> Trace:
    """Move single steps past neighbours of other threads (a run of adjacent swaps) while
    that lowers the number of thread switches and the trace still violates `prop`."""
    best = trace
    changed = True
    while changed:
        changed = False
        steps = best.steps
        for i in range(len(steps)):
            for j in _moves(steps, i):
                moved = list(steps)
                moved.insert(j, moved.pop(i))
                if switches(moved) >= switches(steps):
                    continue
                candidate = Trace(best.initial, tuple(moved))
                if _violates(model, candidate, prop):
                    best, changed = candidate, True
                    break
            if changed:
                break
    return best


def switches(steps) -> int:
    """How many times the moving thread changes from one step to the next."""
    return sum(1 for a, b in zip(steps, steps[1:]) if a.thread != b.thread)


def _moves(steps, i: int):
    """Positions step i can move to without passing a step of its own thread."""
    thread = steps[i].thread
    j = i - 1
    while j >= 0 and steps[j].thread != thread:
        yield j
        j -= 1
    j = i + 1
    while j < len(steps) and steps[j].thread != thread:
        yield j
        j += 1


def _violates(model: Model, trace: Trace, prop: str) -> bool:
    try:
        confirm_violation(model, trace, prop)
        return True
    except ReplayError:
        return False


def _shortest_prefix(model: Model, trace: Trace, prop: str) -> Trace:
    """An engine may run past the violation; everything after its first sight is dropped."""
    for n in range(len(trace.steps)):
        prefix = Trace(trace.initial, trace.steps[:n])
        if _violates(model, prefix, prop):
            return prefix
    return trace


def _without(model: Model, trace: Trace, drop: int) -> Optional[Trace]:
    """The trace without step `drop`; a later step survives only if its thread still stands
    at the location that step left from and the edge it took is enabled there."""
    interp = Interpreter(model)
    state = State(tuple(trace.initial), tuple(0 for _ in model.threads))
    origins = _origins(model, trace)
    kept = []
    for n, step in enumerate(trace.steps):
        if n == drop:
            continue
        if state.pcs[step.thread] != origins[n]:
            continue   # the thread is elsewhere now: this step belonged to a path not taken
        edge = model.threads[step.thread].locations[origins[n]].edges[step.edge]
        if not interp.eval(edge.guard, state.values):
            continue
        kept.append(step)
        state = interp.step(state, step.thread, edge)
    return Trace(trace.initial, tuple(kept))


def _origins(model: Model, trace: Trace) -> list[int]:
    """The location each step of `trace` leaves from."""
    pcs = [0] * len(model.threads)
    out = []
    for step in trace.steps:
        out.append(pcs[step.thread])
        pcs[step.thread] = model.threads[step.thread].locations[pcs[step.thread]].edges[step.edge].target
    return out


# --- folding, for renderers ----------------------------------------------------------

MIN_FOLD = 3   # one or two steps read more easily than a line saying they do not matter


def fold_runs(steps, relevant: set[int], min_run: int = MIN_FOLD) -> list:
    """The steps in order, with each run of at least `min_run` consecutive irrelevant steps of
    one thread replaced by the list of those steps."""
    out, run = [], []

    def flush():
        if len(run) >= min_run:
            out.append(list(run))
        else:
            out.extend(run)
        run.clear()

    for step in steps:
        if step.index not in relevant and (not run or run[-1].thread == step.thread):
            run.append(step)
            continue
        flush()
        if step.index not in relevant:
            run.append(step)
        else:
            out.append(step)
    flush()
    return out


def fold_summary(run) -> str:
    """`... 11 steps (4-14) that do not affect the violation`, for a folded run."""
    return f"... {len(run)} steps ({run[0].index}-{run[-1].index}) that do not affect the violation"


def fold_lines(run) -> str:
    """The spec lines of a folded run: `48`, `48-91`, or empty for internal steps only."""
    lines = sorted({s.edge.span.line for s in run if s.edge.span})
    if not lines:
        return ""
    return str(lines[0]) if len(lines) == 1 else f"{lines[0]}-{lines[-1]}"


def fold_file(run) -> str:
    files = [s.edge.span.file for s in run if s.edge.span]
    return os.path.basename(files[0]) if files else ""
