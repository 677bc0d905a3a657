"""The flawed-and-fixed examples of device-model bug classes (docs/examples/devmodel/): each
is checked with the explicit and foata engines, which must agree with each other and with
the spec's `expect` lines (a flawed spec's expected violation must be found, a fixed one's
expected property must hold)."""
from pathlib import Path

import pytest

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Verdict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs/examples/devmodel").glob("*.probe"))


@pytest.mark.parametrize("rel_path", EXAMPLES)
def test_example_verdicts_match_expectations_in_both_engines(rel_path):
    model = load_text((ROOT / rel_path).read_text(encoding="utf-8"), rel_path)
    expected = {p.name: p.expect for p in model.properties if p.expect}
    assert expected, f"{rel_path} states no expectation"
    seen = {}
    for engine in ("explicit", "foata"):
        outcomes = check_model(model, engine, EngineOptions(max_depth=80, timeout=1800), list(expected))
        seen[engine] = {o.prop.name: o.result.verdict for o in outcomes}
    assert seen["explicit"] == seen["foata"], seen
    for name, want in expected.items():
        got = seen["explicit"][name]
        assert got is (Verdict.VIOLATED if want == "violation" else Verdict.PROVED), (name, got)


def test_flawed_examples_come_with_a_fix():
    names = {Path(p).name for p in EXAMPLES}
    for name in names:
        if name.endswith("-flawed.probe"):
            assert name.replace("-flawed", "-fixed") in names, name
