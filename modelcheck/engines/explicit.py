"""Explicit-state engine: breadth-first search over the states of the reference interpreter.

Shares nothing with the SAT/SMT engines but the IR and `modelcheck.interp`: initial
states, enabled steps, successors, failed checks and state violations all come from
the interpreter, so this engine means exactly what the interpreter means.

The search runs layer by layer (layer d holds the states first reached in d steps), so
the first violation found is a shortest one. Among shortest traces it returns one with
the fewest thread switches: every state remembers the smallest switch count over its
shortest paths and, per last-moving thread achieving it, one parent link. That is exact
because a path's future switches depend only on its state and its last thread.

With options.reduction the verdicts come from a partial-order-reduced search (`por`): a state
where some thread can run alone without hiding anything is expanded by that thread only. That
search decides; a violation it finds is then traced by the unreduced search, which stops at
that property's shortest violation, so traces keep both guarantees above.

When liveness properties need the whole state graph (liveness.needs_graph), the safety search
runs unreduced and records every state and step as it goes: the fair-cycle search runs on that
graph, so one pass decides both, with no reduced search and no retrace.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional

from ..compiled import CompiledInterpreter
from ..interp import Interpreter, State, state_violates
from ..ir import Edge, Model, Property
from ..limits import memory_exceeded, memory_text
from ..result import EngineOptions, Progress, ProgressCallback, PropertyResult, Trace, TraceStep, Verdict
from ..wording import count
from . import liveness
from .por import StubbornSets

# Partial-order reduction is reviewed once, after this many enabled steps were offered to it,
# and given up for the rest of the search if it kept more than this share of them.
REVIEW_AFTER_STEPS = 20_000
KEPT_SHARE_TO_GIVE_UP = 0.62

ENGINE = "explicit"

Move = tuple[int, int, Edge, State]          # thread, edge index, edge, successor
Link = Optional[tuple[State, Optional[int], int]]   # parent, parent's last thread, edge index


class SearchIncomplete(RuntimeError):
    """A limit stopped the search before every reachable state was seen."""


class ReductionNotPaying(Exception):
    """The partial-order-reduced search gave up early: the unreduced search is cheaper."""


# --- public API ------------------------------------------------------------------

PROGRESS_EVERY = 2048   # states expanded between two progress reports


def check(model: Model, prop: str, options: EngineOptions) -> PropertyResult:
    return check_all(model, [prop], options)[prop]


def check_all(model: Model, props: list[str], options: EngineOptions,
              progress: Optional[ProgressCallback] = None) -> dict[str, PropertyResult]:
    """Decide every property in `props` with one shared breadth-first search.

    options.timeout bounds the whole shared search, not each property. `progress`, when given,
    is called with a Progress every PROGRESS_EVERY states expanded and at the end of each layer.
    """
    names, live = liveness.split(model, list(dict.fromkeys(props)))
    if live:    # one time limit for the safety search and the fair-cycle search
        shared = replace(options, deadline=options.deadline_from(time.monotonic()))
        if liveness.needs_graph(model, live):
            return _check_on_one_graph(model, names, live, shared, progress)
        return {**check_all(model, names, shared, progress), **liveness.check_all(model, live, shared)}
    if not names:
        return {}
    if not options.reduction:
        return _search(model, names, options, reduce=False, progress=progress)[0]
    started = time.monotonic()
    try:
        results, explorer, _ = _search(model, names, options, reduce=True, progress=progress)
    except ReductionNotPaying:
        spent = time.monotonic() - started
        # the same deadline, so the limit reported is the one the user gave
        plain = _search(model, names, replace(options, reduction=False,
                                              deadline=options.deadline_from(started)), reduce=False,
                        progress=progress)[0]
        return {name: replace(r, seconds=(r.seconds or 0.0) + spent) for name, r in plain.items()}
    if explorer.reduced_expansions == 0:
        return results     # no state was expanded partially: this was the unreduced search
    # Traces and limit-cut searches come from the unreduced search: it alone promises shortest
    # traces with fewest switches, and verdicts bounded by a number of steps.
    again = [name for name, r in results.items()
             if r.verdict in (Verdict.VIOLATED, Verdict.BOUNDED, Verdict.TIMEOUT)]
    if not again:
        return results
    spent = explorer.elapsed()
    unreduced = replace(options, reduction=False, deadline=options.deadline_from(explorer.start))
    for name, full in _search(model, again, unreduced, reduce=False, progress=progress)[0].items():
        found = results[name]
        if found.verdict is Verdict.VIOLATED and full.verdict is not Verdict.VIOLATED:
            results[name] = replace(found, argument=found.argument + "; " + full.argument
                                    + ", so this is the partial-order-reduced search's trace")
        else:
            results[name] = replace(full, seconds=(full.seconds or 0.0) + spent)
    return results


def _check_on_one_graph(model: Model, names: list[str], live: list[str], options: EngineOptions,
                        progress: Optional[ProgressCallback]) -> dict[str, PropertyResult]:
    """Safety and liveness from one unreduced search: the fair-cycle search needs every state
    and step anyway, so the safety search records them (one pass instead of two), and its
    verdicts and shortest traces need no reduced search and no retrace."""
    results, explorer, exploration = _search(model, names, options, reduce=False, progress=progress,
                                             record_graph=True)
    # A search a limit cut short leaves the liveness engine to build (and bound) its own graph.
    graph = explorer.state_graph() if exploration.exhaustive and explorer.successors is not None else None
    spent = explorer.elapsed()
    explorer.nodes = {}     # the traces are built: free the search's bookkeeping for the cycle search
    return {**results, **liveness.check_all(model, live, options, graph=graph, spent=spent)}


def _search(model: Model, names: list[str], options: EngineOptions,
            reduce: bool, progress: Optional[ProgressCallback] = None,
            record_graph: bool = False) -> tuple[dict[str, PropertyResult], "_Explorer", "Exploration"]:
    trackers = {name: _tracker_for(model.property(name)) for name in names}
    observer = _PropertyObserver(list(trackers.values()), exhaust=record_graph)
    explorer = _Explorer(model, options, observer, progress)
    if record_graph:
        explorer.successors = []
    if reduce:
        explorer.stubborn = StubbornSets(model, [t.prop for t in trackers.values()],
                                         explorer.interp._compile)
    exploration = explorer.run()
    return ({name: _result(model, tracker, explorer, exploration, options)
             for name, tracker in trackers.items()}, explorer, exploration)


def reachable_states(model: Model, options: EngineOptions) -> int:
    """How many states are reachable; raises SearchIncomplete if a limit cut the search short."""
    exploration = _Explorer(model, options, _NullObserver()).run()
    _require_exhaustive(exploration, options)
    return exploration.states


def outcomes(model: Model, observe: list[str],
             options: EngineOptions) -> dict[tuple[int, ...], tuple[Trace, int]]:
    """Every terminal state (no step enabled), projected on `observe`.

    Maps each projection to a shortest witness trace and the number of distinct paths
    (sequences of steps) from an initial state to a terminal state with that projection.
    Raises ValueError if the state graph has a cycle (the count would be unbounded) and
    SearchIncomplete if a limit stopped the search.
    """
    interp = Interpreter(model)
    unknown = [name for name in observe if name not in interp.index]
    if unknown:
        raise ValueError(f"model {model.name} has no variable(s) {', '.join(unknown)}")
    observer = _OutcomeObserver([interp.index[name] for name in observe])
    explorer = _Explorer(model, options, observer)
    exploration = explorer.run()
    _require_exhaustive(exploration, options)
    paths = _count_paths(explorer, observer.in_degree)
    return {key: (explorer.trace_to(witness, explorer.nodes[witness].any_last()),
                  sum(paths[s] for s in observer.terminals[key]))
            for key, witness in sorted(observer.witness.items())}


def final_states(model: Model, observe: list[str], options: EngineOptions) -> set[tuple[int, ...]]:
    """The terminal states projected on `observe`, without counting paths (so cycles are fine).
    Raises SearchIncomplete if a limit stopped the search.

    With options.reduction the search is partial-order reduced: persistent sets keep every
    terminal state (a state with no step enabled), which is all this needs."""
    interp = Interpreter(model)
    observer = _OutcomeObserver([interp.index[name] for name in observe])
    explorer = _Explorer(model, options, observer)
    if options.reduction:
        explorer.stubborn = StubbornSets(model, [], explorer.interp._compile)
    try:
        exploration = explorer.run()
    except ReductionNotPaying:   # the reduction gave itself up: search everything, same deadline
        plain = replace(options, reduction=False, deadline=options.deadline_from(explorer.start))
        return final_states(model, observe, plain)
    _require_exhaustive(exploration, options)
    return set(observer.witness)


# --- the search ------------------------------------------------------------------

class _Node:
    """What the search remembers about one reached state."""
    __slots__ = ("sid", "depth", "switches", "links")

    def __init__(self, sid: int, depth: int, switches: int, links: dict[Optional[int], Link]):
        self.sid = sid                # the order it was first reached in: breadth-first
        self.depth = depth
        self.switches = switches      # fewest thread switches over the shortest paths here
        self.links = links            # last thread -> parent link, for threads achieving it

    def switches_after(self, thread: int) -> int:
        # The first step of a trace, or one by the thread that moved last, is no switch.
        if thread in self.links or None in self.links:
            return self.switches
        return self.switches + 1

    def last_before(self, thread: int) -> Optional[int]:
        """The last thread of the best path here to extend with a step of `thread`."""
        return thread if thread in self.links else self.any_last()

    def any_last(self) -> Optional[int]:
        return next(iter(self.links))


@dataclass(frozen=True)
class Exploration:
    """How a search ended."""
    stop: str             # exhausted | decided | states | depth | time | memory
    completed: int        # every execution of at most this many steps was examined; -1: none
    deepest: int          # deepest layer reached (the longest shortest path if exhausted)
    states: int
    layer: int            # the layer being explored (time) or stored (states, depth) at the stop

    @property
    def exhaustive(self) -> bool:
        return self.stop == "exhausted"


class _Explorer:
    """Breadth-first search from every initial state, reporting each state to an observer."""

    def __init__(self, model: Model, options: EngineOptions, observer,
                 progress: Optional[ProgressCallback] = None):
        self.progress = progress
        self.expanded = 0             # states expanded, for the progress callback
        self.model = model
        self.options = options
        self.observer = observer
        self.stubborn: Optional[StubbornSets] = None   # None: every enabled step is explored
        self.successors: Optional[list[list[liveness.Succ]]] = None   # per state number, when recording
        self.reduced_expansions = 0   # states expanded by a persistent subset of their steps
        self.steps_offered = self.steps_taken = 0   # over the states the reduction was asked about
        self.reduction_reviewed = False
        self.interp = CompiledInterpreter(model)
        self.nodes: dict[State, _Node] = {}
        self.start = time.monotonic()
        self.deadline = options.deadline_from(self.start)
        self.refused = False          # a new state was not stored because of a limit
        self.polls = 0
        self.out_of_memory = False    # the memory limit (limits.memory_exceeded) stopped the search

    def run(self) -> Exploration:
        layer = self._initial_layer()
        if layer is None:
            return self._stopped("time" if self.timed_out() else "states", -1, 0)
        depth = 0
        while layer:
            next_layer = self._expand(layer, depth)
            # Settle even a cut-short layer: what it found is real and of the shortest length.
            self.observer.end_layer(self, depth, complete=next_layer is not None)
            if self.progress is not None:
                self.progress(Progress(len(self.nodes), depth, self.elapsed()))
            if next_layer is None:
                # the state cap, when reached first, is what stopped the search: name it
                capped = self.refused and len(self.nodes) >= self.options.max_states
                return self._stopped("states" if capped else "time", depth - 1, depth)
            if self.observer.decided():
                return self._stopped("decided", depth, depth)
            if self.refused:
                limit = "depth" if depth >= self.options.max_depth else "states"
                return self._stopped(limit, depth, depth + 1)
            layer, depth = next_layer, depth + 1
        return self._stopped("exhausted", depth - 1, depth - 1)

    def trace_to(self, state: State, last: Optional[int],
                 extra: Optional[TraceStep] = None) -> Trace:
        """The stored best path to `state` ending with a step of `last`, then `extra`."""
        steps = [extra] if extra else []
        while (link := self.nodes[state].links[last]) is not None:
            parent, parent_last, edge = link
            steps.append(TraceStep(last, edge))
            state, last = parent, parent_last
        return Trace(initial=state.values, steps=tuple(reversed(steps)))

    def timed_out(self) -> bool:
        """The time limit ran out, or (polled every 1024 calls) the memory limit was reached."""
        self.polls += 1
        if self.polls % 1024 == 0 and memory_exceeded():
            self.out_of_memory = True
        return self.out_of_memory or time.monotonic() >= self.deadline

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _initial_layer(self) -> Optional[list[State]]:
        """Depth 0, or None when a limit stops it before every initial state is stored."""
        layer = []
        for state in self.interp.initial_states():
            if len(self.nodes) >= self.options.max_states or self.timed_out():
                return None
            if state not in self.nodes:
                self.nodes[state] = _Node(len(self.nodes), 0, 0, {None: None})
                layer.append(state)
        return layer

    def _expand(self, layer: list[State], depth: int) -> Optional[list[State]]:
        """Report every state of `layer` and collect the next one; None on timeout."""
        next_layer: list[State] = []
        for state in layer:
            if self.timed_out():
                return None
            node = self.nodes[state]
            self.expanded += 1
            if self.progress is not None and self.expanded % PROGRESS_EVERY == 0:
                self.progress(Progress(len(self.nodes), depth, self.elapsed()))
            moves = self._moves(state, depth)
            self.observer.visit(self, state, node, moves)
            if self.successors is None:
                for thread, edge_index, _, after in moves:
                    self._reach(state, node, thread, edge_index, after, depth + 1, next_layer)
                continue
            # Recording: states are expanded in the order they were numbered, so the steps of
            # state number n are successors[n]; a state a limit refused ends the recording.
            out = [(thread, edge_index, self._reach(state, node, thread, edge_index, after,
                                                    depth + 1, next_layer))
                   for thread, edge_index, _, after in moves]
            if node.sid == len(self.successors) and all(sid >= 0 for _, _, sid in out):
                self.successors.append(out)
            else:
                self.successors = None
        return next_layer

    def state_graph(self) -> liveness.StateGraph:
        """The whole state graph this exhaustive, unreduced search recorded (successors set
        before run()), as the liveness engine's StateGraph: states numbered in the order
        reached, each with a shortest path's last step as its parent."""
        nodes = self.nodes
        parents, depths, initial = [], [], []
        for sid, node in enumerate(nodes.values()):
            depths.append(node.depth)
            thread, link = next(iter(node.links.items()))
            if link is None:
                initial.append(sid)
                parents.append(None)
            else:
                parents.append((nodes[link[0]].sid, thread, link[2]))
        return liveness.StateGraph(states=list(nodes), succ=self.successors, parent=parents,
                                   depth=depths, initial=initial)

    def _moves(self, state: State, depth: int) -> list[Move]:
        """The steps to explore from `state`: a persistent set when one qualifies, else all."""
        enabled = list(self.interp.enabled(state))
        if self.stubborn is not None and len(enabled) > 1:
            self._review_reduction()
            self.steps_offered += len(enabled)
            for steps in self.stubborn.choices(state, enabled):
                moves = [(t, e, edge, self.interp.step(state, t, edge)) for t, e, edge in steps]
                # Cycle proviso: a successor already stored no deeper than here may close a cycle.
                if all(self._newer(after, depth) for _, _, _, after in moves):
                    self.reduced_expansions += 1
                    self.steps_taken += len(moves)
                    return moves
            self.steps_taken += len(enabled)
        return [(t, e, edge, self.interp.step(state, t, edge)) for t, e, edge in enabled]

    def _review_reduction(self) -> None:
        """Give the reduction up when it keeps most steps anyway: computing the sets then costs
        more than it saves, and the plain search also gives the traces in the same pass."""
        if self.steps_offered < REVIEW_AFTER_STEPS or self.reduction_reviewed:
            return
        self.reduction_reviewed = True
        if self.steps_taken > KEPT_SHARE_TO_GIVE_UP * self.steps_offered:
            raise ReductionNotPaying(f"it kept {self.steps_taken} of the first {self.steps_offered} "
                                     "steps offered to it")

    def _newer(self, state: State, depth: int) -> bool:
        known = self.nodes.get(state)
        return known is None or known.depth > depth

    def _reach(self, parent: State, node: _Node, thread: int, edge: int, state: State,
               depth: int, next_layer: list[State]) -> int:
        """Store or update `state`, reached from `parent`; its number, or -1 if a limit refused it."""
        links = node.links   # node.switches_after and node.last_before, inline: the hottest loop
        if thread in links:
            switches, link = node.switches, (parent, thread, edge)
        else:
            switches = node.switches if None in links else node.switches + 1
            link = (parent, next(iter(links)), edge)
        known = self.nodes.get(state)
        if known is None:
            if not self._admitting(depth):
                self.refused = True
                return -1
            sid = len(self.nodes)
            self.nodes[state] = _Node(sid, depth, switches, {thread: link})
            next_layer.append(state)
            return sid
        if known.depth == depth:
            # Another shortest path to a state of the next layer: keep the fewest switches.
            if switches < known.switches:
                known.switches, known.links = switches, {thread: link}
            elif switches == known.switches and thread not in known.links:
                known.links[thread] = link
        return known.sid

    def _admitting(self, depth: int) -> bool:
        return depth <= self.options.max_depth and len(self.nodes) < self.options.max_states

    def _stopped(self, stop: str, completed: int, layer: int) -> Exploration:
        if stop == "time" and self.out_of_memory:
            stop = "memory"
        deepest = max((n.depth for n in self.nodes.values()), default=-1)
        return Exploration(stop, completed, deepest, len(self.nodes), layer)


# --- observers -------------------------------------------------------------------

class _NullObserver:
    def visit(self, explorer, state, node, moves) -> None:
        pass

    def end_layer(self, explorer, depth: int, complete: bool) -> None:
        pass

    def decided(self) -> bool:
        return False


class _Tracker:
    """Watches one property during the search; keeps its best violation in the current layer."""

    def __init__(self, prop: Property):
        self.prop = prop
        self.candidate: Optional[tuple[int, State, Optional[int], Optional[TraceStep]]] = None
        self.trace: Optional[Trace] = None
        self.decided_at: Optional[float] = None
        self.fewest_switches = False  # the trace's layer was complete, so its switch count is minimal

    def offer(self, switches: int, state: State, last: Optional[int],
              extra: Optional[TraceStep] = None) -> None:
        if self.candidate is None or switches < self.candidate[0]:
            self.candidate = (switches, state, last, extra)

    def settle(self, explorer: _Explorer, complete: bool) -> None:
        """Turn the layer's best violation, if any, into the property's trace."""
        if self.candidate is not None and self.trace is None:
            _, state, last, extra = self.candidate
            self.trace = explorer.trace_to(state, last, extra)
            self.decided_at = explorer.elapsed()
            self.fewest_switches = complete

    def visit(self, interp: Interpreter, state: State, node: _Node, moves: list[Move]) -> None:
        raise NotImplementedError


class _CheckTracker(_Tracker):
    """kind 'check': a step whose edge checks the property fails it in its pre-state."""

    def __init__(self, prop: Property):
        super().__init__(prop)
        self.reached = False          # some reachable step takes an edge checking the property

    def visit(self, interp, state, node, moves) -> None:
        for thread, edge_index, edge, _ in moves:
            if not edge.checks or not any(c.prop == self.prop.name for c in edge.checks):
                continue
            self.reached = True
            if self.prop.name in interp.failed_checks(state, edge):
                self.offer(node.switches_after(thread), state, node.last_before(thread),
                           TraceStep(thread, edge_index))


class _StateTracker(_Tracker):
    """kinds 'invariant', 'deadlock', 'final': the state itself is bad."""

    def __init__(self, prop: Property):
        super().__init__(prop)
        self.settled_terminal = False   # some reachable terminal state has every thread settled

    def visit(self, interp, state, node, moves) -> None:
        terminal = not moves
        if not terminal and self.prop.kind != "invariant":
            return     # deadlock and final properties look at terminal states only
        if terminal and not self.settled_terminal and not interp.stuck_threads(state):
            self.settled_terminal = True
        if state_violates(interp, self.prop.name, state, terminal):
            self.offer(node.switches, state, node.any_last())


def _tracker_for(prop: Property) -> _Tracker:
    if prop.kind == "check":
        return _CheckTracker(prop)
    if prop.kind in ("invariant", "deadlock", "final"):
        return _StateTracker(prop)
    raise ValueError(f"property {prop.name} has unknown kind {prop.kind!r}")


class _PropertyObserver:
    """Feeds every state to the trackers still undecided. With `exhaust`, the search goes on
    after every property is decided (its state graph is wanted whole)."""

    def __init__(self, trackers: list[_Tracker], exhaust: bool = False):
        self.trackers = trackers
        self.exhaust = exhaust

    def visit(self, explorer, state, node, moves) -> None:
        for tracker in self.trackers:
            if tracker.trace is None:
                tracker.visit(explorer.interp, state, node, moves)

    def end_layer(self, explorer, depth: int, complete: bool) -> None:
        for tracker in self.trackers:
            tracker.settle(explorer, complete)

    def decided(self) -> bool:
        return not self.exhaust and all(t.trace is not None for t in self.trackers)


class _OutcomeObserver:
    """Collects terminal states by projection and counts incoming steps for path counting."""

    def __init__(self, observed: list[int]):
        self.observed = observed
        self.in_degree: dict[State, int] = {}
        self.terminals: dict[tuple[int, ...], list[State]] = {}
        self.witness: dict[tuple[int, ...], State] = {}

    def visit(self, explorer, state, node, moves) -> None:
        for _, _, _, after in moves:
            self.in_degree[after] = self.in_degree.get(after, 0) + 1
        if moves:
            return
        key = tuple(state.values[i] for i in self.observed)
        self.terminals.setdefault(key, []).append(state)
        best = self.witness.get(key)
        # States arrive in layer order, so only the switch count can improve a witness.
        if best is None or (explorer.nodes[best].depth == node.depth
                            and node.switches < explorer.nodes[best].switches):
            self.witness[key] = state

    def end_layer(self, explorer, depth: int, complete: bool) -> None:
        pass

    def decided(self) -> bool:
        return False


# --- path counting ---------------------------------------------------------------

def _count_paths(explorer: _Explorer, in_degree: dict[State, int]) -> dict[State, int]:
    """Paths from the initial states to every state, in topological order (Kahn)."""
    remaining = dict(in_degree)
    paths = {state: (1 if node.depth == 0 else 0) for state, node in explorer.nodes.items()}
    ready = [state for state in explorer.nodes if remaining.get(state, 0) == 0]
    done = 0
    while ready:
        state = ready.pop()
        done += 1
        for thread, _, edge in explorer.interp.enabled(state):
            after = explorer.interp.step(state, thread, edge)
            paths[after] += paths[state]
            remaining[after] -= 1
            if remaining[after] == 0:
                ready.append(after)
    if done < len(explorer.nodes):
        raise ValueError(
            f"the state graph of model {explorer.model.name} has a cycle "
            f"({len(explorer.nodes) - done} of {len(explorer.nodes)} states lie on or after one), "
            "so the number of paths is unbounded and cannot be counted")
    return paths


# --- verdicts --------------------------------------------------------------------

def _require_exhaustive(exploration: Exploration, options: EngineOptions) -> None:
    if not exploration.exhaustive:
        raise SearchIncomplete(_limit_text(exploration, options)
                               + "; the set of reachable states is incomplete")


def _result(model: Model, tracker: _Tracker, explorer: _Explorer,
            exploration: Exploration, options: EngineOptions) -> PropertyResult:
    name = tracker.prop.name
    if tracker.trace is not None:
        steps = len(tracker.trace.steps)
        return PropertyResult(name, Verdict.VIOLATED, ENGINE, tracker.decided_at, bound=steps,
                              argument=_violation_text(tracker), trace=tracker.trace)
    seconds = explorer.elapsed()
    if exploration.exhaustive and exploration.states == 0:
        return PropertyResult(name, Verdict.VACUOUS, ENGINE, seconds, bound=0,
                              argument="no initial state satisfies the model's constraints, "
                                       "so there is no execution at all")
    if exploration.exhaustive:
        verdict, argument = _complete_verdict(model, tracker, exploration,
                                              explorer.reduced_expansions)
        return PropertyResult(name, verdict, ENGINE, seconds, bound=exploration.deepest,
                              argument=argument)
    if exploration.completed < 0:
        return PropertyResult(name, Verdict.TIMEOUT, ENGINE, seconds,
                              argument=_limit_text(exploration, options)
                              + "; no conclusion about any execution")
    return PropertyResult(name, Verdict.BOUNDED, ENGINE, seconds, bound=exploration.completed,
                          argument=_bounded_text(exploration, options))


def _violation_text(tracker: _Tracker) -> str:
    steps = len(tracker.trace.steps)
    switches = tracker.candidate[0]
    among = (" (fewest among traces of that length)" if tracker.fewest_switches
             else " (the search stopped before comparing every trace of that length)")
    return (f"breadth-first search found a shortest violating trace: {count(steps, 'step')}, "
            f"{count(switches, 'thread switch', 'thread switches')}{among}")


def _complete_verdict(model: Model, tracker: _Tracker, exploration: Exploration,
                      reduced_expansions: int) -> tuple[Verdict, str]:
    if reduced_expansions:
        explored = (f"every reachable state searched up to partial-order reduction (persistent "
                    f"sets: {exploration.states} states stored, {reduced_expansions} expanded "
                    f"partially; longest shortest path {exploration.deepest} steps)")
    else:
        explored = (f"all {exploration.states} reachable states explored "
                    f"(longest shortest path {exploration.deepest} steps)")
    name = tracker.prop.name
    if isinstance(tracker, _CheckTracker) and not tracker.reached:
        where = ("no reachable step takes an edge that checks it" if _checked_anywhere(model, name)
                 else "no edge of the model checks it")
        return Verdict.VACUOUS, f"{name} is never checked: {where}; {explored}"
    if tracker.prop.kind == "final" and not tracker.settled_terminal:
        return Verdict.VACUOUS, (f"{name} is never evaluated: no reachable state has every thread "
                                 f"finished or resting with no step enabled; {explored}")
    return Verdict.PROVED, explored


def _checked_anywhere(model: Model, name: str) -> bool:
    return any(c.prop == name for th in model.threads for loc in th.locations
               for edge in loc.edges for c in edge.checks)


def _limit_text(exploration: Exploration, options: EngineOptions) -> str:
    if exploration.stop == "time":
        return (f"the time limit ({options.timeout:g} s) ran out while exploring depth "
                f"{exploration.layer}")
    if exploration.stop == "memory":
        return (f"the memory limit ({memory_text()}) was reached while exploring depth "
                f"{exploration.layer}")
    if exploration.stop == "states":
        return (f"the state limit (max_states={options.max_states}) was reached while "
                f"storing the states at depth {exploration.layer}")
    return (f"the depth limit (max_depth={options.max_depth}) kept the states at depth "
            f"{exploration.layer} from being explored")


def _bounded_text(exploration: Exploration, options: EngineOptions) -> str:
    return (f"{_limit_text(exploration, options)}: no violation in any execution of at most "
            f"{exploration.completed} steps ({exploration.states} states stored); "
            f"deeper states were not explored")


def terminal_projections(model: Model, observe: list[str]) -> set:
    """Terminal projections by plain search, for graphs with cycles (no path counts needed)."""
    interp = CompiledInterpreter(model)
    index = {v.name: i for i, v in enumerate(model.variables)}
    seen, todo, found = set(), list(interp.initial_states()), set()
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        moves = list(interp.enabled(state))
        if not moves:
            found.add(tuple(state.values[index[n]] for n in observe))
        todo += [interp.step(state, t, edge) for t, _, edge in moves]
    return found
