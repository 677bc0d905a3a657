"""Bounded model checking on Z3: unroll the transition system one step at a time.

Depth k means executions of k steps. The first depth with a violation gives a
shortest trace. A PROVED verdict needs a completeness argument: either no execution
of k steps exists at all, or no loop-free execution of k steps exists (the
recurrence diameter), so every reachable state was already searched.
"""
from __future__ import annotations

import time
from typing import Optional

import z3

from ..ir import Arith, BoolConst, BoolOp, Cmp, Const, Expr, Ite, Model, Not, Property, Ref
from ..result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict

ENGINE = "bmc"
SIMPLE_PATH_EVERY_DEPTH_UNTIL = 12   # beyond this the O(k^2) loop-free check runs every 4th depth
SIMPLE_PATH_STRIDE = 4

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
        return all_of(parts)

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
        return all_of(parts)

    def enabled(self, t: int):
        return any_of([z3.And(self.pc(th, t) == loc, as_bool(encode(edge.guard, self.frame(t))))
                       for th, loc, _, edge in self.edges])

    def all_settled(self, t: int):
        parts = []
        for th, thread in enumerate(self.model.threads):
            resting = [loc for loc, location in enumerate(thread.locations) if location.rest]
            parts.append(any_of([self.pc(th, t) == p for p in [len(thread.locations)] + resting]))
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

    def violation(self, prop: Property, k: int):
        """A violation at exactly depth k, or None when none can exist there."""
        if prop.kind == "check":
            return self.fails_check(prop.name, k - 1) if k > 0 else None
        if prop.kind == "invariant":
            return z3.Not(as_bool(encode(prop.expr, self.frame(k))))
        if prop.kind == "deadlock":
            return z3.And(z3.Not(self.enabled(k)), z3.Not(self.all_settled(k)))
        if prop.kind == "final":
            return z3.And(self.terminal_settled(k), z3.Not(as_bool(encode(prop.expr, self.frame(k)))))
        raise ValueError(f"unknown property kind {prop.kind!r}")

    def loop_free(self, k: int):
        """States 0..k pairwise distinct; variables no edge assigns cannot differ, so skip them."""
        def differ(i, j):
            return any_of([self.frame(i)[x] != self.frame(j)[x] for x in self.assigned]
                          + [self.pc(th, i) != self.pc(th, j) for th in range(len(self.model.threads))])
        return all_of([differ(i, j) for j in range(k + 1) for i in range(j)])

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
        self.solver = z3.Solver()
        self.deadline = started + options.timeout

    def ask(self, *extra):
        """The only call to solver.check: ('sat', model) | ('unsat', None) | ('unknown', reason)."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return "unknown", f"time limit of {self.options.timeout:g}s reached"
        self.solver.set("timeout", max(1, int(remaining * 1000)))
        self.solver.push()
        try:
            self.solver.add(*extra)
            answer = self.solver.check()
            if answer == z3.sat:
                return "sat", self.solver.model()
            if answer == z3.unsat:
                return "unsat", None
            return "unknown", self.solver.reason_unknown() or "solver returned unknown"
        finally:
            self.solver.pop()

    def run(self):
        """(verdict, bound, argument, trace)."""
        u, prop = self.unrolling, self.prop
        if prop.kind == "check" and not u.check_edges(prop.name):
            return Verdict.VACUOUS, None, f"no step of the model checks {prop.name}; the checked operation is never reached", None
        self.solver.add(u.initial())
        clean = -1   # deepest depth whose violation query came back unsat
        for k in range(self.options.max_depth + 1):
            if k > 0:   # own scope, so the last step can be dropped again for the vacuity query
                self.solver.push()
                self.solver.add(u.transition(k - 1))
            status, found = self.ask()
            if status == "unknown":
                return self.gave_up(clean, k, found)
            if status == "unsat":
                if k == 0:
                    return Verdict.VACUOUS, None, "no initial state satisfies the model's constraints; nothing can run", None
                self.solver.pop()
                return self.proved(k - 1, f"every execution ends within {k - 1} steps "
                                          f"(no execution of {k} steps exists); all were searched")
            bad = u.violation(prop, k)
            if bad is not None:
                status, found = self.ask(bad)
                if status == "unknown":
                    return self.gave_up(clean, k, found)
                if status == "sat":
                    return Verdict.VIOLATED, k, f"shortest violation: {k} steps", u.trace(found, k)
                clean = k
            if self.loop_free_check_due(k) and self.ask(u.loop_free(k))[0] == "unsat":
                return self.proved(k, f"recurrence diameter: no loop-free execution of {k} steps exists, "
                                      f"so every reachable state is reached within {k - 1} steps; "
                                      f"all depths up to {k} were searched")
        depth = self.options.max_depth
        return Verdict.BOUNDED, depth, (f"no violation in executions of up to {depth} steps; "
                                        f"longer executions were not checked (max_depth {depth} reached)"), None

    @staticmethod
    def loop_free_check_due(k: int) -> bool:
        # Cheap while k is small; later every few depths (finding it late only costs depth, not soundness).
        return k >= 1 and (k <= SIMPLE_PATH_EVERY_DEPTH_UNTIL or k % SIMPLE_PATH_STRIDE == 0)

    def proved(self, bound: int, argument: str):
        """PROVED, unless the property's trigger never happens in the (complete) unrolling."""
        u, prop = self.unrolling, self.prop
        if prop.kind == "check":
            status, _ = self.ask(any_of([u.takes_check_edge(prop.name, t) for t in range(bound)]))
            if status == "unsat":
                return Verdict.VACUOUS, bound, (f"no execution takes a step that checks {prop.name}; "
                                                f"the checked operation is never reached ({argument})"), None
        if prop.kind == "final":
            status, _ = self.ask(any_of([u.terminal_settled(t) for t in range(bound + 1)]))
            if status == "unsat":
                return Verdict.VACUOUS, bound, (f"no execution reaches a state where every thread is "
                                                f"finished or resting ({argument})"), None
        return Verdict.PROVED, bound, argument, None

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
