"""The built-in window of the merged 7.1 design (results/findings.md): found, its fix holds,
and the fix that moves dax_hmem alone is refuted by the checker."""
import pytest

from modelcheck.report.findings import render_findings
from modelcheck.result import Verdict

from spec_results import ROOT, checked

FINDING = "specs/cxl/linux-7.1-all-builtin.probe"
HMEM_ONLY = "specs/cxl/linux-7.1-late-hmem-only.probe"
FIX = "specs/cxl/linux-7.1-late-initcall.probe"


@pytest.fixture(autouse=True)
def _run_from_the_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _verdict(path, prop):
    _, outcomes = checked(path)
    [o] = [o for o in outcomes if o.result.prop == prop]
    return o


def test_builtin_dax_hmem_takes_a_range_cxl_assembles():
    o = _verdict(FINDING, "sr0_to_cxl_when_region")
    assert o.result.verdict is Verdict.VIOLATED
    threads = [s.thread for s in o.replay.steps]
    labels = [s.edge.label for s in o.replay.steps]
    # the deferred work ran before cxl_pci's probe committed the region, and hmem won the range
    hmem_claim = next(i for i, l in enumerate(labels) if "alloc_dax_region(sr0) by dax_hmem: succeeds" in l)
    commit = next(i for i, l in enumerate(labels) if "region0 committed" in l)
    assert threads[hmem_claim].startswith("kworker:hmem_platform_work") and hmem_claim < commit
    assert any("by dax_cxl: range busy" in l for l in labels[commit:])


def test_late_initcall_of_dax_hmem_alone_flushes_an_unallocated_workqueue():
    assert _verdict(HMEM_ONLY, "sr0_to_cxl_when_region").result.verdict is Verdict.PROVED
    assert _verdict(HMEM_ONLY, "queue_on_dead_workqueue").result.verdict is Verdict.VIOLATED


def test_late_initcall_of_both_closes_the_window_under_every_configuration():
    _, outcomes = checked(FIX)
    assert all(o.result.verdict is Verdict.PROVED for o in outcomes), \
        [(o.result.prop, o.result.label) for o in outcomes]


def test_findings_page_names_the_finding_and_every_candidate_fix():
    entries = [(p, *checked(p)) for p in (FINDING, HMEM_ONLY, FIX)]
    page = render_findings(entries)
    assert "## finding-builtin-defer-window" in page
    assert f"Spec: `{FINDING}`" in page
    assert "sr0_to_cxl_when_region: VIOLATED in" in page          # the mail-format trace
    assert f"| `{HMEM_ONLY}` |" in page and f"| `{FIX}` |" in page
    assert f"| `{FINDING}` |" not in page                          # the finding is not its own fix
    assert "NOT as expected" not in page
