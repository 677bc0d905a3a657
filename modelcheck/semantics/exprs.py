"""Expressions: names resolved, sorts checked (bool or int), quantifiers unrolled."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..errors import SpecError
from ..ir import (Arith, BoolConst, Cmp, Const, Expr, Ref, as_int, conj, disj,
                  is_bool, neg, truth)
from ..syntax import ast
from .context import ERRNO, Frame
from .symbols import TRISTATE_LITERALS

if TYPE_CHECKING:
    from .compile import Compiler

Query = Callable[[ast.Call, Frame], Expr]


class Expressions:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.queries: dict[str, Query] = {}

    def register(self, queries: dict[str, Query]) -> None:
        self.queries.update(queries)

    # -- sorted views --
    def cond(self, node: ast.ExprNode, frame: Frame) -> Expr:
        """A boolean; integers count as true when non-zero, as in C."""
        return truth(self.lower(node, frame))

    def value(self, node: ast.ExprNode, frame: Frame) -> Expr:
        expr = self.lower(node, frame)
        if is_bool(expr):
            return as_int(expr)
        return expr

    def integer(self, node: ast.ExprNode, frame: Frame) -> Expr:
        expr = self.lower(node, frame)
        if is_bool(expr):
            raise SpecError("E205", node.span, "a condition is used where a number is expected")
        return expr

    # -- the walk --
    def lower(self, node: ast.ExprNode, frame: Frame) -> Expr:
        kind = type(node)
        if kind is ast.Num:
            return Const(node.value)
        if kind is ast.BoolLit:
            return BoolConst(node.value)
        if kind is ast.Errno:
            if node.name not in ERRNO:
                raise SpecError("E213", node.span, f"unknown error code -{node.name}")
            return Const(ERRNO[node.name])
        if kind is ast.Name:
            return self.name(node, frame)
        if kind is ast.Call:
            return self.call(node, frame)
        if kind is ast.Unary:
            return neg(self.cond(node.arg, frame))
        if kind is ast.Binary:
            return self.binary(node, frame)
        if kind is ast.Quant:
            return self.quantifier(node, frame)
        raise AssertionError(f"unhandled expression node {kind.__name__}")

    def name(self, node: ast.Name, frame: Frame) -> Expr:
        bound = frame.lookup(node.id)
        if bound is not None:
            raise SpecError("E202", node.span,
                            f"{node.id!r} stands for {bound[1]!r} here, which has no value of its own",
                            "pass it to a query such as intersects_cxl(r), region_contains(r), owned(r)")
        sym = self.c.sym.get(node.id)
        if sym is None:
            if node.id in TRISTATE_LITERALS:
                return Const(TRISTATE_LITERALS[node.id])
            raise SpecError("E200", node.span, f"unknown name {node.id!r}")
        if sym.kind == "config":
            return Ref(node.id)
        if sym.kind in ("platform", "var"):
            type_ = sym.decl.type
            ref = Ref(self.c.devdata.key(sym, frame, node.span))
            return truth(ref) if type_.kind == "bool" else ref
        if sym.kind == "enum_label":
            return Const(sym.decl)
        raise SpecError("E202", node.span, f"{node.id!r} is a {sym.kind}, not a value",
                        "use a query on it, e.g. loaded(m), bound(dev), work_pending(w)")

    def call(self, node: ast.Call, frame: Frame) -> Expr:
        if node.func == "choose":
            raise SpecError("E502", node.span, "choose() is a whole `if` condition, not a value",
                            "write `if choose() { ... } else { ... }`; combine it with another condition "
                            "by nesting: `if c { if choose() { ... } }`")
        handler = self.queries.get(node.func)
        if handler is not None:
            return handler(node, frame)
        fn = self.c.sym.get(node.func)
        if fn is not None and fn.kind == "fn" and node.func not in self.c.statements:
            raise SpecError("E232", node.span, f"{node.func}() is a function; its value can only be assigned",
                            f"write `x = {node.func}(...);` and use x")
        if self.c.signals.is_branch(node):
            raise SpecError("E212", node.span, f"{node.func}() takes a lock or waits, so it cannot "
                            "appear inside an expression",
                            f"write `if {node.func}(...) {{ ... }}` (the error path), "
                            f"`if not {node.func}(...) {{ ... }}`, or `ret = {node.func}(...);`")
        if node.func in self.c.statements:
            from .statements import RESULT_PRIMITIVES
            alone = (f"write it alone as the condition (`if {node.func}(...) {{ ... }}`, "
                     f"`if not {node.func}(...) {{ ... }}`), as `x = {node.func}(...);`, or as a statement"
                     if node.func in RESULT_PRIMITIVES else f"call it as a statement, or as `x = {node.func}(...);`")
            raise SpecError("E212", node.span,
                            f"{node.func}() changes state, so it cannot appear inside an expression", alone)
        raise SpecError("E203", node.span, f"unknown query {node.func!r}")

    def binary(self, node: ast.Binary, frame: Frame) -> Expr:
        op = node.op
        if op in ("and", "or", "->"):
            left, right = self.cond(node.left, frame), self.cond(node.right, frame)
            if op == "and":
                return conj(left, right)
            if op == "or":
                return disj(left, right)
            return disj(neg(left), right)
        if op == "|":
            raise SpecError("E263", node.span, "`|` joins DL_FLAG_* flags, and only in device_link_add()",
                            "write `device_link_add(consumer, supplier, DL_FLAG_A | DL_FLAG_B);`, or use `or` "
                            "for conditions")
        if op in ("+", "-"):
            return Arith(op, self.integer(node.left, frame), self.integer(node.right, frame))
        left, right = self.lower(node.left, frame), self.lower(node.right, frame)
        if is_bool(left) != is_bool(right):
            raise SpecError("E205", node.span, f"`{op}` compares a condition with a number",
                            "compare like with like: a flag with true/false, a number with a number")
        if is_bool(left) and op not in ("==", "!="):
            raise SpecError("E205", node.span, f"`{op}` needs numbers, not conditions")
        return Cmp(op, as_int(left), as_int(right))

    def quantifier(self, node: ast.Quant, frame: Frame) -> Expr:
        items = self.c.resources.domain(node.domain, node.span)
        bodies = [self.cond(node.body, frame.bind(node.var, ("extent", name))) for name in items]
        if node.kind == "all":
            return conj(*bodies)
        if node.kind == "any":
            return disj(*bodies)
        total: Expr = Const(0)
        for body in bodies:
            total = Arith("+", total, as_int(body))
        return total

    # -- argument helpers for primitives --
    def symbol_arg(self, node: ast.Call, index: int, kinds: tuple[str, ...], role: str):
        arg = node.args[index]
        if not isinstance(arg, ast.Name):
            raise SpecError("E202", arg.span, f"argument {index + 1} of {node.func}() must be {role}")
        return self.c.sym.require(arg.id, kinds, arg.span, role)

    def extent_arg(self, node: ast.Call, index: int, frame: Frame, kinds=None) -> str:
        arg = node.args[index]
        if isinstance(arg, ast.Name):
            bound = frame.lookup(arg.id)
            if bound is not None and bound[0] == "extent":
                name = bound[1]
            else:
                name = self.c.sym.require(arg.id, ("extent",), arg.span, "a range, window or region").name
            kind = self.c.sym.get(name).decl.kind
            if kinds and kind not in kinds:
                raise SpecError("E202", arg.span, f"{node.func}() takes a {' or '.join(kinds)}, "
                                f"and {name!r} is a {kind}")
            return name
        fn = self.c.sym.get(node.func)
        hint = ("a fn's parameters are ranges, windows or regions (docs/language.md, `fn`): pass a "
                "value through a variable the caller assigns before the call"
                if fn is not None and fn.kind == "fn" else None)
        raise SpecError("E202", arg.span, f"argument {index + 1} of {node.func}() must be a range name", hint)


def arity(node: ast.Call, *counts: int) -> None:
    if len(node.args) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise SpecError("E204", node.span,
                        f"{node.func}() takes {want} argument{'s' if counts != (1,) else ''}, "
                        f"not {len(node.args)}")
