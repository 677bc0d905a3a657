"""Smaller counterexamples: drop the steps a violation does not need, and say which of the
remaining steps matter to it.

`drop_steps` changes the trace (fewer steps, then fewer thread switches) and keeps only
candidates that still replay to a violation of the same property. `relevant_steps` changes
nothing: it is a backward dependency slice that renderers use to fold the steps nobody on
the way to the violation observes. Step numbers here are 1-based, as traces print them.

The slice follows data, and what started each thread, not the rest of control flow. A step
is relevant when it writes a variable the violation (or a later relevant step) reads, when it
took a branch other than one that would have written such a variable (the `if` that skipped
the write: a violation is often something that never happened), or when it starts a thread (leaves the thread's first location: udev spawning a modprobe, a kworker
picking up its work) that later takes a relevant step; the relevant step's guard and
assigned expressions then become reads too. The steps that merely walk a thread from its start
to its relevant steps are not relevant; they are folded when, in addition, they write nothing
a later relevant step reads. So a folded step changes no value that anything on the path to
the violation looks at, and its thread's progress is shown by the fold line that replaces it.
When no step at all is relevant (the violation is a value nothing ever wrote, such as a range
nobody requested), every step is: the slice cannot tell which of them kept the write away.
"""
from __future__ import annotations

import os
from typing import Optional

from .interp import Interpreter, State
from .ir import Edge, Model
from .reduce import edge_writes, variables_of
from .replay import Replay, ReplayError, confirm_violation, replay
from .result import Trace


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


# --- the slice ------------------------------------------------------------------------

def relevant_steps(model: Model, trace: Trace, prop: str) -> set[int]:
    """Step numbers (1-based) of `trace` that matter to its violation of `prop`."""
    return relevant_in_replay(model, replay(model, trace), prop)


def relevant_in_replay(model: Model, replayed: Replay, prop: str) -> set[int]:
    steps = replayed.steps
    thread_index = {t.name: i for i, t in enumerate(model.threads)}
    needed, by_data = _violation_reads(model, replayed, prop)
    unstarted: set[str] = set()   # threads with a relevant step whose start is not reached yet
    for step in reversed(steps):
        t = thread_index[step.thread]
        starts = step.before.pcs[t] == 0
        if (step.index in by_data or edge_writes(step.edge) & needed
                or (starts and step.thread in unstarted)
                or _declined(model.threads[t].locations[step.before.pcs[t]].edges, step.edge, needed)):
            by_data.add(step.index)
            needed = (needed - edge_writes(step.edge)) | _step_reads(step.edge)
            unstarted.add(step.thread)
        if starts:
            unstarted.discard(step.thread)
    if not by_data:
        return {s.index for s in steps}   # an absence (nothing writes what it reads): the whole run is the story
    # A step some later relevant step observes stays visible even if that value was overwritten
    # before the violation (a lock taken and released, say): folding it would hide a cause.
    shown = set(by_data)
    observed = _violation_reads(model, replayed, prop)[0]
    for step in reversed(steps):
        if step.index in by_data:
            observed |= _step_reads(step.edge)
        elif edge_writes(step.edge) & observed:
            shown.add(step.index)
    return shown


def _declined(edges, taken: Edge, needed: set[str]) -> bool:
    """Whether the step chose a branch other than one that would have written a needed
    variable: the decision not to write it (an `if` that skipped the request) matters."""
    return any(edge is not taken and edge_writes(edge) & needed for edge in edges)


def _step_reads(edge: Edge) -> set[str]:
    """What taking `edge` depends on: its guard and the expressions it assigns (not its checks,
    which observe without changing anything)."""
    out = variables_of(edge.guard)
    for _, expr in edge.assigns:
        out |= variables_of(expr)
    return out


def _violation_reads(model: Model, replayed: Replay, prop_name: str) -> tuple[set[str], set[int]]:
    """(variables the violation reads, steps that are the violation itself)."""
    prop = model.property(prop_name)
    if prop.kind == "check":
        failing = [s for s in replayed.steps if prop_name in s.failed]
        if not failing:
            return set(), set()
        step = failing[-1]
        reads = variables_of(step.edge.guard)
        for check in step.edge.checks:
            if check.prop == prop_name:
                reads |= variables_of(check.ok)
        return reads, {step.index}
    reads = variables_of(prop.expr) if prop.expr is not None else set()
    if prop.kind in ("final", "deadlock"):
        reads |= _blocking_reads(model, replayed.final)
    return reads, set()


def _blocking_reads(model: Model, final: State) -> set[str]:
    """What keeps every thread from moving at the end: the guards at each final location."""
    out: set[str] = set()
    for thread, pc in zip(model.threads, final.pcs):
        if pc < len(thread.locations):
            for edge in thread.locations[pc].edges:
                out |= variables_of(edge.guard)
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
