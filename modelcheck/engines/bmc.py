"""Bounded model checking on Z3: unroll the transition system one step at a time.

Depth k means executions of k steps. The first depth with a violation gives a
shortest trace. A PROVED verdict needs a completeness argument: either no execution
of k steps exists at all, or no loop-free execution of k steps exists (the
recurrence diameter), so every reachable state was already searched.
As in interp.py, domains bind only the initial state: assignments are not range-checked.
"""
from __future__ import annotations

import time
from typing import Optional

import z3

from ..ir import Arith, BoolConst, BoolOp, Cmp, Const, Expr, Ite, Model, Not, Property, Ref
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict
from .z3solve import ask

ENGINE = "bmc"
LOOP_FREE_EVERY_DEPTH_UNTIL = 12
LOOP_FREE_STRIDE = 4

# --- expressions: one encoder per IR kind; ints and booleans mix as in interp.py ---

def as_bool(term):
    return term if z3.is_bool(term) else term != 0


def as_int(term):
    return z3.If(term, z3.IntVal(1), z3.IntVal(0)) if z3.is_bool(term) else term


def encode_const(expr: Const, frame):
    return z3.IntVal(expr.value)


def encode_bool_const(expr: BoolConst, frame):
    return z3.BoolVal(expr.value)


def encode_ref(expr: Ref, frame):
    return frame[expr.var]


def encode_not(expr: Not, frame):
    return z3.Not(as_bool(encode(expr.arg, frame)))


def encode_bool_op(expr: BoolOp, frame):
    args = [as_bool(encode(a, frame)) for a in expr.args]
    return all_of(args) if expr.op == "and" else any_of(args)


_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def encode_cmp(expr: Cmp, frame):
    return _CMP[expr.op](as_int(encode(expr.left, frame)), as_int(encode(expr.right, frame)))


def encode_arith(expr: Arith, frame):
    left, right = as_int(encode(expr.left, frame)), as_int(encode(expr.right, frame))
    return left + right if expr.op == "+" else left - right


def encode_ite(expr: Ite, frame):
    then, other = encode(expr.then, frame), encode(expr.other, frame)
    if not (z3.is_bool(then) and z3.is_bool(other)):   # mixed branches compare as integers
        then, other = as_int(then), as_int(other)
    return z3.If(as_bool(encode(expr.cond, frame)), then, other)


_ENCODERS = {Const: encode_const, BoolConst: encode_bool_const, Ref: encode_ref, Not: encode_not,
             BoolOp: encode_bool_op, Cmp: encode_cmp, Arith: encode_arith, Ite: encode_ite}


def encode(expr: Expr, frame):
    """The z3 term of `expr` where `frame` maps variable names to z3 Ints."""
    encoder = _ENCODERS.get(type(expr))
    if encoder is None:
        raise TypeError(f"unknown expression kind {type(expr).__name__}")
    return encoder(expr, frame)


def all_of(terms):
    return z3.And(*terms) if terms else z3.BoolVal(True)


def any_of(terms):
    return z3.Or(*terms) if terms else z3.BoolVal(False)


def chain(selector, cases, default):
    """If(selector == g1, v1, If(selector == g2, v2, ..., default))."""
    for g, value in reversed(cases):
        default = z3.If(selector == g, value, default)
    return default


# --- static value ranges: redundant facts that let z3 use its finite-domain solver ---

def interval(expr: Expr, bounds: dict) -> tuple[int, int]:
    """Bounds of `expr` when every variable lies within `bounds`."""
    kind = type(expr)
    if kind is Const:
        return expr.value, expr.value
    if kind is Ref:
        return bounds[expr.var]
    if kind is Arith:
        (a, b), (c, d) = interval(expr.left, bounds), interval(expr.right, bounds)
        return (a + c, b + d) if expr.op == "+" else (a - d, b - c)
    if kind is Ite:
        (a, b), (c, d) = interval(expr.then, bounds), interval(expr.other, bounds)
        return min(a, c), max(b, d)
    return 0, 1   # booleans used as integers


def value_bounds(model: Model) -> Optional[dict]:
    """An inductive range per variable (assignments are not range-checked), or None if one may grow forever."""
    bounds = {v.name: (v.lo, v.hi) if v.init is None else (v.init, v.init) for v in model.variables}
    assigns = [a for th in model.threads for loc in th.locations for e in loc.edges for a in e.assigns]
    for _ in range(2 * len(model.variables) + 4):
        grown = False
        for var, expr in assigns:
            (a, b), (c, d) = bounds[var], interval(expr, bounds)
            if c < a or d > b:
                bounds[var], grown = (min(a, c), max(b, d)), True
        if not grown:
            return bounds
    return None


def make_solver(bounded: bool):
    # With every integer bounded, z3's finite-domain (SAT-based) solver is far faster than arithmetic.
    return z3.SolverFor("QF_FD") if bounded else z3.Solver()


# --- the unrolling: symbols per time step and the formulas over them ---

class Unrolling:
    def __init__(self, model: Model):
        self.model = model
        self.edges = [(t, loc, e, edge) for t, th in enumerate(model.threads)
                      for loc, location in enumerate(th.locations)
                      for e, edge in enumerate(location.edges)]
        taken = {v.name for v in model.variables}
        self.pc_names = [fresh(f"pc_{th.name}", taken) for th in model.threads]
        self.step_name = fresh("step", taken)
        self.assigned = sorted({var for *_, edge in self.edges for var, _ in edge.assigns})
        self.bounds = value_bounds(model)
        self.pc_max = [max([len(th.locations)] + [e.target for loc in th.locations for e in loc.edges])
                       for th in model.threads]
        self._frames: dict[int, dict] = {}

    def frame(self, t: int) -> dict:
        if t not in self._frames:
            self._frames[t] = {v.name: z3.Int(f"{v.name}@{t}") for v in self.model.variables}
        return self._frames[t]

    def pc(self, thread: int, t: int):
        return z3.Int(f"{self.pc_names[thread]}@{t}")

    def selector(self, t: int):
        return z3.Int(f"{self.step_name}@{t}")

    def initial(self):
        frame, parts = self.frame(0), [self.pc(i, 0) == 0 for i in range(len(self.model.threads))]
        for v in self.model.variables:   # open variables range over their domain, fixed ones are fixed
            x = frame[v.name]
            parts += [x == v.init] if v.init is not None else [x >= v.lo, x <= v.hi]
        parts += [as_bool(encode(c, frame)) for c in self.model.constraints]
        return all_of(parts + self.ranges(0))

    def ranges(self, t: int) -> list:
        """Facts true of every reachable state at time t, stated for the solver's benefit."""
        parts = [z3.And(self.pc(th, t) >= 0, self.pc(th, t) <= top) for th, top in enumerate(self.pc_max)]
        for name, (lo, hi) in (self.bounds or {}).items():
            parts.append(z3.And(self.frame(t)[name] >= lo, self.frame(t)[name] <= hi))
        return parts

    def transition(self, t: int):
        """Step t -> t+1: the selected edge is enabled; its assigns and target apply."""
        if not self.edges:
            return z3.BoolVal(False)
        pre, post, sel = self.frame(t), self.frame(t + 1), self.selector(t)
        parts = [sel >= 0, sel < len(self.edges)]
        parts += [z3.Implies(sel == g, z3.And(self.pc(th, t) == loc, as_bool(encode(edge.guard, pre))))
                  for g, (th, loc, _, edge) in enumerate(self.edges)]
        for var in self.model.variables:
            cases = [(g, as_int(encode(expr, pre))) for g, (*_, edge) in enumerate(self.edges)
                     for name, expr in edge.assigns if name == var.name]
            parts.append(post[var.name] == chain(sel, cases, pre[var.name]))
        for th in range(len(self.model.threads)):
            cases = [(g, z3.IntVal(edge.target)) for g, (owner, _, _, edge) in enumerate(self.edges)
                     if owner == th]
            parts.append(self.pc(th, t + 1) == chain(sel, cases, self.pc(th, t)))
        return all_of(parts + self.ranges(t + 1))

    def enabled(self, t: int):
        return any_of([z3.And(self.pc(th, t) == loc, as_bool(encode(edge.guard, self.frame(t))))
                       for th, loc, _, edge in self.edges])

    def all_settled(self, t: int):
        parts = []
        for th, thread in enumerate(self.model.threads):
            resting = [loc for loc, location in enumerate(thread.locations) if location.rest]
            finished = self.pc(th, t) >= len(thread.locations)
            parts.append(any_of([finished] + [self.pc(th, t) == p for p in resting]))
        return all_of(parts)

    def check_edges(self, prop: str):
        return [(g, c) for g, (*_, edge) in enumerate(self.edges) for c in edge.checks if c.prop == prop]

    def fails_check(self, prop: str, t: int):
        """Step t takes an edge whose check for `prop` is false in the pre-state."""
        return any_of([z3.And(self.selector(t) == g, z3.Not(as_bool(encode(c.ok, self.frame(t)))))
                       for g, c in self.check_edges(prop)])

    def takes_check_edge(self, prop: str, t: int):
        return any_of([self.selector(t) == g for g, _ in self.check_edges(prop)])

    def terminal_settled(self, t: int):
        return z3.And(z3.Not(self.enabled(t)), self.all_settled(t))

    def trigger(self, prop: Property, k: int):
        """What any violation at depth k needs: the checked step is taken / a settled end is reached."""
        return self.takes_check_edge(prop.name, k - 1) if prop.kind == "check" else self.terminal_settled(k)

    def violation(self, prop: Property, k: int):
        """A violation at exactly depth k (for a check: its k-th step fails; k >= 1)."""
        if prop.kind == "check":
            return self.fails_check(prop.name, k - 1)
        if prop.kind == "invariant":
            return z3.Not(as_bool(encode(prop.expr, self.frame(k))))
        if prop.kind == "deadlock":
            return z3.And(z3.Not(self.enabled(k)), z3.Not(self.all_settled(k)))
        if prop.kind == "final":
            return z3.And(self.terminal_settled(k), z3.Not(as_bool(encode(prop.expr, self.frame(k)))))
        raise ValueError(f"unknown property kind {prop.kind!r}")

    def differs_from_earlier(self, k: int):
        """State k differs from states 0..k-1; variables no edge assigns cannot differ, so skip them."""
        def differ(i):
            return any_of([self.frame(i)[x] != self.frame(k)[x] for x in self.assigned]
                          + [self.pc(th, i) != self.pc(th, k) for th in range(len(self.model.threads))])
        return all_of([differ(i) for i in range(k)])

    def trace(self, solution, k: int) -> Trace:
        initial = tuple(solution.eval(self.frame(0)[v.name], model_completion=True).as_long()
                        for v in self.model.variables)
        steps = []
        for t in range(k):
            th, _, e, _ = self.edges[solution.eval(self.selector(t), model_completion=True).as_long()]
            steps.append(TraceStep(th, e))
        return Trace(initial, tuple(steps))


def fresh(base: str, taken: set) -> str:
    """A symbol name that no model variable uses."""
    while base in taken:
        base += "'"
    taken.add(base)
    return base


# --- the search ---

class Search:
    def __init__(self, model: Model, prop: Property, options: EngineOptions, started: float):
        self.prop, self.options = prop, options
        self.unrolling = Unrolling(model)
        bounded = self.unrolling.bounds is not None
        self.solver = make_solver(bounded)
        # A second solver accumulates the loop-free constraints: O(k) new ones per depth, O(k^2) in all.
        self.loop_solver = make_solver(bounded)
        self.deadline = started + options.timeout
        self.first_depth = 1 if prop.kind == "check" else 0   # a failed check needs a step
        # Vacuity is tracked during the search: an unrolling forces every step, so it cannot be asked after.
        self.trigger_seen = prop.kind not in ("check", "final")

    def ask(self, *extra, solver=None):
        """The only call to solver.check: ('sat', model) | ('unsat', None) | ('unknown', reason)."""
        return ask(solver or self.solver, self.deadline, self.options.timeout, *extra,
                   rlimit=self.options.solver_rlimit)

    def no_loop_free_path(self, k: int) -> bool:
        """No execution of k steps visits k+1 distinct states (an unknown answer concludes nothing)."""
        if k > 0:
            self.loop_solver.add(self.unrolling.transition(k - 1))
        self.loop_solver.add(self.unrolling.differs_from_earlier(k))
        # Near the diameter the query is pigeonhole-hard: ask every depth while small, then every 4th.
        if k > LOOP_FREE_EVERY_DEPTH_UNTIL and k % LOOP_FREE_STRIDE:
            return False
        return self.ask(solver=self.loop_solver)[0] == "unsat"

    def run(self):
        """(verdict, bound, argument, trace)."""
        u, prop = self.unrolling, self.prop
        if prop.kind == "check" and not u.check_edges(prop.name):
            return Verdict.VACUOUS, None, (f"no step of the model checks {prop.name}; "
                                           f"the checked operation is never reached"), None
        self.solver.add(u.initial())
        self.loop_solver.add(u.initial())
        clean = -1   # deepest depth whose violation query came back unsat
        for k in range(self.options.max_depth + 1):
            if k > 0:
                self.solver.add(u.transition(k - 1))
            status, found = self.ask()
            if status == "unknown":
                return self.gave_up(clean, k, found)
            if status == "unsat":
                if k == 0:
                    return Verdict.VACUOUS, None, ("no initial state satisfies the model's "
                                                   "constraints; nothing can run"), None
                return self.proved(k - 1, f"every execution ends within {k - 1} steps "
                                          f"(no execution of {k} steps exists); all were searched")
            if k >= self.first_depth:
                status, found = self.violation_at(k)
                if status == "unknown":
                    return self.gave_up(clean, k, found)
                if status == "sat":
                    return Verdict.VIOLATED, k, f"shortest violation: {k} steps", u.trace(found, k)
                clean = k
            if self.no_loop_free_path(k):
                return self.proved(k, f"recurrence diameter: no loop-free execution of {k} steps exists, "
                                      f"so every reachable state is reached within {k - 1} steps; "
                                      f"all depths up to {k} were searched")
        depth = self.options.max_depth
        return Verdict.BOUNDED, depth, (f"no violation in executions of up to {depth} steps; "
                                        f"longer executions were not checked (max_depth {depth} reached)"), None

    def violation_at(self, k: int):
        """Ask for a violation at exactly depth k; until the trigger has been seen, ask for that first."""
        if not self.trigger_seen:
            status, found = self.refute(self.unrolling.trigger(self.prop, k))
            if status != "sat":   # no trigger at depth k means no violation there either
                return status, found
            self.trigger_seen = True
        return self.refute(self.unrolling.violation(self.prop, k))

    def refute(self, formula):
        status, found = self.ask(formula)
        if status == "unsat":   # its negation is implied; kept as a lemma it prunes deeper queries
            self.solver.add(z3.Not(formula))
        return status, found

    def proved(self, bound: int, argument: str):
        """PROVED, unless the (complete) search never met the property's trigger."""
        if self.trigger_seen:
            return Verdict.PROVED, bound, argument, None
        if self.prop.kind == "check":
            return Verdict.VACUOUS, bound, (f"no execution takes a step that checks {self.prop.name}; "
                                            f"the checked operation is never reached ({argument})"), None
        return Verdict.VACUOUS, bound, (f"no execution reaches a state where every thread is "
                                        f"finished or resting ({argument})"), None

    def gave_up(self, clean: int, k: int, reason: str):
        if clean < 0:
            return Verdict.TIMEOUT, None, f"no depth fully checked: {reason} at depth {k}", None
        return Verdict.BOUNDED, clean, (f"no violation in executions of up to {clean} steps; longer "
                                        f"executions were not checked: {reason} at depth {k}"), None


def check(model: Model, prop: str, options: EngineOptions) -> PropertyResult:
    """Decide one property of `model` by bounded model checking."""
    started = time.monotonic()
    verdict, bound, argument, trace = Search(model, model.property(prop), options, started).run()
    return PropertyResult(prop, verdict, ENGINE, time.monotonic() - started, bound, argument, trace)
