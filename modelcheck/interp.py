"""The reference interpreter: the meaning of the IR, one step at a time.

Engines search; this module defines what a step is. The explicit engine walks the
state space with it and every trace is replayed through it before it is shown.
"""
from __future__ import annotations


from typing import Iterator, NamedTuple, Optional

from .reduce import variables_of
from .ir import (Arith, BoolConst, BoolOp, Cmp, Const, Edge, Expr, Ite, Model,
                 Not, Ref, Thread)

Values = tuple[int, ...]   # variable values in Model.variables order


class State(NamedTuple):
    """A global state; a named tuple so that hashing and comparing it, the search's inner
    loop, run in C."""
    values: Values
    pcs: tuple[int, ...]   # one per thread, in Model.threads order


class Interpreter:
    """Evaluates expressions and steps of one model."""

    def __init__(self, model: Model):
        self.model = model
        self.index = {v.name: i for i, v in enumerate(model.variables)}

    # -- expressions --
    def eval(self, expr: Expr, values: Values):
        kind = type(expr)
        if kind is Const:
            return expr.value
        if kind is Ref:
            return values[self.index[expr.var]]
        if kind is BoolConst:
            return expr.value
        if kind is Not:
            return not self.eval(expr.arg, values)
        if kind is BoolOp:
            if expr.op == "and":
                return all(self.eval(a, values) for a in expr.args)
            return any(self.eval(a, values) for a in expr.args)
        if kind is Cmp:
            return _CMP[expr.op](self.eval(expr.left, values), self.eval(expr.right, values))
        if kind is Arith:
            left, right = self.eval(expr.left, values), self.eval(expr.right, values)
            return left + right if expr.op == "+" else left - right
        if kind is Ite:
            branch = expr.then if self.eval(expr.cond, values) else expr.other
            return self.eval(branch, values)
        raise TypeError(f"unknown expression kind {kind.__name__}")

    # -- states --
    def initial_states(self, budget: Optional[int] = None) -> Iterator[State]:
        """Every initial state: open variables take each value allowed by the constraints.

        In the order of itertools.product over the variables, but each constraint is tested
        as soon as its last variable has a value, so a rejected prefix is never extended
        (a chain of Kconfig constraints over k options costs far fewer than 3^k tests).
        With a budget, the enumeration stops after that many partial assignments tried and
        sets self.budget_spent."""
        self.budget_spent = False
        variables = self.model.variables
        domains = [(v.init,) if v.init is not None else tuple(range(v.lo, v.hi + 1)) for v in variables]
        pcs = tuple(0 for _ in self.model.threads)
        if not variables:
            if all(self.eval(c, ()) for c in self.model.constraints):
                yield State((), pcs)
            return
        due: list[list] = [[] for _ in variables]        # constraints decided once variable i is set
        for c in self.model.constraints:
            due[max((self.index[n] for n in variables_of(c)), default=0)].append(c)
        values: list[int] = []
        choice = [0] * len(variables)                     # index into the domain of variable i
        depth = 0
        tried = 0
        while depth >= 0:
            if choice[depth] == len(domains[depth]):
                choice[depth] = 0
                depth -= 1
                if depth >= 0:
                    values.pop()
                    choice[depth] += 1
                continue
            values.append(domains[depth][choice[depth]])
            tried += 1
            if budget is not None and tried > budget:
                self.budget_spent = True
                return
            if all(self.eval(c, values) for c in due[depth]):
                if depth == len(variables) - 1:
                    yield State(tuple(values), pcs)
                else:
                    depth += 1
                    continue
            values.pop()
            choice[depth] += 1

    def enabled(self, state: State) -> Iterator[tuple[int, int, Edge]]:
        """(thread index, edge index, edge) for every step enabled in `state`."""
        for t, thread in enumerate(self.model.threads):
            pc = state.pcs[t]
            if pc >= len(thread.locations):
                continue
            for e, edge in enumerate(thread.locations[pc].edges):
                if self.eval(edge.guard, state.values):
                    yield t, e, edge

    def step(self, state: State, thread: int, edge: Edge) -> State:
        values = list(state.values)
        for var, expr in edge.assigns:
            values[self.index[var]] = self.eval(expr, state.values)
        pcs = list(state.pcs)
        pcs[thread] = edge.target
        return State(tuple(values), tuple(pcs))

    def failed_checks(self, state: State, edge: Edge) -> list[str]:
        """Names of the properties whose checks on `edge` fail in `state`."""
        return [c.prop for c in edge.checks if not self.eval(c.ok, state.values)]

    def is_settled(self, thread: Thread, pc: int) -> bool:
        """A thread that cannot move here has done its job (finished or resting)."""
        return pc >= len(thread.locations) or thread.locations[pc].rest

    def stuck_threads(self, state: State) -> list[str]:
        """In a state with no enabled step: the threads blocked where they should not be."""
        return [th.name for th, pc in zip(self.model.threads, state.pcs)
                if not self.is_settled(th, pc)]

    def value(self, state: State, var: str) -> int:
        return state.values[self.index[var]]


def state_violates(interp: Interpreter, prop_name: str, state: State,
                   terminal: Optional[bool] = None) -> bool:
    """Whether `state` itself violates a state property (invariant, final, deadlock)."""
    prop = interp.model.property(prop_name)
    if prop.kind == "invariant":
        return not interp.eval(prop.expr, state.values)
    if prop.kind in ("final", "deadlock"):
        if terminal is None:
            terminal = next(iter(interp.enabled(state)), None) is None
        if not terminal:
            return False
        stuck = interp.stuck_threads(state)
        if prop.kind == "deadlock":
            return bool(stuck)
        return not stuck and not interp.eval(prop.expr, state.values)
    return False


_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
