"""The verdict cache saves time and never creates trust: a forged, broken or unreadable entry is
treated as absent (and replaced), an unusable cache directory never fails a run, and `report`
reuses what `check` stored."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from modelcheck import cache, checker
from modelcheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
TOUR = str(ROOT / "docs/examples/tour.probe")        # flush_uninitialized_work is VIOLATED: exit 1


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "cache"


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*.json"))


def run(*argv) -> int:
    return main(["check", TOUR, "--no-trace", *argv])


def test_cache_dir_default_env_and_option(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(cache.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_dir() == str(tmp_path / "xdg" / "modelcheck")
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "env"))
    assert run() == 1 and entries(tmp_path / "env")
    assert run("--cache-dir", str(tmp_path / "opt")) == 1 and entries(tmp_path / "opt")


def test_cached_verdicts_are_marked(cache_dir, capsys):
    assert run("--cache-dir", str(cache_dir)) == 1
    assert "(cached)" not in capsys.readouterr().out
    assert run("--cache-dir", str(cache_dir)) == 1
    out = capsys.readouterr().out
    assert "VIOLATED" in out and "(cached)" in out


def test_forged_proof_is_not_trusted(cache_dir, capsys):
    assert run("--cache-dir", str(cache_dir)) == 1
    (entry,) = entries(cache_dir)
    data = json.loads(entry.read_text())
    for r in data["records"]:
        r["verdict"], r["trace"] = "PROVED", None
    entry.write_text(json.dumps(data))
    assert run("--cache-dir", str(cache_dir)) == 1         # searched again: still violated
    assert "(cached)" not in capsys.readouterr().out
    assert json.loads(entry.read_text())["records"] != data["records"]   # the forged entry was replaced


def test_signed_entry_whose_trace_does_not_replay_is_replaced(cache_dir, capsys):
    """Even an authentic entry that is wrong (bad step indices) only costs a search, once."""
    assert run("--cache-dir", str(cache_dir)) == 1
    (entry,) = entries(cache_dir)
    data = json.loads(entry.read_text())
    for r in data["records"]:
        if r["trace"]:
            r["trace"]["steps"] = [[99, 12345]]
    signing_key = cache._signing_key(create=False)
    body = json.dumps(data["records"], sort_keys=True).encode()
    data["mac"] = cache._mac(signing_key, entry.stem.encode() + body)
    entry.write_text(json.dumps(data))
    assert run("--cache-dir", str(cache_dir)) == 1
    assert run("--cache-dir", str(cache_dir)) == 1
    assert "(cached)" in capsys.readouterr().out.split("modelcheck:")[-2]   # the replacement is used


BAD_CONTENTS = {"list": "[]", "object": "{}", "garbage": "\x00\xff", "no mac": '{"records": []}',
                "missing property": None}


@pytest.mark.parametrize("kind", sorted(BAD_CONTENTS) + ["directory", "fifo", "dangling symlink"])
def test_bad_entries_are_absent(cache_dir, kind, capsys):
    assert run("--cache-dir", str(cache_dir)) == 1
    (entry,) = entries(cache_dir)
    data = json.loads(entry.read_text())
    entry.unlink()
    if kind == "directory":
        entry.mkdir()
    elif kind == "fifo":
        os.mkfifo(entry)
    elif kind == "dangling symlink":
        entry.symlink_to(cache_dir / "nowhere")
    elif kind == "missing property":
        data["records"] = data["records"][1:]
        entry.write_text(json.dumps(data))
    else:
        entry.write_text(BAD_CONTENTS[kind])
    assert run("--cache-dir", str(cache_dir)) == 1
    assert run("--no-cache") == 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["file", "read-only", "dangling symlink"])
def test_unusable_cache_dir_never_fails_a_run(tmp_path, cache_dir, kind, capsys):
    if kind == "file":
        cache_dir.write_text("not a directory")
    elif kind == "read-only":
        cache_dir.mkdir()
        cache_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:
        cache_dir.symlink_to(tmp_path / "gone" / "deeper")
        (tmp_path / "gone").write_text("a file, so the link cannot be created through")
    try:
        assert run("--cache-dir", str(cache_dir)) == 1
        assert run("--cache-dir", str(cache_dir)) == 1
    finally:
        if kind == "read-only":
            cache_dir.chmod(stat.S_IRWXU)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if os.geteuid() != 0 or kind != "read-only":
        assert "verdicts not cached" in err


def searches_of_the_tour(monkeypatch) -> list[str]:
    """The engines run_engine is asked to run on the tour's own model from now on (report's
    race explanation re-checks patched copies of it, which are other models)."""
    from modelcheck.frontend import load_file
    tour, _ = load_file(TOUR)
    searched = []
    real = checker.run_engine

    def recording(engine, model, *args, **kwargs):
        if model == tour:
            searched.append(engine)
        return real(engine, model, *args, **kwargs)
    monkeypatch.setattr(checker, "run_engine", recording)
    return searched


def test_report_reuses_what_check_cached(cache_dir, tmp_path, monkeypatch, capsys):
    assert run("--cache-dir", str(cache_dir)) == 1
    searched = searches_of_the_tour(monkeypatch)
    assert main(["report", TOUR, "-o", str(tmp_path / "results"), "--cache-dir", str(cache_dir)]) == 1
    assert searched == [], "report searched again although check had cached the verdicts"
    assert (tmp_path / "results" / "README.md").is_file()


@pytest.mark.parametrize("options", [["--no-reduction"], ["--max-depth", "150"]])
def test_report_after_check_with_other_options_searches_again(cache_dir, tmp_path, monkeypatch, capsys, options):
    """report checks with the default options; a verdict check cached under other options is
    another entry, never reused by report."""
    assert run("--cache-dir", str(cache_dir), *options) == 1
    assert len(entries(cache_dir)) == 1
    searched = searches_of_the_tour(monkeypatch)
    assert main(["report", TOUR, "-o", str(tmp_path / "results"), "--cache-dir", str(cache_dir)]) == 1
    assert searched == ["explicit"]
    assert len(entries(cache_dir)) == 2
    searched.clear()
    assert run("--cache-dir", str(cache_dir)) == 1    # check with the defaults reads report's entry
    assert searched == []
