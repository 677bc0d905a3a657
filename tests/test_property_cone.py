"""Cone of influence per property (modelcheck/property_cone.py): a property searched on the
threads and steps that can affect what it reads gets the verdict the whole-model search gives,
and a violation found on a cone replays on the whole model.

The reference is the same engine with `cone=False`; random specs, hand-made specs for each way
a cone's answer could differ (a violation, a deadlock, a `final` state a left-out thread
prevents), and the open-options family the cone was made for."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from modelcheck.checker import check_model
from modelcheck.devtools.bench_configs import family_spec
from modelcheck.devtools.specgen import generate
from modelcheck.frontend import load_text
from modelcheck.interp import Interpreter
from modelcheck.property_cone import NO_BLOCKING_ARGUMENT, slices
from modelcheck.result import EngineOptions, Verdict

from rule_helpers import spec

ON_CONES = EngineOptions(timeout=3600.0, max_states=250_000)
WHOLE = replace(ON_CONES, cone=False)
UNDECIDED = (Verdict.BOUNDED, Verdict.TIMEOUT)


def outcomes(text: str, options: EngineOptions, engine: str = "explicit"):
    return {o.prop.name: o for o in check_model(load_text(text, "cone.probe"), engine, options)}


def same_verdicts(text: str, engine: str = "explicit") -> dict:
    """The outcomes on cones, after checking them against the whole-model search."""
    cones, whole = outcomes(text, ON_CONES, engine), outcomes(text, WHOLE, engine)
    assert {n: o.result.verdict for n, o in cones.items()} == {n: o.result.verdict for n, o in whole.items()}
    return cones


def test_modules_no_property_reads_are_left_out():
    """17 open options, each gating a module: each property's search keeps one module."""
    got = outcomes(family_spec("modules", 17), ON_CONES)
    assert {n: o.result.verdict for n, o in got.items()} == {
        "deadlock": Verdict.PROVED, "livelock": Verdict.PROVED, "up_if_built_in": Verdict.PROVED}
    assert "cone of influence (2 of 18 threads" in got["up_if_built_in"].result.argument
    assert "searched as 17 cones of influence" in got["deadlock"].result.argument


@pytest.mark.parametrize("engine", ["explicit", "foata"])
def test_modules_family_keeps_its_verdicts(engine):
    same_verdicts(family_spec("modules", 4), engine)


def test_violation_on_a_cone_replays_on_the_whole_model():
    text = family_spec("modules", 6).replace(
        "final up_if_built_in : OPT0 == y -> up0;\nexpect holds up_if_built_in;",
        "final down_if_built_in : OPT0 == y -> not up0;\nexpect violation down_if_built_in;")
    got = same_verdicts(text)["down_if_built_in"]
    assert got.result.verdict is Verdict.VIOLATED and got.replay is not None
    assert "cone of influence" in got.result.argument
    # A final state of the whole model: the modprobes the cone left out ran too, and none is stuck.
    model = load_text(text, "cone.probe")
    interp = Interpreter(model)
    assert all(pc > 0 for t, pc in zip(model.threads, got.replay.final.pcs) if t.name.startswith("udev"))
    assert next(iter(interp.enabled(got.replay.final)), None) is None and not interp.stuck_threads(got.replay.final)


LOCKS = """
    builtin core {
      mutex la; mutex lb;
      var done0 : bool = false;
      var done1 : bool = false;
    }
    module m loadable { init { mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la); } }
    module x0 loadable { init { done0 = true; } }
    module x1 loadable { init { done1 = true; } }
    userspace load { modprobe(m); }
    userspace load_x { modprobe(x0); modprobe(x1); }
    userspace other { mutex_lock(lb); mutex_lock(la); mutex_unlock(la); mutex_unlock(lb); }
"""


def test_deadlock_in_one_cone_stops_every_thread_of_the_whole_model():
    """AB-BA between m's init and `other`; x0 and x1 are left out of that cone, then run to
    their end on the lifted trace, so its last state is a deadlock of the whole model."""
    got = same_verdicts(spec("AB-BA beside two modules", LOCKS))
    dead = got["deadlock"]
    assert dead.result.verdict is Verdict.VIOLATED
    model = load_text(spec("AB-BA beside two modules", LOCKS), "cone.probe")
    interp = Interpreter(model)
    assert next(iter(interp.enabled(dead.replay.final)), None) is None
    assert "cone of influence" in dead.result.argument


def test_final_state_a_left_out_thread_prevents_is_searched_on_the_whole_model():
    """On its cone `flag_set` fails at once; but `waiter` (left out) never finishes, so the whole
    model has no final state: lifting fails and the whole-model search decides."""
    text = spec("a waiter that never wakes", """
        builtin core { completion never; var flag : bool = false; }
        module m loadable { init { flag = false; } }
        userspace load { modprobe(m); }
        userspace waiter { wait_for_completion(never); }
        final flag_set : flag;
    """)
    got = same_verdicts(text)
    assert got["flag_set"].result.verdict is not Verdict.VIOLATED
    assert "cone of influence" not in got["flag_set"].result.argument
    assert got["deadlock"].result.verdict is Verdict.VIOLATED


def test_no_thread_that_can_block_means_no_deadlock():
    """Only the boot thread, whose every location has a step enabled in every state."""
    text = spec("boot only", """
        config A : tristate;
        module m builtin { var up : bool = false; init { up = A != n; } }
        invariant up_only_if_configured : up -> A != n;
    """)
    model = load_text(text, "cone.probe")
    assert slices(model, ["deadlock"]) == ([], ["deadlock"])
    got = same_verdicts(text)
    assert got["deadlock"].result.verdict is Verdict.PROVED
    assert got["deadlock"].result.argument == NO_BLOCKING_ARGUMENT


RANDOM_SEEDS = range(60)
USED_A_CONE = []


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_specs_keep_their_verdicts_on_cones(seed):
    text = generate(random.Random(seed), 1 + seed % 2).text
    model = load_text(text, "cone.probe")
    if any(not piece.whole for piece in slices(model, [p.name for p in model.properties])[0]):
        USED_A_CONE.append(seed)
    cones, whole = outcomes(text, ON_CONES), outcomes(text, WHOLE)
    for name, o in whole.items():
        if o.result.verdict in UNDECIDED or cones[name].result.verdict in UNDECIDED:
            continue
        assert cones[name].result.verdict == o.result.verdict, (seed, name)


def test_most_random_specs_were_searched_on_a_cone():
    """Runs after the test above (file order): the comparison was not between two whole searches."""
    if not USED_A_CONE:
        pytest.skip("the random-spec comparison did not run")
    assert len(USED_A_CONE) >= len(RANDOM_SEEDS) // 2, USED_A_CONE
