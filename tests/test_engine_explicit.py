"""Tests for the explicit-state engine (modelcheck.engines.explicit)."""
from __future__ import annotations

import random
from collections import deque

import pytest

from modelcheck.engines import explicit
from modelcheck.interp import Interpreter
from modelcheck.ir import (TRUE, Arith, Check, Cmp, Const, Edge, Location, Model, Property,
                           Ref, Thread, Variable, conj, disj, eq)
from modelcheck.replay import confirm_violation, replay
from modelcheck.result import EngineOptions, TraceStep, Verdict

OPTS = EngineOptions(max_depth=50, timeout=30.0, max_states=100_000)


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


def prop(name, kind, expr=None):
    return Property(name, kind, f"{kind} {name}", expr)


def add(name, n):
    return Arith("+", Ref(name), Const(n))


def ne(name, value):
    return Cmp("!=", Ref(name), Const(value))


def run(m, name, **opts):
    return explicit.check(m, name, EngineOptions(**{**OPTS.__dict__, **opts}))


def assert_violated(m, name, steps, **opts):
    result = run(m, name, **opts)
    assert result.verdict is Verdict.VIOLATED, result
    assert result.engine == "explicit"
    assert result.bound == steps
    assert len(result.trace.steps) == steps
    confirm_violation(m, result.trace, name)
    return result


def assert_proved(m, name, states, depth, **opts):
    """PROVED by the unreduced search with exactly these states, and by the reduced one too."""
    assert run(m, name, **opts).verdict is Verdict.PROVED
    result = run(m, name, **{**opts, "reduction": False})
    assert result.verdict is Verdict.PROVED, result
    assert result.bound == depth
    assert result.trace is None
    assert result.argument == (f"all {states} reachable states explored "
                               f"(longest shortest path {depth} steps)")
    return result


def switches(trace):
    threads = [s.thread for s in trace.steps]
    return sum(a != b for a, b in zip(threads, threads[1:]))


# --- models -------------------------------------------------------------------

def lost_update():
    """Two threads do counter++ as a separate load and store."""
    def incrementer(name, tmp):
        return thread(name, loc(edge(1, label="load", **{tmp: Ref("counter")})),
                      loc(edge(2, label="store", counter=add(tmp, 1))))
    return model([var("counter", 0, 2), var("tmp0", 0, 2), var("tmp1", 0, 2)],
                 [incrementer("A", "tmp0"), incrementer("B", "tmp1")],
                 [prop("both_counted", "final", eq("counter", 2))])


def atomic_update():
    def incrementer(name):
        return thread(name, loc(edge(1, label="atomic_inc", counter=add("counter", 1))))
    return model([var("counter", 0, 2)], [incrementer("A"), incrementer("B")],
                 [prop("both_counted", "final", eq("counter", 2))])


def flush_work(static_init):
    """probe registers the device, then INIT_WORK; remove flushes once registered."""
    flush_check = Check("flush_uninit", ne("work_func", 0), "flush_work on uninitialized work")
    probe = thread("probe", loc(edge(1, label="register", registered=Const(1))),
                   loc(edge(2, label="INIT_WORK", work_func=Const(1))))
    remove = thread("remove", loc(edge(1, guard=eq("registered", 1), label="flush_work",
                                       checks=[flush_check])))
    return model([var("registered"), var("work_func", init=1 if static_init else 0)],
                 [probe, remove], [prop("flush_uninit", "check")])


def locking(second_order):
    """Two threads take locks a and b; the second one in `second_order`."""
    def locker(name, first, second):
        return thread(name,
                      loc(edge(1, guard=eq(first, 0), label=f"lock {first}", **{first: Const(1)})),
                      loc(edge(2, guard=eq(second, 0), label=f"lock {second}", **{second: Const(1)})),
                      loc(edge(3, label=f"unlock {second}", **{second: Const(0)})),
                      loc(edge(4, label=f"unlock {first}", **{first: Const(0)})))
    return model([var("a"), var("b")],
                 [locker("T0", "a", "b"), locker("T1", *second_order)],
                 [prop("deadlock", "deadlock"), prop("unlocked", "final",
                                                     conj(eq("a", 0), eq("b", 0)))])


def free_config():
    """cfg is open in 0..3 but `require cfg >= 1`; the bad path needs cfg 0 or 2."""
    setter = thread("init", loc(edge(1, guard=disj(eq("cfg", 0), eq("cfg", 2)),
                                     label="misconfigured", x=Const(1)),
                                edge(1, guard=disj(eq("cfg", 1), eq("cfg", 3)), label="ok")))
    return model([var("cfg", 0, 3, init=None), var("x")], [setter],
                 [prop("x_clear", "invariant", eq("x", 0)),
                  prop("not_three", "invariant", ne("cfg", 3))],
                 constraints=[Cmp(">=", Ref("cfg"), Const(1))])


def worker_loop():
    """A worker wakes on a kick and goes back to rest until `ready`; the submitter waits."""
    worker = thread("worker",
                    loc(edge(1, guard=eq("kick", 1), label="wake"), rest=True),
                    loc(edge(0, guard=eq("ready", 1), label="work", kick=Const(0), done=Const(1)),
                        edge(0, guard=eq("ready", 0), label="not yet")))
    submitter = thread("submitter",
                       loc(edge(1, label="queue_work", kick=Const(1))),
                       loc(edge(2, label="set ready", ready=Const(1))),
                       loc(edge(3, guard=eq("done", 1), label="wait")))
    return model([var("kick"), var("ready"), var("done")], [worker, submitter],
                 [prop("deadlock", "deadlock"), prop("work_done", "final", eq("done", 1))])


def counter_chain(n):
    """One thread counts 0..n, one step at a time."""
    steps = [loc(edge(i + 1, label=f"inc{i}", c=add("c", 1))) for i in range(n)]
    return model([var("c", 0, n)], [thread("counter", *steps)],
                 [prop("small", "invariant", Cmp("<", Ref("c"), Const(n)))])


# --- lost update ----------------------------------------------------------------

def test_lost_update_is_violated_with_fewest_switches():
    result = assert_violated(lost_update(), "both_counted", 4)
    # Every lost update takes 4 steps; A load, B load, B store, A store switches only twice.
    assert switches(result.trace) == 2
    a, b = TraceStep(0, 0), TraceStep(1, 0)
    assert result.trace.steps in ((a, b, b, a), (b, a, a, b))
    assert "4 steps, 2 thread switches (fewest" in result.argument


def test_atomic_update_is_proved():
    # (counter, pcs): (0,00) (1,10) (1,01) (2,11).
    assert_proved(atomic_update(), "both_counted", states=4, depth=2)


def test_lost_update_outcomes_count_interleavings():
    found = explicit.outcomes(lost_update(), ["counter"], OPTS)
    assert set(found) == {(1,), (2,)}
    # 6 interleavings of two load/store pairs; only the 2 serial ones count both.
    assert found[(1,)][1] == 4
    assert found[(2,)][1] == 2
    for (value,), (trace, _) in found.items():
        final = replay(lost_update(), trace).final
        assert Interpreter(lost_update()).value(final, "counter") == value
        assert len(trace.steps) == 4


def test_outcomes_split_by_every_observed_variable():
    found = explicit.outcomes(lost_update(), ["counter", "tmp0", "tmp1"], OPTS)
    assert {k: n for k, (_, n) in found.items()} == {(1, 0, 0): 4, (2, 0, 1): 1, (2, 1, 0): 1}


# --- flush of uninitialized work -------------------------------------------------

def test_flush_of_uninitialized_work_is_violated():
    result = assert_violated(flush_work(static_init=False), "flush_uninit", 2)
    assert result.trace.steps == (TraceStep(0, 0), TraceStep(1, 0))


def test_statically_initialized_work_is_proved():
    m = flush_work(static_init=True)
    # pcs (probe, remove) with registered implied: (0,0) (1,0) (2,0) (1,1) (2,1).
    assert_proved(m, "flush_uninit", states=5, depth=3)


# --- deadlock ---------------------------------------------------------------------

def test_abba_deadlocks():
    result = assert_violated(locking(("b", "a")), "deadlock", 2)
    assert {s.thread for s in result.trace.steps} == {0, 1}


def test_same_order_locking_is_deadlock_free():
    result = run(locking(("a", "b")), "deadlock")
    assert result.verdict is Verdict.PROVED
    assert run(locking(("a", "b")), "unlocked").verdict is Verdict.PROVED
    assert result.bound == 8     # both threads run their 4 steps one after the other


# --- open configuration -----------------------------------------------------------

def test_free_config_trace_shows_the_only_bad_value():
    m = free_config()
    result = assert_violated(m, "x_clear", 1)
    # cfg 0 would also break it, but `require cfg >= 1` rules 0 out.
    assert result.trace.initial[0] == 2


def test_invariant_broken_in_an_initial_state_has_an_empty_trace():
    result = assert_violated(free_config(), "not_three", 0)
    assert result.trace.initial[0] == 3


def test_unsatisfiable_constraints_are_vacuous():
    m = model([var("cfg", 0, 1, init=None)], [thread("t", loc(edge(1)))],
              [prop("inv", "invariant", eq("cfg", 0))], constraints=[eq("cfg", 2)])
    result = run(m, "inv")
    assert result.verdict is Verdict.VACUOUS
    assert "no initial state" in result.argument


# --- cycles -------------------------------------------------------------------------

def test_worker_loop_with_cycle_is_proved():
    # s0 -> s1 -> {s2, s3}; s3 -> s1 (the loop); s2, s3 -> s4 -> s5 -> s6 (terminal).
    assert_proved(worker_loop(), "deadlock", states=7, depth=5)
    assert_proved(worker_loop(), "work_done", states=7, depth=5)
    assert explicit.reachable_states(worker_loop(), OPTS) == 7


def test_outcomes_refuse_to_count_paths_through_a_cycle():
    with pytest.raises(ValueError, match="cycle"):
        explicit.outcomes(worker_loop(), ["done"], OPTS)


# --- vacuity --------------------------------------------------------------------------

def test_check_on_an_unreachable_edge_is_vacuous():
    m = flush_work(static_init=False)
    never = Edge(eq("registered", 2), (), 1, "flush_work",
                 checks=(Check("flush_uninit", ne("work_func", 0), "uninit"),))
    m = model(m.variables, [m.threads[0], thread("remove", loc(never))], m.properties)
    result = run(m, "flush_uninit")
    assert result.verdict is Verdict.VACUOUS
    assert result.argument.startswith("flush_uninit is never checked: no reachable step takes")


def test_check_named_nowhere_is_vacuous():
    m = model([var("x")], [thread("t", loc(edge(1)))], [prop("ghost", "check")])
    result = run(m, "ghost")
    assert result.verdict is Verdict.VACUOUS
    assert "no edge of the model checks it" in result.argument


def test_final_without_settled_terminal_state_is_vacuous():
    m = model([var("x")], [thread("waiter", loc(edge(1, guard=eq("x", 1))))],
              [prop("fin", "final", eq("x", 1)), prop("deadlock", "deadlock")])
    result = run(m, "fin")
    assert result.verdict is Verdict.VACUOUS
    assert "no reachable state has every thread finished or resting" in result.argument
    assert_violated(m, "deadlock", 0)


# --- limits -----------------------------------------------------------------------------

def test_tiny_state_limit_is_bounded_and_says_why():
    result = run(counter_chain(10), "small", max_states=3)
    assert result.verdict is Verdict.BOUNDED
    assert result.bound == 2
    assert result.label == "BOUNDED(2)"
    assert result.argument == (
        "the state limit (max_states=3) was reached while storing the states at depth 3: "
        "no violation in any execution of at most 2 steps (3 states stored); "
        "deeper states were not explored")


def test_state_limit_still_reports_a_violation_in_reach():
    assert_violated(counter_chain(3), "small", 3, max_states=4)


def test_depth_limit_is_bounded():
    result = run(counter_chain(10), "small", max_depth=4)
    assert result.verdict is Verdict.BOUNDED
    assert result.bound == 4
    assert "max_depth=4" in result.argument and "not explored" in result.argument


def test_depth_limit_reached_with_empty_frontier_is_proved():
    assert_proved(atomic_update(), "both_counted", states=4, depth=2, max_depth=2)


def test_no_time_is_a_timeout():
    result = run(counter_chain(3), "small", timeout=0.0)
    assert result.verdict is Verdict.TIMEOUT
    assert "time limit" in result.argument


def test_more_initial_states_than_the_limit_is_a_timeout():
    m = model([var("cfg", 0, 9, init=None)], [thread("t", loc(edge(1)))],
              [prop("inv", "invariant", TRUE)])
    result = run(m, "inv", max_states=5)
    assert result.verdict is Verdict.TIMEOUT
    assert "max_states=5" in result.argument
    with pytest.raises(explicit.SearchIncomplete):
        explicit.reachable_states(m, EngineOptions(max_states=5))


# --- one search for all properties -------------------------------------------------------

def test_check_all_matches_check():
    m = locking(("b", "a"))
    together = explicit.check_all(m, ["deadlock", "unlocked"], OPTS)
    for name, result in together.items():
        alone = run(m, name)
        assert (result.verdict, result.bound, result.trace) == (alone.verdict, alone.bound,
                                                                 alone.trace)
    assert together["unlocked"].verdict is Verdict.PROVED
    assert together["deadlock"].verdict is Verdict.VIOLATED


def test_unknown_property_is_an_error():
    with pytest.raises(KeyError):
        run(lost_update(), "nope")


# --- cross-check against a naive search on random acyclic models ----------------------------

def random_model(rng):
    """2-3 threads whose edges only go forward, so every state graph is acyclic."""
    names = ["x", "y", "z"][:rng.randint(1, 3)]

    def expr():
        return rng.choice([Const(rng.randint(0, 2)), Ref(rng.choice(names))])

    def guard():
        return rng.choice([TRUE, TRUE, Cmp(rng.choice(["==", "!=", "<="]), Ref(rng.choice(names)),
                                           Const(rng.randint(0, 2)))])

    def assign():
        return {rng.choice(names): expr()} if rng.random() < 0.8 else {}

    def edges(i, n):
        check = [Check("c", Cmp("<=", Ref(names[0]), Const(1)), "small")] if rng.random() < 0.3 else []
        return [edge(rng.randint(i + 1, n), guard=guard(), checks=check, **assign())
                for _ in range(rng.randint(1, 2))]

    threads = []
    for t in range(rng.randint(2, 3)):
        n = rng.randint(1, 3)
        threads.append(thread(f"T{t}", *[loc(*edges(i, n)) for i in range(n)]))
    variables = [var(names[0], 0, 2, init=None)] + [var(n, 0, 2) for n in names[1:]]
    props = [prop("c", "check"), prop("inv", "invariant", ne(names[-1], 2)),
             prop("deadlock", "deadlock"), prop("fin", "final", eq(names[0], 0))]
    return model(variables, threads, props, constraints=[ne(names[0], 1)])


def naive_shortest(m, name):
    """The depth of the shallowest violation, by plain breadth-first search."""
    interp, kind = Interpreter(m), m.property(name).kind
    frontier = deque((s, 0) for s in interp.initial_states())
    seen = {s for s, _ in frontier}
    while frontier:
        state, depth = frontier.popleft()
        moves = list(interp.enabled(state))
        if kind == "invariant" and not interp.eval(m.property(name).expr, state.values):
            return depth
        if kind in ("deadlock", "final") and not moves:
            stuck = interp.stuck_threads(state)
            if (kind == "deadlock" and stuck) or (kind == "final" and not stuck and
                                                   not interp.eval(m.property(name).expr,
                                                                   state.values)):
                return depth
        for t, _, e in moves:
            if kind == "check" and name in interp.failed_checks(state, e):
                return depth + 1
            after = interp.step(state, t, e)
            if after not in seen:
                seen.add(after)
                frontier.append((after, depth + 1))
    return None


def naive_outcomes(m, observe):
    """Every maximal path, enumerated one by one."""
    interp = Interpreter(m)
    index = [interp.index[v] for v in observe]
    counts = {}

    def walk(state):
        moves = list(interp.enabled(state))
        if not moves:
            key = tuple(state.values[i] for i in index)
            counts[key] = counts.get(key, 0) + 1
        for t, _, e in moves:
            walk(interp.step(state, t, e))

    for state in interp.initial_states():
        walk(state)
    return counts


def naive_fewest_switches(m, name, length):
    """Fewest thread switches over every violating trace of exactly `length` steps."""
    interp, kind = Interpreter(m), m.property(name).kind
    best = None

    def violates(state, moves):
        terminal = not moves
        if kind == "invariant":
            return not interp.eval(m.property(name).expr, state.values)
        stuck = interp.stuck_threads(state) if terminal else None
        if kind == "deadlock":
            return terminal and bool(stuck)
        return terminal and not stuck and not interp.eval(m.property(name).expr, state.values)

    def walk(state, threads):
        nonlocal best
        moves = list(interp.enabled(state))
        if kind != "check" and len(threads) == length and violates(state, moves):
            best = min(best if best is not None else 99, switches_of(threads))
        for t, _, e in moves if len(threads) < length else ():
            if kind == "check" and len(threads) + 1 == length and name in interp.failed_checks(state, e):
                best = min(best if best is not None else 99, switches_of(threads + [t]))
            walk(interp.step(state, t, e), threads + [t])

    for state in interp.initial_states():
        walk(state, [])
    return best


def switches_of(threads):
    return sum(a != b for a, b in zip(threads, threads[1:]))


def naive_triggers(m, name):
    """Whether a reachable step checks `name`, and whether a settled terminal state is reachable."""
    interp = Interpreter(m)
    seen, todo = set(interp.initial_states()), list(interp.initial_states())
    checked = settled = False
    while todo:
        state = todo.pop()
        moves = list(interp.enabled(state))
        settled |= not moves and not interp.stuck_threads(state)
        for t, _, e in moves:
            checked |= any(c.prop == name for c in e.checks)
            after = interp.step(state, t, e)
            if after not in seen:
                seen.add(after)
                todo.append(after)
    return checked, settled


@pytest.mark.parametrize("seed", range(60))
def test_random_models_agree_with_naive_search(seed):
    m = random_model(random.Random(seed))
    names = [p.name for p in m.properties]
    results = explicit.check_all(m, names, OPTS)
    for name in names:
        result = results[name]
        expected = naive_shortest(m, name)
        if expected is None:
            checked, settled = naive_triggers(m, "c")
            vacuous = (name == "c" and not checked) or (name == "fin" and not settled)
            assert result.verdict is (Verdict.VACUOUS if vacuous else Verdict.PROVED), result
        else:
            assert result.verdict is Verdict.VIOLATED, result
            assert len(result.trace.steps) == expected
            assert switches(result.trace) == naive_fewest_switches(m, name, expected)
            confirm_violation(m, result.trace, name)
    observe = [v.name for v in m.variables]
    found = explicit.outcomes(m, observe, OPTS)
    assert {k: n for k, (_, n) in found.items()} == naive_outcomes(m, observe)
    for key, (trace, _) in found.items():
        final = replay(m, trace).final
        assert tuple(final.values) == key
        assert not list(Interpreter(m).enabled(final))
