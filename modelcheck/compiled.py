"""A faster interpreter for search: IR expressions turned into Python lambdas once.

It computes exactly what `interp.Interpreter` computes (the test suite compares them on every
spec); the reference interpreter stays the one that replays traces, so a bug here cannot
confirm its own counterexamples.
"""
from __future__ import annotations

from .interp import Interpreter, State
from .ir import TRUE, Arith, BoolConst, BoolOp, Cmp, Const, Edge, Expr, Ite, Model, Not, Ref


class CompiledInterpreter(Interpreter):
    def __init__(self, model: Model):
        super().__init__(model)
        self._fns: dict[int, object] = {}
        self._keep: list[Expr] = []      # keeps ids stable while cached
        self._steppers = {id(edge): self._stepper(edge) for th in model.threads
                          for loc in th.locations for edge in loc.edges}
        self._enabled_at = [[self._enabler(t, loc) for loc in th.locations]
                            for t, th in enumerate(model.threads)]

    def _enabler(self, thread: int, loc) -> object:
        """values -> the steps (thread, edge index, edge) enabled at one location, as one
        generated function: every guard of the location inline, no call per edge."""
        steps = [(thread, e, edge) for e, edge in enumerate(loc.edges)]
        if all(edge.guard == TRUE for edge in loc.edges):
            return lambda v, steps=tuple(steps): steps
        lines = ["def enabled_here(v):", "    out = []"]
        for e, edge in enumerate(loc.edges):
            lines += [f"    if {self.source(edge.guard)}:", f"        out.append(steps[{e}])"]
        lines.append("    return out")
        scope = {"steps": steps}
        exec("\n".join(lines), scope)      # generated from the IR only
        return scope["enabled_here"]

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
        # The new tuple is the old one's slices around the assigned slots, so a step costs a
        # few C-level copies; every right-hand side reads the pre-state (`v`).
        new = {self.index[var]: self.source(expr) for var, expr in edge.assigns}
        parts, start = [], 0
        for slot in sorted(new):
            if slot > start:
                parts.append(f"v[{start}:{slot}]")
            parts.append(f"({new[slot]},)")
            start = slot + 1
        parts.append(f"v[{start}:]")
        return eval(f"lambda v: {' + '.join(parts)}")   # generated from the IR only

    def eval(self, expr: Expr, values):
        return self._compile(expr)(values)

    def enabled(self, state: State) -> list[tuple[int, int, Edge]]:
        """The enabled steps as one list (the search's hottest call: no generator)."""
        values = state.values
        out: list[tuple[int, int, Edge]] = []
        for at, pc in zip(self._enabled_at, state.pcs):
            if pc < len(at):
                out += at[pc](values)
        return out

    def step(self, state: State, thread: int, edge: Edge) -> State:
        stepper = self._steppers[id(edge)]
        values = stepper(state.values) if stepper else state.values
        pcs = state.pcs[:thread] + (edge.target,) + state.pcs[thread + 1:]
        return State(values, pcs)

