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


class StubbornSets:
    """Chooses, per state, a persistent subset of the enabled steps to explore.

    Sets of edges are bitmasks over edge ids (one id per edge of the model)."""

    def __init__(self, model: Model, props: Iterable[Property], compile_expr):
        props = list(props)
        bit = {v.name: 1 << i for i, v in enumerate(model.variables)}
        mask = lambda names: sum(bit[n] for n in set(names))
        watched = 0
        for prop in props:
            if prop.kind == "invariant" and prop.expr is not None:
                watched |= mask(variables_of(prop.expr))
        checked = {p.name for p in props if p.kind == "check"}

        self.id_at: list[list[tuple[int, ...]]] = []     # thread, location -> edge ids there
        thread_of, loc_of, target, access, writes, visible, guards = [], [], [], [], [], [], []
        for t, thread in enumerate(model.threads):
            per_loc = []
            for l, loc in enumerate(thread.locations):
                here = []
                for edge in loc.edges:
                    here.append(len(thread_of))
                    thread_of.append(t)
                    loc_of.append(l)
                    target.append(edge.target)
                    w = mask(edge_writes(edge))
                    writes.append(w)
                    access.append(w | mask(edge_reads(edge)))
                    visible.append(bool(w & watched) or any(c.prop in checked for c in edge.checks))
                    guards.append([(compile_expr(c), mask(variables_of(c)))
                                   for c in _conjuncts(edge.guard)])
                per_loc.append(tuple(here))
            self.id_at.append(per_loc)
        count = len(thread_of)
        ids = range(count)
        self.thread_of, self.loc_of, self.visible = thread_of, loc_of, visible
        self.unit = [[_bits_of(here) for here in per_loc] for per_loc in self.id_at]
        # Per edge: the edges of other threads dependent on it.
        self.dependent = [_bits_of(j for j in ids if thread_of[j] != thread_of[i]
                                   and (writes[i] & access[j] or writes[j] & access[i]))
                          for i in ids]
        # Per edge: its guard's conjuncts, each with the edges that write one of its variables.
        self.conjuncts = [[(test, _bits_of(j for j in ids if writes[j] & m)) for test, m in guard]
                          for guard in guards]
        # Per edge: the edges of its thread that enter its location.
        self.into = [_bits_of(j for j in ids if thread_of[j] == thread_of[i] and target[j] == loc_of[i])
                     for i in ids]
        # Per thread and location: the edges at locations reachable from there, itself included.
        self.ahead = []
        for t, thread in enumerate(model.threads):
            reach = _reachable(thread)
            self.ahead.append([_union(self.unit[t][k] for k in range(len(reach)) if reach[l] >> k & 1)
                               for l in range(len(reach))])
        self._ahead_cache: dict[tuple[int, ...], int] = {}

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
        found: list[int] = []
        for seed in sorted(threads, key=lambda t: self.unit[t][pcs[t]].bit_count()):
            seed_edges = self.unit[seed][pcs[seed]]
            if any(seed_edges & chosen for chosen in found):
                continue    # its set would most likely repeat one already found
            chosen = self._close(seed_edges, state, on, live)
            if chosen is not None and chosen != on:
                found.append(chosen)
        found.sort(key=int.bit_count)
        return [[step_of[i] for i in _ids(chosen)] for chosen in found]

    def _close(self, seed_edges: int, state: State, on: int, live: int) -> Optional[int]:
        """The enabled edges of a stubborn set grown from `seed_edges`; None when one is visible.

        on: the enabled edges; live: the edges their threads can still reach."""
        pcs, values = state.pcs, state.values
        taken = seed_edges & live
        stack = list(_ids(taken))
        while stack:
            y = stack.pop()
            v = self.thread_of[y]
            if on >> y & 1:
                if self.visible[y]:
                    return None
                adds = self.dependent[y] | self.unit[v][pcs[v]]
            else:
                # Several necessary enabling sets may qualify: take the one that brings the
                # fewest enabled edges, then the fewest edges.
                options = [writers for test, writers in self.conjuncts[y] if not test(values)]
                if self.loc_of[y] != pcs[v]:
                    options += [self.into[y], self.unit[v][pcs[v]]]
                outside = live & ~taken
                adds = min(options, key=lambda o: ((o & outside & on).bit_count(),
                                                   (o & outside).bit_count()))
            new = adds & live & ~taken
            if new:
                taken |= new
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
