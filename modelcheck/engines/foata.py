"""Step BMC over Foata normal forms (process semantics), the default Z3 engine.

Steps of different threads that touch disjoint variables commute, so every execution is
equivalent to one in Foata normal form: a sequence of frames, each a set of pairwise
independent steps, where every step depends on some step of the frame before (same thread,
or a shared variable one of them writes). Every reachable state ends some such execution,
so checking the states between frames misses nothing, and the number of frames needed is the
longest chain of dependent steps, not the total number of steps.

Completeness: when no execution of k non-empty Foata frames exists, every execution has a
dependency chain shorter than k, so every reachable state was checked: PROVED.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import z3

from . import liveness
from ..ir import Model, Property
from ..reduce import edge_reads, edge_writes
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict
from .z3solve import ask
from .bmc import all_of, any_of, as_bool, as_int, encode, make_solver, value_bounds

ENGINE = "foata"
_last_frames = None   # see Frames.of


@dataclass(frozen=True)
class _Edge:
    thread: int
    loc: int
    index: int          # position among the location's edges
    number: int         # position among the thread's edges (the selector value)
    edge: object
    reads: frozenset
    writes: frozenset


class Frames:
    """Symbols and constraints of the unrolling, frame by frame."""

    def __init__(self, model: Model):
        self.model = model
        self.threads = range(len(model.threads))
        self.edges: list[list[_Edge]] = []
        for t, th in enumerate(model.threads):
            own = []
            for loc, location in enumerate(th.locations):
                for i, edge in enumerate(location.edges):
                    own.append(_Edge(t, loc, i, len(own), edge, frozenset(edge_reads(edge)),
                                     frozenset(edge_writes(edge))))
            self.edges.append(own)
        self.bounds = value_bounds(model)
        self.shared = self._shared_variables()
        # Which edges of each thread touch (or write) each shared variable, and which write each variable.
        self.touching = {(t, v, w): [e for e in own if v in e.writes or (not w and v in e.reads)]
                         for t, own in enumerate(self.edges) for v in self.shared for w in (True, False)}
        self.writers = {v.name: [(e, expr) for own in self.edges for e in own
                                 for name, expr in e.edge.assigns if name == v.name]
                        for v in model.variables}
        self._terms: dict = {}     # every term is built once and shared by all properties
        # Set once a search proves every reachable state lies within this many frames.
        self.complete_height: Optional[int] = None

    @classmethod
    def of(cls, model: Model) -> "Frames":
        """The frames of `model`, shared by the engine and the enumeration run on it in turn."""
        global _last_frames
        if _last_frames is None or _last_frames.model is not model:
            _last_frames = cls(model)
        return _last_frames

    def _memo(self, key, build):
        term = self._terms.get(key)
        if term is None:
            term = self._terms[key] = build()
        return term

    def _shared_variables(self) -> list[str]:
        """Variables touched by two or more threads: only these can make steps conflict."""
        touched: dict[str, set[int]] = {}
        for own in self.edges:
            for e in own:
                for v in e.reads | e.writes:
                    touched.setdefault(v, set()).add(e.thread)
        return sorted(v for v, ts in touched.items() if len(ts) > 1)

    # -- symbols --
    def state(self, i: int) -> dict:
        return self._memo(("state", i), lambda: {v.name: z3.Int(f"{v.name}@{i}") for v in self.model.variables})

    def pc(self, t: int, i: int):
        return self._memo(("pc", t, i), lambda: z3.Int(f"pc[{self.model.threads[t].name}]@{i}"))

    def sel(self, t: int, i: int):
        """Which edge thread t takes in frame i (-1: it does not move)."""
        return self._memo(("sel", t, i), lambda: z3.Int(f"move[{self.model.threads[t].name}]@{i}"))

    def takes(self, e: _Edge, i: int):
        return self._memo(("takes", e.thread, e.number, i), lambda: self.sel(e.thread, i) == e.number)

    def moved(self, t: int, i: int):
        return self._memo(("moved", t, i), lambda: self.sel(t, i) >= 0)

    def symbols(self, i: int) -> list:
        """Every symbol of boundary i and of frame i."""
        return (list(self.state(i).values()) + [self.pc(t, i) for t in self.threads]
                + [self.sel(t, i) for t in self.threads])

    def shifted(self, term, by: int, boundaries: tuple):
        """`term`, over the given boundaries, moved `by` frames later: one substitution in z3,
        far cheaper than building the same constraint again through the Python API."""
        if by == 0:
            return term
        sources = [x for j in boundaries for x in self.symbols(j)]
        targets = [x for j in boundaries for x in self.symbols(j + by)]
        return _substitute(term, sources, targets)

    # -- constraints --
    def initial(self):
        s = self.state(0)
        parts = [self.pc(t, 0) == 0 for t in self.threads]
        for v in self.model.variables:
            parts += [s[v.name] == v.init] if v.init is not None else [s[v.name] >= v.lo, s[v.name] <= v.hi]
        parts += [as_bool(encode(c, s)) for c in self.model.constraints]
        return all_of(parts + self.ranges(0))

    def ranges(self, i: int) -> list:
        s = self.state(i)
        parts = [z3.And(self.pc(t, i) >= 0, self.pc(t, i) <= len(self.model.threads[t].locations))
                 for t in self.threads]   # pc == len(locations): the thread has finished
        for name, (lo, hi) in (self.bounds or {}).items():
            parts.append(z3.And(s[name] >= lo, s[name] <= hi))
        return parts

    def frame(self, i: int):
        """Frame i takes state i to state i+1 (frames 0 and 1 built, later ones copies of frame 1)."""
        if i >= 2:
            return self._memo(("frame", i), lambda: self.shifted(self.frame(1), i - 1, (0, 1, 2)))
        return self._memo(("frame", i), lambda: self._build_frame(i))

    def _build_frame(self, i: int):
        pre, post = self.state(i), self.state(i + 1)
        parts = []
        for t in self.threads:
            sel, own = self.sel(t, i), self.edges[t]
            parts += [sel >= -1, sel < len(own)]
            for e in own:
                parts.append(z3.Implies(self.takes(e, i),
                                        z3.And(self.pc(t, i) == e.loc, as_bool(encode(e.edge.guard, pre)),
                                               self.pc(t, i + 1) == e.edge.target)))
            parts.append(z3.Implies(sel == -1, self.pc(t, i + 1) == self.pc(t, i)))
        for v in self.model.variables:
            value = pre[v.name]
            for e, expr in self.writers[v.name]:
                value = z3.If(self.takes(e, i), as_int(encode(expr, pre)), value)
            parts.append(post[v.name] == value)
        parts += self.independence(i)
        parts.append(any_of([self.moved(t, i) for t in self.threads]))
        if i > 0:
            parts += self.foata(i)
        return all_of(parts + self.ranges(i + 1))

    def _touch(self, t: int, v: str, i: int, writes_only: bool):
        return self._memo(("touch", t, v, i, writes_only), lambda: any_of(
            [self.takes(e, i) for e in self.touching[t, v, writes_only]]))

    def _touched_by_others(self, t: int, v: str, i: int, writes_only: bool):
        return self._memo(("others", t, v, i, writes_only), lambda: any_of(
            [self._touch(u, v, i, writes_only) for u in self.threads
             if u != t and self.touching[u, v, writes_only]]))

    def independence(self, i: int) -> list:
        """Steps in one frame never conflict: a written variable is touched by no other thread."""
        parts = []
        for v in self.shared:
            writers = [t for t in self.threads if self.touching[t, v, True]]
            touchers = [t for t in self.threads if self.touching[t, v, False]]
            for t in writers:
                w = self._touch(t, v, i, True)
                for u in touchers:
                    if u != t:
                        parts.append(z3.Not(z3.And(w, self._touch(u, v, i, False))))
        return parts

    def foata(self, i: int) -> list:
        """Every step of frame i depends on a step of frame i-1, so it could not go earlier."""
        parts = []
        for t in self.threads:
            reasons = [self.moved(t, i - 1)]
            for v in self.shared:
                if self.touching[t, v, False]:
                    reasons.append(z3.And(self._touch(t, v, i, False), self._touched_by_others(t, v, i - 1, True)))
                if self.touching[t, v, True]:
                    reasons.append(z3.And(self._touch(t, v, i, True), self._touched_by_others(t, v, i - 1, False)))
            parts.append(z3.Implies(self.moved(t, i), any_of(reasons)))
        return parts

    # -- properties --
    def enabled(self, i: int):
        if i > 0:
            return self._memo(("enabled", i), lambda: self.shifted(self.enabled(0), i, (0,)))
        return self._memo(("enabled", i), lambda: self._build_enabled(i))

    def _build_enabled(self, i: int):
        s = self.state(i)
        return any_of([z3.And(self.pc(e.thread, i) == e.loc, as_bool(encode(e.edge.guard, s)))
                       for own in self.edges for e in own])

    def settled(self, i: int):
        if i > 0:
            return self._memo(("settled", i), lambda: self.shifted(self.settled(0), i, (0,)))
        return self._memo(("settled", i), lambda: self._build_settled(i))

    def _build_settled(self, i: int):
        parts = []
        for t, th in enumerate(self.model.threads):
            resting = [p for p, loc in enumerate(th.locations) if loc.rest] + [len(th.locations)]
            parts.append(any_of([self.pc(t, i) == p for p in resting]))
        return all_of(parts)

    def check_edges(self, prop: str):
        return [(e, c) for own in self.edges for e in own for c in e.edge.checks if c.prop == prop]

    def violation(self, prop: Property, i: int):
        """A violation in frame i-1's steps (checks) or in state i (state properties)."""
        s = self.state(i)
        if prop.kind == "check":
            if i == 0:
                return None
            pre = self.state(i - 1)
            return any_of([z3.And(self.takes(e, i - 1), z3.Not(as_bool(encode(c.ok, pre))))
                           for e, c in self.check_edges(prop.name)])
        if prop.kind == "invariant":
            return z3.Not(as_bool(encode(prop.expr, s)))
        if prop.kind == "deadlock":
            return z3.And(z3.Not(self.enabled(i)), z3.Not(self.settled(i)))
        if prop.kind == "final":
            return z3.And(z3.Not(self.enabled(i)), self.settled(i), z3.Not(as_bool(encode(prop.expr, s))))
        raise ValueError(f"unknown property kind {prop.kind!r}")

    def distinct_from_earlier(self, k: int):
        """State k differs from every earlier frame-boundary state."""
        return all_of([self.shifted(self._differs(k - i), i, (0, k - i)) for i in range(k)])

    def _differs(self, gap: int):
        """State 0 and state `gap` differ (on what steps assign, or a thread's location)."""
        def build():
            assigned = sorted({v for own in self.edges for e in own for v in e.writes})
            first, later = self.state(0), self.state(gap)
            return any_of([first[v] != later[v] for v in assigned]
                          + [self.pc(t, 0) != self.pc(t, gap) for t in self.threads])
        return self._memo(("differs", gap), build)

    def trace(self, solution, depth: int, prop: Property) -> Trace:
        """Frames linearized thread by thread; a failing check ends the trace."""
        ev = lambda x: solution.eval(x, model_completion=True).as_long()
        initial = tuple(ev(self.state(0)[v.name]) for v in self.model.variables)
        steps = []
        for i in range(depth):
            chosen = [(t, ev(self.sel(t, i))) for t in self.threads if ev(self.sel(t, i)) >= 0]
            if prop.kind == "check" and i == depth - 1:
                pre = self.state(i)
                chosen = [(t, n) for t, n in chosen
                          if any(c.prop == prop.name and z3.is_false(solution.eval(
                              as_bool(encode(c.ok, pre)), model_completion=True))
                              for c in self.edges[t][n].edge.checks)][:1]
            steps += [TraceStep(t, self.edges[t][n].index) for t, n in chosen]
        return Trace(initial, tuple(steps))


def _substitute(term, sources: list, targets: list):
    """z3.substitute without its per-pair Python sort checks (all pairs here are Int to Int)."""
    count = len(sources)
    froms, tos = (z3.Ast * count)(), (z3.Ast * count)()
    for k in range(count):
        froms[k], tos[k] = sources[k].as_ast(), targets[k].as_ast()
    return z3.BoolRef(z3.Z3_substitute(term.ctx.ref(), term.as_ast(), count, froms, tos), term.ctx)


class _Search:
    """One unrolling shared by all properties: each frame is built and added once, and every
    property still open is asked at every depth. The completeness arguments (no execution of
    k frames; no loop-free execution of k frames) hold for the model, so for all of them."""

    def __init__(self, model: Model, props: list[Property], options: EngineOptions):
        self.model, self.options = model, options
        self.frames = Frames.of(model)
        self.solver = make_solver(self.frames.bounds is not None)
        # Executions whose frame boundaries are pairwise distinct: the loop-free ones.
        self.loop_solver = make_solver(self.frames.bounds is not None)
        self.started = time.monotonic()
        self.deadline = options.deadline_from(self.started)
        self.open = list(props)
        self.untriggered = {p.name for p in props if p.kind in ("check", "final")}
        self.results: dict[str, PropertyResult] = {}

    def ask(self, *extra, solver=None):
        """The only solver call: ('sat', model) | ('unsat', None) | ('unknown', reason)."""
        return ask(solver or self.solver, self.deadline, self.options.timeout, *extra,
                   rlimit=self.options.solver_rlimit)

    def decide(self, prop: Property, verdict: Verdict, bound, argument: str, trace=None) -> None:
        self.results[prop.name] = PropertyResult(prop.name, verdict, ENGINE, time.monotonic() - self.started,
                                                 bound, argument, trace)
        self.open.remove(prop)

    def no_loop_free_execution(self, depth: int, step) -> bool:
        """No execution of `depth` frames visits pairwise distinct states (unknown: no conclusion).

        The lowest Foata execution reaching any state never repeats a state (cutting the
        repetition out leaves a valid step execution, whose Foata form is no higher), so
        then every reachable state lies within depth - 1 frames."""
        f = self.frames
        if depth == 0:
            self.loop_solver.add(f.initial())
            return False
        self.loop_solver.add(step, f.distinct_from_earlier(depth))
        if depth > 12 and depth % 4:
            return False   # the check costs O(depth^2) constraints: ask every 4th depth once deep
        return self.ask(solver=self.loop_solver)[0] == "unsat"

    def run(self) -> dict[str, PropertyResult]:
        f = self.frames
        for prop in list(self.open):
            if prop.kind == "check" and not f.check_edges(prop.name):
                self.decide(prop, Verdict.VACUOUS, 0, f"no step of the model checks {prop.name}")
        self.solver.add(f.initial())
        step = None
        for depth in range(self.options.max_depth + 1):
            if not self.open:
                break
            if depth > 0:
                step = f.frame(depth - 1)
                self.solver.add(step)   # for good: past an unsat answer the solver is not asked again
                answer, why = self.ask()
                if answer == "unsat":
                    self._complete(depth - 1)
                    break
                if answer == "unknown":
                    self._stopped(list(self.open), depth, why)
                    break
            self._look_for_violations(depth)
            self._look_for_triggers(depth)
            if self.open and self.no_loop_free_execution(depth, step):
                self._complete(depth - 1, loops=True)
        for prop in list(self.open):
            self.decide(prop, Verdict.BOUNDED, self.options.max_depth,
                        f"no violation in executions with dependency chains of up to {self.options.max_depth} "
                        "steps (the depth limit); longer executions were not checked")
        return self.results

    def _sweep(self, goals: dict):
        """Ask for any of `goals` (name -> term) again and again, each time without the ones the
        last solution met: ([(names met, solution), ...], names left open by an unknown answer,
        its reason)."""
        goals, met = dict(goals), []
        while goals:
            answer, found = self.ask(any_of(list(goals.values())))
            if answer == "unsat":
                break
            if answer == "unknown":
                return met, list(goals), found
            names = [n for n, term in goals.items() if z3.is_true(found.eval(term, model_completion=True))]
            met.append((names, found))
            for name in names:
                del goals[name]
        return met, [], None

    def _look_for_violations(self, depth: int) -> None:
        """One question for all open properties at this depth; a solution violates some of them
        (read off the solution), and the rest are asked again without those."""
        props = {p.name: p for p in self.open}
        bad = {name: self.frames.violation(p, depth) for name, p in props.items()}
        met, unknown, reason = self._sweep({name: term for name, term in bad.items() if term is not None})
        for names, found in met:
            for name in names:
                self.decide(props[name], Verdict.VIOLATED, depth, _found_text(depth),
                            self.frames.trace(found, depth, props[name]))
        if unknown:
            self._stopped([props[name] for name in unknown], depth, reason)

    def _complete(self, height: int, loops: bool = False) -> None:
        self.frames.complete_height = height
        if loops:
            argument = (f"complete: every reachable state is reached within {height} Foata frames "
                        f"(no execution of {height + 1} frames visits only distinct states), and all were searched")
        else:
            argument = (f"complete: every execution's longest chain of dependent steps has at most {height} "
                        f"steps (no execution with {height + 1} Foata frames exists), and all were searched")
        for prop in list(self.open):
            if prop.name in self.untriggered:
                what = "no step ever performs the checked operation" if prop.kind == "check" \
                    else "no execution ever ends with every thread finished"
                self.decide(prop, Verdict.VACUOUS, height, f"{what}; {argument}")
            else:
                self.decide(prop, Verdict.PROVED, height, argument)

    def _look_for_triggers(self, depth: int) -> None:
        """Which open check/final properties have their trigger reached at this depth: a checked
        step in the last frame, or a settled state with nothing enabled. One that never is, when
        the search completes, is vacuous."""
        triggers = {p.name: self._trigger(p, depth) for p in self.open if p.name in self.untriggered}
        met, unknown, _ = self._sweep({name: here for name, here in triggers.items() if here is not None})
        for names, _ in met:
            self.untriggered -= set(names)
        self.untriggered -= set(unknown)   # never call a property vacuous without proof

    def _trigger(self, prop: Property, i: int):
        """Reaching boundary i with the property's trigger: a checked step in frame i-1, or
        (final) a state with every thread settled and nothing enabled."""
        f = self.frames
        if prop.kind == "check":
            return any_of([f.takes(e, i - 1) for e, _ in f.check_edges(prop.name)]) if i else None
        return z3.And(z3.Not(f.enabled(i)), f.settled(i))

    def _stopped(self, props: list[Property], depth: int, reason) -> None:
        for prop in props:
            if depth == 0:
                self.decide(prop, Verdict.TIMEOUT, None, f"{reason}; no conclusion about any execution")
            else:
                self.decide(prop, Verdict.BOUNDED, depth - 1,
                            f"no violation within {depth - 1} Foata frames; stopped at frame {depth}: {reason}")


def _found_text(depth: int) -> str:
    return f"found at dependency depth {depth} (Foata frames)"


def check_all(model: Model, props: list[str], options: EngineOptions) -> dict[str, PropertyResult]:
    """Every property decided over one shared unrolling, within one time limit; liveness
    properties are not searched (BOUNDED(0), see engines.liveness.not_searched)."""
    safety, live = liveness.split(model, props)
    results = _Search(model, [model.property(p) for p in safety], options).run() if safety else {}
    results.update(liveness.not_searched(model, live, ENGINE))
    return {p: results[p] for p in props}


def check(model: Model, prop: str, options: EngineOptions) -> PropertyResult:
    return check_all(model, [prop], options)[prop]
