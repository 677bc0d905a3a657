"""Every engine agrees with the others: random IR models and small specs, all properties."""
import random
from pathlib import Path

import pytest

from modelcheck.ir import is_liveness
from modelcheck.checker import run_engine
from modelcheck.frontend import load_file
from modelcheck.replay import confirm_violation
from modelcheck.result import EngineOptions, Verdict

from test_engine_bmc import random_model

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = EngineOptions(max_depth=80, timeout=60)
ENGINES = ("explicit", "foata", "bmc")


def verdicts(model, engine):
    props = [p.name for p in model.properties if not is_liveness(p)]   # liveness: SPIN cross-checks it
    results = run_engine(engine, model, props, OPTIONS)
    for name, r in results.items():
        if r.verdict is Verdict.VIOLATED:
            confirm_violation(model, r.trace, name)   # each engine's trace replays on the IR
    return {name: r.verdict for name, r in results.items()}


@pytest.mark.parametrize("seed", range(60))
def test_engines_agree_on_random_models(seed):
    model = random_model(random.Random(seed))
    answers = {engine: verdicts(model, engine) for engine in ENGINES}
    assert answers["foata"] == answers["explicit"], seed
    assert answers["bmc"] == answers["explicit"], seed


def test_engines_agree_on_the_tour_spec():
    model, _ = load_file(str(ROOT / "docs/examples/tour.probe"))
    answers = {engine: verdicts(model, engine) for engine in ENGINES}
    assert answers["explicit"]["flush_uninitialized_work"] is Verdict.VIOLATED
    assert answers["foata"] == answers["explicit"] == answers["bmc"]


def test_shortest_traces_have_the_same_length_in_explicit_and_bmc():
    model, _ = load_file(str(ROOT / "docs/examples/tour.probe"))
    explicit = run_engine("explicit", model, ["flush_uninitialized_work"], OPTIONS)
    bmc = run_engine("bmc", model, ["flush_uninitialized_work"], OPTIONS)
    assert len(explicit["flush_uninitialized_work"].trace.steps) == len(bmc["flush_uninitialized_work"].trace.steps)
