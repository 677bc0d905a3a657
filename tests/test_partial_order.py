"""Partial-order reduction in the explicit engine (modelcheck.engines.por) never changes a verdict.

The reduced search decides, the unreduced one is the reference: on real specs, on random specs
and on hand-made models that a reduction without visibility or the cycle proviso would get wrong.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from modelcheck.devtools.bench import family_spec
from modelcheck.engines import explicit
from modelcheck.frontend import load_file, load_text
from modelcheck.ir import TRUE, Arith, Cmp, Const, Edge, Location, Model, Property, Ref, Thread, Variable
from modelcheck.result import EngineOptions, Verdict
from modelcheck.devtools.specgen import generate

ROOT = Path(__file__).resolve().parents[1]
REDUCED = EngineOptions(timeout=120.0)
UNREDUCED = EngineOptions(timeout=120.0, reduction=False)
# Random specs: both searches stop at a state limit, not a time limit, so which specs are too
# large for the unreduced reference does not depend on the machine's load; those are skipped
# (shown in the summary) and test_few_random_specs_were_too_large bounds how many.
RANDOM_REDUCED = EngineOptions(timeout=3600.0, max_states=250_000)
RANDOM_UNREDUCED = EngineOptions(timeout=3600.0, max_states=250_000, reduction=False)
TOO_LARGE = {"specs": 0, "too large": 0}
# The seed specs whose unreduced search takes well under a second; the whole of specs/cxl is
# compared by `python tests/test_partial_order.py`.
SMALL_SPECS = ["specs/cxl/v4-register-dax.probe", "specs/cxl/v5-register-dax.probe",
               "specs/cxl/v7-exit-flush.probe", "specs/cxl/v8-exit-flush.probe",
               "specs/cxl/window-order-one-srat-entry.probe", "specs/cxl/window-order-option2.probe",
               "specs/cxl/window-order-srat-per-window.probe", "specs/cxl/cxl-acpi-sr-worker.probe",
               "docs/examples/tour.probe"]


def assert_same_verdicts(model):
    names = [p.name for p in model.properties]
    reduced = explicit.check_all(model, names, REDUCED)
    unreduced = explicit.check_all(model, names, UNREDUCED)
    for name in names:
        assert reduced[name].verdict == unreduced[name].verdict, (model.file, name)
        # Violations are traced by the unreduced search either way: shortest, fewest switches.
        assert reduced[name].trace == unreduced[name].trace, (model.file, name)
    return reduced


@pytest.mark.parametrize("path", SMALL_SPECS)
def test_seed_specs_keep_their_verdicts(path):
    model, _ = load_file(str(ROOT / path))
    assert_same_verdicts(model)


def random_spec_model(seed: int):
    """The random spec of `seed` (sizes 1 and 2 in turn), counted for the too-large bound."""
    TOO_LARGE["specs"] += 1
    spec = generate(random.Random(seed), 1 + seed % 2)
    return load_text(spec.text, f"random-{seed}.probe")


def skip_too_large(why: str):
    TOO_LARGE["too large"] += 1
    pytest.skip(f"too large for the unreduced reference search: {why}")


@pytest.mark.parametrize("seed", range(100))
def test_random_specs_keep_their_verdicts(seed):
    model = random_spec_model(seed)
    names = [p.name for p in model.properties]
    unreduced = explicit.check_all(model, names, RANDOM_UNREDUCED)
    undecided = [n for n, r in unreduced.items() if r.verdict in (Verdict.BOUNDED, Verdict.TIMEOUT)]
    if undecided:
        skip_too_large(unreduced[undecided[0]].argument)
    reduced = explicit.check_all(model, names, RANDOM_REDUCED)
    for name in names:
        assert reduced[name].verdict == unreduced[name].verdict, (model.file, name)
        assert reduced[name].trace == unreduced[name].trace, (model.file, name)


@pytest.mark.parametrize("seed", range(100))
def test_random_specs_keep_their_final_states(seed):
    """Persistent sets keep every terminal state: final_states is the same set either way."""
    model = random_spec_model(seed)
    observe = [v.name for v in model.variables]
    try:
        everything = explicit.final_states(model, observe, RANDOM_UNREDUCED)
    except explicit.SearchIncomplete as exc:
        skip_too_large(str(exc))
    assert explicit.final_states(model, observe, RANDOM_REDUCED) == everything


def test_few_random_specs_were_too_large():
    """Runs after the two above (file order): at most 5% of their random specs were skipped."""
    if TOO_LARGE["specs"] == 0:
        pytest.skip("the random-spec tests did not run")
    assert TOO_LARGE["too large"] <= 0.05 * TOO_LARGE["specs"], TOO_LARGE


def test_seed_spec_final_states_are_kept():
    model, _ = load_file(str(ROOT / "specs/cxl/v7-exit-flush.probe"))
    observe = [v.name for v in model.variables]
    assert explicit.final_states(model, observe, REDUCED) == explicit.final_states(model, observe, UNREDUCED)


def stored_states(model, names, reduce: bool) -> int:
    return len(explicit._search(model, names, EngineOptions(), reduce=reduce)[1].nodes)


def test_family_model_is_searched_in_fewer_states():
    model = load_text(family_spec(1, 1, 3, bug=False), "bench/modules-3-fix.probe")
    reduced, unreduced = (stored_states(model, ["flush_uninitialized_work"], r) for r in (True, False))
    assert reduced * 10 < unreduced, (reduced, unreduced)
    result = explicit.check(model, "flush_uninitialized_work", REDUCED)
    assert result.verdict is Verdict.PROVED
    assert "up to partial-order reduction" in result.argument


def test_reduction_option_off_searches_every_state():
    model = load_text(family_spec(1, 1, 2, bug=False), "bench/modules-2-fix.probe")
    result = explicit.check(model, "flush_uninitialized_work", UNREDUCED)
    assert result.argument.startswith(f"all {stored_states(model, ['flush_uninitialized_work'], False)} "
                                      "reachable states explored")


# --- hand-made models ------------------------------------------------------------

def var(name, hi=1):
    return Variable(name, 0, hi, 0)


def step(target, **assigns):
    return Edge(TRUE, tuple(assigns.items()), target, f"->{target}")


def make(variables, threads, props):
    return Model("m", "m.spec", tuple(variables), tuple(threads), (), tuple(props))


def test_an_independent_endless_loop_does_not_hide_a_violation():
    # `spin` toggles its own variable forever, independent of everything: a reduction that kept
    # choosing it would never let `writer` break the invariant (the cycle proviso prevents that).
    spin = Thread("spin", (Location((step(0, p=Arith("-", Const(1), Ref("p"))),)),))
    writer = Thread("writer", (Location((step(1, x=Const(1)),)),))
    bad = Property("x_zero", "invariant", "x stays 0", Cmp("==", Ref("x"), Const(0)))
    model = make([var("p"), var("x")], [spin, writer], [bad])
    assert explicit.check(model, "x_zero", REDUCED).verdict is Verdict.VIOLATED


def test_steps_an_invariant_reads_are_not_reordered_away():
    # Two threads each set their own flag; only the state with b alone set is bad. Both steps
    # are independent, so only their visibility keeps that intermediate state in the search
    # (a reduction would explore a's step alone first, the thread with the lower number).
    a = Thread("a", (Location((step(1, a=Const(1)),)),))
    b = Thread("b", (Location((step(1, b=Const(1)),)),))
    bad = Property("not_b_alone", "invariant", "never b without a",
                   Cmp("!=", Arith("-", Ref("b"), Ref("a")), Const(1)))
    model = make([var("a"), var("b")], [a, b], [bad])
    assert explicit.check(model, "not_b_alone", REDUCED).verdict is Verdict.VIOLATED


def test_a_deadlock_behind_independent_steps_is_found():
    # `blocked` waits for go == 1, which nobody sets; `free` has independent steps. The reduced
    # search still reaches the terminal state where `blocked` is stuck.
    free = Thread("free", (Location((step(1, f=Const(1)),)), Location((step(2, g=Const(1)),))))
    blocked = Thread("blocked", (Location((Edge(Cmp("==", Ref("go"), Const(1)), (), 1, "wait"),)),))
    model = make([var("f"), var("g"), var("go")], [free, blocked],
                 [Property("deadlock", "deadlock", "no deadlock")])
    result = explicit.check(model, "deadlock", REDUCED)
    assert result.verdict is Verdict.VIOLATED


if __name__ == "__main__":
    # The whole comparison, every spec in specs/cxl: minutes of unreduced search.
    for path in sorted((ROOT / "specs/cxl").glob("*.probe")):
        assert_same_verdicts(load_file(str(path))[0])
        print(f"{path.name}: same verdicts and traces")


def test_a_reduction_that_keeps_most_steps_is_given_up_for_the_plain_search(monkeypatch):
    """Reviewed once: when the sets keep more than KEPT_SHARE_TO_GIVE_UP of the steps offered,
    the search starts over unreduced, and its results are exactly the unreduced search's."""
    model, _ = load_file(str(ROOT / "specs/cxl/v7-exit-flush.probe"))
    names = [p.name for p in model.properties]
    monkeypatch.setattr(explicit, "REVIEW_AFTER_STEPS", 10)
    monkeypatch.setattr(explicit, "KEPT_SHARE_TO_GIVE_UP", 0.0)   # any kept step is too many
    given_up = explicit.check_all(model, names, REDUCED)
    unreduced = explicit.check_all(model, names, UNREDUCED)
    for name in names:
        assert (given_up[name].verdict, given_up[name].trace, given_up[name].argument) == \
            (unreduced[name].verdict, unreduced[name].trace, unreduced[name].argument), name
    monkeypatch.setattr(explicit, "KEPT_SHARE_TO_GIVE_UP", 1.0)   # never given up
    kept = explicit.check_all(model, names, REDUCED)
    assert any("partial-order reduction" in r.argument for r in kept.values())
