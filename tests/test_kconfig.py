"""Constraints read from real Kconfig files: a changed `depends on` line changes the verdict."""
from modelcheck.checker import check_model
from modelcheck.errors import SpecError
from modelcheck.frontend import load_file
from modelcheck.result import Verdict

import pytest
from spin_agreement import require_spin, spin_verdicts

SPEC = """spec "dax_cxl against dax_hmem, constraints from Kconfig"
config DEV_DAX_HMEM : tristate;
config DEV_DAX_CXL : tristate;
config CXL_BUS : tristate;
kconfig "Kconfig";
invariant cxl_not_builtin_over_modular_hmem: not (DEV_DAX_CXL == y and DEV_DAX_HMEM == m);
invariant cxl_needs_bus: DEV_DAX_CXL <= CXL_BUS;
"""

KCONFIG = """config CXL_BUS
\ttristate "CXL bus"

config DEV_DAX_HMEM
\ttristate "HMEM DAX"

config DEV_DAX_CXL
\ttristate "CXL DAX"
\tdepends on CXL_BUS
{extra}
"""


def verdicts(tmp_path, extra):
    (tmp_path / "Kconfig").write_text(KCONFIG.format(extra=extra))
    (tmp_path / "dax.probe").write_text(SPEC)
    model, _ = load_file(str(tmp_path / "dax.probe"))
    return {o.result.prop: o.result.verdict for o in check_model(model, "explicit")}


def test_depends_on_line_is_read_from_the_kconfig_file(tmp_path):
    fixed = verdicts(tmp_path, "\tdepends on DEV_DAX_HMEM || !DEV_DAX_HMEM")
    assert fixed["cxl_not_builtin_over_modular_hmem"] is Verdict.PROVED
    assert fixed["cxl_needs_bus"] is Verdict.PROVED


def test_removing_the_depends_on_line_brings_the_bad_config_back(tmp_path):
    loose = verdicts(tmp_path, "")
    assert loose["cxl_not_builtin_over_modular_hmem"] is Verdict.VIOLATED
    assert loose["cxl_needs_bus"] is Verdict.PROVED


def test_undeclared_symbol_in_a_dependency_is_a_located_error(tmp_path):
    (tmp_path / "Kconfig").write_text(KCONFIG.format(extra="\tdepends on DAX"))
    (tmp_path / "dax.probe").write_text(SPEC)
    with pytest.raises(SpecError) as err:
        load_file(str(tmp_path / "dax.probe"))
    assert err.value.code == "E216" and "DAX" in err.value.message and err.value.span.line == 5


# --- a spec never runs code, and reads only Kconfig files of its tree ---------------------

def load_error(tmp_path, spec: str, files: dict[str, str]) -> SpecError:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "s.probe").write_text('spec "s"\n' + spec)
    with pytest.raises(SpecError) as err:
        load_file(str(tmp_path / "s.probe"))
    return err.value


@pytest.mark.parametrize("line", [
    "X := $(shell,touch {marker})\n",                          # immediate: expanded where defined
    'X = $(shell,touch {marker})\nconfig B\n\tbool "$(X)"\n',  # recursive: expanded where used
    'config B\n\tbool "$(shell,touch {marker})"\n',
    "$(info,$(shell,touch {marker}))\n",
])
def test_shell_in_kconfig_is_refused_not_run(tmp_path, line):
    marker = tmp_path / "ran"
    err = load_error(tmp_path, 'config A : bool;\nkconfig "Kconfig";\n',
                     {"Kconfig": line.format(marker=marker) + 'config A\n\tbool "a"\n'})
    assert err.code == "E304" and "$(shell,...)" in err.message and "Kconfig:" in err.message
    assert err.span.line == 3 and not marker.exists()


def test_kconfigfunctions_beside_the_spec_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "kconfigfunctions.py").write_text(f"open({str(marker)!r}, 'w').close()\nfunctions = {{}}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Kconfig").write_text('config A\n\tbool "a"\n')
    (tmp_path / "s.probe").write_text('spec "s"\nconfig A : bool;\nkconfig "Kconfig";\n')
    load_file(str(tmp_path / "s.probe"))
    assert not marker.exists()


def test_environment_variables_are_not_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCARCH", "x86")
    err = load_error(tmp_path, 'kconfig "Kconfig";\n', {"Kconfig": 'source "arch/$(SRCARCH)/Kconfig"\n'})
    assert err.code == "E304" and "$(SRCARCH)" in err.message and 'with SRCARCH = "VALUE"' in err.hint


def test_a_spec_reads_no_file_but_kconfig_files(tmp_path):
    err = load_error(tmp_path, 'kconfig "/etc/passwd";\n', {})
    first = open("/etc/passwd").readline().strip()
    assert err.code == "E302" and first not in err.render(None)
    (tmp_path / "secret").write_text("TOP-SECRET-LINE\n")
    (tmp_path / "Kconfig.link").symlink_to(tmp_path / "secret")
    err = load_error(tmp_path, 'kconfig "Kconfig.link";\n', {})
    assert err.code == "E302" and "TOP-SECRET" not in err.render(None)


def test_source_outside_the_tree_is_refused(tmp_path):
    err = load_error(tmp_path, 'kconfig "Kconfig" tree "tree";\n',
                     {"tree/Kconfig": 'source "../Kconfig.outside"\n', "Kconfig.outside": 'config A\n\tbool "a"\n'})
    assert err.code == "E302" and "outside the Kconfig tree" in err.message


def test_parse_error_does_not_quote_the_file(tmp_path):
    err = load_error(tmp_path, 'kconfig "Kconfig";\n', {"Kconfig": 'config A\n\tbool "a"\nTOP-SECRET-LINE here\n'})
    assert err.code == "E303" and "Kconfig:3" in err.message and "TOP-SECRET" not in err.render(None)
    assert "*.probe" not in err.hint


# --- Kconfig trees --------------------------------------------------------------------------

TREE = {
    "linux/drivers/Kconfig": 'source "drivers/cxl/Kconfig"\nsource "arch/$(SRCARCH)/Kconfig.cxl"\n',
    "linux/drivers/cxl/Kconfig": 'config CXL_BUS\n\ttristate "CXL"\n\tdepends on PCI\n'
                                 'config CXL_PCI\n\ttristate "CXL PCI"\n\tdepends on CXL_BUS\n\tselect CXL_HELPER\n',
    "linux/arch/x86/Kconfig.cxl": 'config CXL_HELPER\n\ttristate\n',
}


def test_source_lines_resolve_in_the_tree_with_spec_variables(tmp_path):
    for name, text in TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "s.probe").write_text(
        'spec "tree"\nconfig PCI : bool = y external;\nconfig CXL_BUS : tristate;\nconfig CXL_PCI : tristate;\n'
        'config CXL_HELPER : tristate;\n'
        'kconfig "drivers/Kconfig" tree "linux" with SRCARCH = "x86";\n'
        'invariant helper_follows_pci : CXL_HELPER >= CXL_PCI;\n')
    model, _ = load_file(str(tmp_path / "s.probe"))
    got = {o.result.prop: o.result.verdict for o in check_model(model, "explicit")}
    assert got["helper_follows_pci"] is Verdict.PROVED


# --- diagnostics ------------------------------------------------------------------------------

def test_every_missing_symbol_is_reported_in_one_run(tmp_path):
    for name, text in TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    err = load_error(tmp_path, 'config CXL_PCI : tristate;\nkconfig "drivers/Kconfig" tree "linux" with SRCARCH = "x86";\n', {})
    assert err.code == "E216"
    assert "CXL_BUS (tristate, defined at drivers/cxl/Kconfig:1), read by CXL_PCI (drivers/cxl/Kconfig:4)" in err.message
    assert "PCI (defined in no file read), read by CXL_BUS (drivers/cxl/Kconfig:1)" in err.message
    assert "config CXL_BUS : tristate;" in err.hint and "config PCI : tristate external;" in err.hint


def test_type_mismatch_is_an_error(tmp_path):
    err = load_error(tmp_path, 'config A : tristate;\nconfig B : tristate;\nkconfig "Kconfig";\n',
                     {"Kconfig": 'config A\n\tbool "a"\nconfig B\n\tbool "b"\n'})
    assert err.code == "E306" and "A is tristate in the spec, bool in Kconfig (Kconfig:1)" in err.message
    assert "B is tristate" in err.message and err.span.line == 2


def test_spec_symbol_defined_nowhere_is_an_error_unless_external(tmp_path):
    files = {"Kconfig": 'config CXL_PCI\n\ttristate "a"\n'}
    err = load_error(tmp_path, 'config CXL_PCII : tristate;\nkconfig "Kconfig";\n', files)
    assert err.code == "E307" and "did you mean CXL_PCI?" in err.message
    (tmp_path / "s.probe").write_text('spec "s"\nconfig ACPI : bool external;\nconfig CXL_PCI : tristate;\nkconfig "Kconfig";\n')
    load_file(str(tmp_path / "s.probe"))


def test_fixed_option_is_taken_as_given(tmp_path):
    """A fixed option whose lines name undeclared symbols needs none of them."""
    (tmp_path / "Kconfig").write_text('config PCI\n\tbool "pci"\n\tdepends on HAVE_PCI\nconfig CXL_BUS\n\ttristate "cxl"\n\tdepends on PCI\n')
    (tmp_path / "s.probe").write_text('spec "s"\nconfig PCI : bool = y;\nconfig CXL_BUS : tristate;\nkconfig "Kconfig";\n')
    load_file(str(tmp_path / "s.probe"))


def test_unmodelled_constructs_are_located_errors(tmp_path):
    err = load_error(tmp_path, 'config A : tristate;\nkconfig "Kconfig";\n',
                     {"Kconfig": 'config N\n\tint "n"\nconfig A\n\ttristate "a"\n\tdepends on N > 3\n'})
    assert err.code == "E305" and "N > 3" in err.message


# --- the constraints are IR: every engine and SPIN read them the same way -------------------

TREE_EXAMPLE = "docs/examples/language/kconfig-tree/tree.probe"


def test_kconfig_tree_example_agrees_across_engines_and_spin(tmp_path):
    from pathlib import Path
    from modelcheck.ir import LIVENESS_KINDS
    root = Path(__file__).resolve().parents[1]
    model, _ = load_file(str(root / TREE_EXAMPLE))
    verdicts = {engine: {o.result.prop: o.result.verdict for o in check_model(model, engine)}
                for engine in ("explicit", "foata")}
    # the Z3 engines decide safety only; livelock is the explicit engine's and SPIN's
    safety = {p: v for p, v in verdicts["explicit"].items() if model.property(p).kind not in LIVENESS_KINDS}
    assert safety == verdicts["foata"]
    assert verdicts["explicit"]["imply_forces_mem"] is Verdict.VIOLATED
    assert verdicts["explicit"]["region_selects_dax_cxl"] is Verdict.PROVED
    require_spin()
    ours = {p: "violated" if v is Verdict.VIOLATED else "holds" for p, v in verdicts["explicit"].items()}
    assert spin_verdicts(model, ours, tmp_path) == ours
