"""Tests for the bounded model checker (modelcheck.engines.bmc)."""
from __future__ import annotations

import random
import typing
from collections import deque

import pytest
import z3

from modelcheck import ir
from modelcheck.engines import bmc
from modelcheck.interp import Interpreter, state_violates
from modelcheck.ir import (TRUE, Arith, BoolConst, BoolOp, Check, Cmp, Const, Edge, Ite, Location,
                           Model, Not, Property, Ref, Thread, Variable, eq)
from modelcheck.replay import confirm_violation
from modelcheck.result import EngineOptions, Verdict

OPTS = EngineOptions(max_depth=40, timeout=30.0)


# --- builders -----------------------------------------------------------------

def var(name, lo=0, hi=1, init=0):
    return Variable(name, lo, hi, init)


def edge(target, guard=TRUE, checks=(), label="", **assigns):
    return Edge(guard, tuple(assigns.items()), target, label or f"->{target}", checks=tuple(checks))


def loc(*edges, rest=False):
    return Location(tuple(edges), rest)


def thread(name, *locations):
    return Thread(name, tuple(locations))


def model(variables, threads, props, constraints=()):
    return Model("m", "m.spec", tuple(variables), tuple(threads), tuple(constraints), tuple(props))


def add(name, n):
    return Arith("+", Ref(name), Const(n))


def run(m, prop, **opts):
    return bmc.check(m, prop, EngineOptions(**{**OPTS.__dict__, **opts}))


def assert_violated(m, prop, steps, **opts):
    result = run(m, prop, **opts)
    assert result.verdict is Verdict.VIOLATED, result
    assert result.engine == "bmc"
    assert result.bound == steps
    assert len(result.trace.steps) == steps
    assert shortest_violation(m, prop) == steps   # the known minimum, by brute force
    confirm_violation(m, result.trace, prop)
    return result


def shortest_violation(m, prop):
    """Breadth-first search on the reference interpreter: depth of the shallowest violation."""
    interp, kind = Interpreter(m), m.property(prop).kind
    frontier = deque((s, 0) for s in interp.initial_states())
    seen = {s for s, _ in frontier}
    while frontier:
        state, depth = frontier.popleft()
        if kind != "check" and state_violates(interp, prop, state):
            return depth
        for t, _, e in interp.enabled(state):
            if kind == "check" and prop in interp.failed_checks(state, e):
                return depth + 1
            after = interp.step(state, t, e)
            if after not in seen:
                seen.add(after)
                frontier.append((after, depth + 1))
    return None


def trigger_reachable(m, prop):
    """Whether a 'check' edge for prop is ever enabled / a settled terminal state is reachable."""
    interp, kind = Interpreter(m), m.property(prop).kind
    if kind not in ("check", "final"):
        return True
    frontier = list(interp.initial_states())
    seen = set(frontier)
    while frontier:
        state = frontier.pop()
        moves = list(interp.enabled(state))
        if kind == "check" and any(c.prop == prop for _, _, e in moves for c in e.checks):
            return True
        if kind == "final" and not moves and not interp.stuck_threads(state):
            return True
        for t, _, e in moves:
            after = interp.step(state, t, e)
            if after not in seen:
                seen.add(after)
                frontier.append(after)
    return False


# --- models -------------------------------------------------------------------

def counter_model(atomic):
    """Two threads increment a shared counter; non-atomically they can lose an update."""
    def incrementer(name):
        tmp = f"tmp_{name}"
        if atomic:
            return thread(name, loc(edge(1, counter=add("counter", 1))))
        return thread(name, loc(edge(1, **{tmp: Ref("counter")})),
                      loc(edge(2, counter=add(tmp, 1))))
    variables = [var("counter", 0, 2), var("tmp_a", 0, 2), var("tmp_b", 0, 2)]
    final = Property("both_counted", "final", "counter is 2 at the end", eq("counter", 2))
    return model(variables, [incrementer("a"), incrementer("b")], [final])


def flush_model(func_init):
    """A remove path flushes work whose function pointer the probe may not have set yet."""
    flush_ok = Check("flush_init", Cmp("!=", Ref("func"), Const(0)), "flush of uninitialized work")
    probe = thread("probe", loc(edge(1, func=Const(1))))
    remove = thread("remove", loc(edge(1, checks=[flush_ok], label="flush_work")))
    prop = Property("flush_init", "check", "work is initialised before it is flushed")
    return model([var("func", init=func_init)], [probe, remove], [prop])


def locks_model(opposite):
    def locker(name, first, second):
        return thread(name, loc(edge(1, guard=eq(first, 0), **{first: Const(1)})),
                      loc(edge(2, guard=eq(second, 0), **{second: Const(1)})),
                      loc(edge(3, **{first: Const(0), second: Const(0)})))
    second = locker("t2", "l2", "l1") if opposite else locker("t2", "l1", "l2")
    prop = Property("no_deadlock", "deadlock", "no thread blocks forever")
    return model([var("l1"), var("l2")], [locker("t1", "l1", "l2"), second], [prop])


def config_model(constraint):
    """A Kconfig-like option left open; only cfg == 2 both passes `constraint` and breaks things."""
    cfg = Variable("cfg", 0, 3, None, role="config")
    worker = thread("w", loc(edge(1, guard=Cmp(">=", Ref("cfg"), Const(2)), x=Const(1))))
    prop = Property("x_zero", "invariant", "x stays 0", eq("x", 0))
    return model([cfg, var("x")], [worker], [prop], constraints=[constraint])


def retrigger_model(max_runs=None):
    """An irq re-triggers a worker that goes back to rest: every execution runs forever."""
    irq = thread("irq", loc(edge(0, guard=eq("pending", 0), pending=Const(1)), rest=True))
    work = {"pending": Const(0), "done": Const(1)}
    if max_runs is not None:
        work["runs"] = Ite(Cmp("<", Ref("runs"), Const(3)), add("runs", 1), Const(3))
    worker = thread("worker", loc(edge(1, guard=eq("pending", 1)), rest=True), loc(edge(0, **work)))
    props = [Property("pending_bit", "invariant", "pending is a bit",
                      Cmp("<=", Ref("pending"), Const(1)))]
    if max_runs is not None:
        props.append(Property("runs_once", "invariant", "the worker runs at most once",
                              Cmp("<", Ref("runs"), Const(max_runs))))
    return model([var("pending"), var("done"), var("runs", 0, 3)], [irq, worker], props)


# --- verdicts -----------------------------------------------------------------

def test_lost_update_is_violated_with_the_interleaving_trace():
    result = assert_violated(counter_model(atomic=False), "both_counted", 4)
    threads = [s.thread for s in result.trace.steps]
    assert sorted(threads) == [0, 0, 1, 1] and threads[:2] in ([0, 1], [1, 0])


def test_atomic_increment_is_proved_because_every_execution_ends():
    result = run(counter_model(atomic=True), "both_counted")
    assert result.verdict is Verdict.PROVED, result
    assert result.bound == 2
    assert "every execution ends within 2 steps" in result.argument
    assert result.trace is None


def test_flush_of_uninitialized_work_is_violated_in_one_step():
    result = assert_violated(flush_model(func_init=0), "flush_init", 1)
    assert result.trace.steps[0].thread == 1


def test_flush_of_statically_initialized_work_is_proved():
    result = run(flush_model(func_init=1), "flush_init")
    assert result.verdict is Verdict.PROVED, result


def test_opposite_lock_order_deadlocks():
    assert_violated(locks_model(opposite=True), "no_deadlock", 2)


def test_same_lock_order_is_deadlock_free():
    result = run(locks_model(opposite=False), "no_deadlock")
    assert result.verdict is Verdict.PROVED, result
    assert result.bound == 6


def test_free_config_trace_shows_the_only_bad_value():
    m = config_model(Cmp("!=", Ref("cfg"), Const(3)))
    result = assert_violated(m, "x_zero", 1)
    assert result.trace.initial == (2, 0)


def test_free_config_excluded_by_constraint_is_proved():
    result = run(config_model(Cmp("<=", Ref("cfg"), Const(1))), "x_zero")
    assert result.verdict is Verdict.PROVED, result


def test_unsatisfiable_constraints_are_vacuous():
    result = run(config_model(BoolConst(False)), "x_zero")
    assert result.verdict is Verdict.VACUOUS
    assert "constraints" in result.argument


def test_endless_loop_is_proved_only_by_the_recurrence_diameter():
    result = run(retrigger_model(), "pending_bit")
    # Executions never end, so only the loop-free argument can conclude:
    # the longest loop-free execution has 5 steps (6 distinct reachable states).
    assert result.verdict is Verdict.PROVED, result
    assert result.bound == 6
    assert "recurrence diameter" in result.argument


def test_violation_needing_a_second_round_of_the_loop():
    assert_violated(retrigger_model(max_runs=2), "runs_once", 6)


def test_loop_with_small_max_depth_is_bounded():
    result = run(retrigger_model(), "pending_bit", max_depth=3)
    assert result.verdict is Verdict.BOUNDED and result.bound == 3
    assert "not checked" in result.argument


def test_small_max_depth_below_the_violation_is_bounded():
    result = run(counter_model(atomic=False), "both_counted", max_depth=3)
    assert result.verdict is Verdict.BOUNDED and result.bound == 3
    assert "longer executions were not checked" in result.argument


def test_check_behind_an_impossible_guard_is_vacuous():
    never = Check("never", BoolConst(False), "always fails if reached")
    t = thread("t", loc(edge(1, guard=eq("x", 1), checks=[never]), edge(1)))
    m = model([var("x")], [t], [Property("never", "check", "unreachable check")])
    result = run(m, "never")
    assert result.verdict is Verdict.VACUOUS, result
    assert "never reached" in result.argument


def test_check_no_edge_carries_is_vacuous():
    m = model([var("x")], [thread("t", loc(edge(1)))], [Property("ghost", "check", "no such check")])
    assert run(m, "ghost").verdict is Verdict.VACUOUS


def test_final_without_any_settled_terminal_state_is_vacuous():
    spinner = thread("spin", loc(edge(0)))   # always enabled, never rests
    m = model([var("x")], [spinner], [Property("end", "final", "x at the end", eq("x", 1))])
    result = run(m, "end")
    assert result.verdict is Verdict.VACUOUS, result
    assert "finished or resting" in result.argument


def test_zero_timeout_is_timeout():
    result = run(counter_model(atomic=False), "both_counted", timeout=0.0)
    assert result.verdict is Verdict.TIMEOUT
    assert "time limit" in result.argument


@pytest.mark.parametrize("answered", [3, 5, 8])
def test_solver_unknown_is_never_read_as_an_answer(monkeypatch, answered):
    calls = {"n": 0}
    real_check = z3.Solver.check

    def flaky_check(self, *args):
        calls["n"] += 1
        return z3.unknown if calls["n"] > answered else real_check(self, *args)

    monkeypatch.setattr(z3.Solver, "check", flaky_check)
    result = run(counter_model(atomic=False), "both_counted")
    assert result.verdict is Verdict.BOUNDED and result.bound < 4, result
    assert f"at depth {result.bound + 1}" in result.argument


def test_solver_unknown_from_the_start_is_timeout(monkeypatch):
    monkeypatch.setattr(z3.Solver, "check", lambda self, *args: z3.unknown)
    assert run(flush_model(0), "flush_init").verdict is Verdict.TIMEOUT


# --- agreement with the interpreter on random models -------------------------

def wrap_increment(name):
    """name + 1 modulo 3: assignments leave domains unchecked, so keep the state space finite."""
    return Ite(Cmp("<", Ref(name), Const(2)), add(name, 1), Const(0))


def random_model(rng):
    variables = [var(f"v{i}", 0, 2, rng.choice([0, 1, None])) for i in range(2)]
    names = [v.name for v in variables]
    arithmetic = rng.random() < 0.5   # without it the value analysis bounds every variable

    def small_expr():
        choices = [Ref(rng.choice(names)), Const(rng.randint(0, 2)),
                   Ite(eq(rng.choice(names), 1), Const(0), Const(2))]
        return rng.choice(choices + [wrap_increment(rng.choice(names))] * arithmetic)

    def random_edge(n_locs):
        difference = Arith("-", Ref(names[0]), Ref(names[1]))   # arithmetic the value analysis ignores
        guard = rng.choice([TRUE, Cmp(rng.choice(ir.CMP_OPS), Ref(rng.choice(names)), small_expr()),
                            Cmp(rng.choice(ir.CMP_OPS), difference, Const(rng.randint(-1, 1)))])
        assigns = {rng.choice(names): small_expr()} if rng.random() < 0.8 else {}
        ok = Cmp(rng.choice(ir.CMP_OPS), small_expr(), Const(rng.randint(0, 2)))
        checks = [Check("chk", ok, "random check")] if rng.random() < 0.3 else []
        return edge(rng.randint(0, n_locs), guard=guard, checks=checks, **assigns)

    threads = []
    for t in range(2):
        n_locs = rng.randint(1, 3)
        threads.append(thread(f"t{t}", *[loc(*[random_edge(n_locs) for _ in range(rng.randint(1, 2))],
                                             rest=rng.random() < 0.3) for _ in range(n_locs)]))
    invariant = BoolOp("or", (Cmp("!=", Ref("v0"), Const(2)), Cmp("!=", Ref("v1"), Const(0))))
    props = [Property("chk", "check", ""), Property("inv", "invariant", "", invariant),
             Property("dl", "deadlock", ""), Property("fin", "final", "", Cmp("!=", Ref("v1"), Const(1)))]
    return model(variables, threads, props)


@pytest.mark.parametrize("solver", ["auto", "general"])
@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_breadth_first_search_on_random_models(seed, solver, monkeypatch):
    m = random_model(random.Random(seed))
    if solver == "general":   # no value ranges: the arithmetic solver instead of the finite-domain one
        monkeypatch.setattr(bmc, "value_bounds", lambda model: None)
    for prop in ("chk", "inv", "dl", "fin"):
        expected = shortest_violation(m, prop)
        result = run(m, prop)
        if expected is None:
            assert result.verdict in (Verdict.PROVED, Verdict.VACUOUS), (prop, result)
            assert (result.verdict is Verdict.VACUOUS) == (not trigger_reachable(m, prop)), (prop, result)
        else:
            assert result.verdict is Verdict.VIOLATED and result.bound == expected, (prop, result)
            confirm_violation(m, result.trace, prop)


def test_value_bounds_cover_bounded_models_and_give_up_on_counters():
    assert bmc.value_bounds(locks_model(opposite=True)) == {"l1": (0, 1), "l2": (0, 1)}
    assert bmc.value_bounds(config_model(TRUE)) == {"cfg": (0, 3), "x": (0, 1)}
    assert bmc.value_bounds(counter_model(atomic=True)) is None   # counter + 1 has no fixpoint


def test_random_models_exercise_both_solvers():
    bounded = [bmc.value_bounds(random_model(random.Random(seed))) is not None for seed in range(25)]
    assert any(bounded) and not all(bounded)


# --- the expression encoder ---------------------------------------------------

EXPR_CLASSES = typing.get_args(ir.Expr)


def test_expr_union_is_the_list_the_encoder_knows():
    assert set(EXPR_CLASSES) == {Const, BoolConst, Ref, Not, BoolOp, Cmp, Arith, Ite}
    assert set(EXPR_CLASSES) == set(bmc._ENCODERS)


def random_expr(rng, names, depth, top=None):
    """A random expression, mixing integer and boolean operands the way interp.py allows."""
    kind = top or (rng.choice([Const, BoolConst, Ref]) if depth == 0 else rng.choice(EXPR_CLASSES))
    sub = lambda: random_expr(rng, names, max(depth - 1, 0))
    if kind is Const:
        return Const(rng.randint(-3, 3))
    if kind is BoolConst:
        return BoolConst(rng.random() < 0.5)
    if kind is Ref:
        return Ref(rng.choice(names))
    if kind is Not:
        return Not(sub())
    if kind is BoolOp:
        return BoolOp(rng.choice(["and", "or"]), tuple(sub() for _ in range(rng.randint(1, 3))))
    if kind is Cmp:
        return Cmp(rng.choice(ir.CMP_OPS), sub(), sub())
    if kind is Arith:
        return Arith(rng.choice("+-"), sub(), sub())
    return Ite(sub(), sub(), sub())


def z3_value(term):
    term = z3.simplify(term)
    return int(z3.is_true(term)) if z3.is_bool(term) else term.as_long()


@pytest.mark.parametrize("cls", EXPR_CLASSES, ids=lambda c: c.__name__)
def test_encoder_matches_interpreter(cls):
    rng = random.Random(cls.__name__)
    variables = [var(n, -3, 3) for n in ("a", "b", "c")]
    interp = Interpreter(model(variables, [], []))
    for _ in range(200):
        expr = random_expr(rng, ["a", "b", "c"], depth=3, top=cls)
        values = tuple(rng.randint(-3, 3) for _ in variables)
        frame = {v.name: z3.IntVal(x) for v, x in zip(variables, values)}
        assert z3_value(bmc.encode(expr, frame)) == int(interp.eval(expr, values)), expr


def test_encoder_rejects_unknown_kinds():
    with pytest.raises(TypeError):
        bmc.encode(object(), {})


def test_symbol_names_are_readable_and_never_clash_with_variables():
    m = model([var("step"), var("pc_t")], [thread("t", loc(edge(1, step=Const(1))))], [])
    u = bmc.Unrolling(m)
    assert str(u.frame(3)["step"]) == "step@3"
    assert str(u.selector(3)) == "step'@3"
    assert str(u.pc(0, 3)) == "pc_t'@3"
