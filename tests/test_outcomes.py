"""`modelcheck outcomes`: every final state, a witness and the number of interleavings."""
from __future__ import annotations

from modelcheck.cli import main

RACE = '''spec "race on one flag"
platform p0 : bool;
module a loadable { var x : bool = false; var y : bool = false; init { x = true; if p0 { y = true; } } }
module c loadable { init { x = false; } }
'''

CYCLE = '''spec "a work item that re-queues itself until told to stop"
builtin b { var stop : bool = false; var ran : bool = false; }
module m loadable { work w = f; init { queue_work(system_wq, w); } }
fn f { ran = true; if not stop { queue_work(system_wq, w); } }
userspace admin { stop = true; }
'''


def run(tmp_path, capsys, text, *extra):
    spec = tmp_path / "s.probe"
    spec.write_text(text)
    code = main(["outcomes", str(spec), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_final_state_with_witness_and_count(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, RACE, "--cross-check")
    assert code == 0
    assert "States 4 (explicit search); 4 (z3 enumeration)" in out
    assert "x=true; y=true;    10 interleavings; witness: [p0=true] init (boot) ; udev: modprobe c x3 ; udev: modprobe a x3" in out
    assert "x=false; y=false;  10 interleavings" in out


def test_observe_projects(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, RACE, "--observe", "x", "--cross-check")
    assert code == 0
    assert "States 2 (explicit search); 2 (z3 enumeration)" in out
    assert "x=false;  20 interleavings" in out


def test_cycle_prints_states_without_counts(tmp_path, capsys):
    code, out, _ = run(tmp_path, capsys, CYCLE, "--cross-check")
    assert code == 0
    assert "has a cycle, so the number of interleavings is undefined" in out
    assert "States 1 (explicit search); 1 (z3 enumeration)" in out
    assert "  stop=true; ran=true;\n" in out


def test_unknown_variable_is_an_error(tmp_path, capsys):
    code, _, err = run(tmp_path, capsys, RACE, "--observe", "nope")
    assert code == 2 and "has no variable(s) nope" in err


def test_without_cross_check_only_the_search_runs_and_says_so(tmp_path, capsys, monkeypatch):
    """The Z3 enumeration takes seconds where the search takes milliseconds: it runs only
    when asked, and the output says it was skipped."""
    from modelcheck.engines import enumerate as z3enum

    def refuse(*args, **kwargs):
        raise AssertionError("the Z3 enumeration ran without --cross-check")
    monkeypatch.setattr(z3enum, "terminal_states", refuse)
    code, out, _ = run(tmp_path, capsys, RACE)
    assert code == 0
    assert "States 4 (explicit search); not cross-checked (--cross-check compares with a Z3 enumeration)" in out


def test_a_stopped_cross_check_says_why_in_words(tmp_path, capsys, monkeypatch):
    from modelcheck.engines import enumerate as z3enum

    def canceled(*args, **kwargs):
        raise z3enum.EnumerationIncomplete("canceled")
    monkeypatch.setattr(z3enum, "terminal_states", canceled)
    code, out, _ = run(tmp_path, capsys, RACE, "--cross-check", "--timeout", "7")
    assert code == 3
    assert "the Z3 enumeration did not finish (its time limit of 7 s ran out)" in out
    assert "canceled" not in out
