"""Replay the hardening attack list and record each case's outcome in results/robustness.md.

    python -m modelcheck.devtools.robustness [-o results/robustness.md] [--only NAME]

Every case runs `modelcheck` in a fresh scratch directory (its own cache and signing key) as a
subprocess with a wall-clock limit, and passes when the exit code is the one the contract
asks for, nothing printed a Python traceback, and the case's own check of the aftermath holds
(a device still a device, no file written by a spec, no worker left behind, ...). The figure
is rerun, not remembered: the table is this script's output.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "docs/examples/tour.probe"          # flush_uninitialized_work is VIOLATED: exit 1
LIMIT = 300                                       # seconds per case before it counts as a hang


@dataclass
class Run:
    code: Optional[int]          # None: killed after LIMIT seconds (a hang)
    out: str
    seconds: float


@dataclass
class Case:
    name: str
    kind: str                                     # the heading of the list it belongs to
    play: Callable[[Path], tuple[Run, Optional[str]]]   # (last run, failure reason or None)
    expected: str                                 # what the contract asks, for the table


def modelcheck(work: Path, *argv, timeout: float = LIMIT, env=None) -> Run:
    """`modelcheck ARGV` from `work`, stdout and stderr together."""
    environ = dict(os.environ, MODELCHECK_CACHE_DIR=str(work / "cache"),
                   XDG_CONFIG_HOME=str(work / "config"), PYTHONPATH=str(ROOT), **(env or {}))
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", *map(str, argv)], cwd=work,
                              env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout, errors="replace")
        return Run(proc.returncode, proc.stdout, time.monotonic() - started)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Run(None, out, time.monotonic() - started)


def verdict(run: Run, codes: set[int], must: str = "", extra: Optional[str] = None):
    """(run, reason the case failed or None)."""
    if run.code is None:
        return run, f"no answer within {LIMIT} s"
    if "Traceback" in run.out:
        return run, "a Python traceback"
    if run.code not in codes:
        return run, f"exit {run.code}, wanted {'/'.join(map(str, sorted(codes)))}"
    if must and must not in run.out:
        return run, f"output lacks {must!r}"
    return run, extra


def spec(work: Path, name: str, text: str) -> Path:
    path = work / name
    path.write_text(text, encoding="utf-8")
    return path


# --- must never happen ------------------------------------------------------------------

def kconfig_shell(work: Path):
    (work / "Kconfig").write_text('X := $(shell,touch pwned)\nconfig A\n\tbool "a"\n')
    run = modelcheck(work, "check", spec(work, "k.probe", 'spec "k"\nconfig A : bool;\nkconfig "Kconfig";\n'),
                     "--no-cache")
    if (work / "pwned").exists():
        return run, "the spec ran a shell command"
    return verdict(run, {0, 2})      # read with shell evaluation off, or refused with a clear error


def kconfig_quotes_file(work: Path):
    (work / "secret").write_text("SECRET-FIRST-LINE x y z\n")
    run = modelcheck(work, "check", spec(work, "k.probe", f'spec "k"\nkconfig "{work / "secret"}";\n'), "--no-cache")
    return verdict(run, {2}, extra="the error quotes the named file" if "SECRET-FIRST-LINE" in run.out else None)


def _cached_entry(work: Path) -> Path:
    modelcheck(work, "check", TOUR, "--no-trace")
    return next((work / "cache").glob("*.json"))


def cache_forged_proof(work: Path):
    entry = _cached_entry(work)
    data = json.loads(entry.read_text())
    for r in data["records"]:
        r["verdict"], r["trace"] = "PROVED", None
    entry.write_text(json.dumps(data))
    return verdict(modelcheck(work, "check", TOUR, "--no-trace"), {1})


def cache_bad_steps(work: Path):
    entry = _cached_entry(work)
    data = json.loads(entry.read_text())
    for r in data["records"]:
        if r["trace"]:
            r["trace"]["steps"] = [[7, 999]]
    entry.write_text(json.dumps(data))
    first = modelcheck(work, "check", TOUR, "--no-trace")
    run, why = verdict(modelcheck(work, "check", TOUR, "--no-trace"), {1})
    return run, why or (None if first.code == 1 else f"first run after the edit exited {first.code}")


def output_device(path: str):
    def play(work: Path):
        if not os.path.exists(path):
            return Run(0, "", 0.0), None
        before = os.stat(path).st_mode
        run = modelcheck(work, "check", TOUR, "--format", "json", "-o", path)
        changed = os.stat(path).st_mode != before
        codes = {2} if path == "/dev/full" else {1}
        return verdict(run, codes, extra=f"{path} was replaced" if changed else None)
    return play


def output_stdout(work: Path):
    was_link = os.path.islink("/dev/stdout")
    run = modelcheck(work, "check", TOUR, "--format", "json", "-o", "/dev/stdout")
    changed = os.path.islink("/dev/stdout") != was_link
    return verdict(run, {1}, must='"schema"', extra="/dev/stdout was replaced" if changed else None)


def output_symlink(work: Path):
    (work / "real.json").write_text("old")
    (work / "link.json").symlink_to(work / "real.json")
    run = modelcheck(work, "check", TOUR, "--format", "json", "-o", work / "link.json")
    ok = (work / "link.json").is_symlink() and (work / "real.json").read_text().startswith("{")
    return verdict(run, {1}, extra=None if ok else "the symlink was replaced or its target not written")


def alias_boot_done(work: Path):
    return verdict(modelcheck(work, "check", spec(work, "alias.probe", (
        'spec "alias"\nbuiltin core { var ready : bool = false; initcall late { ready = true; } }\n'
        'module m loadable { var boot_done : bool = true; init { } }\n'
        'userspace u { assert r : ready; }\nexpect holds r;\n')), "--no-cache"), {0})


# --- the contract: clear error, exit 2, nothing lost, bounded resources --------------------

def text_case(text: str, codes: set[int], must: str = "", *options):
    def play(work: Path):
        return verdict(modelcheck(work, "check", spec(work, "s.probe", 'spec "s"\n' + text), "--no-cache",
                                  *options), codes, must)
    return play


def _chain(n: int) -> str:
    return "\n".join(f"fn f{i} {{ f{i + 1}(); }}" for i in range(n)) + f"\nfn f{n} {{ }}\n" \
        "module m loadable { init { f0(); } }\n"


def _cycle(n: int) -> str:
    return "\n".join(f"fn f{i} {{ f{(i + 1) % n}(); }}" for i in range(n)) + \
        "\nmodule m loadable { init { f0(); } }\n"


def _doubling(levels: int) -> str:
    return "fn g0 { }\n" + "\n".join(f"fn g{i} {{ g{i - 1}(); g{i - 1}(); }}" for i in range(1, levels + 1)) + \
        f"\nmodule m loadable {{ init {{ g{levels}(); }} }}\n"


def _flat(n: int) -> str:
    return "module m loadable { var x : int 0..3 = 0; init { " + \
        " ".join(f"x = {i % 4};" for i in range(n)) + " } }\n"


def flat_memory(work: Path):
    run, why = verdict(modelcheck(work, "check", spec(work, "s.probe", 'spec "s"\n' + _flat(8000)),
                                  "--no-cache", "--memory", "300M"), {0})
    return run, why


def fifo_spec(work: Path):
    os.mkfifo(work / "spec.probe")
    return verdict(modelcheck(work, "check", work / "spec.probe", timeout=60), {2}, "E104")


def dev_zero_spec(work: Path):
    return verdict(modelcheck(work, "check", "/dev/zero", timeout=60), {2}, "E104")


def fifo_in_dir(work: Path):
    (work / "specs").mkdir()
    os.mkfifo(work / "specs/a.probe")
    (work / "specs/b.probe").write_text(TOUR.read_text())
    return verdict(modelcheck(work, "check", work / "specs", "--no-cache", timeout=120), {2}, "E104")


def fifo_cache_entry(work: Path):
    entry = _cached_entry(work)
    entry.unlink()
    os.mkfifo(entry)
    return verdict(modelcheck(work, "check", TOUR, "--no-trace", timeout=120), {1})


def output_target(target: Callable[[Path], str], must: str = "cannot write"):
    def play(work: Path):
        return verdict(modelcheck(work, "check", TOUR, "--format", "json", "-o", target(work)), {2}, must)
    return play


def cache_dir_case(setup: Callable[[Path], None]):
    def play(work: Path):
        setup(work)
        modelcheck(work, "check", TOUR, "--no-trace")
        run, why = verdict(modelcheck(work, "check", TOUR, "--no-trace"), {1})
        if why is None:
            run, why = verdict(modelcheck(work, "check", TOUR, "--no-trace", "--no-cache"), {1})
        return run, why
    return play


def _readonly_cache(work: Path) -> None:
    (work / "cache").mkdir()
    (work / "cache").chmod(0o500)


def _entry_content(content: Optional[str], directory: bool = False):
    def setup(work: Path) -> None:
        entry = _cached_entry(work)
        data = json.loads(entry.read_text())
        entry.unlink()
        if directory:
            entry.mkdir()
        elif content is None:        # an entry missing a property
            data["records"] = data["records"][1:]
            entry.write_text(json.dumps(data))
        else:
            entry.write_text(content)
    return setup


def sigterm_jobs(work: Path):
    environ = dict(os.environ, MODELCHECK_CACHE_DIR=str(work / "cache"), XDG_CONFIG_HOME=str(work / "config"),
                   PYTHONPATH=str(ROOT))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "modelcheck.cli", "check", ROOT / "specs/cxl", "--no-cache",
                             "--jobs", "2", "--no-trace"], env=environ, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() - started < 60:
        time.sleep(0.2)
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
        workers = [int(x) for x in out.split()]
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return Run(None, "", time.monotonic() - started), "no exit within 15 s of SIGTERM"
    err = proc.stderr.read()
    time.sleep(0.5)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    run = Run(proc.returncode, err, time.monotonic() - started)
    if len(workers) < 2:
        return run, "the worker pool never started"
    if left:
        return run, f"{len(left)} worker(s) left behind"
    return run, ("exit 0 after SIGTERM" if proc.returncode == 0 else
                 "a Python traceback" if "Traceback" in err else None)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def report_killed_commit(work: Path):
    out = work / "results"
    (out / ".staging-killed/traces").mkdir(parents=True)
    (out / "traces").mkdir()
    (out / "traces/stale.txt").write_text("a trace of a run killed while committing")
    run = modelcheck(work, "report", TOUR, "-o", out)
    names = sorted(p.name for p in out.iterdir())
    stale = (out / "traces/stale.txt").exists()
    problem = f"left behind: {names}" if names != ["README.md", "traces"] or stale else None
    return verdict(run, {1}, extra=problem)


def option_case(*options):
    def play(work: Path):
        return verdict(modelcheck(work, "check", TOUR, *options), {2}, "error: argument")
    return play


def diff_reduction_given_up(work: Path):
    def writers(first: int) -> str:
        body = lambda u: " ".join(f"x = {((i + first) if u == 0 and i == 0 else i) % 3};" for i in range(7))
        return 'spec "writers"\nbuiltin core { var x : int 0..2 = 0; }\n' + \
            "".join(f"userspace u{u} {{ {body(u)} }}\n" for u in range(4))
    return verdict(modelcheck(work, "diff", spec(work, "old.probe", writers(0)), spec(work, "new.probe", writers(1))),
                   {0, 1}, "final states")


def fuse_cycle(work: Path):
    code = ("from modelcheck.ir import *\nfrom modelcheck.reduce import fuse\n"
            "locs = (Location((Edge(TRUE, (), 1, 'enter'),), False),\n"
            "        Location((Edge(TRUE, (('c', Const(1)),), 2, 'a'),), False),\n"
            "        Location((Edge(TRUE, (('c', Const(0)),), 1, 'b'),), False))\n"
            "m = Model('m', 'm.spec', (Variable('c', 0, 1, 0),), (Thread('t', locs),), (), ())\n"
            "print(len(fuse(m).threads[0].locations), 'locations after fusion')\n")
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    except subprocess.TimeoutExpired:
        return Run(None, "", time.monotonic() - started), "fusion did not terminate within 60 s"
    run = Run(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)
    return verdict(run, {0}, "locations after fusion")


def compile_time_limit(work: Path):
    return verdict(modelcheck(work, "check", spec(work, "s.probe", 'spec "s"\n' + _flat(8000)), "--no-cache",
                              "--timeout", "0.5"), {3}, "ran out while compiling")


def memory_limit(work: Path):
    text = 'builtin core { var x : int 0..2 = 0; }\n' + "".join(
        f"userspace u{u} {{ {' '.join(f'x = {i % 3};' for i in range(8))} }}\n" for u in range(6))
    return verdict(modelcheck(work, "check", spec(work, "s.probe", 'spec "s"\n' + text), "--no-cache",
                              "--no-reduction", "--memory", "100M"), {3}, "the memory limit (--memory 100M)")


def state_cap(work: Path):
    """The 2,000,000-state cap is reached first: the message names it (the time limit is ample)."""
    code = ("from modelcheck.frontend import load_text\nfrom modelcheck.engines import explicit\n"
            "from modelcheck.result import EngineOptions\n"
            "text = 'spec \"s\"\\nbuiltin core { var x : int 0..2 = 0; }\\n' + ''.join(\n"
            "    'userspace u%d { %s }\\n' % (u, ' '.join('x = %d;' % (i % 3) for i in range(8))) for u in range(6))\n"
            "r = explicit.check_all(load_text(text), ['deadlock'], EngineOptions(max_states=20000, reduction=False))\n"
            "print(r['deadlock'].verdict.name, r['deadlock'].argument)\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=LIMIT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    run = Run(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)
    return verdict(run, {0}, "the state limit (max_states=20000)",
                   extra="the time limit is named" if "time limit" in run.out else None)


CASES = [
    Case("kconfig $(shell,...) runs nothing", "must never happen", kconfig_shell, "no file written; exit 0 or 2"),
    Case("kconfig error quotes no foreign file", "must never happen", kconfig_quotes_file, "exit 2, no line of the file"),
    Case("cache entry edited VIOLATED -> PROVED", "must never happen", cache_forged_proof, "exit 1 (searched again)"),
    Case("cache entry with bad step indices", "must never happen", cache_bad_steps, "exit 1, and on the next run"),
    Case("-o /dev/full", "must never happen", output_device("/dev/full"), "exit 2, device kept"),
    Case("-o /dev/null", "must never happen", output_device("/dev/null"), "exit 1, device kept"),
    Case("-o /dev/stdout", "must never happen", output_stdout, "written through, link kept"),
    Case("-o a symlink", "must never happen", output_symlink, "target written, link kept"),
    Case("spec var boot_done", "must never happen", alias_boot_done, "exit 0 (holds r)"),
    Case("decimal literal of 5000 digits", "bad input", text_case(f"platform p : int 0..{'9' * 5000};", {2}, "E106"), "exit 2, E106"),
    Case("hex literal of 5000 digits", "bad input", text_case(
        f"module m loadable {{ var x : int 0..1 = 0; init {{ x = 0x{'f' * 5000}; }} }}", {2}, "E106"), "exit 2, E106"),
    Case("hex literals in int bounds", "bad input", text_case("platform p : int 0x0..0x10;", {0}), "exit 0"),
    Case("call chain 300 deep", "bad input", text_case(_chain(300), {2}, "E107"), "exit 2, E107"),
    Case("recursion through 2000 functions", "bad input", text_case(_cycle(2000), {2}, "E208"), "exit 2, E208"),
    Case("call tree doubling 16 levels", "bad input", text_case(_doubling(16), {2}, "E108", "--timeout", "20"), "exit 2, E108"),
    Case("flat body of 8000 statements", "bad input", flat_memory, "exit 0 within --memory 300M"),
    Case("a FIFO as the spec", "bad input", fifo_spec, "exit 2, E104"),
    Case("/dev/zero as the spec", "bad input", dev_zero_spec, "exit 2, E104"),
    Case("a FIFO named *.probe in a checked directory", "bad input", fifo_in_dir, "exit 2, E104"),
    Case("a FIFO as a cache entry", "cache", fifo_cache_entry, "exit 1 (searched again)"),
    Case("-o on a read-only file system (/sys)", "outputs", output_target(lambda w: "/sys/modelcheck.json"), "exit 2"),
    Case("-o into /proc", "outputs", output_target(lambda w: "/proc/self/modelcheck.json"), "exit 2"),
    Case("-o onto a directory", "outputs", output_target(lambda w: str(w)), "exit 2"),
    Case("cache directory is a file", "cache", cache_dir_case(lambda w: (w / "cache").write_text("x")), "exit 1, a warning"),
    Case("cache directory read-only", "cache", cache_dir_case(_readonly_cache), "exit 1"),
    Case("cache directory a dangling symlink", "cache", cache_dir_case(
        lambda w: (w / "cache").symlink_to(w / "gone")), "exit 1"),
    Case("cache entry holds []", "cache", cache_dir_case(_entry_content("[]")), "exit 1"),
    Case("cache entry holds {}", "cache", cache_dir_case(_entry_content("{}")), "exit 1"),
    Case("cache entry is a directory", "cache", cache_dir_case(_entry_content("", directory=True)), "exit 1"),
    Case("cache entry missing a property", "cache", cache_dir_case(_entry_content(None)), "exit 1"),
    Case("SIGTERM during check --jobs 2", "signals", sigterm_jobs, "non-zero exit within 15 s, no worker left"),
    Case("SIGKILL in report's commit (leftover staging)", "signals", report_killed_commit, "next run cleans up"),
    Case("--timeout nan", "options", option_case("--timeout", "nan"), "exit 2"),
    Case("--timeout inf", "options", option_case("--timeout", "inf"), "exit 2"),
    Case("--timeout -5", "options", option_case("--timeout", "-5"), "exit 2"),
    Case("--max-depth -1", "options", option_case("--max-depth", "-1"), "exit 2"),
    Case("--jobs 0", "options", option_case("--jobs", "0"), "exit 2"),
    Case("diff when the reduction is given up", "engines", diff_reduction_given_up, "exit 0/1, final states compared"),
    Case("step fusion on a cycle of fusable locations", "engines", fuse_cycle, "terminates"),
    Case("time limit covers compilation", "limits", compile_time_limit, "exit 3, says compiling"),
    Case("memory limit", "limits", memory_limit, "exit 3, names --memory"),
    Case("state cap named", "limits", state_cap, "names max_states, not the time"),
]


def replay(only: Optional[str] = None, log=sys.stderr) -> list[tuple[Case, Run, Optional[str]]]:
    """Run every case (or those whose name contains `only`) in its own scratch directory."""
    rows = []
    for case in CASES:
        if only and only not in case.name:
            continue
        with tempfile.TemporaryDirectory(prefix="modelcheck-robustness-") as scratch:
            try:
                run, why = case.play(Path(scratch))
            except Exception as exc:      # the harness itself failed: a failing row, not a crash
                run, why = Run(None, "", 0.0), f"harness error: {type(exc).__name__}: {exc}"
            finally:
                for path in Path(scratch).rglob("*"):
                    if path.is_dir() and not path.is_symlink():
                        path.chmod(stat.S_IRWXU)
        rows.append((case, run, why))
        print(f"robustness: {'pass' if why is None else 'FAIL'}  {case.name}"
              + (f": {why}" if why else ""), file=log, flush=True)
    return rows


def render(rows) -> str:
    passed = sum(1 for _, _, why in rows if why is None)
    lines = ["# Robustness: the hardening attack list, replayed", "",
             "Generated by `python -m modelcheck.devtools.robustness`; do not edit by hand. Each case runs "
             "`modelcheck` in a scratch directory and passes when it exits as the contract asks, prints no "
             "Python traceback, and the aftermath is as it should be.", "",
             f"**{passed} of {len(rows)} cases pass.**", "",
             "| case | kind | expected | exit | time | outcome |", "|---|---|---|---|---|---|"]
    for case, run, why in rows:
        code = "hang" if run.code is None else str(run.code)
        lines.append(f"| {case.name} | {case.kind} | {case.expected} | {code} | {run.seconds:.1f}s | "
                     f"{'pass' if why is None else 'FAIL: ' + why.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m modelcheck.devtools.robustness", description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=None, help="write the table here (e.g. results/robustness.md)")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    args = ap.parse_args(argv)
    rows = replay(args.only)
    text = render(rows)
    if args.output:
        from ..report.results import write_file_atomically
        write_file_atomically(args.output, text)
        print(f"robustness: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0 if all(why is None for _, _, why in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
