"""The soak's bookkeeping: what it counts as inconclusive, and which features its specs used."""
import random

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
