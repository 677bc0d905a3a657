"""An inductive invariant (a z3 formula over the state) as text a reviewer can read.

One conjunct per line. Variables keep their spec names and show labelled values by label
(n/m/y, module states). A thread's program counter compared with one location reads as
where the thread stands: before the step it takes next, as traces name steps, or finished.
"""
from __future__ import annotations

import z3

from ..ir import Model, Thread

_FLIP = {"<=": ">", "<": ">=", ">=": "<", ">": "<=", "==": "!=", "!=": "=="}
_CMP_VALUE = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
              ">": lambda a, b: a > b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_Z3_CMP = {z3.Z3_OP_LE: "<=", z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=", z3.Z3_OP_GT: ">", z3.Z3_OP_EQ: "=="}


def invariant_lines(model: Model, formula) -> list[str]:
    """The simplified invariant, one conjunct per line."""
    formula = z3.simplify(formula, arith_lhs=True)
    parts = formula.children() if z3.is_and(formula) else [formula]
    printer = _Printer(model)
    lines = [printer.show(p) for p in parts] or ["true"]
    return lines + [legend for th in model.threads if th.name in printer.counted
                    for legend in _legend(th)]


def _legend(thread: Thread) -> list[str]:
    """What location(T) = n means for a thread the invariant compares by number."""
    out = [f"where location({thread.name}) is"]
    for pc, location in enumerate(thread.locations):
        step = location.edges[0].label if location.edges else ""
        out.append(f"  {pc}: " + (f"before \"{step or '(internal step)'}\"" if location.edges else _idle(location)))
    out.append(f"  {len(thread.locations)}: finished")
    return out


def _idle(location) -> str:
    return "resting (its job done)" if location.rest else "stuck (no step leaves it)"


class _Printer:
    def __init__(self, model: Model):
        self.model = model
        self.threads = {f"pc[{th.name}]": th for th in model.threads}
        self.variables = {v.name: v for v in model.variables}
        self.counted: set[str] = set()   # threads whose location is shown as a number

    def show(self, e, nested: bool = False) -> str:
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        if z3.is_not(e):
            inner = e.arg(0)
            if z3.is_app(inner) and inner.decl().kind() in _Z3_CMP:
                return self.compare(inner, negate=True)
            return f"not {self.show(inner, True)}"
        if z3.is_and(e) or z3.is_or(e):
            word = " and " if z3.is_and(e) else " or "
            text = word.join(self.show(c, True) for c in e.children())
            return f"({text})" if nested else text
        if z3.is_implies(e):
            text = f"{self.show(e.arg(0), True)} -> {self.show(e.arg(1), True)}"
            return f"({text})" if nested else text
        if z3.is_app(e) and e.decl().kind() in _Z3_CMP and z3.is_int(e.arg(0)):
            return self.compare(e)
        if z3.is_eq(e):   # booleans compared
            return f"({self.show(e.arg(0), True)} == {self.show(e.arg(1), True)})"
        return self.term(e)

    def compare(self, e, negate: bool = False) -> str:
        op = _Z3_CMP[e.decl().kind()]
        op = _FLIP[op] if negate else op
        left, right = e.arg(0), e.arg(1)
        if z3.is_int_value(right) and op in ("==", "!=") and str(left) in self.threads:
            return self.location(self.threads[str(left)], right.as_long(), op == "==")
        if z3.is_int_value(right) and str(left) in self.variables:
            var = self.variables[str(left)]
            if (var.lo, var.hi) == (0, 1):   # a flag: say whether it is set
                holds = [v for v in (0, 1) if _CMP_VALUE[op](v, right.as_long())]
                return {(0,): f"not {var.name}", (1,): var.name, (0, 1): "true", (): "false"}[tuple(holds)]
            return f"{left} {op} {var.show(right.as_long())}"
        return f"{self.term(left)} {op} {self.term(right)}"

    def location(self, thread: Thread, pc: int, at: bool) -> str:
        if pc >= len(thread.locations):
            where = "has finished"
        elif not thread.locations[pc].edges:
            where = f"is {_idle(thread.locations[pc])} at location {pc}"
        else:
            where = f'is before "{thread.locations[pc].edges[0].label or "(internal step)"}"'
        return f"{thread.name} {where}" if at else f"not ({thread.name} {where})"

    def term(self, e) -> str:
        if z3.is_int_value(e):
            return str(e.as_long())
        if str(e) in self.threads:
            self.counted.add(self.threads[str(e)].name)
            return f"location({self.threads[str(e)].name})"
        if z3.is_const(e):
            return str(e)
        if z3.is_add(e):
            return " + ".join(self.term(c) for c in e.children()).replace("+ -", "- ")
        if z3.is_mul(e) and len(e.children()) == 2 and z3.is_int_value(e.arg(0)):
            k = e.arg(0).as_long()
            return f"-{self.term(e.arg(1))}" if k == -1 else f"{k}*{self.term(e.arg(1))}"
        if z3.is_app_of(e, z3.Z3_OP_ITE):
            return f"(if {self.show(e.arg(0), True)} then {self.term(e.arg(1))} else {self.term(e.arg(2))})"
        return str(e)
