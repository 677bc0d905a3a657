"""The README's tour prints what it shows (timings aside), and its set-up commands are the CI's."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(r"\d+\.\d+s")


def test_tour_transcript_matches():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```\n$ modelcheck check docs/examples/tour.probe\n", 1)[1].split("\n```", 1)[0]
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", "docs/examples/tour.probe",
                           "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert TIMING.sub("T", proc.stdout.rstrip("\n")) == TIMING.sub("T", block)
    assert proc.returncode == 1


def test_tour_spec_in_readme_is_the_file():
    readme = (ROOT / "README.md").read_text()
    assert (ROOT / "docs/examples/tour.probe").read_text().strip() in readme


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    command = "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/python -m pytest -q"
    assert command in readme and command in ci


def test_the_tour_runs_modelcheck_only_after_the_set_up_put_it_on_the_path():
    """The tour says `modelcheck check ...`; the set-up it points to must activate the virtual
    environment before a bare `modelcheck`, or a newcomer gets "command not found"."""
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("##", 1)[0]
    first = next(line.strip() for line in setup.splitlines() if line.startswith("    python3 -m venv"))
    parts = [p.strip() for p in first.split("&&")]
    activate = parts.index(". .venv/bin/activate")
    bare = [i for i, p in enumerate(parts) if p.startswith("modelcheck ")]
    assert bare and all(i > activate for i in bare), first
    assert "environment active" in readme.split("## Two-minute tour", 1)[1].split("$ modelcheck", 1)[0]
