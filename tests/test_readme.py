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
