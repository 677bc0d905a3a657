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

from ..ir import Model, Property
from ..reduce import edge_reads, edge_writes
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict
from .z3solve import ask
from .bmc import all_of, any_of, as_bool, as_int, encode, make_solver, value_bounds

ENGINE = "foata"


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
        return {v.name: z3.Int(f"{v.name}@{i}") for v in self.model.variables}

    def pc(self, t: int, i: int):
        return z3.Int(f"pc[{self.model.threads[t].name}]@{i}")

    def sel(self, t: int, i: int):
        """Which edge thread t takes in frame i (-1: it does not move)."""
        return z3.Int(f"move[{self.model.threads[t].name}]@{i}")

    def takes(self, e: _Edge, i: int):
        return self.sel(e.thread, i) == e.number

    def moved(self, t: int, i: int):
        return self.sel(t, i) >= 0

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
        """Frame i takes state i to state i+1."""
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
            for own in self.edges:
                for e in own:
                    for name, expr in e.edge.assigns:
                        if name == v.name:
                            value = z3.If(self.takes(e, i), as_int(encode(expr, pre)), value)
            parts.append(post[v.name] == value)
        parts += self.independence(i)
        parts.append(any_of([self.moved(t, i) for t in self.threads]))
        if i > 0:
            parts += self.foata(i)
        return all_of(parts + self.ranges(i + 1))

    def _touch(self, t: int, v: str, i: int, writes_only: bool):
        return any_of([self.takes(e, i) for e in self.edges[t]
                       if v in e.writes or (not writes_only and v in e.reads)])

    def independence(self, i: int) -> list:
        """Steps in one frame never conflict: a written variable is touched by no other thread."""
        parts = []
        for v in self.shared:
            writers = [t for t in self.threads if any(v in e.writes for e in self.edges[t])]
            touchers = [t for t in self.threads if any(v in e.writes | e.reads for e in self.edges[t])]
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
                others_w = any_of([self._touch(u, v, i - 1, True) for u in self.threads if u != t])
                others_a = any_of([self._touch(u, v, i - 1, False) for u in self.threads if u != t])
                reasons.append(z3.And(self._touch(t, v, i, False), others_w))
                reasons.append(z3.And(self._touch(t, v, i, True), others_a))
            parts.append(z3.Implies(self.moved(t, i), any_of(reasons)))
        return parts

    # -- properties --
    def enabled(self, i: int):
        s = self.state(i)
        return any_of([z3.And(self.pc(e.thread, i) == e.loc, as_bool(encode(e.edge.guard, s)))
                       for own in self.edges for e in own])

    def settled(self, i: int):
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
        assigned = sorted({v for own in self.edges for e in own for v in e.writes})
        later = self.state(k)

        def differs(i):
            earlier = self.state(i)
            return any_of([earlier[v] != later[v] for v in assigned]
                          + [self.pc(t, i) != self.pc(t, k) for t in self.threads])
        return all_of([differs(i) for i in range(k)])

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


class _Search:
    def __init__(self, model: Model, prop: Property, options: EngineOptions):
        self.model, self.prop, self.options = model, prop, options
        self.frames = Frames(model)
        self.solver = make_solver(self.frames.bounds is not None)
        # Executions whose frame boundaries are pairwise distinct: the loop-free ones.
        self.loop_solver = make_solver(self.frames.bounds is not None)
        self.deadline = time.monotonic() + options.timeout

    def ask(self, *extra, solver=None):
        """The only solver call: ('sat', model) | ('unsat', None) | ('unknown', reason)."""
        return ask(solver or self.solver, self.deadline, self.options.timeout, *extra)

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

    def run(self):
        f, prop = self.frames, self.prop
        if prop.kind == "check" and not f.check_edges(prop.name):
            return Verdict.VACUOUS, 0, f"no step of the model checks {prop.name}", None
        self.solver.add(f.initial())
        for depth in range(self.options.max_depth + 1):
            if depth > 0:
                step = f.frame(depth - 1)
                answer, why = self.ask(step)
                if answer == "unsat":
                    return self._complete(depth - 1)
                if answer == "unknown":
                    return self._stopped(depth, why)
                self.solver.add(step)
            bad = f.violation(prop, depth)
            if bad is not None:
                answer, found = self.ask(bad)
                if answer == "sat":
                    return Verdict.VIOLATED, depth, _found_text(depth), f.trace(found, depth, prop)
                if answer == "unknown":
                    return self._stopped(depth, found)
            if self.no_loop_free_execution(depth, step if depth > 0 else None):
                return self._complete(depth - 1, loops=True)
        return (Verdict.BOUNDED, self.options.max_depth,
                f"no violation in executions with dependency chains of up to {self.options.max_depth} "
                "steps (the depth limit); longer executions were not checked", None)

    def _complete(self, height: int, loops: bool = False):
        if loops:
            argument = (f"complete: every reachable state is reached within {height} Foata frames "
                        f"(no execution of {height + 1} frames visits only distinct states), and all were searched")
        else:
            argument = (f"complete: every execution's longest chain of dependent steps has at most {height} "
                        f"steps (no execution with {height + 1} Foata frames exists), and all were searched")
        if self.trigger_unreachable(height):
            what = "no step ever performs the checked operation" if self.prop.kind == "check" \
                else "no execution ever ends with every thread finished"
            return Verdict.VACUOUS, height, f"{what}; {argument}", None
        return Verdict.PROVED, height, argument, None

    def trigger_unreachable(self, height: int) -> bool:
        """No execution of at most `height` frames reaches the trigger (each depth asked on its own,
        since the main solver's frames must all be non-empty)."""
        f, prop = self.frames, self.prop
        if prop.kind not in ("check", "final"):
            return False
        solver = make_solver(f.bounds is not None)
        solver.add(f.initial())
        # A checked step leaves a state of height <= height, so it lies in a frame <= height.
        for i in range(height + (2 if prop.kind == "check" else 1)):
            if i > 0:
                solver.add(f.frame(i - 1))
            if prop.kind == "check":
                here = any_of([f.takes(e, i - 1) for e, _ in f.check_edges(prop.name)]) if i else None
            else:
                here = z3.And(z3.Not(f.enabled(i)), f.settled(i))
            if here is not None and self.ask(here, solver=solver)[0] != "unsat":
                return False   # reachable, or unknown: never call it vacuous without proof
        return True

    def _stopped(self, depth: int, reason):
        if depth == 0:
            return Verdict.TIMEOUT, None, f"{reason}; no conclusion about any execution", None
        return (Verdict.BOUNDED, depth - 1,
                f"no violation within {depth - 1} Foata frames; stopped at frame {depth}: {reason}", None)


def _found_text(depth: int) -> str:
    return f"found at dependency depth {depth} (Foata frames)"


def check(model: Model, prop: str, options: EngineOptions) -> PropertyResult:
    started = time.monotonic()
    verdict, bound, argument, trace = _Search(model, model.property(prop), options).run()
    return PropertyResult(prop, verdict, ENGINE, time.monotonic() - started, bound, argument, trace)
