"""SPIN agrees with the explicit engine on every property of every bundled spec.

Each spec is exported once (modelcheck.promela, all properties selectable at run time),
compiled into one pan with gcc -O0; pan decides every assertion property of the spec in
(violated properties + 1) runs and deadlock in one more. When CI is set, a
missing SPIN is a failure, not a skip: this cross-check must run there.
"""
import os

import pytest

from modelcheck.frontend import load_file, load_text
from modelcheck.checker import check_model
from modelcheck.promela import SpinBuild, parse_pan, to_promela
from modelcheck.ir import LIVENESS_KINDS
from modelcheck.result import Verdict

from spec_results import ROOT, SPEC_PATHS, checked
from spin_agreement import require_spin

TOUR = "docs/examples/tour.probe"


_require_spin = require_spin    # the name the other test files import


def _outcomes(rel_path):
    if rel_path == TOUR:
        model = load_text((ROOT / rel_path).read_text(encoding="utf-8"), rel_path)
        return model, check_model(model, "explicit")
    return checked(rel_path)


@pytest.mark.parametrize("rel_path", SPEC_PATHS + [TOUR])
def test_spin_verdicts_equal_explicit(rel_path, tmp_path):
    _require_spin()
    model, outcomes = _outcomes(rel_path)
    ours = {}
    for outcome in outcomes:
        verdict = outcome.result.verdict
        if verdict in (Verdict.BOUNDED, Verdict.TIMEOUT):
            continue   # no verdict of ours to compare (test_specs reports it)
        ours[outcome.prop.name] = "violated" if verdict is Verdict.VIOLATED else "holds"
    live = {name: ours.pop(name) for name in list(ours) if model.property(name).kind in LIVENESS_KINDS}
    if live and (rel_path == TOUR or os.environ.get("MODELCHECK_SPIN_LIVENESS_SEEDS")):
        # pan -a -f on the bundled specs takes minutes each on a shared machine: the tour always,
        # the specs when asked (the examples, rule specs and random specs always, elsewhere)
        from modelcheck.promela_liveness import LivenessBuild
        with LivenessBuild(model, list(live)) as build:
            assert {name: build.run(name).verdict for name in live} == live
    if not ours:
        pytest.skip(f"the explicit engine decides no property of {rel_path}")
    with SpinBuild(model, list(ours), str(tmp_path)) as build:
        # The tour runs pan once per property; the specs let one run decide every assertion
        # property that holds (see SpinBuild.decide_all).
        spin = ({name: build.run(name) for name in ours} if rel_path == TOUR
                else build.decide_all())
    assert all(run.complete for run in spin.values()), \
        {name: run.output[-800:] for name, run in spin.items() if not run.complete}
    assert {name: run.verdict for name, run in spin.items()} == ours


def test_export_single_property_has_no_selector():
    model, _ = _outcomes(TOUR)
    text = to_promela(model, ["deadlock"])
    assert "c_expr" not in text and "assert" not in text
    assert "end_L" in text and "proctype" in text and "init {" in text


def test_simultaneous_assignments_use_temporaries():
    from modelcheck.ir import Edge, Location, Model, Property, Ref, Thread, Variable, TRUE
    swap = Edge(TRUE, (("a", Ref("b")), ("b", Ref("a"))), 1, "swap")
    model = Model("swap", "swap.probe", (Variable("a", 0, 3, 1), Variable("b", 0, 3, 2)),
                  (Thread("t", (Location((swap,)),)),),
                  properties=(Property("deadlock", "deadlock", "no deadlock"),))
    text = to_promela(model)
    assert "tmp_0 = v_b;" in text and "v_b = v_a;" in text and "v_a = tmp_0;" in text


def test_pan_output_without_errors_line_is_an_error():
    with pytest.raises(RuntimeError):
        parse_pan("pan: something went wrong")


def test_missing_spin_fails_under_ci(monkeypatch):
    import spin_agreement
    monkeypatch.setattr(spin_agreement, "spin_available", lambda: False)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception):
        _require_spin()


def test_export_command(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "tour.pml"
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "export", "--promela", TOUR,
                           "--property", "flush_uninitialized_work", "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "assert(" in text and "flush_uninitialized_work" in text and "c_expr" not in text
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "export", "--promela", TOUR,
                           "--property", "no_such_property"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no_such_property" in proc.stderr


# --- liveness: never claims under weak fairness (modelcheck.promela_liveness) -----------------

LIVENESS_EXAMPLES = sorted((ROOT / "docs/examples/liveness").glob("*.probe"))


def test_the_safety_export_leaves_liveness_to_never_claims():
    from modelcheck.promela_liveness import liveness_promela
    model, _ = load_file(str(LIVENESS_EXAMPLES[0]))
    assert "never" not in to_promela(model)
    text = liveness_promela(model)
    live = [p for p in model.properties if p.kind in ("eventually", "always_eventually", "leads_to",
                                                      "livelock", "hung_task")]
    assert text.count("\nnever c_") == len(live) and "tick = 1 - tick;" in text


@pytest.mark.usefixtures("spin")
@pytest.mark.parametrize("path", LIVENESS_EXAMPLES, ids=lambda p: p.name)
def test_spin_agrees_on_every_liveness_verdict_of_the_examples(path):
    """pan -a -f on each never claim: a fair acceptance cycle exactly where the explicit engine
    finds a lasso (tests/test_liveness.py holds the rule specs and random specs to the same)."""
    from modelcheck.checker import check_model
    from modelcheck.ir import is_liveness
    from modelcheck.promela_liveness import LivenessBuild
    model, _ = load_file(str(path))
    names = [p.name for p in model.properties if is_liveness(p)]
    mine = {o.prop.name: o.result.verdict.name for o in check_model(model, "explicit", only=names)}
    with LivenessBuild(model, names) as build:
        theirs = {name: build.run(name).verdict for name in names}
    assert {n: {"VIOLATED": "violated", "PROVED": "holds"}[v] for n, v in mine.items()} == theirs


DEVICE_INSTANCE_SPECS = {
    "added twice": ("device_add(d0); device_add(d0);", ""),
    "two platform devices": ("platform_device_add(d0); platform_device_add(d0);", " instances 2"),
    "past the bound": ("device_add(d0); platform_device_add(d0); platform_device_add(d0);", " instances 2"),
}


@pytest.mark.parametrize("title", sorted(DEVICE_INSTANCE_SPECS))
def test_spin_agrees_on_device_added_twice_and_device_instances(title, tmp_path):
    """device_add of an added device (drivers/base/core.c device_add -> kobject_add: -EEXIST)
    and platform_device_add past the spec's `instances N` export to Promela (instance names
    such as `d0#2` become identifiers) and SPIN gives the explicit engine's verdicts."""
    _require_spin()
    adds, instances = DEVICE_INSTANCE_SPECS[title]
    text = f'''spec "{title}"
module m loadable {{
  driver d {{ probe {{ }} remove {{ }} }}
  device d0 : d{instances};
  init {{ register_driver(d); {adds} }}
}}
'''
    model = load_text(text, "instances.probe")
    names = [p.name for p in model.properties if p.name in ("device_added_twice", "device_instances")]
    assert names
    ours = {o.prop.name: "violated" if o.result.verdict is Verdict.VIOLATED else "holds"
            for o in check_model(model, "explicit", only=names)}
    with SpinBuild(model, names, str(tmp_path)) as build:
        spin = {name: build.run(name) for name in names}
    assert all(run.complete for run in spin.values())
    assert {name: run.verdict for name, run in spin.items()} == ours
    assert "violated" in ours.values() or title == "two platform devices"
