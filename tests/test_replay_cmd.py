"""`modelcheck replay SPEC TRACE.json` on the spec and on edited specs, and `modelcheck simulate`."""
import json
from pathlib import Path

import pytest

from modelcheck.cli import main
from modelcheck.report.results import trace_json

from spec_results import checked

ROOT = Path(__file__).resolve().parent.parent
TOUR = "docs/examples/tour.probe"
PROP = "flush_uninitialized_work"
V7 = "specs/cxl/v7-6of7.probe"
V8 = "specs/cxl/v8-static-work.probe"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def v7_trace(tmp_path_factory):
    model, outcomes = checked(V7)
    [outcome] = [o for o in outcomes if o.result.prop == PROP]
    path = tmp_path_factory.mktemp("v7") / "v7.json"
    path.write_text(json.dumps(trace_json(model, outcome), indent=2), encoding="utf-8")
    return path


@pytest.fixture
def tour_trace(tmp_path, capsys):
    path = tmp_path / "tour.json"
    code, _ = run(capsys, "trace", TOUR, "--property", PROP, "--format", "json", "-o", str(path))
    assert code == 0
    return path


def test_the_json_names_property_and_open_values(v7_trace):
    doc = json.loads(v7_trace.read_text())
    assert doc["property"] == PROP
    assert doc["initial"] == {"region_assembles": "false", "hmem_device_late": "true"}


def test_v7_trace_reproduces_on_v7(v7_trace, capsys):
    code, out = run(capsys, "replay", V7, str(v7_trace))
    assert (code, out) == (0, f"reproduces: {PROP} violated at step 31\n")


def test_v7_trace_diverges_on_v8_at_the_flush(v7_trace, capsys):
    code, out = run(capsys, "replay", V8, str(v7_trace))
    assert code == 1
    assert out.startswith("diverges at step 31: thread kworker:cxl_dax_region_driver_work cannot take "
                          "flush_work(dax_hmem_work): func is NULL, WARN and return [v7-6of7.probe:125] here; "
                          "enabled: flush_work(dax_hmem_work): idle, returns at once [v8-static-work.probe:125]"), out


@pytest.mark.parametrize("saved", sorted(p.name for p in (ROOT / "results/traces").glob("*.json")))
def test_every_published_trace_reproduces_on_its_spec(saved, capsys):
    """Check, invariant and final properties alike: the last saved step is where it is violated."""
    doc = json.loads((ROOT / "results/traces" / saved).read_text())
    code, out = run(capsys, "replay", doc["spec"], f"results/traces/{saved}")
    expected = f"reproduces: {doc['property']} violated at step {len(doc['steps'])}"
    if doc.get("cycle_start") is not None:   # a lasso: the replay also checks that its cycle closes
        expected += (f"; the cycle from step {doc['cycle_start']} returns to its first state and is fair, "
                     "so it repeats forever")
    assert (code, out) == (0, expected + "\n")


def test_committed_trace_without_initial_values_still_replays(v7_trace, tmp_path, capsys):
    doc = json.loads(v7_trace.read_text())
    del doc["initial"]                       # files written before `initial` existed
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    assert run(capsys, "replay", V7, str(old)) == (0, f"reproduces: {PROP} violated at step 31\n")


def test_edited_spec_with_shifted_lines_still_reproduces(tour_trace, tmp_path, capsys):
    edited = tmp_path / "tour.probe"
    edited.write_text("# a comment that moves every line down\n\n" + (ROOT / TOUR).read_text())
    assert run(capsys, "replay", str(edited), str(tour_trace)) == (0, f"reproduces: {PROP} violated at step 8\n")


def _fixed_tour(directory: Path) -> Path:
    text = (ROOT / TOUR).read_text()
    assert "work defer_work;" in text
    fixed = directory / "tour.probe"
    fixed.write_text(text.replace("work defer_work;", "work defer_work = process_defer_work;"))
    return fixed


def test_fixed_spec_of_the_same_name_replays_by_line_but_does_not_violate(tour_trace, tmp_path, capsys):
    code, out = run(capsys, "replay", str(_fixed_tour(tmp_path)), str(tour_trace))
    assert code == 1
    assert out.splitlines() == [
        f"does not reproduce: all 8 steps replay but {PROP} is not violated",
        "  step 8 (udev: modprobe dax_cxl) matched by spec line tour.probe:13 only: saved "
        "'flush_work(defer_work): func is NULL, WARN and return ; dax_cxl_init returned 0: dax_cxl is live', "
        "now 'flush_work(defer_work): idle, returns at once ; dax_cxl_init returned 0: dax_cxl is live'"], out


def test_fixed_spec_under_another_name_diverges_at_the_flush(tour_trace, tmp_path, capsys):
    fixed = _fixed_tour(tmp_path).rename(tmp_path / "tour-fixed.probe")
    code, out = run(capsys, "replay", str(fixed), str(tour_trace))
    assert code == 1 and out.startswith("diverges at step 8: thread udev: modprobe dax_cxl cannot take "
                                        "flush_work(defer_work): func is NULL"), out
    assert "; enabled: flush_work(defer_work): idle" in out


def test_a_missing_thread_is_named(tour_trace, tmp_path, capsys):
    doc = json.loads(tour_trace.read_text())
    doc["steps"][1]["thread"] = "udev: modprobe nothing"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, out = run(capsys, "replay", TOUR, str(bad))
    assert code == 1 and out.startswith("diverges at step 2: there is no thread udev: modprobe nothing")


def test_errors_exit_2(tour_trace, tmp_path, capsys):
    doc = json.loads(tour_trace.read_text())
    doc["property"] = "no_such_property"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    assert run(capsys, "replay", TOUR, str(other))[0] == 2
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert run(capsys, "replay", TOUR, str(junk))[0] == 2


# --- simulate -------------------------------------------------------------------------------

def test_simulate_is_deterministic_for_a_seed(capsys):
    first = run(capsys, "simulate", V7, "--seed", "3", "--runs", "3")
    again = run(capsys, "simulate", V7, "--seed", "3", "--runs", "3")
    assert first == again and first[0] == 0
    assert first[1].count("  run ") == 3 and "config:   DEV_DAX_HMEM=" in first[1]
    assert first[1].rstrip().endswith("modelcheck: 3 runs, no unexpected violation")


def test_simulate_prints_text_trace_steps_and_violations(capsys):
    code, out = run(capsys, "simulate", TOUR, "--seed", "1")
    assert code == 1                     # the tour has no `expect violation` line
    assert "      1  init (boot)" in out and "[tour.probe:13]" in out
    assert "!! flush_uninitialized_work: flush_work(defer_work) with func NULL" in out
    assert "violates flush_uninitialized_work at step" in out


def test_simulate_stops_after_steps(capsys):
    code, out = run(capsys, "simulate", V7, "--seed", "5", "--steps", "4")
    assert code == 0 and "stopped after 4 steps (--steps)" in out and "      5  " not in out
