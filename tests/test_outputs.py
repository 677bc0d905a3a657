"""`-o` targets: atomic replacement for regular files only; devices, FIFOs and stdout are written
through, symlinks followed, unwritable targets a clear error with exit 2; files follow the umask."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from modelcheck.cli import main
from modelcheck.report.output import OutputError, write_output
from modelcheck.report.results import STAGING, write_atomically

ROOT = Path(__file__).resolve().parents[1]
TOUR = str(ROOT / "docs/examples/tour.probe")


def check_to(target) -> int:
    return main(["check", TOUR, "--no-cache", "--format", "json", "-o", str(target)])


def test_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert check_to(tmp_path / "out.json") == 1
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644


def test_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o640)
    assert check_to(target) == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text().startswith("{")


def test_symlink_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert check_to(link) == 1
    assert link.is_symlink() and real.read_text().startswith("{")


def test_character_device_is_written_through():
    assert os.path.exists("/dev/null")
    assert write_output("/dev/null", "x") == "written through"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    try:
        for _ in range(100):   # the writer needs a reader at the other end
            try:
                assert write_output(str(fifo), "through the pipe\n") == "written through"
                break
            except OutputError:
                threading.Event().wait(0.05)
    finally:
        reader.join(timeout=10)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_stdout_is_written_through():
    code = ("from modelcheck.cli import main; import sys; "
            f"sys.exit(main(['check', {TOUR!r}, '--no-cache', '--format', 'json', '-o', '/dev/stdout']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.startswith("{") and "Traceback" not in proc.stderr
    assert os.path.islink("/dev/stdout") or stat.S_ISCHR(os.stat("/dev/stdout").st_mode)


@pytest.mark.parametrize("kind", ["directory", "read-only dir", "in /proc", "missing parent is a file"])
def test_unwritable_targets_are_errors(tmp_path, kind, capsys):
    if kind == "directory":
        target = tmp_path
    elif kind == "read-only dir":
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o500)
        target = tmp_path / "ro" / "out.json"
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only directories")
    elif kind == "in /proc":
        target = "/proc/self/status"
    else:
        (tmp_path / "file").write_text("")
        target = tmp_path / "file" / "out.json"
    assert check_to(target) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


def test_full_device_is_an_error(capsys):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    assert check_to("/dev/full") == 2
    assert "cannot write /dev/full" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_report_removes_staging_left_by_a_killed_run(tmp_path):
    out = tmp_path / "results"
    (out / f"{STAGING}killed" / "traces").mkdir(parents=True)
    (out / "traces").mkdir()
    (out / "traces" / "stale.txt").write_text("from an old run")
    write_atomically({"README.md": "new\n", "traces/a.txt": "a\n"}, str(out))
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "traces"]
    assert sorted(p.name for p in (out / "traces").iterdir()) == ["a.txt"]


def test_report_output_that_is_a_file_is_an_error(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("")
    assert main(["report", TOUR, "--no-cache", "-o", str(target)]) == 2
    assert "not a directory" in capsys.readouterr().err
