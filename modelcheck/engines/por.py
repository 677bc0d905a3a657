"""Partial-order reduction for the explicit engine: stubborn sets over the edges of the IR.

Two edges of different threads are dependent when one writes a variable the other reads or
writes (guards and checks count as reads); independent edges commute, and neither enables or
disables the other. In a state s, a set T of edges is stubborn when it is closed under:

- an enabled edge in T brings every edge dependent on it that its thread can still reach from
  its current location, and the other edges of its own location (taking one disables it);
- a disabled edge in T brings a necessary enabling set: edges one of which must fire before it
  can. Either the writers of a conjunct of its guard that is false in s (nothing else can make
  that conjunct true), or, when its thread is elsewhere, the edges into its location.

Edges a thread can no longer reach from its current location never fire, so they are left out.
The first edge of T that any execution from s takes is then enabled in s, and everything before
it is independent of T's enabled edges: those form a persistent set (C1). Starting T from a
thread with an enabled edge makes it nonempty (C0); persistent sets keep every terminal state,
which is all that deadlock and final-state properties look at.

Visibility (C2): an edge is visible when it writes a variable an invariant being checked reads,
or carries a check of a property being checked (a check observes the pre-state, as if the edge
set a failure flag). A set with an enabled visible edge is not used.

The cycle proviso (C3) is the caller's: in breadth-first order every cycle of the reduced graph
contains an edge to a state already stored at the same or a smaller depth, so expanding a state
fully whenever one of its reduced successors is such a state leaves no cycle unexpanded.
"""
from __future__ import annotations

from typing import Iterable, Optional

from ..interp import State
from ..ir import BoolOp, Expr, Model, Property
from ..reduce import edge_reads, edge_writes, variables_of

Step = tuple[int, int, object]        # thread, edge index, edge as interp.enabled yields them
# A stubborn set still growing past this many edges is given up (the state is expanded fully):
# large sets seldom leave any thread out, and searching them costs more than it saves.
EDGE_BUDGET = 1000


class StubbornSets:
    """Chooses, per state, a persistent subset of the enabled steps to explore.

    Sets of edges are bitmasks over edge ids (one id per edge of the model)."""

    def __init__(self, model: Model, props: Iterable[Property], compile_expr):
        props = list(props)
        index = {v.name: i for i, v in enumerate(model.variables)}
        watched = set()
        for prop in props:
            if prop.kind == "invariant" and prop.expr is not None:
                watched |= variables_of(prop.expr)
        checked = {p.name for p in props if p.kind == "check"}

        self.id_at: list[list[tuple[int, ...]]] = []     # thread, location -> edge ids there
        thread_of, loc_of, visible, guards = [], [], [], []
        writers = [0] * len(index)      # per variable: the edges that write it
        accessors = [0] * len(index)    # per variable: the edges that read or write it
        footprints = []                 # per edge: (variables written, variables accessed)
        into: dict[tuple[int, int], int] = {}    # (thread, location) -> the edges entering it
        for t, thread in enumerate(model.threads):
            per_loc = []
            for l, loc in enumerate(thread.locations):
                here = []
                for edge in loc.edges:
                    i = len(thread_of)
                    here.append(i)
                    thread_of.append(t)
                    loc_of.append(l)
                    into[t, edge.target] = into.get((t, edge.target), 0) | 1 << i
                    written = {index[n] for n in edge_writes(edge)}
                    accessed = written | {index[n] for n in edge_reads(edge)}
                    footprints.append((written, accessed))
                    for x in written:
                        writers[x] |= 1 << i
                    for x in accessed:
                        accessors[x] |= 1 << i
                    visible.append(bool(edge_writes(edge) & watched)
                                   or any(c.prop in checked for c in edge.checks))
                    guards.append([(compile_expr(c), {index[n] for n in variables_of(c)})
                                   for c in _conjuncts(edge.guard)])
                per_loc.append(tuple(here))
            self.id_at.append(per_loc)
        self.thread_of, self.loc_of, self.visible = thread_of, loc_of, visible
        self.unit = [[_bits_of(here) for here in per_loc] for per_loc in self.id_at]
        own = [_union(per_loc) for per_loc in self.unit]
        # Per edge: the edges of other threads dependent on it.
        self.dependent = [(_union(accessors[x] for x in written) | _union(writers[x] for x in accessed))
                          & ~own[thread_of[i]] for i, (written, accessed) in enumerate(footprints)]
        # Per edge: its guard's conjuncts, each as (test number, the edges that write one of
        # its variables).
        self.tests = [test for guard in guards for test, _ in guard]
        numbers = iter(range(len(self.tests)))
        self.conjuncts = [[(next(numbers), _union(writers[x] for x in read)) for _, read in guard]
                          for guard in guards]
        # Per edge: the edges of its thread that enter its location.
        self.into = [into.get((thread_of[i], loc_of[i]), 0) for i in range(len(thread_of))]
        # Per thread and location: the edges at locations reachable from there, itself included.
        self.ahead = []
        for t, thread in enumerate(model.threads):
            reach = _reachable(thread)
            self.ahead.append([_union(self.unit[t][k] for k in range(len(reach)) if reach[l] >> k & 1)
                               for l in range(len(reach))])
        self._ahead_cache: dict[tuple[int, ...], int] = {}
        # (pcs, enabled edges) -> a decision tree over the guard tests the search made, whose
        # leaves are its results: the same locations and test outcomes give the same sets.
        self._memo: dict[tuple, list] = {}

    def choices(self, state: State, enabled: list[Step]) -> list[list[Step]]:
        """Reduced expansions of `state`, smallest first, each a proper subset of `enabled`."""
        pcs = state.pcs
        step_of = {self.id_at[t][pcs[t]][e]: (t, e, edge) for t, e, edge in enabled}
        threads = {t for t, _, _ in enabled}
        if len(threads) < 2:
            return []
        live = self._ahead_cache.get(pcs)
        if live is None:
            live = self._ahead_cache[pcs] = _union(
                ahead[pc] for ahead, pc in zip(self.ahead, pcs) if pc < len(ahead))
        on = _bits_of(step_of)
        found = self._recall((pcs, on), state.values)
        if found is None:
            log: dict[int, bool] = {}
            found = self._search(threads, state, on, live, log)
            self._remember((pcs, on), list(log.items()), found)
        return [[step_of[i] for i in _ids(chosen)] for chosen in found]

    def _recall(self, key: tuple, values) -> Optional[list[int]]:
        node = self._memo.get(key)
        while node is not None and node[0] == "test":
            node = node[2].get(self.tests[node[1]](values))
        return None if node is None else node[1]

    def _remember(self, key: tuple, log: list[tuple[int, bool]], found: list[int]) -> None:
        """Store `found` under the tests `log` made, in order: a later search with the same
        outcomes would make the same choices."""
        slot, index = self._memo, key
        for number, outcome in log:
            node = slot.get(index)
            if node is None:
                node = slot[index] = ("test", number, {})
            slot, index = node[2], outcome
        slot[index] = ("leaf", found)

    def _search(self, threads: set[int], state: State, on: int, live: int,
                log: dict[int, bool]) -> list[int]:
        """Stubborn sets grown from one enabled thread after another, until one holds only
        that thread's edges."""
        pcs = state.pcs
        found: list[int] = []
        for seed in sorted(threads, key=lambda t: self.unit[t][pcs[t]].bit_count()):
            seed_edges = self.unit[seed][pcs[seed]]
            if any(seed_edges & chosen for chosen in found):
                continue    # its set would most likely repeat one already found
            chosen = self._close(seed_edges, state, on, live, log, found)
            if chosen is not None and chosen != on:
                found.append(chosen)
                if not chosen & ~seed_edges:
                    break
        found.sort(key=int.bit_count)
        return found

    def _close(self, seed_edges: int, state: State, on: int, live: int,
               log: dict[int, bool], found: list[int]) -> Optional[int]:
        """The enabled edges of a stubborn set grown from `seed_edges`; None when one is visible,
        or as soon as they are every enabled edge or hold a set in `found`: no use then (a
        superset of a set that fails the cycle proviso fails it too), so the growth stops early.

        on: the enabled edges; live: the edges their threads can still reach."""
        pcs, values = state.pcs, state.values
        tests, thread_of, loc_of, unit = self.tests, self.thread_of, self.loc_of, self.unit
        taken = seed_edges & live
        stack = _ids(taken)
        budget = EDGE_BUDGET
        while stack:
            budget -= 1
            if budget < 0:
                return None
            y = stack.pop()
            v = thread_of[y]
            if on >> y & 1:
                if self.visible[y]:
                    return None
                adds = self.dependent[y] | unit[v][pcs[v]]
            else:
                # Several necessary enabling sets may qualify: take the one that brings the
                # fewest enabled edges, then the fewest edges; one that brings nothing at once.
                outside = live & ~taken
                adds, best = 0, -1
                for number, writers in self.conjuncts[y]:
                    outcome = log.get(number)
                    if outcome is None:
                        outcome = log[number] = bool(tests[number](values))
                    if not outcome:
                        new = writers & outside
                        if not new:
                            adds, best = 0, 0
                            break
                        cost = ((new & on).bit_count() << 20) + new.bit_count()
                        if best < 0 or cost < best:
                            adds, best = new, cost
                if best != 0 and loc_of[y] != pcs[v]:
                    for option in (self.into[y], unit[v][pcs[v]]):
                        new = option & outside
                        cost = ((new & on).bit_count() << 20) + new.bit_count()
                        if best < 0 or cost < best:
                            adds, best = new, cost
            new = adds & live & ~taken
            if new:
                taken |= new
                if new & on:
                    chosen = taken & on
                    if chosen == on or any(not earlier & ~chosen for earlier in found):
                        return None
                stack.extend(_ids(new))
        return taken & on


def _bits_of(ids: Iterable[int]) -> int:
    out = 0
    for i in ids:
        out |= 1 << i
    return out


def _ids(bits: int) -> list[int]:
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def _union(masks: Iterable[int]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


def _conjuncts(guard: Expr) -> list[Expr]:
    if isinstance(guard, BoolOp) and guard.op == "and":
        return [c for arg in guard.args for c in _conjuncts(arg)]
    return [guard]


def _reachable(thread) -> list[int]:
    """Per location, the bitmask of locations reachable from it (itself included)."""
    count = len(thread.locations)
    reach = [1 << l for l in range(count)]
    changed = True
    while changed:     # a fixpoint, since loops (reloads, rest points) make the graph cyclic
        changed = False
        for l, loc in enumerate(thread.locations):
            mask = reach[l]
            for edge in loc.edges:
                if edge.target < count:
                    mask |= reach[edge.target]
            if mask != reach[l]:
                reach[l] = mask
                changed = True
    return reach
