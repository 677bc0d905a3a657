"""A faster interpreter for search: IR expressions turned into Python lambdas once.

It computes exactly what `interp.Interpreter` computes (the test suite compares them on every
spec); the reference interpreter stays the one that replays traces, so a bug here cannot
confirm its own counterexamples.
"""
from __future__ import annotations

from typing import Iterator

from .interp import Interpreter, State
from .ir import Arith, BoolConst, BoolOp, Cmp, Const, Edge, Expr, Ite, Model, Not, Ref


class CompiledInterpreter(Interpreter):
    def __init__(self, model: Model):
        super().__init__(model)
        self._fns: dict[int, object] = {}
        self._keep: list[Expr] = []      # keeps ids stable while cached
        self._table = [[[(e, edge, self._compile(edge.guard), self._stepper(edge))
                         for e, edge in enumerate(loc.edges)] for loc in th.locations]
                       for th in model.threads]
        self._steppers = {id(edge): stepper for th in self._table for loc in th
                          for _, edge, _, stepper in loc}

    def source(self, expr: Expr) -> str:
        kind = type(expr)
        if kind is Const:
            return repr(expr.value)
        if kind is BoolConst:
            return "True" if expr.value else "False"
        if kind is Ref:
            return f"v[{self.index[expr.var]}]"
        if kind is Not:
            return f"(not {self.source(expr.arg)})"
        if kind is BoolOp:
            joiner = " and " if expr.op == "and" else " or "
            return "(" + joiner.join(self.source(a) for a in expr.args) + ")"
        if kind in (Cmp, Arith):
            return f"({self.source(expr.left)} {expr.op} {self.source(expr.right)})"
        if kind is Ite:
            return f"({self.source(expr.then)} if {self.source(expr.cond)} else {self.source(expr.other)})"
        raise TypeError(f"unknown expression kind {kind.__name__}")

    def _compile(self, expr: Expr):
        fn = self._fns.get(id(expr))
        if fn is None:
            fn = eval(f"lambda v: {self.source(expr)}")   # generated from the IR only
            self._fns[id(expr)] = fn
            self._keep.append(expr)
        return fn

    def _stepper(self, edge: Edge):
        if not edge.assigns:
            return None
        # Only the assigned slots are generated, so compiling costs nothing per variable;
        # every right-hand side reads the pre-state before any slot is written.
        slots = ", ".join(str(self.index[var]) for var, _ in edge.assigns)
        values = ", ".join(self.source(expr) for _, expr in edge.assigns)
        return eval(f"lambda v: _assign(v, ({slots},), ({values},))", {"_assign": _assign})

    def eval(self, expr: Expr, values):
        return self._compile(expr)(values)

    def enabled(self, state: State) -> Iterator[tuple[int, int, Edge]]:
        values = state.values
        for t, pc in enumerate(state.pcs):
            table = self._table[t]
            if pc >= len(table):
                continue
            for e, edge, guard, _ in table[pc]:
                if guard(values):
                    yield t, e, edge

    def step(self, state: State, thread: int, edge: Edge) -> State:
        stepper = self._steppers[id(edge)]
        values = stepper(state.values) if stepper else state.values
        pcs = state.pcs[:thread] + (edge.target,) + state.pcs[thread + 1:]
        return State(values, pcs)


def _assign(values: tuple, slots: tuple, new: tuple) -> tuple:
    out = list(values)
    for slot, value in zip(slots, new):
        out[slot] = value
    return tuple(out)
