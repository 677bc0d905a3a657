"""`modelcheck diff`: what v8 fixed relative to v7, and regressions fail the command."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def diff(old, new):
    return subprocess.run([sys.executable, "-m", "modelcheck.cli", "diff", old, new], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_v8_fixes_the_flush_of_uninitialized_work_and_breaks_nothing():
    proc = diff("specs/cxl/v7-6of7.probe", "specs/cxl/v8-static-work.probe")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fixed = proc.stdout.split("  fixed:")[1].split("\n  ")[1]
    assert fixed.split()[:4] == ["flush_uninitialized_work", "VIOLATED", "->", "PROVED"]
    assert "nothing regressed" in proc.stdout
    assert "newly violated" not in proc.stdout


def test_going_back_to_v7_is_reported_as_a_regression():
    proc = diff("specs/cxl/v8-static-work.probe", "specs/cxl/v7-6of7.probe")
    assert proc.returncode == 1
    assert "newly violated:\n    flush_uninitialized_work" in proc.stdout
