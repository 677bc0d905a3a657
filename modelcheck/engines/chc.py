"""Unbounded proofs on Z3's Spacer engine: the model as constrained Horn clauses.

One relation Reach(pcs, vars) over the state. Its clauses say what interp.py says:

    Reach(s)  <-  s is an initial state
    Reach(s') <-  Reach(s) /\\ (some edge: pc_t(s) = loc /\\ guard(s) /\\ s' = s after the edge)

and a query asks whether Reach meets the property's bad states (bmc.Unrolling.violation
defines them). Spacer answers with an inductive invariant (the bad states are unreachable,
after any number of steps) or a derivation (a concrete execution reaching them). The
invariant is checked again here with a plain solver before PROVED is said, and the
derivation is turned into a trace that checker.check_model replays.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import z3

from ..interp import Interpreter, State
from ..ir import Model, Property
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict
from .bmc import all_of, any_of, as_bool, as_int, encode, value_bounds
from .invariant_text import invariant_lines

ENGINE = "chc"


@dataclass(frozen=True)
class EdgeRef:
    thread: int
    loc: int
    index: int        # position among the location's edges (TraceStep.edge)
    edge: object


class Encoding:
    """The state symbols and the formulas of the Horn clauses over them."""

    def __init__(self, model: Model):
        self.model = model
        self.threads = range(len(model.threads))
        # Thread names cannot clash with variables: identifiers never contain brackets.
        self.pcs = [z3.Int(f"pc[{th.name}]") for th in model.threads]
        self.vars = {v.name: z3.Int(v.name) for v in model.variables}
        self.state = self.pcs + [self.vars[v.name] for v in model.variables]
        self.reach = z3.Function("Reach", *([z3.IntSort()] * len(self.state)), z3.BoolSort())
        self.edges = [EdgeRef(t, loc, i, edge) for t, th in enumerate(model.threads)
                      for loc, location in enumerate(th.locations) for i, edge in enumerate(location.edges)]
        self.bounds = value_bounds(model)
        self.pc_max = [max([len(th.locations)] + [e.target for loc in th.locations for e in loc.edges])
                       for th in model.threads]

    def reached(self, state=None):
        return self.reach(*(state if state is not None else self.state))

    def initial(self):
        parts = [pc == 0 for pc in self.pcs]
        for v in self.model.variables:   # open variables range over their domain, fixed ones are fixed
            x = self.vars[v.name]
            parts += [x == v.init] if v.init is not None else [x >= v.lo, x <= v.hi]
        parts += [as_bool(encode(c, self.vars)) for c in self.model.constraints]
        return all_of(parts)

    def ranges(self):
        """Facts true of every reachable state (value_bounds is inductive), for the solver's benefit."""
        parts = [z3.And(pc >= 0, pc <= top) for pc, top in zip(self.pcs, self.pc_max)]
        for name, (lo, hi) in (self.bounds or {}).items():
            parts.append(z3.And(self.vars[name] >= lo, self.vars[name] <= hi))
        return all_of(parts)

    def enabled_by(self, ref: EdgeRef):
        return z3.And(self.pcs[ref.thread] == ref.loc, as_bool(encode(ref.edge.guard, self.vars)))

    def post(self, ref: EdgeRef) -> list:
        """The state after taking `ref`: assignments read the pre-state, all at once."""
        values = dict(self.vars)
        for name, expr in ref.edge.assigns:
            values[name] = as_int(encode(expr, self.vars))
        pcs = list(self.pcs)
        pcs[ref.thread] = z3.IntVal(ref.edge.target)
        return pcs + [values[v.name] for v in self.model.variables]

    def step(self, after: list):
        """`after` is the state after some enabled edge."""
        return any_of([z3.And(self.enabled_by(ref), *[a == b for a, b in zip(after, self.post(ref))])
                       for ref in self.edges])

    def enabled(self):
        return any_of([self.enabled_by(ref) for ref in self.edges])

    def settled(self):
        parts = []
        for t, th in enumerate(self.model.threads):
            resting = [p for p, loc in enumerate(th.locations) if loc.rest]
            parts.append(any_of([self.pcs[t] >= len(th.locations)] + [self.pcs[t] == p for p in resting]))
        return all_of(parts)

    def check_edges(self, prop: str):
        return [(ref, c) for ref in self.edges for c in ref.edge.checks if c.prop == prop]

    def bad(self, prop: Property):
        """The states from which the property is violated (for a check: its failing step is enabled)."""
        if prop.kind == "check":
            return any_of([z3.And(self.enabled_by(ref), z3.Not(as_bool(encode(c.ok, self.vars))))
                           for ref, c in self.check_edges(prop.name)])
        if prop.kind == "invariant":
            return z3.Not(as_bool(encode(prop.expr, self.vars)))
        if prop.kind == "deadlock":
            return z3.And(z3.Not(self.enabled()), z3.Not(self.settled()))
        if prop.kind == "final":
            return z3.And(z3.Not(self.enabled()), self.settled(), z3.Not(as_bool(encode(prop.expr, self.vars))))
        raise ValueError(f"unknown property kind {prop.kind!r}")

    def trigger(self, prop: Property):
        """What any violation needs (a checked step enabled, a settled end), or None if always met."""
        if prop.kind == "check":
            return any_of([self.enabled_by(ref) for ref, _ in self.check_edges(prop.name)])
        if prop.kind == "final":
            return z3.And(z3.Not(self.enabled()), self.settled())
        return None


# --- asking Spacer ---

@dataclass(frozen=True)
class Answer:
    status: str                        # reachable | unreachable | unknown
    invariant: object = None           # unreachable: z3 formula over Encoding.state
    states: tuple = ()                 # reachable: the derivation's states, first to last
    reason: str = ""                   # unknown: why


def ask_reachable(enc: Encoding, target, deadline: float, limit: float) -> Answer:
    """Is a state satisfying `target` reachable? Spacer's answer, never unknown read as one."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return Answer("unknown", reason=f"time limit of {limit:g}s reached")
    fp = z3.Fixedpoint()
    # Global guidance halves Spacer's time on the tour's deadlock query.
    fp.set(engine="spacer", timeout=max(1, int(remaining * 1000)), **{"spacer.global": True})
    fp.register_relation(enc.reach)
    fp.declare_var(*enc.state)
    ranges = enc.ranges()
    fp.rule(enc.reached(), enc.initial())
    # One clause whose body is the disjunction of the edges: measured several times faster on
    # Spacer than one clause per edge (docs/examples/tour.probe deadlock: 10 s against > 60 s).
    after = [z3.Int(f"{s}'") for s in enc.state]
    fp.declare_var(*after)
    fp.rule(enc.reached(after), [enc.reached(), ranges, enc.step(after)])
    goal = z3.Function("Goal", z3.BoolSort())
    fp.register_relation(goal)
    fp.rule(goal(), [enc.reached(), ranges, target])
    try:
        answer = fp.query(goal())
    except z3.Z3Exception as exc:   # Spacer reports its time limit as an exception ("canceled")
        why = exc.value.decode(errors="replace") if isinstance(exc.value, bytes) else str(exc.value)
        if time.monotonic() >= deadline:
            why = f"time limit of {limit:g}s reached"
        return Answer("unknown", reason=f"Spacer stopped ({why})")
    if answer == z3.unsat:
        return Answer("unreachable", invariant=z3.substitute_vars(fp.get_cover_delta(-1, enc.reach), *enc.state))
    if answer == z3.sat:
        return Answer("reachable", states=tuple(derived_states(fp.get_answer(), enc.reach)))
    return Answer("unknown", reason=fp.reason_unknown() or "Spacer returned unknown")


def derived_states(proof, reach) -> list:
    """The ground Reach facts of a (linear) hyper-resolution proof, from the initial state on."""
    out = []

    def walk(node):
        if not z3.is_app(node):
            return
        children = node.children()
        if node.decl().name() == "hyper-res" and children:
            for premise in children[:-1]:
                walk(premise)
            fact = children[-1]
            if z3.is_app(fact) and fact.decl().eq(reach):
                out.append(fact)
            return
        for child in children:
            walk(child)
    walk(proof)
    return out


# --- certificates and traces ---

def invariant_holds(enc: Encoding, invariant, bad, deadline: float) -> bool:
    """The certificate check: Inv holds initially, is closed under every edge, and excludes `bad`.

    The value ranges are proved along with it, so the certificate stands on its own."""
    solver = z3.Solver()

    def valid(claim) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        solver.set("timeout", max(1, int(remaining * 1000)))
        solver.push()
        solver.add(z3.Not(claim))
        answer = solver.check()
        solver.pop()
        return answer == z3.unsat
    ranges = enc.ranges()
    if not valid(z3.Implies(enc.initial(), z3.And(invariant, ranges))):
        return False
    for ref in enc.edges:
        post = list(zip(enc.state, enc.post(ref)))
        after = z3.substitute(z3.And(invariant, ranges), *post)
        if not valid(z3.Implies(z3.And(invariant, ranges, enc.enabled_by(ref)), after)):
            return False
    return valid(z3.Implies(z3.And(invariant, ranges), z3.Not(bad)))


def trace_of(model: Model, facts, prop: Property) -> Optional[Trace]:
    """The derivation as steps the interpreter recognises; None if it does not fit."""
    interp = Interpreter(model)
    n = len(model.threads)
    states = []
    for fact in facts:
        if not all(z3.is_int_value(a) for a in fact.children()):
            return None
        values = [a.as_long() for a in fact.children()]
        states.append(State(tuple(values[n:]), tuple(values[:n])))
    if not states:
        return None
    steps = []
    for before, after in zip(states, states[1:]):
        step = next(((t, e) for t, e, edge in interp.enabled(before)
                     if interp.step(before, t, edge) == after), None)
        if step is None:
            return None
        steps.append(TraceStep(*step))
    if prop.kind == "check":   # the failing step itself comes after the last derived state
        last = states[-1]
        failing = next(((t, e) for t, e, edge in interp.enabled(last)
                        if prop.name in interp.failed_checks(last, edge)), None)
        if failing is None:
            return None
        steps.append(TraceStep(*failing))
    return Trace(states[0].values, tuple(steps))


# --- the verdict ---

class _Search:
    def __init__(self, model: Model, prop: Property, options: EngineOptions):
        self.model, self.prop, self.options = model, prop, options
        self.enc = Encoding(model)
        self.deadline = time.monotonic() + options.timeout

    def ask(self, target) -> Answer:
        return ask_reachable(self.enc, target, self.deadline, self.options.timeout)

    def run(self):
        """(verdict, argument, trace, invariant formula or None)."""
        prop, enc = self.prop, self.enc
        if prop.kind == "check" and not enc.check_edges(prop.name):
            return Verdict.VACUOUS, f"no step of the model checks {prop.name}; the checked operation is never reached", None, None
        if not self.has_initial_state():
            return Verdict.VACUOUS, "no initial state satisfies the model's constraints; nothing can run", None, None
        trigger = enc.trigger(prop)
        if trigger is not None:
            reach = self.ask(trigger)
            if reach.status == "unknown":
                return self.stopped(reach.reason, "while asking whether the property's trigger is reachable")
            if reach.status == "unreachable":
                what = (f"no reachable state can take a step that checks {prop.name}" if prop.kind == "check"
                        else "no reachable state has every thread finished or resting with no step enabled")
                return self.certified(Verdict.VACUOUS, f"{what}: proved by an inductive invariant (Spacer)",
                                      reach.invariant, trigger)
        answer = self.ask(enc.bad(prop))
        if answer.status == "unknown":
            return self.stopped(answer.reason, "while asking whether a violation is reachable")
        if answer.status == "unreachable":
            return self.certified(Verdict.PROVED, "no execution of any length violates it: proved by an "
                                  "inductive invariant (Spacer), checked again by a separate solver",
                                  answer.invariant, enc.bad(prop))
        return self.violated(answer)

    def has_initial_state(self) -> bool:
        solver = z3.Solver()
        solver.set("timeout", max(1, int(max(0.0, self.deadline - time.monotonic()) * 1000)))
        solver.add(self.enc.initial())
        return solver.check() != z3.unsat   # unknown: let Spacer decide

    def certified(self, verdict: Verdict, argument: str, invariant, bad):
        """The verdict only if the invariant passes the certificate check on its own."""
        if not invariant_holds(self.enc, invariant, bad, self.deadline):
            return self.stopped("Spacer's invariant did not pass the certificate check",
                                "so no conclusion is drawn from it")
        return verdict, argument, None, invariant

    def violated(self, answer: Answer):
        trace = trace_of(self.model, answer.states, self.prop)
        if trace is not None:
            return (Verdict.VIOLATED, f"Spacer found a violating execution of {len(trace.steps)} steps "
                    "(its derivation, not necessarily the shortest)", trace, None)
        from . import bmc   # the derivation did not fit: let bounded model checking find the trace
        remaining = self.deadline - time.monotonic()
        found = bmc.check(self.model, self.prop.name,
                          EngineOptions(self.options.max_depth, max(0.0, remaining), self.options.max_states))
        if found.verdict is Verdict.VIOLATED:
            return (Verdict.VIOLATED, f"Spacer found the violation reachable; the trace is bounded model "
                    f"checking's shortest ({len(found.trace.steps)} steps)", found.trace, None)
        return self.stopped(f"Spacer found a violation but no trace was recovered ({found.label} from bmc)",
                            "so it is not reported without one")

    def stopped(self, reason: str, where: str):
        return Verdict.TIMEOUT, f"{reason} {where}; no conclusion about any execution", None, None


def search(model: Model, prop: str, options: EngineOptions):
    """(verdict, argument, trace, invariant): the invariant as a z3 formula over Encoding.state."""
    return _Search(model, model.property(prop), options).run()


def check(model: Model, prop: str, options: EngineOptions) -> PropertyResult:
    started = time.monotonic()
    verdict, argument, trace, invariant = search(model, prop, options)
    text = "\n".join(invariant_lines(model, invariant)) if invariant is not None else None
    return PropertyResult(prop, verdict, ENGINE, time.monotonic() - started, None, argument, trace, text)
