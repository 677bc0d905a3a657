"""Configurations as kconfig allows them: for each Kconfig construct, the set of configurations
of the spec's options equals the set kconfiglib itself produces from every user choice.

The oracle sets MODULES=y and tries every user value of every symbol (unset, n, m, y) and every
user selection of every choice, and collects the values kconfiglib computes (Symbol.tri_value,
kconfiglib 14.1, following scripts/kconfig/symbol.c:sym_calc_value). Our side compiles a spec
declaring the same options open, with `kconfig "Kconfig";`, and enumerates its initial states.
"""
from __future__ import annotations

import itertools
import os
import textwrap

import kconfiglib
import pytest

from modelcheck.semantics.compile import compile_spec
from modelcheck.syntax.parser import parse
from modelcheck.interp import Interpreter

MODULES = 'config MODULES\n\tbool "modules"\n\toption modules\n\tdefault y\n\n'


def kconfiglib_configurations(kconfig_dir: str, names: list[str]) -> set[tuple[int, ...]]:
    """Every value tuple of `names` that some user input gives in kconfiglib."""
    saved = os.environ.get("srctree")
    os.environ["srctree"] = kconfig_dir
    try:
        kconf = kconfiglib.Kconfig("Kconfig", warn=False)
    finally:
        os.environ.pop("srctree") if saved is None else os.environ.__setitem__("srctree", saved)
    syms = [s for s in kconf.unique_defined_syms
            if s is not kconf.modules and s.choice is None and s.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE)]
    choices = list(kconf.unique_choices)
    sym_inputs = [[None, 0, 2] if s.orig_type is kconfiglib.BOOL else [None, 0, 1, 2] for s in syms]
    choice_inputs = [[None] + list(c.syms) for c in choices]
    mode_inputs = [[None, 0, 2] if c.is_optional else [None] for c in choices]
    seen = set()
    for values, picks, modes in itertools.product(itertools.product(*sym_inputs), itertools.product(*choice_inputs),
                                                  itertools.product(*mode_inputs)):
        kconf.unset_values()
        kconf.modules.set_value(2)
        for sym, value in zip(syms, values):
            if value is not None:
                sym.set_value(value)
        for choice, pick, mode in zip(choices, picks, modes):
            if pick is not None:
                pick.set_value(2)
            if mode is not None:
                choice.set_value(mode)
        seen.add(tuple(kconf.syms[n].tri_value for n in names))
    return seen


def our_configurations(spec_path: str, names: list[str]) -> set[tuple[int, ...]]:
    """The compiled model's initial configurations (before the cone, which would drop options
    that these property-less specs never read)."""
    with open(spec_path, encoding="utf-8") as f:
        model = compile_spec(parse(f.read(), spec_path))
    interp = Interpreter(model)
    index = [[v.name for v in model.variables].index(n) for n in names]
    return {tuple(state.values[i] for i in index) for state in interp.initial_states()}


def compare(tmp_path, kconfig: str, names: dict[str, str]) -> set[tuple[int, ...]]:
    """Both configuration sets for the options `names` ({name: bool|tristate}); they must be equal."""
    (tmp_path / "Kconfig").write_text(MODULES + textwrap.dedent(kconfig))
    decls = "".join(f"config {n} : {kind};\n" for n, kind in names.items())
    (tmp_path / "s.probe").write_text(f'spec "kconfig construct"\n{decls}kconfig "Kconfig";\n')
    theirs = kconfiglib_configurations(str(tmp_path), list(names))
    ours = our_configurations(str(tmp_path / "s.probe"), list(names))
    assert ours == theirs, (sorted(ours - theirs), sorted(theirs - ours))
    return ours


def test_rule_kconfig_depends_on(tmp_path):
    """scripts/kconfig/symbol.c sym_calc_value: the value is bounded by the direct dependencies."""
    got = compare(tmp_path, """
        config A
        \ttristate "a"
        config B
        \ttristate "b"
        \tdepends on A
        """, {"A": "tristate", "B": "tristate"})
    assert (1, 2) not in got and (2, 1) in got


def test_rule_kconfig_select(tmp_path):
    """symbol.c sym_calc_value: a select (rev_dep) raises the value whatever the prompt says."""
    got = compare(tmp_path, """
        config BUS
        \ttristate "bus"
        config DRV
        \ttristate "drv"
        \tselect BUS
        """, {"BUS": "tristate", "DRV": "tristate"})
    assert (0, 1) not in got and (1, 2) not in got and (2, 1) in got


def test_rule_kconfig_select_of_promptless_symbol(tmp_path):
    """A symbol without a prompt is only what default and select make it."""
    compare(tmp_path, """
        config HELPER
        \ttristate
        config A
        \ttristate "a"
        \tselect HELPER
        config B
        \tbool "b"
        \tselect HELPER
        """, {"HELPER": "tristate", "A": "tristate", "B": "bool"})


def test_rule_kconfig_imply(tmp_path):
    """symbol.c sym_calc_value: imply (weak_rev_dep) raises the default when the dependencies
    allow it and may be overridden by the user; an imply of y promotes m to y."""
    got = compare(tmp_path, """
        config DEP
        \ttristate "dep"
        config OPT
        \ttristate "opt"
        \tdepends on DEP
        config USER
        \ttristate "user"
        \timply OPT
        """, {"DEP": "tristate", "OPT": "tristate", "USER": "tristate"})
    assert (2, 0, 2) in got          # the user may still say n
    assert (2, 1, 2) not in got      # imply y promotes m to y


def test_rule_kconfig_default_and_def_tristate(tmp_path):
    """symbol.c sym_calc_value: without a visible prompt the first default whose condition
    holds gives the value, bounded by that condition (def_bool/def_tristate are default+type)."""
    compare(tmp_path, """
        config DAX
        \ttristate "dax"
        config HMEM
        \ttristate "hmem"
        \tdepends on DAX
        config HMEM_DEVICES
        \tdef_tristate HMEM
        config AUTO
        \tbool
        \tdefault y if DAX = y
        \tdefault n
        config FLAG
        \tdef_bool y
        \tdepends on HMEM
        """, {"DAX": "tristate", "HMEM": "tristate", "HMEM_DEVICES": "tristate", "AUTO": "bool",
              "FLAG": "bool"})


def test_rule_kconfig_default_with_prompt(tmp_path):
    """A visible prompt lets the user override the default, within the dependencies."""
    compare(tmp_path, """
        config A
        \ttristate "a"
        config B
        \ttristate "b"
        \tdefault A
        \tdepends on A || !A
        """, {"A": "tristate", "B": "tristate"})


def test_rule_kconfig_visible_if_and_prompt_condition(tmp_path):
    """menu.c menu_finalize: `visible if` and `prompt ... if` bound what the user may set,
    not the default."""
    compare(tmp_path, """
        config SHOW
        \tbool "show"
        menu "m"
        \tvisible if SHOW
        config HIDDEN
        \ttristate "hidden"
        \tdefault m
        endmenu
        config COND
        \ttristate "cond" if SHOW
        \tdefault y
        """, {"SHOW": "bool", "HIDDEN": "tristate", "COND": "tristate"})


def test_rule_kconfig_choice(tmp_path):
    """symbol.c sym_calc_choice: a visible bool choice has exactly one visible member y."""
    got = compare(tmp_path, """
        config FAST
        \tbool "fast"
        choice
        \tprompt "mode"
        \tdefault MODE_B
        config MODE_A
        \tbool "a"
        config MODE_B
        \tbool "b"
        config MODE_C
        \tbool "c"
        \tdepends on FAST
        endchoice
        """, {"FAST": "bool", "MODE_A": "bool", "MODE_B": "bool", "MODE_C": "bool"})
    assert (0, 0, 0, 2) not in got and (2, 0, 0, 2) in got and (2, 0, 0, 0) not in got


def test_rule_kconfig_choice_with_dependency(tmp_path):
    """A choice whose dependency is n has no member set."""
    compare(tmp_path, """
        config ENABLE
        \tbool "enable"
        choice
        \tprompt "mode"
        \tdepends on ENABLE
        config X_ONE
        \tbool "one"
        config X_TWO
        \tbool "two"
        endchoice
        """, {"ENABLE": "bool", "X_ONE": "bool", "X_TWO": "bool"})


def test_rule_kconfig_comparisons(tmp_path):
    """expr.c expr_calc_value via kconfiglib expr_value: n/m/y compare as strings (m < n < y)."""
    compare(tmp_path, """
        config EDAC
        \ttristate "edac"
        config CXL_BUS
        \ttristate "cxl"
        config CXL_EDAC
        \tbool "edac for cxl"
        \tdepends on EDAC >= CXL_BUS
        config SAME
        \tbool "same"
        \tdepends on EDAC = CXL_BUS && CXL_BUS != n
        """, {"EDAC": "tristate", "CXL_BUS": "tristate", "CXL_EDAC": "bool", "SAME": "bool"})


def test_rule_kconfig_depends_on_m(tmp_path):
    """`depends on m` is `m && MODULES` (kconfiglib _parse_factor): a tristate limited to m, a
    bool promoted to y."""
    got = compare(tmp_path, """
        config MOD_ONLY
        \ttristate "module only"
        \tdepends on m
        config B
        \tbool "b"
        \tdepends on m
        """, {"MOD_ONLY": "tristate", "B": "bool"})
    assert {v for v, _ in got} == {0, 1}


def test_rule_kconfig_bool_under_tristate(tmp_path):
    """A bool that depends on an m tristate may be y (visibility m is promoted for bools)."""
    compare(tmp_path, """
        config T
        \ttristate "t"
        config B
        \tbool "b"
        \tdepends on T
        \tselect S
        config S
        \ttristate "s"
        """, {"T": "tristate", "B": "bool", "S": "tristate"})


def test_rule_kconfig_hidden_symbols_are_projected(tmp_path):
    """Undeclared symbols that only depend on the spec's options do not constrain them."""
    compare(tmp_path, """
        config A
        \ttristate "a"
        config B
        \ttristate "b"
        \tdepends on A
        config EXTRA
        \tbool "extra"
        \tdepends on B
        """, {"A": "tristate", "B": "tristate"})


def test_rule_kconfig_if_block(tmp_path):
    """`if X ... endif` adds X to the dependencies of every entry inside."""
    compare(tmp_path, """
        config CXL_BUS
        \ttristate "cxl"
        if CXL_BUS
        config CXL_PCI
        \ttristate "pci"
        \tdefault CXL_BUS
        config CXL_MEM
        \ttristate "mem"
        \tdepends on CXL_PCI
        \tdefault CXL_BUS
        endif
        """, {"CXL_BUS": "tristate", "CXL_PCI": "tristate", "CXL_MEM": "tristate"})


def test_rule_kconfig_optional_choice_and_tristate_member(tmp_path):
    """An `optional` choice may be n; a tristate member of a bool choice is a bool."""
    compare(tmp_path, """
        config GATE
        \ttristate "gate"
        choice
        \tbool "pick"
        \toptional
        config P_ONE
        \ttristate "one"
        config P_TWO
        \tbool "two"
        \tdepends on GATE
        endchoice
        """, {"GATE": "tristate", "P_ONE": "tristate", "P_TWO": "bool"})


def _random_kconfig(seed: int) -> tuple[str, dict[str, str]]:
    """A small random Kconfig: each symbol's lines name only earlier symbols (no loops)."""
    import random
    rnd = random.Random(seed)
    names = [f"S{i}" for i in range(rnd.randint(3, 5))]
    kinds = {n: rnd.choice(["bool", "tristate"]) for n in names}

    def operand(before):
        return rnd.choice(before + ["y", "m", "n"]) if before else rnd.choice(["y", "m"])

    def expr(before, depth=0):
        roll = rnd.random()
        if depth < 2 and roll < 0.3:
            return f"{expr(before, depth + 1)} {rnd.choice(['&&', '||'])} {expr(before, depth + 1)}"
        if roll < 0.4:
            return f"!{operand(before)}"
        if roll < 0.5 and before:
            return f"{operand(before)} {rnd.choice(['=', '!=', '<', '>='])} {operand(before)}"
        return operand(before)

    lines = []
    for i, n in enumerate(names):
        before = names[:i]
        prompt = rnd.random()
        lines.append(f"config {n}")
        if prompt < 0.6:
            lines.append(f'\t{kinds[n]} "{n.lower()}"')
        elif prompt < 0.8:
            lines.append(f'\t{kinds[n]} "{n.lower()}" if {expr(before)}')
        else:
            lines.append(f"\t{kinds[n]}")
        for _ in range(rnd.randint(0, 2)):
            lines.append(f"\tdefault {operand(before)} if {expr(before)}" if rnd.random() < 0.5
                         else f"\tdefault {operand(before)}")
        if before and rnd.random() < 0.5:
            lines.append(f"\tdepends on {expr(before)}")
        later = names[i + 1:]
        # select/imply point forward: the target's value then depends on this symbol
        if later and rnd.random() < 0.4:
            lines.append(f"\t{rnd.choice(['select', 'imply'])} {rnd.choice(later)}"
                         + (f" if {expr(before)}" if rnd.random() < 0.3 else ""))
    return "\n".join(lines) + "\n", kinds


@pytest.mark.parametrize("seed", range(60))
def test_rule_kconfig_random_trees_agree_with_kconfiglib(tmp_path, seed):
    """Random combinations of every construct above: the same configurations as kconfiglib."""
    text, kinds = _random_kconfig(seed)
    compare(tmp_path, text, kinds)
