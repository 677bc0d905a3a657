"""Functions that return a value: `fn f(r) -> int { ... return -ENOMEM; }` and `x = f(r);`.

Functions are inlined, so a returned value needs no stack: each `return VALUE` inside the
inlined body assigns the caller's variable, with the checks of an ordinary assignment
(type, and `value_in_range`), and continues after the call, as C's return does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..syntax import ast
from .context import Frame
from .symbols import Symbol

if TYPE_CHECKING:
    from .compile import Compiler


class FunctionResults:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler

    def call_into(self, node: ast.Assign, target: Symbol, fn: ast.FnDecl, frame: Frame,
                  at: int, nxt: int) -> None:
        """`x = f(args);`: inline f with its returns assigning x. Raises E232 when f declares no
        result, or one of the other kind than x (a bool into an int, or an int into a bool)."""
        if fn.result is None:
            raise SpecError("E232", node.value.span, f"{fn.name}() returns no value",
                            f"declare what it returns: `fn {fn.name}(...) -> int`")
        wants_bool = target.decl.type.kind == "bool"
        if wants_bool != (fn.result == "bool"):
            raise SpecError("E232", node.span, f"{fn.name}() returns {fn.result}, and {node.target!r} "
                            f"is {'a bool' if wants_bool else 'a number'}",
                            f"assign it to a variable of its kind, or declare `-> {'bool' if wants_bool else 'int'}`")
        self.c.stmts.inline_fn(fn, node.value, frame, at, nxt, result=node.target)

    def return_value(self, node: ast.Return, frame: Frame, at: int) -> None:
        """`return VALUE;` in a function declared `-> int` or `-> bool` (E233 for a bare return)."""
        if node.value is None:
            fn = frame.stack[-1] if frame.stack else "this function"
            raise SpecError("E233", node.span, f"{fn}() returns a value, and this `return` gives none",
                            "write `return VALUE;`, e.g. `return 0;` or `return -ENOMEM;`")
        if frame.result == "":
            # the caller drops the value; it is still checked for names and kinds
            self.c.exprs.lower(node.value, frame)
            frame.b.edge(at, frame.ret, "return (value dropped)", node.span)
            return
        self.c.stmts.assign(ast.Assign(frame.result, node.value, node.span), frame, at, frame.ret)

