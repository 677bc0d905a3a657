"""Every bundled spec decides its properties as its `expect` lines say, and results/ is current."""
import os
import re
from pathlib import Path

import pytest

from modelcheck.report.results import render
from modelcheck.result import Verdict

from spec_results import ROOT, SPEC_PATHS, checked


@pytest.fixture(autouse=True)
def _run_from_the_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)   # spec paths in traces and results are relative to the root


@pytest.mark.parametrize("path", SPEC_PATHS)
def test_spec_verdicts_match_expectations(path):
    model, outcomes = checked(path)
    for o in outcomes:
        assert o.status == "ok", (o.result.prop, o.result.label, o.expect)
        assert o.result.verdict not in (Verdict.BOUNDED, Verdict.TIMEOUT), (o.result.prop, o.result.argument)
        if o.expect == "violation":
            assert o.replay is not None and o.replay.steps
        elif o.expect == "holds":
            assert o.result.verdict is Verdict.PROVED, (o.result.prop, o.result.label)


def test_v7_flush_of_uninitialized_work_is_found_and_v8_fixes_it():
    _, bad = checked("specs/cxl/v7-6of7.probe")
    _, good = checked("specs/cxl/v8-static-work.probe")
    [bad] = [o for o in bad if o.result.prop == "flush_uninitialized_work"]
    [good] = [o for o in good if o.result.prop == "flush_uninitialized_work"]
    assert bad.result.verdict is Verdict.VIOLATED
    last = bad.replay.steps[-1]
    assert last.edge.label.startswith("flush_work(dax_hmem_work)")
    assert last.thread == "kworker:cxl_dax_region_driver_work"
    assert good.result.verdict is Verdict.PROVED


def _mask_times(text: str) -> str:
    return re.sub(r"\d+\.\d+s", "<time>", text)


# written by other tools, not by `modelcheck report`: python -m modelcheck.devtools.soak / .bench / .robustness
# / .extract_eval
HAND_WRITTEN = {Path("soundness.md"), Path("bench.md"), Path("bench.png"), Path("robustness.md"), Path("extract.md")}


def test_results_directory_is_up_to_date():
    """`modelcheck report specs/ -o results/` would write exactly what is committed (times aside)."""
    files = render([(p, *checked(p)) for p in SPEC_PATHS], "explicit")
    committed = {p.relative_to(ROOT / "results").as_posix(): p.read_text()
                 for p in (ROOT / "results").rglob("*")
                 if p.is_file() and p.relative_to(ROOT / "results") not in HAND_WRITTEN}
    assert sorted(files) == sorted(committed), "run: modelcheck report specs/ -o results/"
    for rel, content in files.items():
        assert _mask_times(content) == _mask_times(committed[rel]), f"results/{rel} is stale"


@pytest.mark.parametrize("path", SPEC_PATHS)
def test_folded_steps_change_nothing_the_violation_depends_on(path):
    """Each trace of results/ against its --full-trace: replaying only the steps the folded
    trace shows (every folded step's effect dropped, its thread moved on) reaches the same
    violation."""
    from modelcheck.slicing import relevant_in_replay, replay_without
    model, outcomes = checked(path)
    for o in outcomes:
        if o.replay is None:
            continue
        shown = relevant_in_replay(model, o.replay, o.result.prop)
        replay_without(model, o.result.trace, {s.index for s in o.replay.steps} - shown, o.result.prop)
