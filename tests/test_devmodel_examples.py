"""The flawed-and-fixed examples of device-model bug classes (docs/examples/devmodel/): each
is checked with the explicit engine and with SPIN on its Promela export, which must agree
with each other and with the spec's `expect` lines (a flawed spec's expected violation must
be found, a fixed one's expected property must hold). SPIN, not foata, is the second engine
here: the examples' traces are 40 steps long, and foata's unrolling takes many minutes on
them (MODELCHECK_FOATA_EXAMPLES=1 adds it)."""
import os
from pathlib import Path

import pytest

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.promela import SpinBuild
from modelcheck.result import EngineOptions, Verdict
from spin_agreement import require_spin

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs/examples/devmodel").glob("*.probe"))


@pytest.mark.parametrize("rel_path", EXAMPLES)
def test_example_verdicts_match_expectations_in_two_engines(rel_path, tmp_path):
    require_spin()
    model = load_text((ROOT / rel_path).read_text(encoding="utf-8"), rel_path)
    expected = {p.name: p.expect for p in model.properties if p.expect}
    assert expected, f"{rel_path} states no expectation"
    outcomes = check_model(model, "explicit", EngineOptions(max_depth=80), list(expected))
    explicit = {o.prop.name: o.result.verdict for o in outcomes}
    for name, want in expected.items():
        assert explicit[name] is (Verdict.VIOLATED if want == "violation" else Verdict.PROVED), (name, explicit)
    with SpinBuild(model, list(expected), str(tmp_path)) as build:
        spin = build.decide_all()
    assert all(run.complete for run in spin.values()), {n: r.output[-800:] for n, r in spin.items()}
    assert {n: r.verdict for n, r in spin.items()} == \
        {n: "violated" if v is Verdict.VIOLATED else "holds" for n, v in explicit.items()}
    if os.environ.get("MODELCHECK_FOATA_EXAMPLES"):
        outcomes = check_model(model, "foata", EngineOptions(max_depth=80, timeout=1800), list(expected))
        assert {o.prop.name: o.result.verdict for o in outcomes} == explicit


def test_flawed_examples_come_with_a_fix():
    names = {Path(p).name for p in EXAMPLES}
    for name in names:
        if name.endswith("-flawed.probe"):
            assert name.replace("-flawed", "-fixed") in names, name
