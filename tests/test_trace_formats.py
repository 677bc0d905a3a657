"""Counterexamples a reviewer can read: ITF, Mermaid, HTML and Markdown renderings of a trace.

Golden files live in tests/golden/; regenerate them with UPDATE_GOLDEN=1 after a deliberate
change of a renderer (and read the diff).
"""
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from modelcheck.checker import check_model
from modelcheck.cli import main
from modelcheck.commands.trace import TRACE_FORMATS
from modelcheck.frontend import load_text
from modelcheck.report.traceformats import TRACE_RENDERERS, itf_doc

from spec_results import checked

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests/golden"
TOUR = "docs/examples/tour.probe"
PROP = "flush_uninitialized_work"
SUFFIX = {"itf": "itf.json", "mermaid": "mmd", "html": "html", "markdown": "md"}


@pytest.fixture(scope="module")
def tour():
    model = load_text((ROOT / TOUR).read_text(encoding="utf-8"), TOUR)
    [outcome] = check_model(model, "explicit", only=[PROP])
    return model, outcome


@pytest.fixture(scope="module")
def v7():
    model, outcomes = checked("specs/cxl/v7-6of7.probe")
    [outcome] = [o for o in outcomes if o.result.prop == PROP]
    return model, outcome


def test_every_renderer_is_a_trace_format_of_the_cli():
    assert set(TRACE_RENDERERS) == {"itf", "mermaid", "html", "markdown"}
    assert set(TRACE_RENDERERS) <= set(TRACE_FORMATS)


@pytest.mark.parametrize("fmt", sorted(TRACE_RENDERERS))
def test_golden(tour, fmt):
    model, outcome = tour
    rendered = TRACE_RENDERERS[fmt](model, outcome)
    golden = GOLDEN / f"tour.{PROP}.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8"), f"{golden} differs; UPDATE_GOLDEN=1 rewrites it"


@pytest.mark.parametrize("fmt", sorted(TRACE_RENDERERS))
def test_cli_trace_prints_the_golden(fmt, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["trace", TOUR, "--property", PROP, "--format", fmt]) == 0
    assert capsys.readouterr().out == (GOLDEN / f"tour.{PROP}.{SUFFIX[fmt]}").read_text(encoding="utf-8")


def test_check_accepts_the_new_trace_formats(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", TOUR, "--no-cache", "--trace-format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert "| step | thread | action | spec line | changes |" in out and "PROVED" in out


# --- ITF ----------------------------------------------------------------------------------
# The rules of https://apalache-mc.org/docs/adr/015adr-trace.html, checked structurally.

JS_SAFE = 2 ** 53 - 1


def itf_errors(value, where: str) -> list[str]:
    """Why `value` is not an ITF expression (empty when it is one)."""
    if isinstance(value, bool) or isinstance(value, str):
        return []
    if isinstance(value, int):
        return [] if -JS_SAFE <= value <= JS_SAFE else [f"{where}: {value} outside the safe range needs #bigint"]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in itf_errors(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        if "#bigint" in value:
            ok = len(value) == 1 and isinstance(value["#bigint"], str) and re.fullmatch(r"-?[0-9]+", value["#bigint"])
            return [] if ok else [f"{where}: bad #bigint {value!r}"]
        if "#tup" in value or "#set" in value:
            (key, items), = value.items() if len(value) == 1 else ((None, None),)
            if not isinstance(items, list):
                return [f"{where}: {key or value!r} must hold a list"]
            return [e for i, v in enumerate(items) for e in itf_errors(v, f"{where}.{key}[{i}]")]
        if "#map" in value:
            pairs = value["#map"]
            if len(value) != 1 or not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                return [f"{where}: #map must hold a list of [key, value] pairs"]
            return [e for i, p in enumerate(pairs) for x in p for e in itf_errors(x, f"{where}.#map[{i}]")]
        if "#unserializable" in value:
            return [] if len(value) == 1 and isinstance(value["#unserializable"], str) else [f"{where}: bad #unserializable"]
        bad = [k for k in value if k.startswith("#")]
        if bad:
            return [f"{where}: record field {bad[0]!r} uses the reserved '#' prefix"]
        return [e for k, v in value.items() for e in itf_errors(v, f"{where}.{k}")]
    return [f"{where}: {type(value).__name__} {value!r} is not an ITF value (no null, no floats)"]


def validate_itf(doc) -> list[str]:
    errors = []
    if not isinstance(doc, dict):
        return ["the trace must be a JSON object"]
    allowed = {"#meta", "params", "vars", "states", "loop"}
    errors += [f"unknown top-level field {k!r}" for k in doc if k not in allowed]
    if "#meta" in doc and not isinstance(doc["#meta"], dict):
        errors.append("#meta must be an object")
    names = doc.get("vars")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return errors + ["vars must be a list of strings"]
    if len(set(names)) != len(names):
        errors.append("vars must not repeat a name")
    params = doc.get("params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        errors.append("params must be a list of strings")
        params = []
    states = doc.get("states")
    if not isinstance(states, list):
        return errors + ["states must be a list"]
    for i, state in enumerate(states):
        if not isinstance(state, dict):
            errors.append(f"states[{i}] must be an object")
            continue
        if "#meta" in state and not isinstance(state["#meta"], dict):
            errors.append(f"states[{i}].#meta must be an object")
        fields = {k for k in state if k != "#meta"}
        if not set(names) <= fields:
            errors.append(f"states[{i}] lacks {sorted(set(names) - fields)}")
        extra = fields - set(names) - set(params)
        if extra:
            errors.append(f"states[{i}] has fields that are not vars: {sorted(extra)}")
        for name in fields:
            errors += itf_errors(state[name], f"states[{i}].{name}")
    if "loop" in doc and not (isinstance(doc["loop"], int) and 0 <= doc["loop"] < len(states)):
        errors.append("loop must index a state")
    return errors


def test_the_validator_rejects_what_the_adr_forbids():
    good = {"vars": ["x"], "states": [{"#meta": {"index": 0}, "x": 1}]}
    assert validate_itf(good) == []
    assert validate_itf({"vars": ["x"], "states": [{"y": 1}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": 2 ** 60}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": {"#bigint": "2^60"}}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": None}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": 1.5}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": {"#tup": 3}}]})
    assert validate_itf({"vars": ["x", "x"], "states": []})
    assert validate_itf({"vars": ["x"], "states": [{"x": {"#secret": 1}}]})
    assert validate_itf({"vars": ["x"], "states": [{"x": {"#bigint": str(2 ** 60)}}]}) == []


@pytest.mark.parametrize("which", ["tour", "v7"])
def test_itf_follows_the_adr_and_carries_each_step(which, request):
    model, outcome = request.getfixturevalue(which)
    text = TRACE_RENDERERS["itf"](model, outcome)
    doc = json.loads(text)
    assert validate_itf(doc) == []
    assert doc["#meta"]["format"] == "ITF"
    states, steps = doc["states"], outcome.replay.steps
    assert len(states) == len(steps) + 1
    assert [s["#meta"]["index"] for s in states] == list(range(len(states)))
    for state, step in zip(states[1:], steps):
        meta = state["#meta"]
        assert meta["thread"] == step.thread and meta["action"] == step.edge.label
        assert meta.get("line") == (step.edge.span.line if step.edge.span else None)
    assert PROP in states[-1]["#meta"]["failed"]
    assert "#pc" not in text   # program counters are documented as left out


def test_itf_values_booleans_labels_and_bigints(v7):
    model, outcome = v7
    doc = itf_doc(model, outcome)
    first = doc["states"][0]
    assert first["hmem_device_late"] is True and first["region_assembles"] is False
    assert first["DEV_DAX_HMEM"] == "m"
    from modelcheck.ir import Variable
    from modelcheck.report.traceformats import itf_value
    big = Variable("big", 0, 2 ** 62, None)
    assert itf_value(big, 2 ** 60) == {"#bigint": str(2 ** 60)} and itf_value(big, 7) == 7


# --- Mermaid, Markdown -----------------------------------------------------------------------

def test_mermaid_is_one_statement_per_line_with_declared_participants(v7):
    model, outcome = v7
    lines = TRACE_RENDERERS["mermaid"](model, outcome).splitlines()
    assert lines[0] == "sequenceDiagram"
    declared = [re.match(r"\s+participant (T\d+) as ", l).group(1) for l in lines if "participant" in l]
    threads = {s.thread for s in outcome.replay.steps}
    assert len(declared) == len(threads)
    notes = [l for l in lines if l.strip().startswith("Note over") and ": race: " not in l and ": !! " not in l]
    folded = [l for l in notes if "that do not affect the violation" in l]
    covered = sum(int(b) - int(a) + 1 for l in folded for a, b in re.findall(r"\((\d+)-(\d+)\)", l))
    assert folded and len(notes) - len(folded) + covered == len(outcome.replay.steps)
    full = TRACE_RENDERERS["mermaid"](model, outcome, full=True).splitlines()
    assert len([l for l in full if l.strip().startswith("Note over") and ": race: " not in l]) == len(outcome.replay.steps)
    for note in notes:
        assert re.match(r"\s+Note over (T\d+): ", note).group(1) in declared
    for line in lines[1:]:
        assert ";" not in re.sub(r"#\w+;", "", line), line        # ';' would end the statement
        assert "#" not in re.sub(r"#\w+;", "", line.replace("%%", "")), line
    opened = [i for i, l in enumerate(lines) if l.strip().startswith("rect ")]
    assert len(opened) == 1 and lines[opened[0] + 2].strip() == "end" and "!!" in lines[opened[0] + 1]


def _markdown_rows(text: str) -> list[str]:
    return [l for l in text.splitlines() if l.startswith("| ") and not l.startswith("| step")]


def test_markdown_table_has_one_row_per_step_or_folded_run(v7):
    model, outcome = v7
    text = TRACE_RENDERERS["markdown"](model, outcome)
    assert "- config: `DEV_DAX_HMEM=m" in text and "- platform: `" in text
    rows = _markdown_rows(text)
    numbers = []
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row    # five cells
        first, _, last = row.split("|")[1].strip(" *").partition("-")
        numbers += range(int(first), int(last or first) + 1)
    assert numbers == [s.index for s in outcome.replay.steps] and len(rows) < len(numbers)
    assert "**!! " in rows[-1]
    full = _markdown_rows(TRACE_RENDERERS["markdown"](model, outcome, full=True))
    assert len(full) == len(outcome.replay.steps)


# --- HTML -----------------------------------------------------------------------------------

def _parse_html(text: str):
    assert text.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(text[len("<!DOCTYPE html>\n"):])   # the page is also well-formed XML


@pytest.mark.parametrize("which", ["tour", "v7"])
def test_html_is_self_contained_and_well_formed(which, request):
    model, outcome = request.getfixturevalue(which)
    text = TRACE_RENDERERS["html"](model, outcome)
    root = _parse_html(text)
    assert not re.search(r"https?://", text)
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(", text)
    [svg] = root.iter("svg")
    lanes = [e for e in svg.iter("line") if e.get("class") == "lane"]
    assert len(lanes) == len({s.thread for s in outcome.replay.steps})
    groups = [g for g in svg.iter("g") if "row" in (g.get("class") or "")]
    assert len(groups) == len(outcome.replay.steps)
    assert all(g.find("title") is not None for g in groups)
    assert [g for g in groups if "bad" in g.get("class")] == [groups[-1]]
    rows = root.find("body").find("table").find("tbody").findall("tr")
    assert len(rows) == len(outcome.replay.steps)


def _chromium():
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_html_renders_in_headless_chromium(tour, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    model, outcome = tour
    page = tmp_path / "trace.html"
    page.write_text(TRACE_RENDERERS["html"](model, outcome), encoding="utf-8")
    png = tmp_path / "trace.png"
    # the flags keep a headless start off the network this machine does not have; a cold start under
    # load sometimes exits before the screenshot, so the page gets a second start before the test fails
    for attempt in range(2):
        proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--disable-quic", "--no-first-run", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={tmp_path / f'profile{attempt}'}", "--window-size=1200,900",
                               f"--screenshot={png}", page.as_uri()],
                              capture_output=True, text=True, timeout=180)
        if png.exists():
            break
    assert png.exists(), f"exit {proc.returncode}\n{proc.stdout[-1000:]}\n{proc.stderr[-2000:]}"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 900) and len(data) > 5000
