"""Property-based test of the command line: random options, random cache contents and random
output targets. Whatever hypothesis draws, `modelcheck` exits 0-4 and prints no traceback.

Runs in-process (the memory limit is recorded, not applied, so the test process keeps its
address space); derandomized and bounded to a few dozen examples so it stays well under a minute.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from modelcheck import cache
from modelcheck.cli import main
from modelcheck.commands import common

ROOT = Path(__file__).resolve().parents[1]
TOUR = str(ROOT / "docs/examples/tour.probe")
SPECS = [TOUR, str(ROOT / "docs/examples/errors/E200.probe"), "/dev/null", "missing.probe"]

SETTINGS = settings(max_examples=int(os.environ.get("MODELCHECK_CLI_EXAMPLES", "40")), deadline=None,
                    derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NUMBERS = st.sampled_from(["nan", "inf", "-inf", "-5", "0", "0.000001", "0.5", "30", "1e9", "abc", ""])
COUNTS = st.sampled_from(["-1", "0", "1", "3", "200", "x", "1.5"])
SIZES = st.sampled_from(["1K", "64M", "512M", "4G", "lots", "0", "100"])
ENTRY_KINDS = ["valid", "proved", "bad steps", "truncated", "bytes", "[]", "{}", "directory", "fifo",
               "no records", "string mac", "huge numbers"]
OUTPUT_KINDS = [None, "new", "existing", "directory", "/dev/null", "symlink", "dangling symlink",
                "under a file", "fifo", "/proc"]


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(["check", "check", "check", "report"]))
    argv = [command, draw(st.sampled_from(SPECS))]
    for option, values in (("--timeout", NUMBERS), ("--max-depth", COUNTS), ("--jobs", COUNTS),
                           ("--memory", SIZES)):
        if draw(st.booleans()) and (command == "check" or option != "--max-depth"):
            argv += [option, draw(values)]
    if command == "check":
        if draw(st.booleans()):
            argv += ["--format", draw(st.sampled_from(["text", "json", "sarif", "junit", "email"]))]
        if draw(st.booleans()):
            argv += ["--property", draw(st.sampled_from(["deadlock", "flush_uninitialized_work", "nope"]))]
        for flag in ("--no-trace", "--full-trace", "--no-reduction"):
            if draw(st.integers(0, 3)) == 0:
                argv.append(flag)
    cache_mode = draw(st.sampled_from(["entry", "entry", "none", "file", "dangling"]))
    return argv, cache_mode, draw(st.sampled_from(ENTRY_KINDS)), draw(st.sampled_from(OUTPUT_KINDS))


def _stored_entry() -> tuple[str, str]:
    """(file name, content) of the cache entry a default `check` of the tour spec writes."""
    with tempfile.TemporaryDirectory() as scratch:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["check", TOUR, "--no-trace", "--cache-dir", scratch])
        (entry,) = Path(scratch).glob("*.json")
        return entry.name, entry.read_text()


ENTRY = None


def _plant(cache_dir: Path, mode: str, kind: str) -> None:
    global ENTRY
    if mode == "none":
        return
    if mode == "file":
        cache_dir.write_text("not a directory")
        return
    if mode == "dangling":
        cache_dir.symlink_to(cache_dir.parent / "gone")
        return
    ENTRY = ENTRY or _stored_entry()
    name, text = ENTRY
    cache_dir.mkdir()
    entry = cache_dir / name
    data = json.loads(text)
    if kind == "directory":
        entry.mkdir()
        return
    if kind == "fifo":
        os.mkfifo(entry)
        return
    if kind == "proved":
        for r in data["records"]:
            r["verdict"], r["trace"] = "PROVED", None
    elif kind == "bad steps":
        for r in data["records"]:
            if r["trace"]:
                r["trace"]["steps"] = [[-1, 10 ** 30]]
    elif kind == "no records":
        del data["records"]
    elif kind == "string mac":
        data["mac"] = {"not": "a string"}
    elif kind == "huge numbers":
        for r in data["records"]:
            r["seconds"] = 10 ** 400
    content = {"truncated": text[: len(text) // 2], "bytes": "\x00\xff\xfe", "[]": "[]", "{}": "{}"}.get(
        kind, json.dumps(data))
    entry.write_text(content)


def _target(work: Path, kind):
    if kind is None:
        return None
    if kind in ("/dev/null",):
        return kind
    if kind == "/proc":
        return "/proc/self/modelcheck-out"
    target = work / "out"
    if kind == "existing":
        target.write_text("old")
    elif kind == "directory":
        target.mkdir()
    elif kind == "symlink":
        (work / "real").write_text("old")
        target.symlink_to(work / "real")
    elif kind == "dangling symlink":
        target.symlink_to(work / "nowhere")
    elif kind == "under a file":
        (work / "file").write_text("")
        target = work / "file" / "out"
    elif kind == "fifo":
        os.mkfifo(target)         # nobody reads it: a clear error, not a hang
    return str(target)


@SETTINGS
@given(command_lines())
def test_any_command_line_exits_0_to_4_without_traceback(drawn):
    argv, cache_mode, entry_kind, output_kind = drawn
    work = Path(tempfile.mkdtemp(prefix="modelcheck-fuzz-cli-"))
    recorded = []
    saved = common.set_memory_limit
    common.set_memory_limit = recorded.append          # never shrink the test process itself
    try:
        _plant(work / "cache", cache_mode, entry_kind)
        argv = argv + ["--cache-dir", str(work / "cache")]
        target = _target(work, output_kind)
        if target is not None:
            argv += ["-o", target]
        out = io.StringIO()
        code = None
        old = os.getcwd()
        os.chdir(work)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = main(argv)
        except SystemExit as exc:                       # argparse's usage errors
            code = exc.code
        except BaseException:
            raise AssertionError(f"modelcheck {' '.join(argv)} raised:\n{traceback.format_exc()}")
        finally:
            os.chdir(old)
        assert code in (0, 1, 2, 3, 4), (argv, code, out.getvalue()[-2000:])
        assert "Traceback" not in out.getvalue(), (argv, out.getvalue()[-2000:])
        violation_asked = "--property" not in argv or "flush_uninitialized_work" in argv
        if code in (0, 1) and "tour" in argv[1] and violation_asked:
            assert code == 1, (argv, out.getvalue()[-2000:])   # a forged cache entry never hides the violation
    finally:
        common.set_memory_limit = saved
        for path in [work, *work.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(work, ignore_errors=True)
