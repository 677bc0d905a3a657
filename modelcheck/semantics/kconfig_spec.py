"""A spec's `kconfig` lines: read each tree, check the spec's options against it, and return
the constraints on the options' values; every problem of a kind is reported in one error."""
from __future__ import annotations

import difflib

from ..errors import SpecError
from ..ir import Expr
from ..syntax import ast
from .kconfig import Reference, configuration_constraints
from .kconfig_read import read_tree


def kconfig_constraints(spec: ast.Spec) -> list[Expr]:
    """The constraints of every `kconfig` line of the spec, over its `config` options.

    Raises SpecError: E305 when the spec declares MODULES other than `= y`; E306 when an
    option's kind differs from its Kconfig type; E307 when an option is defined in none of
    the trees read and not declared `external`; E216 listing every undeclared symbol the
    options' values depend on (with its type and file:line); and the reading errors of
    kconfig_read.read_tree."""
    configs = {c.name: (c.kind, c.value is None) for c in spec.configs}
    modules = next((c for c in spec.configs if c.name == "MODULES"), None)
    if modules is not None and modules.value != "y":
        raise SpecError("E305", modules.span, "MODULES is read as y from Kconfig (a tristate option may be m); "
                        "the spec leaves it open or sets it otherwise",
                        "write `config MODULES : bool = y;` or leave MODULES out")
    trees = [(line, read_tree(spec.file, line.path, line.tree, dict(line.variables), line.span))
             for line in spec.kconfigs]
    constraints, defined, missing = _read_all(trees, configs)
    known = {name for _, tree in trees for name, sym in tree.kconf.syms.items() if sym.nodes}
    _check_types(spec, defined)
    _check_defined(spec, defined, known)
    if missing:
        # what the missing symbols read is missing too: list the whole cone in one error
        found = dict(missing)
        while missing:
            configs.update({name: (ref.kind if ref.kind in ("bool", "tristate") else "tristate", True)
                            for name, ref in missing.items()})
            _, _, missing = _read_all(trees, configs)
            missing = {name: ref for name, ref in missing.items() if name not in found}
            found.update(missing)
        raise _missing_error(spec.kconfigs[0].span, list(found.values()))
    return constraints


def _read_all(trees, configs):
    """Constraints, {option: (Kconfig type, file:line)} and {undeclared symbol: first reference}."""
    constraints: list[Expr] = []
    defined: dict[str, tuple[str, str]] = {}
    missing: dict[str, Reference] = {}
    for line, tree in trees:
        try:
            reading = configuration_constraints(tree, configs, line.span)
        except RecursionError:
            raise SpecError("E305", line.span, "the Kconfig expressions of the spec's options nest too deeply "
                            "to translate (a symbol selected by hundreds of others?)",
                            "fix the option with the deep expression (`= y|m|n`) so its lines are not read") from None
        constraints += reading.constraints
        for name, info in reading.defined.items():
            defined.setdefault(name, info)
        for ref in reading.missing:
            missing.setdefault(ref.name, ref)
    return constraints, defined, missing


def _check_types(spec: ast.Spec, defined: dict[str, tuple[str, str]]) -> None:
    wrong = [(c, defined[c.name]) for c in spec.configs
             if c.name in defined and defined[c.name][0] != c.kind]
    if not wrong:
        return
    lines = [f"{c.name} is {c.kind} in the spec, {kind} in Kconfig ({where})" for c, (kind, where) in wrong]
    fixes = [f"`config {c.name} : {kind};`" for c, (kind, _) in wrong if kind in ("bool", "tristate")]
    hint = "declare each option with its Kconfig type: " + " ".join(fixes) if fixes else \
        "a spec models bool and tristate options only; leave the others out"
    raise SpecError("E306", wrong[0][0].span, "type mismatch between spec and Kconfig: " + "; ".join(lines), hint)


def _check_defined(spec: ast.Spec, defined: dict[str, tuple[str, str]], known: set[str]) -> None:
    strays = [c for c in spec.configs if c.name not in defined and not c.external and c.name != "MODULES"]
    if not strays:
        return
    parts = []
    for c in strays:
        close = difflib.get_close_matches(c.name, sorted(known), n=1)
        parts.append(f"{c.name} (did you mean {close[0]}?)" if close else c.name)
    raise SpecError("E307", strays[0].span, "no Kconfig file the spec reads defines " + ", ".join(parts),
                    "fix the name, or declare an option defined elsewhere as "
                    f"`config {strays[0].name} : {strays[0].kind} external;`")


def _missing_error(span, refs: list[Reference]) -> SpecError:
    lines = []
    fixes = []
    for ref in refs:
        what = f"{ref.kind}, defined at {ref.defined_at}" if ref.defined_at else "defined in no file read"
        lines.append(f"\n    {ref.name} ({what}), read by {ref.read_by} ({ref.read_at})")
        kind = ref.kind if ref.kind in ("bool", "tristate") else "tristate"
        fixes.append(f"config {ref.name} : {kind};" if ref.defined_at else f"config {ref.name} : {kind} external;")
    noun = "a symbol" if len(refs) == 1 else f"{len(refs)} symbols"
    return SpecError("E216", span, f"the configurations of the spec's options depend on {noun} the spec "
                     "does not declare:" + "".join(lines),
                     "declare them (open, or fixed with = y|m|n): " + "  ".join(fixes))
