"""Constraints read from real Kconfig files: a changed `depends on` line changes the verdict."""
from modelcheck.checker import check_model
from modelcheck.errors import SpecError
from modelcheck.frontend import load_file
from modelcheck.result import Verdict

import pytest

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
