"""Liveness by fair-cycle search over the whole state graph (explicit engine).

The reachable state graph is built breadth-first with the compiled interpreter, without
partial-order reduction: the reduction's cycle proviso keeps safety, not fair cycles. Then, per
property, the states a violating execution may stay in (its *region*) are restricted, their
strongly connected components computed (Tarjan's algorithm, iterative), and a component is
accepted when it is fair: every thread fairness binds (ir.fairness_applies) either takes a step
inside it or cannot move in one of its states. For weak fairness the maximal components decide:
if a component is unfair, some bound thread can move in each of its states and never moves
inside it, so no cycle within it is fair either. A *quiescent* state (no bound thread can move) ends a
fair finite execution. A violation is a lasso: a prefix, then a cycle through the component
that meets every fairness requirement (Trace.cycle), or a path to a quiescent state.

PROVED is given only when the whole graph was built and every region searched.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from ..compiled import CompiledInterpreter
from ..interp import State
from ..ir import Model, Property, fairness_applies, is_liveness
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict
from .termination import finite_argument

ENGINE = "explicit"
Succ = tuple[int, int, int]          # thread, edge index, target state id


class _OutOfTime(Exception):
    """The time limit ran out during the cycle search."""


@dataclass
class StateGraph:
    """Every reachable state (or those within the limits), its steps and a shortest path to it."""
    states: list[State] = field(default_factory=list)
    succ: list[Optional[list[Succ]]] = field(default_factory=list)   # None: not expanded
    parent: list[Optional[tuple[int, int, int]]] = field(default_factory=list)  # pred, thread, edge
    depth: list[int] = field(default_factory=list)
    initial: list[int] = field(default_factory=list)
    complete: bool = True
    stop: str = ""                   # time | states | depth, when not complete
    completed_depth: int = 0         # every state within this many steps was expanded

    def enabled_threads(self, s: int) -> set[int]:
        return {t for t, _, _ in self.succ[s]}


def build_graph(model: Model, options: EngineOptions, deadline: float) -> StateGraph:
    """Breadth-first: states, steps, parents; stops at options' limits (graph.complete False)."""
    interp = CompiledInterpreter(model)
    g = StateGraph()
    index: dict[State, int] = {}

    def add(state: State, parent, depth: int) -> int:
        index[state] = len(g.states)
        g.states.append(state)
        g.succ.append(None)
        g.parent.append(parent)
        g.depth.append(depth)
        return index[state]

    for state in interp.initial_states():
        if state not in index:
            g.initial.append(add(state, None, 0))
    layer, depth = list(g.initial), 0
    while layer:
        if depth >= options.max_depth:
            g.complete, g.stop = False, "depth"
            break
        nxt = []
        for n, s in enumerate(layer):
            if n % 256 == 0 and time.monotonic() > deadline:
                g.complete, g.stop = False, "time"
                return g
            out = []
            for t, e, edge in interp.enabled(g.states[s]):
                after = interp.step(g.states[s], t, edge)
                target = index.get(after)
                if target is None:
                    if len(g.states) >= options.max_states:
                        g.complete, g.stop = False, "states"
                        return g
                    target = add(after, (s, t, e), depth + 1)
                    nxt.append(target)
                out.append((t, e, target))
            g.succ[s] = out
        layer, depth = nxt, depth + 1
        g.completed_depth = depth
    return g


@dataclass(frozen=True)
class Lasso:
    """A violating execution: steps from an initial state, and where the cycle starts (or None:
    it ends in a quiescent state)."""
    start: int
    steps: tuple[tuple[int, int, int], ...]     # thread, edge index, state reached
    cycle: Optional[int]


class _Search:
    """The per-property fair-cycle searches over one state graph."""

    def __init__(self, model: Model, graph: StateGraph, deadline: float):
        self.model = model
        self.g = graph
        self.deadline = deadline
        self.interp = CompiledInterpreter(model)
        self.threads = model.threads
        self.expanded = [s for s in range(len(graph.states)) if graph.succ[s] is not None]
        self.components_checked = 0
        self.cyclic = self.states_on_cycles()

    def states_on_cycles(self) -> set[int]:
        """The states on some cycle of the (expanded) graph: only they can be in a fair cycle."""
        g = self.g
        live = lambda u: g.succ[u] is not None      # noqa: E731
        out = set()
        for comp in _tarjan(self.expanded, lambda s: [u for _, _, u in g.succ[s] if live(u)],
                            self.deadline):
            if len(comp) > 1 or any(u == comp[0] for _, _, u in g.succ[comp[0]]):
                out.update(comp)
        return out

    def condition(self, expr) -> Callable[[int], bool]:
        fn = eval(f"lambda v: {self.interp.source(expr)}")   # generated from the IR only
        return lambda s: bool(fn(self.g.states[s].values))

    def quiescent(self, s: int) -> bool:
        pcs = self.g.states[s].pcs
        return not any(fairness_applies(self.threads[t], pcs[t]) for t in self.g.enabled_threads(s))

    def unserved(self, t: int, s: int) -> bool:
        """Whether thread t, not moving, is excused at state s: it cannot move, or need not."""
        return t not in self.g.enabled_threads(s) or not fairness_applies(self.threads[t],
                                                                           self.g.states[s].pcs[t])

    # -- per property --
    def violation(self, prop: Property) -> Optional[Lasso]:
        """A lasso violating `prop`, or None when there is none in the (expanded) graph."""
        kind, g = prop.kind, self.g
        self.components_checked = 0
        if kind in ("livelock", "hung_task") and not self.cyclic:
            return None
        if kind == "livelock":
            return self.find(g.initial, lambda s: True, ends=False)
        if kind == "hung_task":
            return self.hung_task()
        wanted = self.condition(prop.expr)
        bad = lambda s: not wanted(s)    # noqa: E731  (a state the violation may stay in)
        if kind == "eventually":
            return self.find([s for s in g.initial if bad(s)], bad, ends=True)
        if kind == "always_eventually":
            seeds = [s for s in self.expanded if bad(s)]
            return self.find(seeds, bad, ends=True)
        if kind == "leads_to":
            trigger = self.condition(prop.trigger)
            seeds = [s for s in self.expanded if trigger(s) and bad(s)]
            return self.find(seeds, bad, ends=True)
        raise ValueError(f"property {prop.name} is not a liveness property (kind {kind!r})")

    def hung_task(self) -> Optional[Lasso]:
        best = None
        for t, thread in enumerate(self.model.threads):
            waits = [k for k, loc in enumerate(thread.locations) if not loc.rest]
            if not waits:
                continue
            at_wait = set(waits)
            in_region = lambda s, t=t: self.g.states[s].pcs[t] in at_wait   # noqa: E731
            seeds = [s for s in self.cyclic if in_region(s)]
            found = self.find(seeds, in_region, ends=False, still=t)
            if found is not None and (best is None or len(found.steps) < len(best.steps)):
                best = found
        return best

    def find(self, seeds: list[int], in_region: Callable[[int], bool], ends: bool,
             still: Optional[int] = None) -> Optional[Lasso]:
        """A fair lasso: a shortest path to a seed, then a path within the region to a fair
        cycle inside it (or, if `ends`, to a quiescent state). `still`: a thread that takes no
        step in the region and must be unable to move in some state of the cycle (hung_task)."""
        g = self.g
        seeds = sorted(set(seeds), key=lambda s: g.depth[s])
        reached, order, parent = self.region_bfs(seeds, in_region, still)
        best_rank, best = None, None
        if ends:
            for s in order:
                if self.quiescent(s):
                    best_rank, best = reached[s], (s, None)
                    break
        for comp, moved in self.components(order, reached, still):
            if not self.fair(comp, moved, still):
                continue
            entry = min(comp, key=lambda s: reached[s])
            if best_rank is None or reached[entry] < best_rank:
                best_rank, best = reached[entry], (entry, comp)
        if best is None:
            return None
        entry, comp = best
        path = []
        s = entry
        while parent[s] is not None:
            pred, t, e = parent[s]
            path.append((t, e, s))
            s = pred
        path.reverse()
        steps = self.tree_path(s) + path
        start = self.tree_root(s)
        if comp is None:
            return Lasso(start, tuple(steps), None)
        cycle = self.cycle(entry, comp, still)
        return Lasso(start, tuple(steps + cycle), len(steps))

    def tree_root(self, s: int) -> int:
        while self.g.parent[s] is not None:
            s = self.g.parent[s][0]
        return s

    def tree_path(self, s: int) -> list[tuple[int, int, int]]:
        """The breadth-first tree's path from an initial state to s."""
        path = []
        while self.g.parent[s] is not None:
            pred, t, e = self.g.parent[s]
            path.append((t, e, s))
            s = pred
        path.reverse()
        return path

    def region_bfs(self, seeds, in_region, still):
        reached: dict[int, int] = {}
        parent: dict[int, Optional[tuple[int, int, int]]] = {}
        order = []
        todo = deque()
        for s in seeds:
            if s not in reached and in_region(s) and self.g.succ[s] is not None:
                reached[s] = len(order)
                parent[s] = None
                order.append(s)
                todo.append(s)
        while todo:
            s = todo.popleft()
            if len(order) % 1024 == 0 and time.monotonic() > self.deadline:
                raise _OutOfTime()
            for t, e, target in self.g.succ[s]:
                if t == still or target in reached or self.g.succ[target] is None or not in_region(target):
                    continue
                reached[target] = len(order)
                parent[target] = (s, t, e)
                order.append(target)
                todo.append(target)
        return reached, order, parent

    def inside(self, s: int, comp_of: dict[int, int], c: int, still) -> Iterable[Succ]:
        return ((t, e, u) for t, e, u in self.g.succ[s] if t != still and comp_of.get(u) == c)

    def components(self, order: list[int], reached: dict[int, int], still):
        """Nontrivial strongly connected components of the region, each with the set of
        threads that take a step inside it. Only states on a cycle of the whole graph can be."""
        nodes = [s for s in order if s in self.cyclic]

        def edges(s):
            return [u for t, _, u in self.g.succ[s] if t != still and u in reached and u in self.cyclic]

        for comp in _tarjan(nodes, edges, self.deadline):
            members = set(comp)
            moved = {t for s in comp for t, _, u in self.g.succ[s] if t != still and u in members}
            internal = any(u in members for s in comp for t, _, u in self.g.succ[s] if t != still)
            self.components_checked += 1
            if internal:
                yield members, moved

    def fair(self, comp: set[int], moved: set[int], still) -> bool:
        need = [t for t in range(len(self.threads)) if t not in moved and t != still]
        if still is not None and not any(still not in self.g.enabled_threads(s) for s in comp):
            return False     # a hung thread must be blocked, not merely idle
        return all(any(self.unserved(t, s) for s in comp) for t in need)

    def cycle(self, entry: int, comp: set[int], still) -> list[tuple[int, int, int]]:
        """Steps from entry back to entry inside comp meeting every fairness requirement."""
        steps: list[tuple[int, int, int]] = []
        seen = [entry]
        cur = entry
        moved = {t for s in comp for t, _, u in self.g.succ[s] if t != still and u in comp}
        excused = [(t, lambda s, t=t: self.unserved(t, s)) for t in range(len(self.threads))
                   if t not in moved and t != still]
        if still is not None:
            excused.append((still, lambda s: still not in self.g.enabled_threads(s)))
        for t, ok in excused:
            if any(ok(s) for s in seen):
                continue
            path = self.walk(cur, comp, still, ok)
            steps += path
            seen += [u for _, _, u in path]
            cur = path[-1][2] if path else cur
        for t in sorted(moved):
            if any(step[0] == t for step in steps):
                continue
            path = self.walk(cur, comp, still, lambda s, t=t: any(
                th == t and u in comp for th, _, u in self.g.succ[s]))
            cur = path[-1][2] if path else cur
            edge = next((th, e, u) for th, e, u in self.g.succ[cur] if th == t and u in comp)
            steps += path + [edge]
            cur = edge[2]
        if not steps:
            edge = next((th, e, u) for th, e, u in self.g.succ[cur] if th != still and u in comp)
            steps.append(edge)
            cur = edge[2]
        if cur != entry:
            steps += self.walk(cur, comp, still, lambda s: s == entry)
        return steps

    def walk(self, start: int, comp: set[int], still, goal) -> list[tuple[int, int, int]]:
        """A shortest path inside comp from start to a state meeting goal (start itself: [])."""
        if goal(start):
            return []
        parent = {start: None}
        todo = deque([start])
        while todo:
            s = todo.popleft()
            for t, e, u in self.g.succ[s]:
                if t == still or u not in comp or u in parent:
                    continue
                parent[u] = (s, t, e)
                if goal(u):
                    path = []
                    while parent[u] is not None:
                        pred, th, ed = parent[u]
                        path.append((th, ed, u))
                        u = pred
                    return path[::-1]
                todo.append(u)
        raise AssertionError("a strongly connected component that does not connect")


def _tarjan(nodes: list[int], edges, deadline: float) -> list[list[int]]:
    """Strongly connected components of the graph on `nodes` (Tarjan's algorithm, iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    comps = []
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(edges(root)))]
        while work:
            s, it = work[-1]
            for u in it:
                if u not in index:
                    index[u] = low[u] = len(index)
                    stack.append(u)
                    on_stack.add(u)
                    work.append((u, iter(edges(u))))
                    break
                if u in on_stack and index[u] < low[s]:
                    low[s] = index[u]
            else:
                work.pop()
                if work and low[s] < low[work[-1][0]]:
                    low[work[-1][0]] = low[s]
                if low[s] == index[s]:
                    comp = []
                    while True:
                        u = stack.pop()
                        on_stack.discard(u)
                        comp.append(u)
                        if u == s:
                            break
                    comps.append(comp)
                if len(index) % 4096 == 0 and time.monotonic() > deadline:
                    raise _OutOfTime()
    return comps


def _by_termination(model: Model, props: list[str]) -> Optional[str]:
    """Why every execution is finite (termination.finite_argument), when that alone decides
    `props`: every one is livelock or hung_task. None when it does not."""
    if all(model.property(p).kind in ("livelock", "hung_task") for p in props):
        return finite_argument(model)
    return None


def needs_graph(model: Model, props: list[str]) -> bool:
    """Whether deciding `props` takes the whole state graph (the termination argument does not
    decide them)."""
    return _by_termination(model, props) is None


def check_all(model: Model, props: list[str], options: EngineOptions,
              graph: Optional[StateGraph] = None, spent: float = 0.0) -> dict[str, PropertyResult]:
    """Decide every liveness property in `props` over one state graph: `graph` when the caller
    built the whole of it already (spent seconds doing so, counted in each result), else one
    built here. The time limit is options' deadline, or options.timeout from now."""
    started = time.monotonic() - spent
    deadline = options.deadline_from(started)
    if graph is None:
        finite = _by_termination(model, props)
        if finite is not None:
            return {p: PropertyResult(p, Verdict.PROVED, ENGINE, time.monotonic() - started,
                                      argument=f"no infinite execution exists: {finite}")
                    for p in props}
        graph = build_graph(model, options, deadline)
    try:
        search = _Search(model, graph, deadline)
    except _OutOfTime:      # finding the states on cycles is itself a search the deadline stops
        return {p: PropertyResult(p, Verdict.TIMEOUT, ENGINE, time.monotonic() - started,
                                  argument=f"the time limit ({options.timeout:g} s) ran out while the "
                                           "states on cycles were being found; no conclusion")
                for p in props}
    results = {}
    for name in props:
        prop = model.property(name)
        try:
            lasso = search.violation(prop)
        except _OutOfTime:
            results[name] = PropertyResult(name, Verdict.TIMEOUT, ENGINE, time.monotonic() - started,
                                           argument=f"the time limit ({options.timeout:g} s) ran out "
                                                    "during the fair-cycle search; no conclusion")
            continue
        results[name] = _result(model, prop, graph, search, lasso, options,
                                time.monotonic() - started)
    return results


def _result(model: Model, prop: Property, graph: StateGraph, search: _Search,
            lasso: Optional[Lasso], options: EngineOptions, seconds: float) -> PropertyResult:
    name = prop.name
    if lasso is not None:
        trace = Trace(graph.states[lasso.start].values,
                      tuple(TraceStep(t, e) for t, e, _ in lasso.steps), lasso.cycle)
        if lasso.cycle is None:
            how = (f"fair-cycle search found a fair execution of {len(lasso.steps)} steps that "
                   "ends in a quiescent state (no thread the kernel schedules can move)")
        else:
            how = (f"fair-cycle search found a lasso: {lasso.cycle} steps, then a cycle of "
                   f"{len(lasso.steps) - lasso.cycle} steps repeated forever, fair to every "
                   "thread the kernel schedules")
        return PropertyResult(name, Verdict.VIOLATED, ENGINE, seconds, bound=len(lasso.steps),
                              argument=how, trace=trace)
    if not graph.complete:
        limit = {"time": f"the time limit ({options.timeout:g} s)",
                 "states": f"the state limit (max_states={options.max_states})",
                 "depth": f"the depth limit (max_depth={options.max_depth})"}[graph.stop]
        return PropertyResult(name, Verdict.BOUNDED, ENGINE, seconds, bound=graph.completed_depth,
                              argument=f"{limit} stopped the state graph at {len(graph.states)} "
                                       f"states: no fair lasso among the states within "
                                       f"{graph.completed_depth} steps; cycles through deeper "
                                       "states were not searched")
    if not graph.states:
        return PropertyResult(name, Verdict.VACUOUS, ENGINE, seconds, bound=0,
                              argument="no initial state satisfies the model's constraints, "
                                       "so there is no execution at all")
    explored = (f"all {len(graph.states)} reachable states explored without partial-order "
                f"reduction; {search.components_checked} strongly connected components checked "
                "for fair cycles" if search.cyclic else
                f"all {len(graph.states)} reachable states explored without partial-order "
                "reduction: the state graph has no cycle, so every execution ends")
    if prop.kind == "leads_to":
        trigger = search.condition(prop.trigger)
        if not any(trigger(s) for s in range(len(graph.states))):
            return PropertyResult(name, Verdict.VACUOUS, ENGINE, seconds, bound=0,
                                  argument=f"{name} is never triggered: its left-hand side holds "
                                           f"in no reachable state; {explored}")
    return PropertyResult(name, Verdict.PROVED, ENGINE, seconds, bound=max(graph.depth, default=0),
                          argument=f"no fair execution violates it: {explored}")


def split(model: Model, props: list[str]) -> tuple[list[str], list[str]]:
    """(safety properties, liveness properties) of `props`, in their order."""
    live = [p for p in props if is_liveness(model.property(p))]
    return [p for p in props if p not in live], live


def not_searched(model: Model, props: list[str], engine: str) -> dict[str, PropertyResult]:
    """The verdict of an engine that searches bounded executions only: no lasso looked for."""
    return {name: PropertyResult(name, Verdict.BOUNDED, engine, 0.0, bound=0,
                                 argument=f"the {engine} engine unrolls bounded executions and "
                                          "does not search for cycles, so it decides no liveness "
                                          "property; --engine explicit does")
            for name in props}
