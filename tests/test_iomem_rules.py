"""kernel-semantics.md §5.2: request_mem_region descends only into non-busy containers; a request
straddling two children, or overlapping a busy region, fails."""
from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Verdict

GEOMETRY = """
spec "iomem"
range sr0 : soft_reserved @ 0x5d0000000 .. 0x7cfffffff;
range sr1 : soft_reserved @ 0x5d0000000 .. 0x6cfffffff;
window w0 @ 0x5d0000000 .. 0x6cfffffff;
window w1 @ 0x6d0000000 .. 0x7cfffffff;
"""


def verdict(body: str, prop: str, engine: str = "explicit") -> Verdict:
    model = load_text(GEOMETRY + body, "iomem.probe")
    [outcome] = check_model(model, engine, EngineOptions(max_depth=60, timeout=60), [prop])
    return outcome.result.verdict


def both(body: str, prop: str) -> Verdict:
    answers = {verdict(body, prop, e) for e in ("explicit", "foata")}
    assert len(answers) == 1, answers
    return answers.pop()


def test_rule_request_straddling_two_children_fails_5_2():
    spec = """
    module kmem builtin { init { publish_window(w0); publish_window(w1); iomem_insert(sr0);
                                 request_mem_region(sr0, kmem); } }
    final onlined: requested(sr0);
    """
    assert both(spec, "onlined") is Verdict.VIOLATED


def test_rule_request_before_the_windows_exist_succeeds_5_2():
    spec = """
    module kmem builtin { init { iomem_insert(sr0); request_mem_region(sr0, kmem);
                                 publish_window(w0); publish_window(w1); } }
    final onlined: requested(sr0);
    """
    assert both(spec, "onlined") is Verdict.PROVED


def test_rule_request_inside_one_window_descends_and_succeeds_5_2():
    spec = """
    module kmem builtin { init { publish_window(w0); publish_window(w1); request_mem_region(sr1, kmem); } }
    final onlined: requested(sr1);
    """
    assert both(spec, "onlined") is Verdict.PROVED


def test_rule_request_overlapping_a_busy_region_fails_5_2():
    spec = """
    module kmem builtin { var second : bool = true;
                          init { request_mem_region(sr1, kmem); second = request_mem_region(sr0, kmem); } }
    final second_request_fails: not second;
    """
    assert both(spec, "second_request_fails") is Verdict.PROVED
    assert both(spec.replace("request_mem_region(sr1, kmem);", ""), "second_request_fails") is Verdict.VIOLATED


def test_rule_order_decides_the_outcome_when_windows_race_kmem_5_2():
    """Seed 003: dax_hmem inserts Soft Reserved, cxl_acpi inserts the windows, kmem requests the
    whole range: the failure depends on the interleaving."""
    spec = """
    module cxl_acpi loadable { init { publish_window(w0); publish_window(w1); } }
    module kmem loadable { init { iomem_insert(sr0); request_mem_region(sr0, kmem); } }
    final onlined: requested(sr0);
    invariant never_onlined: not requested(sr0);
    """
    assert both(spec, "onlined") is Verdict.VIOLATED
    assert both(spec, "never_onlined") is Verdict.VIOLATED
