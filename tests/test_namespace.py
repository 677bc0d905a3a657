"""The checker's own state lives in a namespace no spec can name, so no spec variable aliases it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelcheck.frontend import load_file, load_text
from rule_helpers import PROVED, expect, spec

SPEC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")     # the grammar's NAME
SPEC_ROLES = {"state", "config", "platform"}            # variables a spec declares by name
SPECS = sorted(Path(__file__).resolve().parent.parent.glob("specs/**/*.probe"))


def test_user_boot_done_does_not_start_userspace_early():
    """A module variable named like the checker's boot flag is the spec's own variable:
    userspace still starts only after the late initcalls ran."""
    expect(spec("alias", """
        builtin core { var ready : bool = false; initcall late { ready = true; } }
        module m loadable { var boot_done : bool = true; init { } }
        userspace u { assert r : ready; }
        expect holds r;
    """), r=PROVED)


def test_user_names_of_internal_variables_stay_distinct():
    """Declaring a variable under each internal variable's bare name adds a variable; none is shared."""
    text = spec("alias", """
        builtin core { var ready : bool = false; initcall late { ready = true; } }
        module m loadable {
            var boot_done : bool = false; var usermodehelpers_enabled : bool = false;
            var deferred_probe_enable : bool = false;
            init { }
        }
        userspace u { assert r : ready; }
    """)
    names = [v.name for v in load_text(text, file="alias.probe").variables]
    assert len(names) == len(set(names))
    assert {"boot_done", "usermodehelpers_enabled", "deferred_probe_enable", "kernel:boot_done"} <= set(names)


@pytest.mark.parametrize("path", SPECS[:6], ids=lambda p: p.stem)
def test_internal_variables_have_names_no_spec_can_write(path):
    """Every variable the checker adds has a name outside the grammar's NAME; every declared one inside."""
    model, _ = load_file(str(path))
    for v in model.variables:
        nameable = SPEC_NAME.fullmatch(v.name) is not None
        assert nameable == (v.role in SPEC_ROLES), (v.name, v.role)
