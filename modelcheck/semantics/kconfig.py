"""Kconfig `depends on` lines read from real Kconfig files with kconfiglib.

A symbol's value is limited by its direct dependencies, evaluated in tristate logic
(n=0, m=1, y=2; && is min, || is max, ! is 2-x). A bool symbol whose dependency is m may
still be y, as kconfig's visibility rounding does.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import SpecError
from ..ir import Cmp, Const, Expr, Ite, Ref, Arith


def dependency_constraints(kconfig_path: str, span, configs: dict[str, str]) -> list[Expr]:
    """One constraint `C <= dep(C)` per config declared in the spec and defined in the file."""
    try:
        import kconfiglib
    except ImportError:
        raise SpecError("E301", span, "reading Kconfig files needs the kconfiglib package",
                        "pip install kconfiglib") from None
    path = Path(kconfig_path)
    if not path.is_file():
        raise SpecError("E300", span, f"cannot read Kconfig file {kconfig_path}",
                        "give the Kconfig path relative to the spec file")
    previous = os.environ.get("srctree")
    os.environ["srctree"] = str(path.parent)   # `source` lines resolve beside the file
    try:
        kconf = kconfiglib.Kconfig(path.name, warn=False)   # kconfiglib resolves it against srctree
    except (kconfiglib.KconfigError, OSError) as exc:
        raise SpecError("E300", span, f"cannot parse Kconfig file {kconfig_path}: {exc}") from None
    finally:
        if previous is None:
            os.environ.pop("srctree", None)
        else:
            os.environ["srctree"] = previous
    out = []
    for name, kind in configs.items():
        sym = kconf.syms.get(name)
        if sym is None or not sym.nodes:
            continue
        dep = _tristate(sym.direct_dep, kconf, configs, name, span)
        if kind == "bool":
            dep = Ite(Cmp("==", dep, Const(1)), Const(2), dep)
        out.append(Cmp("<=", Ref(name), dep))
    return out


def _tristate(expr, kconf, configs: dict[str, str], owner: str, span) -> Expr:
    import kconfiglib as k
    if isinstance(expr, tuple):
        op = expr[0]
        if op == k.AND:
            a, b = (_tristate(e, kconf, configs, owner, span) for e in expr[1:])
            return Ite(Cmp("<=", a, b), a, b)
        if op == k.OR:
            a, b = (_tristate(e, kconf, configs, owner, span) for e in expr[1:])
            return Ite(Cmp(">=", a, b), a, b)
        if op == k.NOT:
            return Arith("-", Const(2), _tristate(expr[1], kconf, configs, owner, span))
        if op in (k.EQUAL, k.UNEQUAL):
            a, b = (_tristate(e, kconf, configs, owner, span) for e in expr[1:])
            return Ite(Cmp("==" if op == k.EQUAL else "!=", a, b), Const(2), Const(0))
        raise SpecError("E216", span, f"the Kconfig dependency of {owner} uses a comparison "
                        f"modelcheck does not model: {k.expr_str(expr)}")
    if expr is kconf.y:
        return Const(2)
    if expr is kconf.m:
        return Const(1)
    if expr is kconf.n:
        return Const(0)
    if expr.name not in configs:
        raise SpecError("E216", span, f"the Kconfig dependency of {owner} names {expr.name}, "
                        "which the spec does not declare",
                        f"declare it: `config {expr.name} : tristate;` (or bool), fixed or open")
    return Ref(expr.name)
