"""The soak's bookkeeping: what it counts as inconclusive, and which features its specs used."""
import random
from dataclasses import replace

from modelcheck.devtools import soak, specgen

TINY = """spec "tiny"
module m builtin {
  var f0 : bool = false;
  init { f0 = true; }
}
"""


def test_an_outcome_search_cut_by_a_limit_is_inconclusive_not_a_crash(monkeypatch):
    """The explicit outcome search keeps no partial-order reduction, so it can reach max_depth
    where the verdicts did not (seed 400151 of the size-1 soak): the set is unknown, not wrong."""
    from modelcheck.engines import explicit

    assert soak.compare_spec(TINY, ["f0"]).inconclusive == []

    def cut(*_args, **_kwargs):
        raise explicit.SearchIncomplete("the depth limit (max_depth=80) kept the states at depth 81 "
                                        "from being explored")
    monkeypatch.setattr(explicit, "outcomes", cut)
    result = soak.compare_spec(TINY, ["f0"])
    assert result.ok and result.inconclusive == ["outcomes"]


def test_features_of_names_what_a_spec_uses():
    text = "mutex mx0;\nkref k0 holds f0;\nhotplug device hp0 : hd;\nfn rv0 -> bool { return true; }\n"
    assert set(soak.features_of(text)) == {"mutex", "kref", "hotplug device", "fn returning a value"}
    assert soak.features_of("spec \"empty\"\n") == []


def test_every_feature_the_soak_tallies_occurs_in_random_specs():
    """A marker that never matches would report 0 specs for a feature the generator does make."""
    seen = set()
    for seed in range(300):
        for size in (1, 2):
            seen.update(soak.features_of(specgen.generate(random.Random(seed), size).text))
    assert seen == {label for label, _ in soak.FEATURES}


TWO_VERDICTS = """spec "two verdicts"
module m builtin {
  var f0 : bool = false;
  init { f0 = true; }
}
invariant never_set : not f0;
final set_at_end : f0;
"""


def test_the_spin_soak_compares_every_property_with_spin():
    from spin_agreement import require_spin
    require_spin()
    result = soak.compare_spec(TWO_VERDICTS, ["f0"], against="spin")
    assert result.ok and result.inconclusive == []
    assert result.verdicts["never_set"] == "VIOLATED" and result.verdicts["set_at_end"] == "PROVED"
    assert {"livelock", "deadlock"} <= set(result.verdicts)


def _plant_explicit_verdict(monkeypatch, prop: str, verdict) -> None:
    """The soak's explicit engine answers `verdict` for `prop` (and its reduction check is off)."""
    real = soak.check_model

    def planted(model, engine, options):
        return [replace(o, result=replace(o.result, verdict=verdict))
                if o.prop.name == prop else o for o in real(model, engine, options)]
    monkeypatch.setattr(soak, "check_model", planted)
    monkeypatch.setattr(soak, "reduction_disagreements", lambda *a, **k: [])


def test_the_spin_soak_reports_an_explicit_verdict_spin_does_not_share(monkeypatch):
    """A check that cannot fail is no check: an explicit verdict planted wrong must surface."""
    from spin_agreement import require_spin
    from modelcheck.result import Verdict
    require_spin()
    _plant_explicit_verdict(monkeypatch, "set_at_end", Verdict.VIOLATED)
    result = soak.compare_spec(TWO_VERDICTS, ["f0"], against="spin")
    assert result.disagreements == ["set_at_end: explicit VIOLATED, SPIN holds"]


def test_a_group_keeps_only_the_specs_that_use_one_of_its_features():
    jobs = soak._jobs(20, 0, 1, False, "spin", "device-model")
    assert len(jobs) == 20
    for job in jobs:
        assert set(soak.features_of(soak._spec_text(job))) & set(soak.GROUPS["device-model"])
    every = [j[0] for j in soak._jobs(jobs[-1][0] + 1, 0, 1, False, "spin", None)]
    assert len(every) > 20 and {j[0] for j in jobs} < set(every)


def test_every_group_names_features_the_soak_tallies():
    labels = {label for label, _ in soak.FEATURES}
    for features in soak.GROUPS.values():
        assert set(features) <= labels


def test_the_spin_soak_counts_a_search_cut_by_its_state_limit_as_inconclusive(monkeypatch):
    from spin_agreement import require_spin
    from modelcheck.result import Verdict
    require_spin()
    _plant_explicit_verdict(monkeypatch, "set_at_end", Verdict.BOUNDED)
    result = soak.compare_spec(TWO_VERDICTS, ["f0"], against="spin")
    assert result.ok and result.inconclusive == ["set_at_end (explicit BOUNDED)"]
