"""`modelcheck drift`: the modelled primitives a spec and its C disagree on."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from modelcheck.extract.cfile import read_c
from modelcheck.extract.drift import compare, spec_sites
from modelcheck.extract.skeleton import Skeleton
from modelcheck.syntax.parser import parse

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "extract"


def drift(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelcheck.cli", "drift", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.c")) + [DATA / "twofile"], ids=lambda p: p.name)
def test_a_skeleton_does_not_drift_from_its_own_c(path):
    files = [read_c(str(f)) for f in (sorted(path.glob("*.c")) if path.is_dir() else [path])]
    sk = Skeleton(files)
    result = compare(sk.sites, spec_sites(parse(sk.text(), "sk.probe")))
    assert not result.drifted, (result.only_in_c, result.only_in_spec)


@pytest.fixture
def tree(tmp_path):
    """A kernel tree with one driver and its skeleton, which names the C with `models`."""
    (tmp_path / "drivers").mkdir()
    shutil.copy(DATA / "init_work.c", tmp_path / "drivers" / "demo.c")
    run = subprocess.run([sys.executable, "-m", "modelcheck.cli", "extract", "--models", "drivers/demo.c",
                          "-o", "demo.probe"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return tmp_path


def test_models_resolved_against_the_tree_no_drift(tree):
    assert 'models "drivers/demo.c";' in (tree / "demo.probe").read_text()
    run = drift(str(tree / "demo.probe"), "--tree", str(tree))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no differences" in run.stdout


def test_a_primitive_added_to_the_c_and_not_to_the_spec_is_drift(tree):
    c = tree / "drivers" / "demo.c"
    text = c.read_text().replace("\tflush_work(&demo_defer.work);\n",
                                 "\tflush_work(&demo_defer.work);\n\tcancel_work_sync(&demo_defer.work);\n")
    c.write_text(text)
    line = text.splitlines().index("\tcancel_work_sync(&demo_defer.work);") + 1
    run = drift(str(tree / "demo.probe"), "--tree", str(tree))
    assert run.returncode == 1
    assert f"drivers/demo.c:{line}: cancel_work_sync(demo_defer)  (in demo_exit)" in run.stdout
    assert "in the C, not in the spec:" in run.stdout and "in the spec, not in the C" not in run.stdout


def test_a_primitive_the_c_no_longer_has_is_drift(tree):
    c = tree / "drivers" / "demo.c"
    c.write_text(c.read_text().replace("\t\tINIT_WORK(&demo_defer.work, demo_defer_fn);\n", ""))
    run = drift(str(tree / "demo.probe"), "--tree", str(tree), "--format", "json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert doc["schema"] == "modelcheck-drift/1" and doc["drift"] is True and doc["only_in_c"] == []
    [gone] = doc["only_in_spec"]
    assert gone["call"] == "init_work(demo_defer, demo_defer_fn)" and gone["function"] == "demo_driver.probe"
    assert gone["file"].endswith("demo.probe")


def test_sarif_annotates_the_c_line_and_validates(tree):
    c = tree / "drivers" / "demo.c"
    c.write_text(c.read_text().replace("\treturn 0;\n}\n\nstatic struct platform_driver",
                                       "\twait_for_device_probe();\n\treturn 0;\n}\n\nstatic struct platform_driver"))
    run = drift(str(tree / "demo.probe"), "--tree", str(tree), "--format", "sarif")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    schema = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    [result] = doc["runs"][0]["results"]
    assert result["ruleId"] == "drift-c-not-in-spec"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "drivers/demo.c"
    assert "wait_for_device_probe()" in result["message"]["text"]


def test_files_on_the_command_line_override_models(tree, tmp_path):
    run = drift(str(tree / "demo.probe"), str(DATA / "declare_work.c"))
    assert run.returncode == 1 and "work demo_work = demo_work_fn" in run.stdout


def test_errors_a_spec_without_models_and_a_missing_c_file(tree):
    (tree / "plain.probe").write_text('spec "x"\nmodule m loadable { init { } }\n')
    run = drift(str(tree / "plain.probe"))
    assert run.returncode == 2 and "E501" in run.stderr and "Traceback" not in run.stderr
    (tree / "drivers" / "demo.c").unlink()
    run = drift(str(tree / "demo.probe"), "--tree", str(tree))
    assert run.returncode == 2 and "E500" in run.stderr
    assert "demo.probe:3:" in run.stderr      # pointed at the models line


def test_models_in_a_module_scopes_the_comparison(tmp_path):
    """Only the module that says `models`, and the fns it reaches, are compared."""
    spec = tmp_path / "scoped.probe"
    spec.write_text('spec "scoped"\n'
                    'module other loadable { work unrelated; init { flush_work(unrelated); } }\n'
                    'module demo loadable {\n  models "declare_work.c";\n'
                    '  work demo_work = demo_work_fn;\n'
                    '  init { queue_work(system_long_wq, demo_work); queue_work(system_wq, demo_work); }\n'
                    '  exit { flush_work(demo_work); cancel_work_sync(demo_work); }\n}\n'
                    'fn demo_work_fn { }\n')
    run = drift(str(spec), "--tree", str(DATA))
    assert run.returncode == 0, run.stdout + run.stderr
