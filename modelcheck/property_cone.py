"""Cone of influence per property: each safety property is searched on the part of the model
that can affect what it observes.

The cone of a property starts with the variables it reads (a check: the condition and the
edges that make it). A thread that writes a variable of the cone is kept, and what its steps
read joins the cone, until nothing new joins. What is left out:
- a thread that writes nothing in the cone (another module's modprobe, a worker no property
  watches): its steps cannot change what the property sees, nor wake a kept thread;
- a *passable region* of a kept thread: locations where every step writes nothing in the cone
  and some step is enabled in every state (the guards cover every valuation), with no loop and
  one way out. Whatever path the thread takes through it, it arrives at the same exit having
  changed nothing the cone reads, so the region becomes one step (the branches of the boot
  thread's initcalls for modules the property does not watch);
- assignments to variables outside the cone.

Why the verdicts carry over (kept threads read only cone variables; the rest never write one):
- invariant and check: every execution of the model, its left-out steps removed and each
  region walk replaced by the one step, is an execution of the slice with the same cone
  values, and every execution of the slice is one of the model (walk any enabled path through
  a region, never schedule the left-out threads);
- final: a terminal state of the model has no thread inside a region (some step is enabled
  there), so it maps to a terminal state of the slice with the same settled threads;
- deadlock: a deadlock has some thread T blocked; it is a deadlock of T's cone (T and every
  thread that can wake it), so the property is searched once per thread that can block at
  all, each on its own cone. A thread whose every location has a step enabled in every state
  never blocks; when no thread can block, no deadlock exists.
A violation found in a slice is lifted to the whole model (lift_trace): region walks expanded,
and, for final and deadlock, the left-out threads run until none can move. The checker
replays the lifted trace on the whole model as it replays every trace; when lifting fails
(a left-out thread never stops, or stops blocked before a `final` state), the property is
searched on the whole model instead. Liveness properties are never sliced: fairness speaks
of every thread.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Optional

from .cone import drop_unread_configs
from .interp import Interpreter, State
from .ir import TRUE, Edge, Location, Model, Property, is_liveness
from .reduce import variables_of
from .result import Trace, TraceStep

MAX_COVER_VALUATIONS = 4096   # valuations tried to show a location's guards cover every state
MAX_LIFT_STEPS = 100_000      # steps of left-out threads run at the end of a lifted trace
SKIP_LABEL = "(steps that no property of this search reads)"


@dataclass(frozen=True)
class Slice:
    """A property group's search: `model` keeps `threads` (indices into the whole model's
    threads, in order) with the same location numbering; `skips` maps (index into `threads`,
    location) to the exit of the passable region that location enters."""
    model: Model
    props: tuple[str, ...]
    threads: tuple[int, ...]
    skips: tuple[tuple[tuple[int, int], int], ...]
    whole: bool                      # nothing was left out: the whole model is searched

    def describe(self, full: Model) -> str:
        """One phrase for a verdict's argument: what the search kept."""
        if self.whole:
            return ""
        regions = len(self.skips)
        return (f"on the property's cone of influence ({len(self.threads)} of {len(full.threads)} threads, "
                f"{len(self.model.variables)} of {len(full.variables)} variables"
                + (f", {regions} region{'s' if regions != 1 else ''} of unobserved steps as one step each" if regions else "")
                + ")")


class _Shape:
    """What the cone computation needs of a model, computed once: the locations whose guards
    cover every state."""

    def __init__(self, model: Model):
        self.model = model
        # the values a variable can hold at run time (a fixed option: only its own)
        self.domains = {v.name: range(v.lo, v.hi + 1) if v.init is None or v.role != "config" else (v.init,)
                        for v in model.variables}
        self.interp = Interpreter(model)
        self.covering = [[self._covers(loc) for loc in t.locations] for t in model.threads]

    def _covers(self, location: Location) -> bool:
        """Whether some edge of `location` is enabled in every valuation (its guards' domains,
        at most MAX_COVER_VALUATIONS of them; beyond that: assumed not, which is safe)."""
        if not location.edges:
            return False
        if any(e.guard == TRUE for e in location.edges):
            return True
        names = sorted(set().union(*(variables_of(e.guard) for e in location.edges)))
        size = 1
        for n in names:
            size *= len(self.domains[n])
            if size > MAX_COVER_VALUATIONS:
                return False
        interp = self.interp
        values = [0] * len(self.model.variables)
        for combo in itertools.product(*(self.domains[n] for n in names)):
            for n, x in zip(names, combo):
                values[interp.index[n]] = x
            if not any(interp.eval(e.guard, values) for e in location.edges):
                return False
        return True

    def can_block(self, thread: int) -> bool:
        """Whether the thread has a location where, in some state, no step of it is enabled."""
        t = self.model.threads[thread]
        return any(not covers and not loc.rest for loc, covers in zip(t.locations, self.covering[thread]))


def _relevant(edge: Edge, cone: set[str], props: frozenset[str]) -> bool:
    return any(var in cone for var, _ in edge.assigns) or any(c.prop in props for c in edge.checks)


def _regions(shape: _Shape, thread: int, cone: set[str], props: frozenset[str]) -> dict[int, int]:
    """location -> exit, for every location of a passable region with one exit and no loop."""
    t = shape.model.threads[thread]
    passable = {i for i, loc in enumerate(t.locations)
                if shape.covering[thread][i] and not loc.rest
                and not any(_relevant(e, cone, props) for e in loc.edges)}
    exits: dict[int, Optional[int]] = {}

    def exit_of(i: int, path: frozenset[int]) -> Optional[int]:
        if i in exits:
            return exits[i]
        found: set[int] = set()
        for e in t.locations[i].edges:
            j = e.target
            if j in path:
                exits[i] = None      # a loop: the thread may stay in the region forever
                return None
            if j in passable:
                sub = exit_of(j, path | {j})
                if sub is None:
                    exits[i] = None
                    return None
                found.add(sub)
            else:
                found.add(j)
        exits[i] = found.pop() if len(found) == 1 else None
        return exits[i]
    try:
        return {i: x for i in sorted(passable) if (x := exit_of(i, frozenset({i}))) is not None}
    except RecursionError:      # a passable chain too long to follow: keep the thread whole
        return {}


def _cone(shape: _Shape, observed: set[str], anchors: set[int], props: frozenset[str]):
    """(cone variables, kept thread indices, {(thread, location): exit}) at the fixpoint."""
    cone = set(observed)
    while True:
        kept: list[int] = []
        skips: dict[tuple[int, int], int] = {}
        reads: set[str] = set()
        for ti, t in enumerate(shape.model.threads):
            if ti not in anchors and not any(_relevant(e, cone, props) for loc in t.locations for e in loc.edges):
                continue
            kept.append(ti)
            regions = _regions(shape, ti, cone, props)
            skips.update(((ti, i), x) for i, x in regions.items())
            for i, loc in enumerate(t.locations):
                if i in regions:
                    continue
                for e in loc.edges:
                    reads |= variables_of(e.guard)
                    reads |= set().union(*(variables_of(x) for v, x in e.assigns if v in cone))
                    reads |= set().union(*(variables_of(c.ok) for c in e.checks if c.prop in props))
        if reads <= cone:
            return cone, tuple(kept), skips
        cone |= reads


def _smaller(model: Model, kept: tuple[int, ...], cone: set[str]) -> bool:
    """Whether a cone leaves out a thread or an open option: only then is a search of its own
    worth more than sharing the whole model's one search with the other properties."""
    return len(kept) < len(model.threads) or any(v.init is None and v.name not in cone for v in model.variables)


def _observed(prop: Property) -> set[str]:
    return variables_of(prop.expr) if prop.expr is not None else set()


def slices(model: Model, props: list[str]) -> tuple[list[Slice], list[str]]:
    """The searches that decide `props` between them, and the properties decided without one
    (deadlock when no thread can block: returned by name, see NO_BLOCKING_ARGUMENT).

    Liveness properties go to one whole-model search. The other properties are grouped by
    cone; deadlock may need one search per blocking thread (all must hold). A group whose
    cone is the whole model is searched together with the liveness properties."""
    shape = _Shape(model)
    groups: dict[tuple, list[str]] = {}
    cones: dict[tuple, tuple] = {}
    whole: list[str] = []
    no_search: list[str] = []
    for name in props:
        prop = model.property(name)
        if is_liveness(prop):
            whole.append(name)
            continue
        if prop.kind == "deadlock":
            blocking = [ti for ti in range(len(model.threads)) if shape.can_block(ti)]
            if not blocking:
                no_search.append(name)
            requests = [(set(), {ti}) for ti in blocking]
        else:
            requests = [(_observed(prop), set())]
        only = frozenset({name})
        found = {}
        for observed, anchors in requests:
            cone, kept, skips = _cone(shape, observed, anchors, only)
            if not _smaller(model, kept, cone):
                found = {("whole",): None}     # one whole-model search covers every cone
                break
            found[(kept, tuple(sorted(skips.items())), frozenset(cone))] = (cone, kept, skips)
        for key, cone_of in found.items():
            cones[key] = cone_of
            groups.setdefault(key, []).append(name)
    out = []
    if whole or ("whole",) in groups:
        names = whole + [n for n in groups.pop(("whole",), []) if n not in whole]
        out.append(Slice(_restrict(model, names), tuple(names), tuple(range(len(model.threads))), (), True))
    for key, names in groups.items():
        cone, kept, skips = cones[key]
        out.append(_build(model, names, cone, kept, skips))
    return out, no_search


NO_BLOCKING_ARGUMENT = ("no thread can block: at every location of every thread some step is enabled "
                        "in every state, so a state with no step enabled has every thread finished or idle")


def _restrict(model: Model, names: list[str]) -> Model:
    return replace(model, properties=tuple(p for p in model.properties if p.name in names))


def _build(model: Model, names: list[str], cone: set[str], kept: tuple[int, ...],
           skips: dict[tuple[int, int], int]) -> Slice:
    props = frozenset(names)
    threads = []
    for ti in kept:
        t = model.threads[ti]
        locations = []
        for i, loc in enumerate(t.locations):
            if (ti, i) in skips:
                edges = (Edge(TRUE, (), skips[(ti, i)], SKIP_LABEL),)
            else:
                edges = tuple(replace(e, assigns=tuple((v, x) for v, x in e.assigns if v in cone),
                                      checks=tuple(c for c in e.checks if c.prop in props))
                              for e in loc.edges)
            locations.append(replace(loc, edges=edges))
        threads.append(replace(t, locations=tuple(locations)))
    referenced = set(cone)
    for p in model.properties:
        if p.name in props:
            referenced |= _observed(p)
    # Options stay (constraints name them) until drop_unread_configs projects the open ones away.
    variables = tuple(v for v in model.variables if v.name in referenced or v.role in ("config", "platform"))
    sliced = replace(_restrict(model, names), variables=variables, threads=tuple(threads))
    sliced = drop_unread_configs(sliced, roles=("config", "platform"))
    return Slice(sliced, tuple(names), kept, tuple(sorted(((kept.index(ti), i), x) for (ti, i), x in skips.items())),
                 False)


class LiftError(Exception):
    """A slice's trace has no counterpart in the whole model that this module could build."""


def lift_trace(full: Model, piece: Slice, trace: Trace, prop: str) -> Trace:
    """The slice's violation as an execution of the whole model: the same steps (a region's
    one step expanded into a path through it), then, for final and deadlock, the left-out
    threads run until none can move. Raises LiftError when the left-out threads never stop
    within MAX_LIFT_STEPS, or a `final` state is not reached."""
    if piece.whole:
        return trace
    interp = Interpreter(full)
    start = _initial(full, piece.model, trace.initial)
    state = State(start, tuple(0 for _ in full.threads))
    steps: list[TraceStep] = []
    skips = dict(piece.skips)

    def take(thread: int, edge_index: int) -> None:
        nonlocal state
        edge = full.threads[thread].locations[state.pcs[thread]].edges[edge_index]
        if not interp.eval(edge.guard, state.values):
            raise LiftError(f"step of {full.threads[thread].name} not enabled in the whole model")
        state = interp.step(state, thread, edge)
        steps.append(TraceStep(thread, edge_index))

    for step in trace.steps:
        thread = piece.threads[step.thread]
        pc = state.pcs[thread]
        exit_ = skips.get((step.thread, pc))
        if exit_ is None:
            take(thread, step.edge)
            continue
        while state.pcs[thread] != exit_:
            take(thread, _first_enabled(interp, state, thread))
    kind = full.property(prop).kind
    if kind in ("final", "deadlock"):
        kept = set(piece.threads)
        for _ in range(MAX_LIFT_STEPS):
            moves = [(t, e) for t, e, _ in interp.enabled(state) if t not in kept]
            if not moves:
                break
            take(*moves[0])
        else:
            raise LiftError("a thread left out of the search does not stop")
        if next(iter(interp.enabled(state)), None) is not None:
            raise LiftError("a kept thread can move again")
        if kind == "final" and interp.stuck_threads(state):
            raise LiftError("a thread left out of the search stops blocked")
    return Trace(start, tuple(steps), trace.cycle)


def _first_enabled(interp: Interpreter, state: State, thread: int) -> int:
    loc = interp.model.threads[thread].locations[state.pcs[thread]]
    for i, e in enumerate(loc.edges):
        if interp.eval(e.guard, state.values):
            return i
    raise LiftError(f"{interp.model.threads[thread].name} has no step enabled in a passable region")


def _initial(full: Model, sliced: Model, initial: tuple[int, ...]) -> tuple[int, ...]:
    """The whole model's initial values: the slice's where it has the variable, the declared
    value otherwise, and for left-out open options the first values the constraints allow."""
    given = dict(zip((v.name for v in sliced.variables), initial))
    fixed = {v.name: given.get(v.name, v.init) for v in full.variables}
    open_names = [v.name for v in full.variables if fixed[v.name] is None]
    if not open_names:
        return tuple(fixed[v.name] for v in full.variables)
    probe = replace(full, variables=tuple(replace(v, init=fixed[v.name]) if fixed[v.name] is not None else v
                                          for v in full.variables))
    for state in Interpreter(probe).initial_states(budget=1_000_000):
        return state.values
    raise LiftError("no value of the left-out options satisfies the constraints")
