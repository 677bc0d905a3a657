"""check --certify: the explicit engine's PROVED verdicts backed by invariants a separate Z3
solver checks (modelcheck/engines/certify.py)."""
from __future__ import annotations

import random
import time
from pathlib import Path

import z3

from modelcheck.checker import check_model
from modelcheck.devtools.specgen import generate
from modelcheck.engines import certify
from modelcheck.engines.chc import Encoding, invariant_holds
from modelcheck.engines.liveness import build_graph
from modelcheck.frontend import load_file, load_text
from modelcheck.result import EngineOptions, Verdict
from modelcheck.ir import LIVENESS_KINDS

ROOT = Path(__file__).resolve().parent.parent
FAR = time.monotonic() + 3600


def test_a_proved_deadlock_of_the_tour_is_certified_by_its_reachable_set():
    model, _ = load_file(str(ROOT / "docs/examples/tutorial/2-dax-cxl.probe"))
    outcomes = check_model(model, "explicit", EngineOptions(certify=True))
    proved = [o for o in outcomes if o.result.verdict is Verdict.PROVED]
    safety = [o for o in proved if o.prop.kind not in LIVENESS_KINDS]
    assert safety and len(safety) < len(proved)
    for o in safety:
        assert "certified: the set of its" in o.result.argument, o.result.argument
        assert o.result.invariant and "reachable states" in o.result.invariant
    for o in proved:
        if o.prop.kind in LIVENESS_KINDS:   # a cycle argument, not an invariant: left as it was
            assert "certified" not in o.result.argument and o.result.invariant is None


def test_the_certificate_check_fails_when_a_reachable_state_is_left_out():
    """The check can fail: the reachable set without one non-initial state is not closed
    under the steps, and the separate solver says so."""
    model, _ = load_file(str(ROOT / "docs/examples/tutorial/2-dax-cxl.probe"))
    graph = build_graph(model, EngineOptions(), FAR)
    enc = Encoding(model)
    deadlock = model.property("deadlock")
    assert invariant_holds(enc, certify.reachable_set(enc, graph.states), enc.bad(deadlock), FAR)
    missing = graph.states[len(graph.states) // 2]
    assert missing not in [graph.states[i] for i in graph.initial]
    partial = [s for s in graph.states if s != missing]
    assert not invariant_holds(enc, certify.reachable_set(enc, partial), enc.bad(deadlock), FAR)


def test_a_violated_property_is_never_certified():
    model, _ = load_file(str(ROOT / "docs/examples/tour.probe"))
    prop = model.property("flush_uninitialized_work")
    [cert] = certify.certify(model, [prop], FAR)
    assert not cert.certified and "disagree" in cert.reason


def test_houdini_certifies_a_two_thread_spec_and_its_invariant_rechecks(monkeypatch):
    """Beyond EXACT_LIMIT states the candidates mined per location are made inductive; the
    result is re-checked by chc.invariant_holds before it counts."""
    monkeypatch.setattr(certify, "EXACT_LIMIT", 0)
    text = '''spec "two writers"
builtin core {
  var a : bool = false;
  var b : bool = false;
  initcall device { a = true; }
  initcall late { b = true; }
}
invariant b_after_a : b -> a;
'''
    model = load_text(text, file="rule.probe")
    [cert] = certify.certify(model, [model.property("b_after_a")], FAR)
    assert cert.certified and not cert.exact, cert.reason
    enc = Encoding(model)
    assert invariant_holds(enc, cert.invariant, enc.bad(model.property("b_after_a")), FAR)


def test_certificates_agree_with_the_search_on_random_specs():
    """Every certified property is one the explicit search proved, and no violated one is
    certified, on random specs (both ways: each run certifies some and refuses some)."""
    certified = refused = 0
    rng = random.Random(7)
    for _ in range(12):
        model = load_text(generate(random.Random(rng.randrange(10**9)), size=0).text, file="random.probe")
        outcomes = {o.prop.name: o.result.verdict for o in check_model(model, "explicit", EngineOptions())}
        props = [p for p in model.properties if p.kind in certify.SAFETY_KINDS
                 and outcomes.get(p.name) in (Verdict.PROVED, Verdict.VIOLATED)]
        for prop, cert in zip(props, certify.certify(model, props, FAR)):
            if outcomes[prop.name] is Verdict.VIOLATED:
                assert not cert.certified, (model.file, prop.name)
                refused += 1
            elif cert.certified:
                certified += 1
    assert certified and refused
