"""Resource limits and hostile input: each ends in a clear error (exit 2) or an inconclusive
result that names the limit (exit 3), never a traceback, a hang or unbounded memory."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from modelcheck import limits
from modelcheck.cli import main
from modelcheck.commands import common
from modelcheck.engines import explicit
from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.ir import TRUE, Const, Edge, Location, Model, Property, Thread, Variable
from modelcheck.reduce import fuse
from modelcheck.result import EngineOptions, Verdict

ROOT = Path(__file__).resolve().parents[1]
TOUR = str(ROOT / "docs/examples/tour.probe")


def spec_error(body: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_text('spec "limits"\n' + body, file="limits.probe")
    return info.value


def test_hex_literals_are_allowed_in_int_bounds():
    model = load_text('spec "hex"\nplatform p : int 0x0..0x10;\n', file="hex.probe")
    assert next(v for v in model.variables if v.name == "p").hi == 16


@pytest.mark.parametrize("literal", ["9" * 5000, "0x" + "f" * 5000, "18446744073709551616"])
@pytest.mark.parametrize("where", ["bound", "expr", "address"])
def test_huge_integer_literals_are_E106(literal, where):
    body = {"bound": f"platform p : int 0..{literal};",
            "expr": f"module m loadable {{ var x : int 0..1 = 0; init {{ x = {literal}; }} }}",
            "address": f"window w @ 0x0 .. {literal};"}[where]
    err = spec_error(body)
    assert err.code == "E106" and len(err.message) < 200


def test_a_call_chain_300_deep_is_E107():
    fns = "\n".join(f"fn f{i} {{ f{i + 1}(); }}" for i in range(300)) + "\nfn f300 { }"
    assert spec_error(fns + "\nmodule m loadable { init { f0(); } }").code == "E107"


def test_a_recursion_cycle_through_2000_functions_is_E208():
    fns = "\n".join(f"fn f{i} {{ f{(i + 1) % 2000}(); }}" for i in range(2000))
    assert spec_error(fns + "\nmodule m loadable { init { f0(); } }").code == "E208"


def test_a_call_tree_doubling_16_levels_is_E108_quickly():
    fns = "fn g0 { }\n" + "\n".join(f"fn g{i} {{ g{i - 1}(); g{i - 1}(); }}" for i in range(1, 17))
    started = time.monotonic()
    assert spec_error(fns + "\nmodule m loadable { init { g16(); } }").code == "E108"
    assert time.monotonic() - started < 30


def test_a_flat_body_of_8000_statements_fuses_in_linear_memory():
    body = "".join(f"x = {i % 4}; " for i in range(8000))
    model = load_text(f'spec "flat"\nmodule m loadable {{ var x : int 0..3 = 0; init {{ {body} }} }}\n')
    labels = [e.label for th in model.threads for loc in th.locations for e in loc.edges]
    assert sum(map(len, labels)) < 2_000_000


def test_fuse_terminates_on_a_cycle_of_fusable_locations():
    """0 -> 1 -> 2 -> 1 ...: locations 1 and 2 are fusable but form a cycle; fusion must end
    and keep the behaviour (the private counter still cycles)."""
    bump = (("c", Const(1)),)
    locs = (Location((Edge(TRUE, (), 1, "enter"),), False),
            Location((Edge(TRUE, bump, 2, "a"),), False),
            Location((Edge(TRUE, (("c", Const(0)),), 1, "b"),), False))
    model = Model("m", "m.spec", (Variable("c", 0, 1, 0),), (Thread("t", locs),), (), ())
    fused = fuse(model)
    assert 1 <= len(fused.threads[0].locations) <= 3


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "fifo-in-dir", "too-large"])
def test_spec_paths_that_are_not_regular_files(tmp_path, kind, capsys):
    if kind == "fifo":
        path = tmp_path / "spec.probe"
        os.mkfifo(path)
        args = [str(path)]
    elif kind == "dev-zero":
        args = ["/dev/zero"]
    elif kind == "fifo-in-dir":
        os.mkfifo(tmp_path / "a.probe")
        (tmp_path / "b.probe").write_text(Path(TOUR).read_text())
        args = [str(tmp_path)]
    else:
        path = tmp_path / "big.probe"
        path.write_text('spec "big"\n' + "# padding\n" * 120_000)
        args = [str(path)]
    started = time.monotonic()
    assert main(["check", *args, "--no-cache", "--no-trace"]) == 2
    err = capsys.readouterr().err
    assert ("error[E105]" if kind == "too-large" else "error[E104]") in err
    assert "Traceback" not in err and time.monotonic() - started < 60


def test_the_time_limit_covers_compilation(monkeypatch, capsys):
    def slow_load(path):
        time.sleep(30)
    monkeypatch.setattr(common, "load_file", slow_load)
    started = time.monotonic()
    assert main(["check", TOUR, "--no-cache", "--timeout", "0.5"]) == 3
    assert time.monotonic() - started < 10
    out = capsys.readouterr()
    assert "the time limit (0.5 s) ran out while compiling the spec" in out.err
    assert "1 inconclusive" in out.out


def test_the_memory_limit_is_inconclusive_and_named(monkeypatch, capsys):
    def hungry(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(common, "check_model", hungry)
    monkeypatch.setattr(limits, "set_memory_limit", lambda limit: None)
    monkeypatch.setattr(common, "set_memory_limit", lambda limit: None)
    assert main(["check", TOUR, "--no-cache", "--memory", "512M"]) == 3
    assert "the memory limit" in capsys.readouterr().err


def test_memory_limit_makes_allocation_fail_not_the_oom_killer():
    """The address-space backstop (twice the limit plus 1 GiB): a huge allocation fails."""
    code = ("from modelcheck import limits\n"
            "limits.set_memory_limit(256 << 20)\n"
            "try:\n    b = bytearray(4 << 30)\nexcept MemoryError:\n    print('refused')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "refused"


def test_a_search_stopped_by_the_memory_limit_says_so(tmp_path):
    """Six threads racing on one variable, searched without reduction, outgrow 100M: the
    search stops with the limit named, exit 3 (it was killed by the kernel, or printed
    MemoryError tracebacks, before)."""
    spec = tmp_path / "hog.probe"
    spec.write_text('spec "memory hog"\nbuiltin core { var x : int 0..2 = 0; }\ninvariant in_range : x <= 2;\n' + "".join(
        f"userspace u{u} {{ {' '.join(f'x = {i % 3};' for i in range(8))} }}\n" for u in range(6)))
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", str(spec), "--no-cache",
                           "--no-reduction", "--memory", "100M"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "the memory limit (--memory 100M) was reached" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("option", ["--timeout nan", "--timeout inf", "--timeout -5", "--timeout 0",
                                    "--max-depth -1", "--jobs 0", "--memory 1K", "--memory lots"])
def test_nonsense_limits_are_usage_errors(option, capsys):
    with pytest.raises(SystemExit) as info:
        main(["check", TOUR, *option.split()])
    assert info.value.code == 2 and "error: argument" in capsys.readouterr().err


def test_time_limit_message_names_the_limit_given():
    """seed002 gives the reduction up and restarts unreduced: the message still shows --timeout."""
    spec = str(ROOT / "specs/cxl/seed002-dax-cxl-mode.probe")
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", spec, "--no-cache",
                           "--timeout", "8", "--no-trace"], capture_output=True, text=True, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, text
    times = {line.split("the time limit (")[1].split(")")[0] for line in text.splitlines()
             if "the time limit (" in line}
    assert times == {"8 s"}, text


def test_the_state_cap_is_named_when_time_runs_out_after_it(monkeypatch):
    """The cap is reached first, the time limit while finishing that depth: the cap is named."""
    def counter(name):
        steps = tuple(Location((Edge(TRUE, ((name, Const(i + 1)),), i + 1, f"{name}{i}"),), False)
                      for i in range(30))
        return Thread(name, steps + (Location((), True),))
    model = Model("m", "m.spec", (Variable("a", 0, 30, 0), Variable("b", 0, 30, 0)),
                  (counter("a"), counter("b")), (), (Property("ok", "invariant", "true", TRUE),))
    real = explicit._Explorer.timed_out
    monkeypatch.setattr(explicit._Explorer, "timed_out",
                        lambda self: self.refused or real(self))
    result = explicit.check_all(model, ["ok"], EngineOptions(max_states=20, reduction=False))["ok"]
    assert result.verdict in (Verdict.BOUNDED, Verdict.TIMEOUT)
    assert "max_states=20" in result.argument and "time limit" not in result.argument, result.argument


def test_sigterm_during_jobs_leaves_no_process_behind():
    proc = subprocess.Popen([sys.executable, "-m", "modelcheck.cli", "check", str(ROOT / "specs/cxl"),
                             "--no-cache", "--jobs", "2", "--no-trace"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert len(workers) >= 2, "the pool never started"
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("check --jobs 2 did not end within 15 s of SIGTERM")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr.read()
    time.sleep(0.5)
    alive = [pid for pid in workers if _alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers left behind: {alive}"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_final_states_survive_the_reduction_giving_up(monkeypatch):
    """`diff`'s final_states: when the partial-order reduction gives itself up, the search
    starts over unreduced (it used to end in a traceback after 'nothing regressed')."""
    body = " ".join(f"x = {i % 3};" for i in range(4))
    model = load_text('spec "writers"\nbuiltin core { var x : int 0..2 = 0; }\n'
                      + "".join(f"userspace u{u} {{ {body} }}\n" for u in range(3)))
    plain = explicit.final_states(model, ["x"], EngineOptions(reduction=False))
    monkeypatch.setattr(explicit, "REVIEW_AFTER_STEPS", 5)
    monkeypatch.setattr(explicit, "KEPT_SHARE_TO_GIVE_UP", 0.0)
    assert explicit.final_states(model, ["x"], EngineOptions(reduction=True)) == plain


@pytest.mark.parametrize("call", ["iounmap(io0, m0);", "release_mem_region(io0, m0);"])
def test_undoing_what_was_never_done_checks_without_a_traceback(call):
    """Found by the widened random specs: an iounmap (release) with no ioremap (request) of
    that range by that owner anywhere used to assign an undeclared variable (KeyError)."""
    model = load_text('spec "undo"\nrange io0 : mmio @ 0xfe000000 .. 0xfe000fff;\n'
                      f'module m0 builtin {{ init {{ {call} }} }}\n')
    result = explicit.check_all(model, ["deadlock"], EngineOptions())["deadlock"]
    assert result.verdict is Verdict.PROVED


def test_the_time_limit_is_not_swallowed_by_library_code(monkeypatch, capsys):
    """lark wraps every Exception raised inside a transformer in VisitError: the limit, raised
    from a signal handler wherever compilation is, must pass through such handlers."""
    def wrapping_load(path):
        try:
            time.sleep(30)
        except Exception as exc:
            raise RuntimeError("wrapped by a library") from exc
    monkeypatch.setattr(common, "load_file", wrapping_load)
    assert main(["check", TOUR, "--no-cache", "--timeout", "0.5"]) == 3
    assert "ran out while compiling the spec" in capsys.readouterr().err
