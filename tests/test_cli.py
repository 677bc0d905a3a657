"""The `modelcheck check` command, run as a user runs it: a subprocess, exit codes, stdout, stderr."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ONE_PROPERTY = '''spec "one property"
source "tests/test_cli.py"
module m loadable { var x : int 0..1 = 0; init { x = 1; } }
invariant zero : x == 0;
disable deadlock;
'''
EXPECTED = ONE_PROPERTY + "expect violation zero;\n"
HOLDS = '''spec "nothing happens"
source "tests/test_cli.py"
module quiet loadable { var x : int 0..1 = 0; }
invariant still_zero : x == 0;
'''
MALFORMED = 'spec "broken"\nmodule m loadable {\n  init { x = ; }\n}\n'


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "modelcheck.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def check(*paths, engine: str = "explicit") -> subprocess.CompletedProcess:
    return run_cli("check", "--engine", engine, *map(str, paths))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def test_malformed_spec_exits_2_with_location_and_caret(tmp_path):
    spec = write(tmp_path / "bad.probe", MALFORMED)
    proc = check(spec)
    assert proc.returncode == 2, proc.stderr
    assert_clean(proc)
    assert f"{spec}:3:14: error[E100]: unexpected ';'" in proc.stderr
    assert "   3 |   init { x = ; }\n" in proc.stderr
    assert "\n       |              ^\n" in proc.stderr
    assert "  help: expected " in proc.stderr
    assert "1 spec error" in proc.stdout


def test_semantic_error_exits_2(tmp_path):
    spec = write(tmp_path / "sem.probe", 'spec "s"\nmodule m loadable { init { flag = true; } }\n')
    proc = check(spec)
    assert proc.returncode == 2
    assert_clean(proc)
    assert f"{spec}:2:28: error[E200]" in proc.stderr and "^" in proc.stderr and "help:" in proc.stderr


def test_missing_path_exits_2_cleanly(tmp_path):
    missing = tmp_path / "nope.probe"
    proc = check(missing)
    assert proc.returncode == 2
    assert_clean(proc)
    assert f"{missing}:1:1: error[E300]: cannot read {missing}: No such file or directory" in proc.stderr
    assert "help: check the path" in proc.stderr


def test_non_utf8_file_exits_2_cleanly(tmp_path):
    spec = tmp_path / "latin1.probe"
    spec.write_bytes(b'spec "caf\xe9"\n')
    proc = check(spec)
    assert proc.returncode == 2
    assert_clean(proc)
    assert f"{spec}:1:1: error[E300]: cannot read {spec}:" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_exits_2_cleanly(tmp_path):
    spec = write(tmp_path / "secret.probe", HOLDS)
    spec.chmod(0)
    try:
        proc = check(spec)
    finally:
        spec.chmod(0o644)
    assert proc.returncode == 2
    assert_clean(proc)
    assert f"cannot read {spec}: Permission denied" in proc.stderr


def test_directory_without_specs_exits_2(tmp_path):
    write(tmp_path / "notes.txt", "not a spec")
    proc = check(tmp_path)
    assert proc.returncode == 2
    assert_clean(proc)
    assert "no .probe files found" in proc.stderr


def test_expected_violation_exits_0(tmp_path):
    proc = check(write(tmp_path / "expected.probe", EXPECTED))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_clean(proc)
    assert "zero" in proc.stdout and "VIOLATED" in proc.stdout and "[expected violation]" in proc.stdout
    assert "(exit 0:" in proc.stdout


def test_unexpected_violation_exits_1(tmp_path):
    proc = check(write(tmp_path / "unexpected.probe", ONE_PROPERTY))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean(proc)
    assert "UNEXPECTED" in proc.stdout and "(exit 1:" in proc.stdout


def test_no_trace_still_decides(tmp_path):
    proc = run_cli("check", "--engine", "explicit", "--no-trace", str(write(tmp_path / "u.probe", ONE_PROPERTY)))
    assert proc.returncode == 1
    assert "VIOLATED" in proc.stdout and "zero: VIOLATED in" not in proc.stdout   # no trace header


def test_trace_is_shown_by_default(tmp_path):
    proc = check(write(tmp_path / "u.probe", ONE_PROPERTY))
    assert "zero: VIOLATED in" in proc.stdout and "x: 0 -> 1" in proc.stdout


def test_directory_is_searched_recursively(tmp_path):
    write(tmp_path / "top.probe", EXPECTED)
    write(tmp_path / "a" / "b" / "deep.probe", HOLDS)
    write(tmp_path / "a" / "ignored.txt", MALFORMED)          # not *.probe: never read
    write(tmp_path / "a" / "ignored.probe.bak", MALFORMED)
    proc = check(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_clean(proc)
    deep, top = tmp_path / "a" / "b" / "deep.probe", tmp_path / "top.probe"
    assert f"{deep}: nothing happens" in proc.stdout
    assert f"{top}: one property" in proc.stdout
    assert proc.stdout.index(str(deep)) < proc.stdout.index(str(top))   # sorted paths


def test_directory_with_good_and_bad_spec_reports_both_and_exits_2(tmp_path):
    write(tmp_path / "good.probe", EXPECTED)
    bad = write(tmp_path / "sub" / "bad.probe", MALFORMED)
    proc = check(tmp_path)
    assert proc.returncode == 2
    assert_clean(proc)
    assert f"{tmp_path / 'good.probe'}: one property" in proc.stdout
    assert "[expected violation]" in proc.stdout                 # the good spec's verdicts
    assert f"{bad}:3:14: error[E100]" in proc.stderr and "^" in proc.stderr
    assert "2 ok, 1 spec error in " in proc.stdout and "s (exit 2:" in proc.stdout


def test_bad_spec_before_good_one_does_not_stop_the_run(tmp_path):
    bad = write(tmp_path / "a.probe", MALFORMED)
    good = write(tmp_path / "b.probe", EXPECTED)
    proc = check(bad, good)
    assert proc.returncode == 2
    assert f"{good}: one property" in proc.stdout and f"{bad}:3:14" in proc.stderr


@pytest.mark.parametrize("args", [[], ["check"], ["check", "--engine", "nosuch", "x.probe"],
                                  ["check", "--max-depth", "deep", "x.probe"]])
def test_usage_errors_exit_2_without_traceback(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert_clean(proc)
    assert "usage:" in proc.stderr


def test_relative_path_is_shown_as_given(tmp_path):
    write(tmp_path / "rel.probe", MALFORMED)
    proc = run_cli("check", "--engine", "explicit", "rel.probe", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("rel.probe:3:14: error[E100]")


def test_property_that_no_spec_has_exits_2(tmp_path):
    """Like `trace`, `check --property NAME` with a name no checked spec declares is an error."""
    spec_file = write(tmp_path / "expected.probe", EXPECTED)
    proc = run_cli("check", "--property", "nosuch", str(spec_file))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_clean(proc)
    assert "'nosuch'" in proc.stderr
    assert run_cli("check", "--property", "zero", str(spec_file)).returncode == 0
