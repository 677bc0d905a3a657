"""Every bundled spec decides its properties as its `expect` lines say (explicit engine)."""
from pathlib import Path

import pytest

from modelcheck.checker import check_model
from modelcheck.frontend import load_file
from modelcheck.result import EngineOptions, Verdict

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(ROOT.glob("specs/**/*.probe"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_spec_verdicts_match_expectations(path):
    model, _ = load_file(str(path))
    outcomes = check_model(model, "explicit", EngineOptions(timeout=600))
    for o in outcomes:
        assert o.status == "ok", (o.result.prop, o.result.label, o.expect)
        assert o.result.verdict not in (Verdict.BOUNDED, Verdict.TIMEOUT), (o.result.prop, o.result.argument)
        if o.expect == "violation":
            assert o.result.verdict is Verdict.VIOLATED, o.result.prop
            assert o.replay is not None and o.replay.steps
        elif o.expect == "holds":
            assert o.result.verdict is Verdict.PROVED, (o.result.prop, o.result.label)


def test_v7_flush_of_uninitialized_work_is_found_and_v8_fixes_it():
    v7, _ = load_file(str(ROOT / "specs/cxl/v7-6of7.probe"))
    v8, _ = load_file(str(ROOT / "specs/cxl/v8-static-work.probe"))
    only = ["flush_uninitialized_work"]
    [bad] = check_model(v7, "explicit", EngineOptions(), only)
    [good] = check_model(v8, "explicit", EngineOptions(), only)
    assert bad.result.verdict is Verdict.VIOLATED
    last = bad.replay.steps[-1]
    assert last.edge.label.startswith("flush_work(dax_hmem_work)")
    assert last.thread == "kworker:cxl_dax_region_driver_work"
    assert good.result.verdict is Verdict.PROVED
