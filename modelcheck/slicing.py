"""Which steps of a counterexample matter to its violation: a backward dynamic slice over
data, control and enabling dependencies. Step numbers are 1-based, as traces print them.

Walking back from the violation (the failing check and the guard of its step; the property's
expression; for `final` and `deadlock` also the guards that keep every thread where it stands
at the end), a step is relevant when
- data: it is the last step before a relevant step (or the end) to write a variable that step
  reads, in its guard, its assigned expressions or the failing check;
- enabling: the same rule for guards, so the step that let a relevant step run is kept (a
  module becoming live, a lock released, a work item queued);
- control: it decided whether a relevant step of its thread runs at all: it left a location
  with more than one way out, and the relevant step's location post-dominates the branch it
  took but not the location it left (the `if` whose `true` led there, the `rmmod` that was
  not refused); its guard is then read too;
- it took a branch other than one that would have written a variable read further on (the
  `if` that skipped a write: a violation is often something that never happened);
- pending writers: when another thread's code still to run would write a variable the
  violation reads (an async probe that sets what the assertion wanted), the guards where that
  thread stands are read too, so the step that queued it (and everything that let it get
  there) is shown: the write was on its way, and the violation came first;
- it starts a thread (leaves location 0: udev spawning a modprobe, a kworker picking up its
  work) that later takes a relevant step.
A step a later relevant step observes stays shown even when its value was overwritten before
the violation (a lock taken and released). When nothing at all is relevant (the violation is a
value no step wrote), every step is.

The slice is checked by `replay_without`: dropping every irrelevant step's effect (its
thread still moves on, as the fold line says) must leave every relevant step enabled and
still reach the violation.
"""
from __future__ import annotations

from .interp import Interpreter, State, state_violates
from .ir import Edge, Model, Thread, is_liveness
from .reduce import edge_writes, variables_of
from .replay import Replay, ReplayError, replay
from .result import Trace


def relevant_steps(model: Model, trace: Trace, prop: str) -> set[int]:
    """Step numbers (1-based) of `trace` that matter to its violation of `prop`."""
    return relevant_in_replay(model, replay(model, trace), prop)


def relevant_in_replay(model: Model, replayed: Replay, prop: str) -> set[int]:
    """As `relevant_steps`, for a trace already replayed."""
    if is_liveness(model.property(prop)):
        return {s.index for s in replayed.steps}    # a lasso: the whole execution is the story
    steps = replayed.steps
    thread_index = {t.name: i for i, t in enumerate(model.threads)}
    needed, relevant = violation_reads(model, replayed, prop)
    needed |= pending_writer_guards(model, replayed, prop, needed)
    controlled: dict[int, set[int]] = {t: set() for t in range(len(model.threads))}
    if model.property(prop).kind in ("final", "deadlock"):
        for t, (thread, pc) in enumerate(zip(model.threads, replayed.final.pcs)):
            if pc < len(thread.locations):
                controlled[t].add(pc)   # why each thread stands where it blocks
    for step in steps:
        if step.index in relevant:
            t = thread_index[step.thread]
            controlled[t].add(step.before.pcs[t])
    unstarted: set[int] = {t for t, locs in controlled.items() if locs}
    pdoms: dict[int, tuple] = {}
    for step in reversed(steps):
        t = thread_index[step.thread]
        origin = step.before.pcs[t]
        decided = _decides(model.threads[t], pdoms, t, origin, step.edge.target, controlled[t])
        if (step.index in relevant or edge_writes(step.edge) & needed or decided
                or (origin == 0 and t in unstarted)
                or _declined(model.threads[t], _pdom(pdoms, model, t), origin, step.edge, needed)):
            relevant.add(step.index)
            needed = (needed - edge_writes(step.edge)) | step_reads(step.edge)
            controlled[t] = (controlled[t] - decided) | {origin}
            unstarted.add(t)
        if origin == 0:
            unstarted.discard(t)
    if not relevant:
        return {s.index for s in steps}   # an absence (nothing wrote what it reads): the whole run is the story
    shown = set(relevant)
    observed = violation_reads(model, replayed, prop)[0]
    for step in reversed(steps):
        if step.index in relevant:
            observed |= step_reads(step.edge)
        elif edge_writes(step.edge) & observed:
            shown.add(step.index)
    return shown


def replay_without(model: Model, trace: Trace, dropped: set[int], prop: str) -> None:
    """Replay `trace` with the effects of the `dropped` steps (1-based) removed: each still moves
    its thread on, but assigns nothing and needs no guard. Every other step must be enabled and
    the end must still violate `prop`; raises ReplayError otherwise. This is what folding
    claims: the folded steps change nothing the violation depends on."""
    if is_liveness(model.property(prop)):
        # a lasso keeps every step (relevant_in_replay); its loop and its quiescent end are
        # checked when it is replayed (modelcheck/replay.py), not by a last-state test
        if dropped:
            raise ReplayError(f"{prop} is a liveness property: its trace keeps every step")
        return
    interp = Interpreter(model)
    state = State(tuple(trace.initial), tuple(0 for _ in model.threads))
    last_failed: tuple[str, ...] = ()
    for n, step in enumerate(trace.steps, start=1):
        thread = model.threads[step.thread]
        edge = thread.locations[state.pcs[step.thread]].edges[step.edge]
        if n in dropped:
            pcs = list(state.pcs)
            pcs[step.thread] = edge.target
            state = State(state.values, tuple(pcs))
            last_failed = ()
            continue
        if not interp.eval(edge.guard, state.values):
            raise ReplayError(f"step {n} ({thread.name}: {edge.label}) is not enabled without the dropped steps")
        last_failed = tuple(interp.failed_checks(state, edge))
        state = interp.step(state, step.thread, edge)
    if model.property(prop).kind == "check":
        if prop not in last_failed:
            raise ReplayError(f"without the dropped steps the last step does not fail {prop}")
    elif not state_violates(interp, prop, state):
        raise ReplayError(f"without the dropped steps the last state does not violate {prop}")


def step_reads(edge: Edge) -> set[str]:
    """What taking `edge` depends on: its guard and the expressions it assigns (not its checks,
    which observe without changing anything)."""
    out = variables_of(edge.guard)
    for _, expr in edge.assigns:
        out |= variables_of(expr)
    return out


def violation_reads(model: Model, replayed: Replay, prop_name: str) -> tuple[set[str], set[int]]:
    """(variables the violation reads, steps that are the violation itself)."""
    prop = model.property(prop_name)
    if prop.kind == "check":
        step = failing_step(replayed, prop_name)
        if step is None:
            return set(), set()
        reads = variables_of(step.edge.guard)
        for check in step.edge.checks:
            if check.prop == prop_name:
                reads |= variables_of(check.ok)
        return reads, {step.index}
    reads = variables_of(prop.expr) if prop.expr is not None else set()
    if prop.kind in ("final", "deadlock"):
        reads |= blocking_reads(model, replayed.final)
    return reads, set()


def pending_writer_guards(model: Model, replayed: Replay, prop: str, reads: set[str]) -> set[str]:
    """For a safety violation: the variables read by the guards where each other thread stands,
    for the threads whose code from there on writes one of `reads`."""
    if model.property(prop).kind not in ("check", "invariant") or not reads:
        return set()
    failing = failing_step(replayed, prop)
    state = failing.before if failing else replayed.final
    violator = failing.thread if failing else None
    out: set[str] = set()
    for thread, pc in zip(model.threads, state.pcs):
        if thread.name == violator or pc >= len(thread.locations):
            continue
        if writes_from(thread, pc) & reads:
            for edge in thread.locations[pc].edges:
                out |= variables_of(edge.guard)
    return out


def failing_step(replayed: Replay, prop: str):
    """The last step whose check of `prop` failed, or None (an invariant or final violation)."""
    return next((s for s in reversed(replayed.steps) if prop in s.failed), None)


def writes_from(thread: Thread, pc: int) -> set[str]:
    """Every variable some edge reachable from `pc` writes (guards ignored)."""
    return {v for loc in reachable_locations(thread, pc) for e in thread.locations[loc].edges
            for v in edge_writes(e)}


def reachable_locations(thread: Thread, pc: int) -> list[int]:
    """The locations of `thread` reachable from `pc`, guards ignored, in breadth-first order."""
    order, seen = [], {pc}
    todo = [pc]
    while todo:
        loc = todo.pop(0)
        if loc >= len(thread.locations):
            continue
        order.append(loc)
        for edge in thread.locations[loc].edges:
            if edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return order


def blocking_reads(model: Model, final: State) -> set[str]:
    """What keeps every thread from moving at the end: the guards at each final location."""
    out: set[str] = set()
    for thread, pc in zip(model.threads, final.pcs):
        if pc < len(thread.locations):
            for edge in thread.locations[pc].edges:
                out |= variables_of(edge.guard)
    return out


def _declined(thread: Thread, pdom, origin: int, taken: Edge, needed: set[str]) -> bool:
    """Whether the step chose a branch other than one that could have written a needed
    variable before the branches join again: the decision not to write it (an `if` that
    skipped the request) matters."""
    edges = thread.locations[origin].edges
    if len(edges) < 2 or not needed:
        return False
    join = pdom[origin] - {origin}      # where every branch from here meets again
    for edge in edges:
        if edge is taken:
            continue
        if edge_writes(edge) & needed:
            return True
        seen, todo = {edge.target}, [edge.target]
        while todo:
            loc = todo.pop()
            if loc in join or loc >= len(thread.locations):
                continue
            for nxt in thread.locations[loc].edges:
                if edge_writes(nxt) & needed:
                    return True
                if nxt.target not in seen:
                    seen.add(nxt.target)
                    todo.append(nxt.target)
    return False


def _pdom(pdoms: dict, model: Model, t: int):
    if t not in pdoms:
        pdoms[t] = post_dominators(model.threads[t])
    return pdoms[t]


def _decides(thread: Thread, pdoms: dict, t: int, origin: int, target: int, pending: set[int]) -> set[int]:
    """The locations in `pending` (where later relevant steps of the thread start) whose being
    reached was decided by the branch origin -> target: control dependence. `pdoms` caches
    post_dominators by thread index."""
    if not pending or len(thread.locations[origin].edges) < 2:
        return set()
    pdom = pdoms[t] if t in pdoms else pdoms.setdefault(t, post_dominators(thread))
    strict = pdom[origin] - {origin}
    return {loc for loc in pending if loc in pdom[target] and loc not in strict}


def post_dominators(thread: Thread) -> tuple[frozenset[int], ...]:
    """For each location (and the exit, index len(locations)), the locations every path from it
    to the thread's end passes through, itself included. A resting location, or one from which
    the end cannot be reached (a worker's loop), counts as an exit too."""
    n = len(thread.locations)
    succ = [{e.target for e in loc.edges} for loc in thread.locations] + [set()]
    reaches = {n}
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if i not in reaches and (succ[i] & reaches or thread.locations[i].rest):
                reaches.add(i)
                changed = True
    for i in range(n):
        if thread.locations[i].rest or i not in reaches or not succ[i]:
            succ[i] = succ[i] | {n}
    every = frozenset(range(n + 1))
    pdom = [every] * n + [frozenset({n})]
    changed = True
    while changed:
        changed = False
        for i in reversed(range(n)):
            new = frozenset({i}) | frozenset.intersection(*(pdom[s] for s in succ[i]))
            if new != pdom[i]:
                pdom[i] = new
                changed = True
    return tuple(pdom)
