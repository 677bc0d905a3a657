"""Smaller counterexamples: steps a violation does not need are dropped (Z3 engines' traces),
the steps that do not affect it are folded in the text renderings, and everything replays."""
import json
import re
from pathlib import Path

import pytest

from modelcheck.checker import check_model, run_engine
from modelcheck.cli import main
from modelcheck.frontend import load_text
from modelcheck.interp import Interpreter
from modelcheck.minimize import drop_steps, relevant_steps, switches
from modelcheck.reduce import variables_of
from modelcheck.replay import confirm_violation, replay
from modelcheck.report.text import trace_text
from modelcheck.report.timeline import timeline
from modelcheck.result import EngineOptions, Trace, TraceStep, Verdict

from spec_results import checked

ROOT = Path(__file__).resolve().parent.parent
PROP = "flush_uninitialized_work"
FOLD_LINE = re.compile(r"\.\.\. (\d+) steps \((\d+)-(\d+)\) that do not affect the violation")

# The tour, with a module that has nothing to do with the bug.
NOISE = """\
spec "tour with an unrelated module loaded alongside"
module dax_hmem loadable {
  work defer_work;
  driver hmem_platform { probe { init_work(defer_work, process_defer_work); } }
  device hmem0 : hmem_platform;
  init { register_driver(hmem_platform); }
}
fn process_defer_work { }
module dax_cxl loadable {
  uses dax_hmem;
  init { flush_work(defer_work); }
}
module noise loadable {
  driver noise_drv { probe { } }
  device noise0 : noise_drv;
  init { register_driver(noise_drv); }
}
"""

# The tour, with dax_hmem registering two drivers the bug does not involve: a run to fold.
FOLDED = """\
spec "tour, with dax_hmem registering two more drivers first"
module dax_hmem loadable {
  work defer_work;
  driver hmem_platform { probe { init_work(defer_work, process_defer_work); } }
  driver hmem_a { probe { } }
  driver hmem_b { probe { } }
  device hmem0 : hmem_platform;
  init { register_driver(hmem_a); register_driver(hmem_b); register_driver(hmem_platform); }
}
fn process_defer_work { }
module dax_cxl loadable {
  uses dax_hmem;
  init { flush_work(defer_work); }
}
"""


@pytest.fixture(scope="module")
def noise():
    model = load_text(NOISE, "noise.probe")
    [outcome] = check_model(model, "explicit", only=[PROP])
    return model, outcome


def _thread(model, name: str) -> int:
    return next(i for i, t in enumerate(model.threads) if t.name == name)


def _pad(model, trace: Trace, after: int, thread: int) -> Trace:
    """`trace` with `thread` run as far as it goes after step `after`."""
    interp = Interpreter(model)
    state = replay(model, Trace(trace.initial, trace.steps[:after])).final
    extra = []
    while True:
        options = [(e, edge) for t, e, edge in interp.enabled(state) if t == thread]
        if not options:
            break
        e, edge = options[0]
        extra.append(TraceStep(thread, e))
        state = interp.step(state, thread, edge)
    return Trace(trace.initial, trace.steps[:after] + tuple(extra) + trace.steps[after:])


# --- dropping steps ---------------------------------------------------------------------

def test_padding_is_dropped_and_the_result_replays(noise):
    model, outcome = noise
    trace = outcome.result.trace
    noisy = _thread(model, "udev: modprobe noise")
    padded = _pad(model, trace, 1, noisy)
    assert len(padded.steps) >= len(trace.steps) + 3
    confirm_violation(model, padded, PROP)            # the padding keeps the violation
    smaller = drop_steps(model, padded, PROP)
    confirm_violation(model, smaller, PROP)
    assert len(smaller.steps) == len(trace.steps)
    assert noisy not in {s.thread for s in smaller.steps}
    assert switches(smaller.steps) <= switches(trace.steps)


def test_a_trace_that_does_not_violate_is_returned_as_it_is(noise):
    model, outcome = noise
    prefix = Trace(outcome.result.trace.initial, outcome.result.trace.steps[:3])
    assert drop_steps(model, prefix, PROP) == prefix


@pytest.mark.parametrize("engine", ["foata", "bmc"])
def test_z3_engine_traces_are_minimized_before_they_are_confirmed(noise, engine):
    model, explicit = noise
    raw = run_engine(engine, model, [PROP], EngineOptions(timeout=120))[PROP]
    assert raw.verdict is Verdict.VIOLATED
    [outcome] = check_model(model, engine, EngineOptions(timeout=120), only=[PROP])
    assert outcome.result.verdict is Verdict.VIOLATED and outcome.replay is not None
    trace = outcome.result.trace
    assert len(trace.steps) <= len(raw.trace.steps)
    assert len(trace.steps) == len(explicit.result.trace.steps)   # nothing the violation needs is left out
    assert _thread(model, "udev: modprobe noise") not in {s.thread for s in trace.steps}


def _violated_specs() -> list[str]:
    """The specs under specs/cxl/ with a counterexample in results/ (their explicit traces)."""
    specs = {json.loads(p.read_text(encoding="utf-8"))["spec"]
             for p in (ROOT / "results/traces").glob("cxl__*.json")}
    return sorted(specs)


@pytest.mark.parametrize("spec", _violated_specs())
def test_drop_steps_leaves_explicit_traces_alone(spec):
    """Breadth-first traces are shortest, and fewest-switch among those: nothing to drop."""
    model, outcomes = checked(spec)
    violated = [o for o in outcomes if o.result.verdict is Verdict.VIOLATED]
    assert violated
    for o in violated:
        assert drop_steps(model, o.result.trace, o.result.prop) == o.result.trace, o.result.prop


# --- the slice --------------------------------------------------------------------------

def _last_writer(steps, var: str, before: int):
    return max((s.index for s in steps if s.index < before and var in dict(s.edge.assigns)), default=None)


@pytest.mark.parametrize("spec", _violated_specs() + ["docs/examples/tour.probe"])
def test_the_slice_keeps_what_the_violation_reads_and_folds_only_unobserved_steps(spec):
    model, outcomes = checked(spec) if spec.startswith("specs/") else \
        (lambda m: (m, check_model(m, "explicit")))(load_text((ROOT / spec).read_text(encoding="utf-8"), spec))
    for o in outcomes:
        if o.replay is None:
            continue
        prop, steps = model.property(o.result.prop), o.replay.steps
        relevant = relevant_steps(model, o.result.trace, prop.name)
        if prop.kind == "check":
            failing = steps[-1]
            assert failing.index in relevant
            reads = variables_of(failing.edge.guard).union(
                *(variables_of(c.ok) for c in failing.edge.checks if c.prop == prop.name))
            end = failing.index
        else:
            reads, end = variables_of(prop.expr) if prop.expr is not None else set(), len(steps) + 1
        for var in reads:
            writer = _last_writer(steps, var, end)
            assert writer is None or writer in relevant, (prop.name, var, writer)
        for step in steps:   # a step left out writes nothing a later relevant step reads
            if step.index in relevant:
                continue
            written = {v for v, _ in step.edge.assigns}
            for later in steps[step.index:]:
                if later.index in relevant:
                    assert not written & variables_of(later.edge.guard), (prop.name, step.index, later.index)


def test_v7_slice_keeps_the_queue_work_and_the_worker_and_drops_the_cxl_acpi_load():
    model, outcomes = checked("specs/cxl/v7-6of7.probe")
    [o] = [o for o in outcomes if o.result.prop == PROP]
    relevant = relevant_steps(model, o.result.trace, PROP)
    by_label = {s.edge.label.split(" ; ")[0]: s.index for s in o.replay.steps}
    assert by_label["queue_work(system_long_wq, cxl_dax_region_driver_work)"] in relevant
    assert by_label["worker runs cxl_dax_region_driver_work -> cxl_dax_region_driver_register()"] in relevant
    assert by_label["register_driver(cxl_acpi_driver)"] not in relevant
    assert by_label["insert CXL window cfmws0 into iomem"] not in relevant


# --- folding ----------------------------------------------------------------------------

def _numbered_and_folded(text: str) -> list[int]:
    """Every step number a rendering accounts for, numbered rows and folded ranges alike."""
    out = []
    for line in text.splitlines():
        fold = FOLD_LINE.search(line)
        if fold:
            count, first, last = map(int, fold.groups())
            assert count == last - first + 1 >= 3
            out += range(first, last + 1)
        elif re.match(r"\s{0,6}\d+ ", line):
            out.append(int(line.split()[0]))
    return out


def test_v7_timeline_folds_runs_and_accounts_for_every_step():
    model, outcomes = checked("specs/cxl/v7-6of7.probe")
    [o] = [o for o in outcomes if o.result.prop == PROP]
    text = timeline(model, o)
    folds = FOLD_LINE.findall(text)
    assert folds and "--full-trace shows every step" in text
    assert _numbered_and_folded(text) == [s.index for s in o.replay.steps]
    assert max(len(l) for l in text.splitlines()) <= 100
    full = timeline(model, o, full=True)
    assert not FOLD_LINE.search(full) and len(full.splitlines()) > len(text.splitlines())
    short = trace_text(model, o)
    assert FOLD_LINE.search(short) and _numbered_and_folded(short) == [s.index for s in o.replay.steps]
    assert not FOLD_LINE.search(trace_text(model, o, full=True))


def test_full_trace_option_of_trace_and_check(tmp_path, capsys):
    spec = tmp_path / "folded.probe"
    spec.write_text(FOLDED, encoding="utf-8")
    assert main(["trace", str(spec), "--property", PROP]) == 0
    folded = capsys.readouterr().out
    [(count, first, last)] = FOLD_LINE.findall(folded)
    assert main(["trace", str(spec), "--property", PROP, "--full-trace"]) == 0
    full = capsys.readouterr().out
    assert not FOLD_LINE.search(full)
    for n in range(int(first), int(last) + 1):
        assert re.search(rf"(?m)^\s+{n} ", full) and not re.search(rf"(?m)^\s+{n} ", folded)
    assert main(["check", str(spec), "--no-cache"]) == 1
    assert FOLD_LINE.search(capsys.readouterr().out)
    assert main(["check", str(spec), "--no-cache", "--full-trace"]) == 1
    assert not FOLD_LINE.search(capsys.readouterr().out)


def test_machine_formats_keep_every_step_and_mark_relevance(tmp_path, capsys):
    spec = tmp_path / "folded.probe"
    spec.write_text(FOLDED, encoding="utf-8")
    assert main(["trace", str(spec), "--property", PROP, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    marks = [s["relevant"] for s in doc["steps"]]
    assert False in marks and marks[-1] is True
    assert main(["trace", str(spec), "--property", PROP, "--format", "itf"]) == 0
    states = json.loads(capsys.readouterr().out)["states"]
    assert [s["#meta"]["relevant"] for s in states[1:]] == marks
