"""Machine-readable outputs: SARIF validates against the official schema, JUnit parses, JSON is
versioned, the mail fits in 72 columns."""
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOUR = "docs/examples/tour.probe"


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "modelcheck.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bad_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "broken.probe"
    path.write_text('spec "x"\nmodule m loadable { init { flush_wrok(w); } }\n')
    return str(path)


def test_sarif_validates_against_the_sarif_2_1_0_schema(bad_spec):
    schema = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
    for args in ([TOUR], [TOUR, bad_spec]):
        proc = run("check", *args, "--format", "sarif")
        doc = json.loads(proc.stdout)
        jsonschema.validators.validator_for(schema)(schema).validate(doc)
    [result] = [r for r in json.loads(run("check", TOUR, "--format", "sarif").stdout)["runs"][0]["results"]]
    assert result["ruleId"] == "flush_uninitialized_work" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 13   # the flush_work line of the tour spec
    assert result["codeFlows"][0]["threadFlows"][0]["locations"]


def test_junit_has_one_case_per_property_and_fails_the_unexpected_violation():
    proc = run("check", TOUR, "--format", "junit")
    assert proc.returncode == 1
    suites = ET.fromstring(proc.stdout)
    [suite] = suites.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"flush_uninitialized_work", "reinit_busy_work", "deadlock", "livelock"}
    assert cases["flush_uninitialized_work"].find("failure") is not None
    assert cases["deadlock"].find("failure") is None
    assert suite.get("failures") == "1"


def test_json_is_versioned_and_carries_the_trace(bad_spec):
    doc = json.loads(run("check", TOUR, "--format", "json").stdout)
    assert doc["schema"] == "modelcheck-result/1" and doc["exit_code"] == 1
    [spec] = doc["specs"]
    props = {p["name"]: p for p in spec["properties"]}
    trace = props["flush_uninitialized_work"]["trace"]
    assert trace["steps"][-1]["failed"] == ["flush_uninitialized_work"]
    assert props["deadlock"]["verdict"] == "PROVED" and props["deadlock"]["trace"] is None
    errors = json.loads(run("check", TOUR, bad_spec, "--format", "json").stdout)
    assert errors["exit_code"] == 2 and "E203" in errors["errors"][0]


def test_email_is_plain_text_within_72_columns():
    mail = run("check", "specs/cxl/v7-6of7.probe", "--format", "email").stdout
    assert all(len(line) <= 72 for line in mail.splitlines()), max(mail.splitlines(), key=len)
    assert "flush_uninitialized_work: VIOLATED (expected: violation)" in mail
    assert "DEV_DAX_HMEM=m" in mail


def test_output_file_is_written_whole(tmp_path):
    out = tmp_path / "deep" / "result.sarif"
    proc = run("check", TOUR, "--format", "sarif", "-o", str(out))
    assert proc.returncode == 1 and json.loads(out.read_text())["version"] == "2.1.0"
    assert [p.name for p in out.parent.iterdir()] == ["result.sarif"]   # no temporary left behind
