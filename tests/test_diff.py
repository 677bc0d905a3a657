"""`modelcheck diff`: what v8 fixed relative to v7, and regressions fail the command."""
import subprocess
import sys
from pathlib import Path

from modelcheck.commands.diff import compare, render_diff

from spec_results import checked

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
    v8, v7 = checked("specs/cxl/v8-static-work.probe"), checked("specs/cxl/v7-6of7.probe")
    changes = {c.prop: c.kind for c in compare(*v8, *v7)}
    assert changes["flush_uninitialized_work"] == "newly violated"
    assert changes["reinit_busy_work"] == "added"
    assert "newly violated:\n    flush_uninitialized_work" in render_diff("v8", "v7", compare(*v8, *v7))


def test_final_states_that_differ_are_listed(tmp_path):
    old = tmp_path / "old.probe"
    new = tmp_path / "new.probe"
    old.write_text('spec "a"\nmodule m builtin { var x : int 0..2 = 0; init { x = 1; } }\nuserspace u { x = 2; }\n')
    new.write_text('spec "b"\nmodule m builtin { var x : int 0..2 = 0; init { x = 1; } }\n')
    proc = diff(str(old), str(new))
    assert "final states on (x) that differ:\n    only before: (2,)" in proc.stdout
    assert proc.returncode == 0   # a changed outcome set is reported, not judged


def test_v7_and_v8_reach_the_same_final_states():
    v7, v8 = checked("specs/cxl/v7-6of7.probe"), checked("specs/cxl/v8-static-work.probe")
    from modelcheck.commands.diff import compare_outcomes
    from modelcheck.result import EngineOptions
    outcome = compare_outcomes(v7[0], v8[0], EngineOptions())
    assert not outcome.skipped and not outcome.only_old and not outcome.only_new


def test_diff_takes_the_cache_and_memory_options_of_check(tmp_path):
    """A CI job that caches `check` verdicts caches those of `diff` in the same place."""
    old = tmp_path / "old.probe"
    new = tmp_path / "new.probe"
    old.write_text('spec "a"\nmodule m builtin { var x : bool = false; init { x = true; } }\n'
                   'invariant x_unset : not x;\n')
    new.write_text('spec "b"\nmodule m builtin { var x : bool = false; init { } }\ninvariant x_unset : not x;\n')
    cache = tmp_path / "cache"
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "diff", str(old), str(new),
                           "--cache-dir", str(cache), "--memory", "2G"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "x_unset" in proc.stdout.split("  fixed:")[1]
    assert any(cache.rglob("*")), "nothing was cached"
