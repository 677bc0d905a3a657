"""The chc engine (Spacer): agrees with the explicit engine, proves unbounded loops with an
invariant that passes an independent certificate check, and its violations replay."""
import random
from collections import deque
from pathlib import Path

import pytest
import z3

from modelcheck.ir import is_liveness
from modelcheck.checker import run_engine
from modelcheck.cli import main
from modelcheck.engines import chc
from modelcheck.frontend import load_file, load_text
from modelcheck.interp import Interpreter
from modelcheck.ir import Arith, BoolOp, Check, Cmp, Const, Property, Ref
from modelcheck.replay import confirm_violation
from modelcheck.result import EngineOptions, Verdict
from modelcheck.devtools.specgen import generate

from rule_helpers import spec
from test_engine_bmc import edge, loc, model, random_model, thread, var
from test_kernel_rules import REQUEUE

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = EngineOptions(max_depth=80, timeout=30)
INCONCLUSIVE = (Verdict.BOUNDED, Verdict.TIMEOUT)


QUICK = EngineOptions(max_depth=80, timeout=2)   # random specs: Spacer may give up, it must never disagree


def verdicts(m, engine, options=OPTIONS):
    results = run_engine(engine, m, [p.name for p in m.properties if not is_liveness(p)], options)
    for name, r in results.items():
        if r.verdict is Verdict.VIOLATED:
            confirm_violation(m, r.trace, name)   # raises unless the trace replays to the violation
    return {name: r.verdict for name, r in results.items()}


def assert_agrees(m, label, options=OPTIONS, may_time_out=False):
    """chc's verdicts equal the explicit engine's; with `may_time_out`, TIMEOUT is allowed too."""
    mine, theirs = verdicts(m, "chc", options), verdicts(m, "explicit")
    assert not any(v in INCONCLUSIVE for v in theirs.values()), label
    for name, verdict in theirs.items():
        if may_time_out and mine[name] is Verdict.TIMEOUT:
            continue
        assert mine[name] is verdict, f"{label}: {name}: explicit {verdict.name}, chc {mine[name].name}"


# --- (a) agreement with the explicit engine ---

@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/examples/language").glob("*.probe")))
def test_chc_agrees_with_explicit_on_the_language_examples(path):
    m, _ = load_file(str(ROOT / path))
    assert_agrees(m, path)


@pytest.mark.parametrize("variant", [("flush_work(w);", "first_run_done", "runs >= 1"),
                                     ("flush_work(w);", "requeue_done", "runs == 2"),
                                     ("flush_workqueue(q);", "first_run_done", "runs >= 1")])
def test_chc_agrees_with_explicit_on_kernel_rule_specs(variant):
    assert_agrees(load_text(spec("requeue", REQUEUE % variant), file="rule.probe"), str(variant))


@pytest.mark.parametrize("seed", range(12))
def test_chc_agrees_with_explicit_on_random_specs(seed):
    # Spacer needs up to two minutes on some of these: a short limit keeps the test quick.
    generated = generate(random.Random(seed), 0)
    assert_agrees(load_text(generated.text, file="random.probe"), f"specgen seed {seed}", QUICK, True)


@pytest.mark.parametrize("seed", range(20))
def test_chc_agrees_with_explicit_on_random_models(seed):
    assert_agrees(random_model(random.Random(seed)), f"random model {seed}")


# --- (b) an unbounded reload loop, proved, with its certificate checked here ---

def reload_loop():
    """modprobe m; rmmod m; again and again, counting the loads: no bound on the length of an
    execution, and no bound on `loads`, so no search of the states can be complete."""
    loaded_then_registered = BoolOp("or", (Cmp("==", Ref("registered"), Const(0)),
                                           Cmp("==", Ref("loaded"), Const(1))))
    admin = thread("userspace:admin",
                   loc(edge(1, label="modprobe m: init registers the driver", loaded=Const(1),
                            registered=Const(1), loads=Arith("+", Ref("loads"), Const(1)))),
                   loc(edge(2, label="rmmod m: exit unregisters the driver", registered=Const(0))),
                   loc(edge(0, label="rmmod m: module freed", loaded=Const(0))))
    probe_ok = Check("probe_with_module", Cmp("==", Ref("loaded"), Const(1)), "probe runs with m freed")
    bus = thread("bus", loc(edge(0, guard=Cmp("==", Ref("registered"), Const(1)), label="probe(x)",
                                 checks=[probe_ok]), rest=True))
    props = [Property("registered_only_while_loaded", "invariant", "", loaded_then_registered),
             Property("probe_with_module", "check", ""),
             Property("loads_counted", "invariant", "", Cmp(">=", Ref("loads"), Const(0))),
             Property("at_most_two_loads", "invariant", "", Cmp("<=", Ref("loads"), Const(2)))]
    return model([var("loaded"), var("registered"), var("loads", 0, 0, 0)], [admin, bus], props)


def certificate_holds(enc: chc.Encoding, invariant, bad) -> bool:
    """Inv (with the value ranges) holds initially, is closed under every edge, excludes `bad`."""
    def valid(claim):
        solver = z3.Solver()
        solver.set("timeout", 20_000)
        solver.add(z3.Not(claim))
        return solver.check() == z3.unsat
    inv = z3.And(invariant, enc.ranges())
    closed = all(valid(z3.Implies(z3.And(inv, enc.enabled_by(ref)),
                                  z3.substitute(inv, *zip(enc.state, enc.post(ref)))))
                 for ref in enc.edges)
    return valid(z3.Implies(enc.initial(), inv)) and closed and valid(z3.Implies(inv, z3.Not(bad)))


def holds_on_reachable_states(m, enc, invariant, steps=12) -> bool:
    """The interpreter's states within `steps` steps all satisfy the invariant (ties the encoding to interp.py)."""
    interp = Interpreter(m)
    seen, queue = set(), deque((s, 0) for s in interp.initial_states())
    while queue:
        state, depth = queue.popleft()
        if state in seen:
            continue
        seen.add(state)
        values = [z3.IntVal(x) for x in state.pcs + state.values]
        if not z3.is_true(z3.simplify(z3.substitute(invariant, *zip(enc.state, values)))):
            return False
        if depth < steps:
            queue.extend((interp.step(state, t, e), depth + 1) for t, _, e in interp.enabled(state))
    return True


@pytest.mark.parametrize("prop", ["registered_only_while_loaded", "probe_with_module", "loads_counted"])
def test_an_unbounded_reload_loop_is_proved_by_a_checked_invariant(prop):
    m = reload_loop()
    verdict, argument, _, invariant = chc.search(m, prop, OPTIONS)
    assert verdict is Verdict.PROVED, argument
    assert "inductive invariant (Spacer)" in argument
    enc = chc.Encoding(m)
    assert enc.bounds is None   # `loads` grows forever: no finite range exists
    assert certificate_holds(enc, invariant, enc.bad(m.property(prop)))
    assert holds_on_reachable_states(m, enc, invariant)
    result = run_engine("chc", m, [prop], OPTIONS)[prop]
    assert result.invariant and result.invariant.strip()


def test_the_explicit_engine_can_only_bound_the_reload_loop():
    result = run_engine("explicit", reload_loop(), ["loads_counted"], EngineOptions(max_states=2000))
    assert result["loads_counted"].verdict in INCONCLUSIVE


def test_a_false_certificate_is_refused():
    m = reload_loop()
    enc = chc.Encoding(m)
    assert not certificate_holds(enc, z3.BoolVal(True), enc.bad(m.property("registered_only_while_loaded")))


# --- (c) violations come with a trace that replays ---

def test_a_violation_in_the_loop_replays():
    m = reload_loop()
    result = run_engine("chc", m, ["at_most_two_loads"], OPTIONS)["at_most_two_loads"]
    assert result.verdict is Verdict.VIOLATED
    replayed = confirm_violation(m, result.trace, "at_most_two_loads")
    assert Interpreter(m).value(replayed.final, "loads") == 3


def test_a_failed_check_replays_on_the_verdicts_example():
    m, _ = load_file(str(ROOT / "docs/examples/language/verdicts.probe"))
    result = run_engine("chc", m, ["flush_uninitialized_work"], OPTIONS)["flush_uninitialized_work"]
    assert result.verdict is Verdict.VIOLATED
    confirm_violation(m, result.trace, "flush_uninitialized_work")


def test_a_time_limit_gives_timeout_never_a_verdict():
    m, _ = load_file(str(ROOT / "docs/examples/tour.probe"))
    result = run_engine("chc", m, ["deadlock"], EngineOptions(timeout=0.5))["deadlock"]
    assert result.verdict is Verdict.TIMEOUT, result.argument


# --- (d) the command line ---

def test_show_invariant_prints_it_under_the_proved_property(capsys):
    code = main(["check", str(ROOT / "docs/examples/language/engines.probe"), "--engine", "chc",
                 "--no-cache", "--show-invariant", "--property", "set"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["set", "PROVED"])
    assert "inductive invariant (Spacer)" in lines[at + 1]
    assert lines[at + 2].strip() == "inductive invariant:"
    assert lines[at + 3].startswith("        ") and lines[at + 3].strip()


def test_without_show_invariant_nothing_extra_is_printed(capsys):
    main(["check", str(ROOT / "docs/examples/language/engines.probe"), "--engine", "chc", "--no-cache"])
    assert "inductive invariant:" not in capsys.readouterr().out
