"""Runs on Dask (modelcheck.parallel): a two-worker LocalCluster gives the serial run's output
byte for byte (timings masked), a task whose worker dies is a checker error naming its spec,
and stopping a run cancels what it submitted."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from modelcheck import cli, parallel
from modelcheck.commands import common
from modelcheck.devtools import soak

ROOT = Path(__file__).resolve().parents[1]
# small specs with every kind of answer: ok, unexpected (a violated property), spec errors
SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/examples/tutorial").glob("*.probe")) \
    + ["docs/examples/errors/E100.probe", "docs/examples/errors/E201.probe"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, as `dask scheduler` + two `dask worker`s would give."""
    import dask
    with dask.config.set({"distributed.scheduler.allowed-failures": parallel.ALLOWED_FAILURES}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.ERROR) as local:
            yield local


def _json_run(tmp_path: Path, name: str, *options: str) -> tuple[int, str]:
    out = tmp_path / f"{name}.json"
    code = cli.main(["check", *SPECS, "--no-cache", "--format", "json", "-o", str(out), *options])
    return code, out.read_text()


def _masked(text: str) -> str:
    """The JSON with every property's time set to 0: the one field that differs run to run."""
    doc = json.loads(text)
    for spec in doc["specs"]:
        for prop in spec["properties"]:
            prop["seconds"] = 0
    return json.dumps(doc, indent=2)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return _json_run(tmp_path_factory.mktemp("serial"), "serial")


def test_scheduler_run_equals_serial_run(cluster, serial, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, text = _json_run(tmp_path, "scheduler", "--scheduler", cluster.scheduler_address)
    assert code == serial[0] == 2            # the spec errors decide the exit code
    assert '"verdict": "VIOLATED"' in text    # not only errors: real verdicts and traces compared
    assert _masked(text) == _masked(serial[1])


def test_jobs_two_runs_on_a_local_cluster_and_equals_serial_run(serial, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, text = _json_run(tmp_path, "jobs", "--jobs", "2")
    assert code == serial[0]
    assert _masked(text) == _masked(serial[1])


def test_scheduler_from_environment(monkeypatch):
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "tcp://10.0.0.1:8786")
    assert cli.build_parser().parse_args(["check", "x.probe"]).scheduler == "tcp://10.0.0.1:8786"
    assert cli.build_parser().parse_args(["diff", "a.probe", "b.probe"]).scheduler == "tcp://10.0.0.1:8786"
    monkeypatch.delenv(parallel.SCHEDULER_ENV)
    assert cli.build_parser().parse_args(["report", "x.probe"]).scheduler is None


def test_answers_come_in_task_order(cluster):
    finished = []
    answers = list(parallel.run_tasks(abs, [-3, 2, -1, 0], scheduler=cluster.scheduler_address,
                                      on_finished=lambda done, total: finished.append((done, total))))
    assert answers == [3, 2, 1, 0]
    assert finished == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_soak_on_a_scheduler_agrees_with_serial_soak(cluster):
    here = soak.soak(3, 5, seed=7, size=0)
    there = soak.soak(3, 5, seed=7, size=0, scheduler=cluster.scheduler_address)
    assert there["tried"] == here["tried"] == 3
    assert there["verdict_counts"] == here["verdict_counts"] and there["verdict_counts"]
    assert there["outcome_sizes"] == here["outcome_sizes"]
    assert there["jobs"] == 2
    assert f"--scheduler {cluster.scheduler_address}" in soak.render(there)


def test_closing_a_run_cancels_its_tasks(cluster):
    """Ctrl-C while waiting, like leaving the loop early, leaves no task on the scheduler."""
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(parallel.run_tasks(time.sleep, [0, 2, 2, 2], scheduler=cluster.scheduler_address,
                                on_finished=interrupt))
    with distributed.Client(cluster.scheduler_address) as client:
        left = None
        for _ in range(50):
            left = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
            if left == 0:
                break
            time.sleep(0.1)
    assert left == 0


def test_task_whose_worker_dies_is_failed_not_dropped(cluster):
    answers = list(parallel.run_tasks(os._exit, [3], scheduler=cluster.scheduler_address))
    assert len(answers) == 1 and isinstance(answers[0], parallel.Failed)
    assert "died" in answers[0].reason


def test_failed_spec_is_a_checker_error_exit_2(monkeypatch, capsys):
    def workers_died(task, items, jobs, scheduler, on_finished=None):
        items = list(items)
        yield task(items[0])
        yield parallel.Failed("its worker died on every try the scheduler allowed")

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(parallel, "run_tasks", workers_died)
    code = cli.main(["check", "--no-cache", "--jobs", "2", SPECS[0], SPECS[1]])
    err = capsys.readouterr().err
    assert code == 2
    assert f"modelcheck: checker error: {SPECS[1]}: not checked: its worker died" in err


def test_a_parallel_run_on_a_terminal_counts_specs_done(monkeypatch, capsys):
    from modelcheck.commands import progress

    class Args:
        format, output, jobs, scheduler = "text", None, 2, None
    monkeypatch.setattr(progress.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    count = progress.progress_line(Args)
    assert isinstance(count, progress.SpecCount)
    count.update(1, 3)
    count.update(3, 3)
    count.close()
    assert "3/3" in capsys.readouterr().err
    Args.jobs, Args.scheduler = 1, "tcp://127.0.0.1:8786"
    assert isinstance(progress.progress_line(Args), progress.SpecCount)
    Args.scheduler = None
    assert isinstance(progress.progress_line(Args), progress.ProgressLine)


def test_a_bad_scheduler_address_is_exit_2_with_a_message(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["check", SPECS[0], "--scheduler", "nonsense:::"]) == 2
    err = capsys.readouterr().err
    assert "modelcheck: cannot use the Dask scheduler at nonsense:::" in err
    assert "Traceback" not in err


def test_bench_jobs_section_reads_its_own_numbers():
    from modelcheck.devtools import bench_jobs

    def rows(two_seconds, cores):
        return [dict(round=1, jobs=1, seconds=100.0, cores=cores, load=1.0),
                dict(round=1, jobs=2, seconds=two_seconds, cores=cores, load=1.0)]
    faster = bench_jobs.render_section(["specs/"], rows(60.0, 1.9), 22, "now")
    assert "| 1 | 2 | 60.0 s | 1.67x | 1.9 | 1.0 |" in faster
    assert "took 60% of the time of --jobs 1, with 1.9 free cores" in faster[-2]
    slower = bench_jobs.render_section(["specs/"], rows(130.0, 1.0), 22, "now")
    assert "No parallel run beat --jobs 1 (best: 0.77x)" in slower[-2]
