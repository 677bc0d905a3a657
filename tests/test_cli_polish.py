"""The command line as a new user meets it: --version, help for every option, exit codes in
the help of the commands that define their own, singular words, the progress line and the
run time in the summary."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from modelcheck import __version__
from modelcheck.cli import build_parser, main
from modelcheck.commands import progress as progress_mod
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Progress

ROOT = Path(__file__).resolve().parent.parent
TOUR = "docs/examples/tour.probe"


def test_version_prints_and_exits_0(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"modelcheck {__version__}"


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


@pytest.mark.parametrize("command", ["check", "trace", "outcomes", "diff", "report"])
def test_every_option_has_help(command):
    sub = _subparsers()[command]
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"{command} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", ["check", "trace", "diff", "report"])
def test_engine_help_names_every_engine(command):
    sub = _subparsers()[command]
    [engine] = [a for a in sub._actions if "--engine" in a.option_strings]
    for name in ("explicit", "foata", "bmc", "chc"):
        assert f"{name}:" in engine.help


@pytest.mark.parametrize("command", ["check", "trace", "diff", "outcomes"])
def test_exit_codes_are_in_the_help(command):
    text = _subparsers()[command].format_help()
    assert "exit codes: 0 " in text and " 2 " in text


def test_one_step_is_singular(tmp_path, capsys):
    spec = tmp_path / "one.probe"
    spec.write_text('spec "one step"\nbuiltin b { var x : bool = false; }\n'
                    'userspace u { x = true; }\ninvariant never : not x;\nexpect violation never;\n')
    main(["check", str(spec), "--no-cache", "--property", "never"])
    out = capsys.readouterr().out
    assert "VIOLATED in 1 steps" not in out and " 1 steps" not in out


def test_simulate_says_one_run(capsys):
    main(["simulate", TOUR, "--runs", "1", "--seed", "1"])
    out = capsys.readouterr().out
    assert "1 run" in out and "1 runs" not in out


def test_summary_line_gives_the_run_time(capsys):
    main(["check", TOUR, "--no-cache"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("modelcheck: ") and " in " in last and "s (exit 1:" in last


def test_email_lane_titles_are_not_cut():
    from modelcheck.checker import check_model
    from modelcheck.report.formats import to_email
    path = ROOT / "specs/cxl/v7-exit-flush.probe"
    model = load_text(path.read_text(), "specs/cxl/v7-exit-flush.probe")
    outcomes = check_model(model, "explicit", only=["flush_uninitialized_work"])
    mail = to_email([(model.file, model, outcomes)], [], 0)
    assert "modprobe dax_hmem\n" in mail or "modprobe dax_hmem " in mail
    assert all(len(line) <= 72 for line in mail.splitlines())


# --- the progress line ------------------------------------------------------------------

def test_the_explicit_engine_reports_progress_through_a_callback_and_prints_nothing(capsys):
    from modelcheck.engines import explicit
    model = load_text((ROOT / "specs/cxl/v7-exit-flush.probe").read_text(), "v7.probe")
    seen: list[Progress] = []
    explicit.check_all(model, [p.name for p in model.properties], EngineOptions(), seen.append)
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert all(p.depth >= 0 and p.states > 0 and p.seconds >= 0 for p in seen)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_progress_line_is_silent_off_a_terminal_and_for_machine_formats(monkeypatch):
    class Args:
        format, output, jobs = "text", None, 1
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert not progress_mod.wanted(Args)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert progress_mod.wanted(Args)
    Args.format = "json"
    assert not progress_mod.wanted(Args)
    Args.format, Args.output = "text", "out.txt"
    assert not progress_mod.wanted(Args)


def test_progress_line_draws_states_rate_depth_and_time(monkeypatch):
    pytest.importorskip("tqdm")
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    line = progress_mod.ProgressLine()
    line.start("specs/x.probe")
    line.report(Progress(states=12345, depth=7, seconds=2.5))
    line.close()
    drawn = err.getvalue()
    assert "specs/x.probe" in drawn and "12,345 states" in drawn and "states/s" in drawn
    assert "depth 7" in drawn and "2.5s" in drawn


def test_check_piped_prints_no_progress():
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", TOUR, "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stderr == ""
