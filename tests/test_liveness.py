"""Liveness: eventually / always_eventually / leads_to, the built-in livelock and hung_task, fairness.

The explicit engine decides them by fair-cycle search; every VIOLATED comes with a lasso that is
replayed on the reference interpreter; SPIN (pan -a -f on never claims) must agree with every
verdict here. The Z3 engines do not search for cycles and never say PROVED for them.
"""
from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from modelcheck.checker import check_model, run_engine
from modelcheck.devtools.specgen import generate_liveness
from modelcheck.engines import liveness
from modelcheck.engines.termination import finite_argument
from modelcheck.frontend import load_file, load_text
from modelcheck.ir import is_liveness
from modelcheck.replay import ReplayError, confirm_violation
from modelcheck.result import EngineOptions, Verdict

from rule_helpers import spec
from spin_agreement import require_spin

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = EngineOptions(timeout=120)
VIOLATED, PROVED = Verdict.VIOLATED, Verdict.PROVED
needs_spin = pytest.mark.usefixtures("spin")
EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/examples/liveness").glob("*.probe"))


def live_verdicts(model) -> dict[str, Verdict]:
    """{liveness property: explicit verdict}; each VIOLATED lasso replays (check_model refuses
    one that does not)."""
    names = [p.name for p in model.properties if is_liveness(p)]
    return {o.prop.name: o.result.verdict for o in check_model(model, "explicit", OPTIONS, only=names)}


def spin_verdicts(model) -> dict[str, str]:
    from modelcheck.promela_liveness import LivenessBuild
    names = [p.name for p in model.properties if is_liveness(p)]
    with LivenessBuild(model, names, timeout=300) as build:
        return {name: build.run(name).verdict for name in names}


def assert_spin_agrees(model, mine: dict[str, Verdict]) -> None:
    require_spin()
    said = {Verdict.VIOLATED: "violated", Verdict.PROVED: "holds", Verdict.VACUOUS: "holds"}
    theirs = spin_verdicts(model)
    assert {p: said[v] for p, v in mine.items()} == theirs, model.file


def decide(title: str, body: str, **wanted: Verdict) -> dict[str, Verdict]:
    """The wanted liveness verdicts from the explicit engine, and SPIN's agreement on them all."""
    # livelock and hung_task join a spec that names them in an expect line
    body += "".join(f"\nexpect {'violation' if v is VIOLATED else 'holds'} {p};" for p, v in wanted.items()
                    if p in ("livelock", "hung_task"))
    model = load_text(spec(title, body), file="rule.probe")
    got = live_verdicts(model)
    assert {p: got[p] for p in wanted} == wanted, got
    assert_spin_agrees(model, got)
    return got


# --- kernel rules behind the fairness assumptions --------------------------------------------

QUEUED = """
    module m loadable {
      var done : bool = false;
      work w = do_it;
      init { %s }
    }
    fn do_it { done = true; }
    %s
    eventually work_done : done;
"""


def test_rule_a_queued_work_item_runs_eventually():
    """kernel/workqueue.c: __queue_work puts the item on a pool's worklist and wakes a worker;
    worker_thread -> process_one_work runs it. kworkers are scheduled eventually (weak
    fairness), so work queued by a module's init gets done; a user's action may never happen."""
    decide("queued work runs eventually", QUEUED % ("queue_work(system_wq, w);", ""),
           work_done=PROVED)
    decide("only a user queues the work", QUEUED % ("", "userspace u { queue_work(system_wq, w); }"),
           work_done=VIOLATED)


def test_rule_a_work_item_that_requeues_itself_runs_forever():
    """kernel/workqueue.c: queue_work on an item that is running but not pending queues it
    again (test_and_set_bit(WORK_STRUCT_PENDING_BIT) is clear once process_one_work started),
    so a work function that re-queues its own item runs forever: a livelock."""
    body = """
        module m loadable { work w = again; init { queue_work(system_wq, w); } }
        fn again { %s }
    """
    decide("work re-queues itself", body % "queue_work(system_wq, w);", livelock=VIOLATED,
           hung_task=PROVED)
    decide("work runs once", body % "", livelock=PROVED, hung_task=PROVED)


def test_rule_deferred_probe_is_retried_after_a_later_bind():
    """drivers/base/dd.c: driver_bound -> driver_deferred_probe_trigger moves the pending list
    to the active list and queues deferred_probe_work (deferred_probe_work_func retries each
    device). A supplier bound by a module udev loads lets the consumer bind eventually; a
    supplier nobody loads leaves it deferred for good."""
    for name, verdict in (("deferred-forever-fixed", PROVED), ("deferred-forever", VIOLATED)):
        model, _ = load_file(str(ROOT / f"docs/examples/liveness/{name}.probe"))
        assert live_verdicts(model)["registered_binds"] is verdict, name


def test_rule_a_bind_during_a_deferring_probe_retriggers_deferred_probing():
    """drivers/base/dd.c: driver_probe_device notes deferred_trigger_count before the probe;
    a probe returning -EPROBE_DEFER after some other device bound meanwhile re-triggers
    deferred probing (driver_deferred_probe_add_trigger). A probe that binds a child and then
    defers thus re-triggers itself: two such drivers waiting for each other loop forever. The
    boot thread hangs with them: deferred_probe_initcall's flush_work(&deferred_probe_work)
    waits for the running instance, which deferred_probe_work_func keeps in its loop while each
    re-trigger refills deferred_probe_active_list."""
    loop, _ = load_file(str(ROOT / "docs/examples/liveness/pmic-deferral-loop.probe"))
    fixed, _ = load_file(str(ROOT / "docs/examples/liveness/pmic-deferral-loop-fixed.probe"))
    assert live_verdicts(loop) == {"livelock": VIOLATED, "hung_task": VIOLATED, "both_bound": VIOLATED}
    assert live_verdicts(fixed) == {"livelock": PROVED, "hung_task": PROVED, "both_bound": PROVED}


def test_rule_hung_task_is_a_wait_that_never_ends_while_others_run():
    """kernel/hung_task.c: check_hung_task reports a task in TASK_UNINTERRUPTIBLE that has not
    been scheduled for the timeout while the system goes on. Two threads stuck on each other's
    device lock (drivers/base/core.c device_lock: a mutex) beside a kworker that never stops
    are no deadlock (something always moves) but a hung task."""
    body = """
        builtin b {
          driver d { probe { } }
          device d0 : d present;
          device d1 : d present;
          work w = again;
          initcall device { queue_work(system_wq, w); }
        }
        fn again { %s }
        userspace one { device_lock(d0); device_lock(d1); device_unlock(d1); device_unlock(d0); }
        userspace two { device_lock(%s); device_lock(%s); device_unlock(d0); device_unlock(d1); }
    """
    got = decide("ABBA beside a busy kworker", body % ("queue_work(system_wq, w);", "d1", "d0"),
                 hung_task=VIOLATED, livelock=VIOLATED)
    model = load_text(spec("ABBA", body % ("queue_work(system_wq, w);", "d1", "d0") + "\nexpect violation hung_task;"),
                      file="rule.probe")
    assert check_model(model, "explicit", OPTIONS, only=["deadlock"])[0].result.verdict is PROVED
    assert got["hung_task"] is VIOLATED
    decide("same lock order beside a busy kworker", body % ("queue_work(system_wq, w);", "d0", "d1"),
           hung_task=PROVED, livelock=VIOLATED)


# --- the properties ---------------------------------------------------------------------------

def test_leads_to_and_always_eventually():
    body = """
        builtin b { var up : bool = false; }
        userspace poke { up = true; }
        leads_to stays : up ~> up;
        always_eventually often : up;
        eventually comes_up : up;
    """
    decide("a user's action", body, stays=PROVED, often=VIOLATED, comes_up=VIOLATED)


def test_leads_to_whose_trigger_never_holds_is_vacuous():
    model = load_text(spec("never triggered", """
        builtin b { var up : bool = false; initcall device { up = false; } }
        leads_to stays : up ~> not up;
    """), file="rule.probe")
    [outcome] = check_model(model, "explicit", OPTIONS, only=["stays"])
    assert outcome.result.verdict is Verdict.VACUOUS and outcome.status == "vacuous"


# --- lassos -----------------------------------------------------------------------------------

def requeue_model():
    return load_text(spec("requeue", """
        module m loadable { var up : bool = false; work w = again; init { queue_work(system_wq, w); } }
        fn again { queue_work(system_wq, w); }
        eventually comes_up : up;
    """), file="rule.probe")


def test_a_lasso_replays_and_its_cycle_returns_to_its_first_state():
    model = requeue_model()
    result = liveness.check_all(model, ["comes_up"], OPTIONS)["comes_up"]
    trace = result.trace
    assert result.verdict is VIOLATED and trace.cycle is not None and trace.cycle < len(trace.steps)
    replayed = confirm_violation(model, trace, "comes_up")
    assert replayed.steps[trace.cycle].before == replayed.final


def test_a_cycle_that_does_not_close_is_refused():
    model = requeue_model()
    trace = liveness.check_all(model, ["comes_up"], OPTIONS)["comes_up"].trace
    with pytest.raises(ReplayError, match="does not return"):
        confirm_violation(model, replace(trace, cycle=trace.cycle + 1), "comes_up")


def test_an_unfair_cycle_is_refused():
    """A cycle in which a kworker could always move and never does is not an execution."""
    model = load_text(spec("two workers", """
        module m loadable {
          var up : bool = false;
          work w = again; work v = once;
          init { queue_work(system_wq, v); queue_work(system_wq, w); }
        }
        fn again { queue_work(system_wq, w); }
        fn once { up = true; }
        eventually comes_up : up;
    """), file="rule.probe")
    assert liveness.check_all(model, ["comes_up"], OPTIONS)["comes_up"].verdict is PROVED
    lasso = liveness.check_all(model, ["livelock"], OPTIONS)["livelock"].trace
    kworker_v = next(i for i, t in enumerate(model.threads) if t.name == "kworker:v")
    starved = replace(lasso, steps=tuple(s for s in lasso.steps if s.thread != kworker_v))
    # the same loop with v's run left out: v stays pending, so it can always move
    prefix = [s for s in lasso.steps[:lasso.cycle] if s.thread != kworker_v]
    with pytest.raises(ReplayError):
        confirm_violation(model, replace(starved, cycle=len(prefix)), "comes_up")


def test_a_quiescent_end_must_be_quiescent():
    model = requeue_model()
    trace = liveness.check_all(model, ["comes_up"], OPTIONS)["comes_up"].trace
    with pytest.raises(ReplayError, match="not quiescent"):
        confirm_violation(model, replace(trace, steps=trace.steps[:1], cycle=None), "comes_up")


@pytest.mark.parametrize("fmt", ["timeline", "itf", "mermaid", "markdown", "html"])
def test_every_trace_format_marks_the_cycle(fmt):
    from modelcheck.report.traceformats import TRACE_RENDERERS
    from modelcheck.report.timeline import timeline
    model = requeue_model()
    [outcome] = check_model(model, "explicit", OPTIONS, only=["comes_up"])
    first = outcome.result.trace.cycle + 1
    text = timeline(model, outcome) if fmt == "timeline" else TRACE_RENDERERS[fmt](model, outcome)
    if fmt == "itf":
        assert f'"loop": {first - 1}' in text
    assert f"cycle: steps {first}-{len(outcome.result.trace.steps)}, repeated forever" in text


def test_z3_engines_never_prove_liveness():
    model = requeue_model()
    for engine in ("foata", "bmc", "chc"):
        results = run_engine(engine, model, ["livelock", "comes_up"], OPTIONS)
        assert {r.verdict for r in results.values()} == {Verdict.BOUNDED}, engine


# --- the termination argument -----------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES + ["docs/examples/tour.probe", "specs/cxl/v7-exit-flush.probe"])
def test_the_termination_argument_agrees_with_the_state_graph(path):
    """Where the static argument says every execution is finite, the state graph has no cycle."""
    model, _ = load_file(str(ROOT / path))
    if finite_argument(model) is None:
        return
    graph = liveness.build_graph(model, OPTIONS, float("inf"))
    search = liveness._Search(model, graph, float("inf"))
    assert graph.complete and not search.cyclic, path


# --- SPIN agrees on every liveness verdict -----------------------------------------------------

@needs_spin
@pytest.mark.parametrize("path", EXAMPLES)
def test_spin_agrees_on_the_liveness_examples(path):
    model, _ = load_file(str(ROOT / path))
    mine = live_verdicts(model)
    assert_spin_agrees(model, mine)


RANDOM_SPECS = int(os.environ.get("MODELCHECK_LIVENESS_SPECS", "8"))


@needs_spin
@pytest.mark.parametrize("seed", range(RANDOM_SPECS))
def test_spin_agrees_on_random_liveness_specs(seed):
    """MODELCHECK_LIVENESS_SPECS random specs (specgen.generate_liveness): endless work items,
    retry loops, user actions; every liveness verdict equal to SPIN's."""
    generated = generate_liveness(random.Random(seed), 1)
    model = load_text(generated.text, file="random.probe")
    assert_spin_agrees(model, live_verdicts(model))


def test_livelock_is_a_builtin_of_every_spec():
    """livelock is on in every spec, as deadlock is: a work item that re-queues itself forever
    is found in a spec that asks nothing about liveness; hung_task joins only a spec that asks
    (a liveness property or an expect line on a liveness built-in); `disable livelock;` drops it."""
    body = """
        module m loadable { work w = again; init { queue_work(system_wq, w); } }
        fn again { queue_work(system_wq, w); }
    """
    model = load_text(spec("re-queues itself", body), file="rule.probe")
    names = [p.name for p in model.properties]
    assert "livelock" in names and "hung_task" not in names
    assert live_verdicts(model)["livelock"] is VIOLATED
    assert_spin_agrees(model, {"livelock": VIOLATED})
    once = load_text(spec("runs once", body.replace("fn again { queue_work(system_wq, w); }", "fn again { }")),
                     file="rule.probe")
    assert live_verdicts(once)["livelock"] is PROVED
    quiet = load_text(spec("re-queues itself", body + "disable livelock;\n"), file="rule.probe")
    assert "livelock" not in [p.name for p in quiet.properties]
    asked = load_text(spec("re-queues itself", body + "expect violation livelock;\n"), file="rule.probe")
    assert "hung_task" in [p.name for p in asked.properties]


# --- safety and liveness from one search ---------------------------------------------------------

ONE_PASS_SPECS = 24


def _graph_by_explorer(model):
    from modelcheck.engines import explicit
    safety, _ = liveness.split(model, [p.name for p in model.properties])
    _, explorer, exploration = explicit._search(model, safety, OPTIONS, reduce=False, record_graph=True)
    assert exploration.exhaustive
    return explorer.state_graph()


@pytest.mark.parametrize("seed", range(ONE_PASS_SPECS))
def test_the_safety_search_records_the_graph_build_graph_builds(seed):
    """explicit._check_on_one_graph hands the liveness engine the graph its unreduced safety
    search recorded: the same states in the same breadth-first order, the same steps and depths
    as liveness.build_graph, and each parent a shortest path's last step."""
    model = load_text(generate_liveness(random.Random(seed), 1).text, file="random.probe")
    built = liveness.build_graph(model, OPTIONS, float("inf"))
    recorded = _graph_by_explorer(model)
    assert recorded.states == built.states
    assert recorded.succ == built.succ
    assert recorded.depth == built.depth and recorded.initial == built.initial
    for s, parent in enumerate(recorded.parent):
        if parent is None:
            assert s in recorded.initial
            continue
        pred, thread, edge = parent
        assert recorded.depth[pred] == recorded.depth[s] - 1 and (thread, edge, s) in recorded.succ[pred]


@pytest.mark.parametrize("seed", range(ONE_PASS_SPECS))
def test_one_search_decides_what_two_searches_decide(seed):
    """Every verdict of the one-pass path (safety and liveness together) equals the verdict of the
    reduced safety search and a separate fair-cycle search; every violation replays."""
    from modelcheck.engines import explicit
    model = load_text(generate_liveness(random.Random(seed), 1).text, file="random.probe")
    names = [p.name for p in model.properties]
    safety, live = liveness.split(model, names)
    assert liveness.needs_graph(model, live)      # so the one-pass path is the one taken
    together = explicit.check_all(model, names, OPTIONS)
    apart = {**explicit.check_all(model, safety, OPTIONS), **liveness.check_all(model, live, OPTIONS)}
    assert {n: r.verdict for n, r in together.items()} == {n: r.verdict for n, r in apart.items()}
    for name, result in together.items():
        if result.verdict is Verdict.VIOLATED:
            confirm_violation(model, result.trace, name)
            if name in safety:    # the shortest trace, as the unreduced search alone gives it
                assert len(result.trace.steps) == len(apart[name].trace.steps), name
