"""kernel-semantics.md §5.2: request_mem_region descends only into non-busy containers; a request
straddling two children, or overlapping a busy region, fails."""
import pytest

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Verdict
from spin_agreement import require_spin, spin_verdicts

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


# --- register ranges: mmio and ioport (kernel/resource.c, lib/devres.c) -------------------

from rule_helpers import PROVED, VIOLATED, expect, spec   # noqa: E402

REGISTERS = """
range regs : mmio @ 0xfe201000 .. 0xfe201fff;
range regs_hi : mmio @ 0xfe201800 .. 0xfe201fff;
range ports : ioport @ 0xfe201000 .. 0xfe201fff;
"""


def test_rule_request_mem_region_of_a_busy_register_range_fails():
    """kernel/resource.c __request_region_locked: a request overlapping a busy region of
    iomem_resource gets -EBUSY (NULL), whoever holds it."""
    text = spec("second request", REGISTERS + """
    module a builtin { init { request_mem_region(regs, a); } }
    module b loadable { var got : bool = false; init { got = request_mem_region(regs_hi, b); } }
    final b_never_gets_it : not got;
    """)
    expect(text, b_never_gets_it=PROVED, no_shared_registers=PROVED)
    alone = text.replace("request_mem_region(regs, a);", "")
    expect(alone, b_never_gets_it=VIOLATED)


def test_rule_iomem_and_ioport_are_separate_resource_trees():
    """include/linux/ioport.h: request_mem_region requests in iomem_resource, request_region in
    ioport_resource; equal numbers in the two trees never conflict."""
    text = spec("two trees", REGISTERS + """
    module a builtin { init { request_region(ports, a); } }
    module b loadable { var got : bool = false; init { got = request_mem_region(regs, b); } }
    final b_gets_it : got;
    """)
    expect(text, b_gets_it=PROVED)
    same_tree = text.replace("request_region(ports, a)", "request_mem_region(regs_hi, a)")
    expect(same_tree, b_gets_it=VIOLATED)


DEVM = REGISTERS + """
module drv_mod loadable {
  var ok : bool = false;
  driver first { probe { ok = devm_request_mem_region(regs); return 0; } }
  device dev0 : first present;
  init { register_driver(first); }
}
module other loadable {
  var later : bool = false;
  init { unbind(dev0); later = request_mem_region(regs, other); }
  uses drv_mod;
}
final other_gets_it_after_unbind : ok -> later;
"""


def test_rule_devm_request_mem_region_is_released_on_unbind():
    """kernel/resource.c __devm_request_region: the region is a devres entry of the device,
    released by devm_region_release when the driver unbinds (drivers/base/dd.c
    device_release_driver -> devres_release_all)."""
    expect(spec("devm released", DEVM), other_gets_it_after_unbind=PROVED)
    plain = DEVM.replace("ok = devm_request_mem_region(regs);", "ok = request_mem_region(regs, first);")
    expect(spec("plain kept", plain), other_gets_it_after_unbind=VIOLATED)


def test_rule_devm_request_mem_region_is_released_when_probe_fails():
    """drivers/base/dd.c really_probe: on a probe error devres_release_all undoes what the
    probe acquired, so the region is free again."""
    text = spec("probe fails", REGISTERS + """
    module drv_mod loadable {
      driver first { probe { devm_request_mem_region(regs); return -ENODEV; } }
      device dev0 : first present;
      init { register_driver(first); }
    }
    final free_again : not requested(regs);
    """)
    expect(text, free_again=PROVED)
    expect(text.replace("devm_request_mem_region(regs)", "request_mem_region(regs, first)"),
           free_again=VIOLATED)


def test_rule_devres_releases_regions_and_actions_last_registered_first():
    """drivers/base/devres.c release_nodes: entries are released in reverse order of
    registration, so an action added after the region still sees the region held."""
    text = spec("lifo", REGISTERS + """
    module drv_mod loadable {
      driver first { probe { devm_request_mem_region(regs); devm_add_action(quiesce); return 0; } }
      device dev0 : first present;
      init { register_driver(first); }
    }
    userspace admin { unbind(dev0); }
    fn quiesce { assert regs_still_held: requested(regs); }
    """)
    expect(text, regs_still_held=PROVED)
    swapped = text.replace("devm_request_mem_region(regs); devm_add_action(quiesce);",
                           "devm_add_action(quiesce); devm_request_mem_region(regs);")
    expect(swapped, regs_still_held=VIOLATED)


def test_rule_devm_ioremap_resource_fails_with_ebusy_on_a_requested_range():
    """lib/devres.c __devm_ioremap_resource: devm_request_mem_region first; when it fails the
    mapping is not made and the result is IOMEM_ERR_PTR(-EBUSY)."""
    text = spec("ioremap resource", REGISTERS + """
    module earlycon builtin { init { request_mem_region(regs_hi, earlycon); } }
    module drv_mod loadable {
      var mapped_it : bool = false;
      driver first { probe { mapped_it = devm_ioremap_resource(regs); if not mapped_it { return -EBUSY; } return 0; } }
      device dev0 : first present;
      init { register_driver(first); }
    }
    final never_bound : not bound(dev0) and not mapped(regs);
    """)
    expect(text, never_bound=PROVED, no_shared_registers=PROVED)
    expect(text.replace("request_mem_region(regs_hi, earlycon);", ""), never_bound=VIOLATED)


def test_rule_ioremap_does_not_consult_the_resource_tree():
    """arch ioremap (e.g. arch/x86/mm/ioremap.c __ioremap_caller) maps the physical range
    without looking at iomem_resource's busy regions: a driver that maps registers it did
    not request can share them with their owner, which no_shared_registers finds."""
    text = spec("ioremap only", REGISTERS + """
    module earlycon builtin { init { request_mem_region(regs_hi, earlycon); } }
    module uart loadable { init { ioremap(regs, uart); } }
    """)
    expect(text, no_shared_registers=VIOLATED)
    careful = text.replace("init { ioremap(regs, uart); }",
                           "var ok : bool = false; init { ok = request_mem_region(regs, uart); if ok { ioremap(regs, uart); } }")
    expect(careful, no_shared_registers=PROVED)


def test_register_ranges_export_to_promela_and_spin_agrees(tmp_path):
    """Requests, devres release, mappings and no_shared_registers lower to plain IR: SPIN
    decides every property as the explicit engine does."""
    require_spin()
    text = spec("spin registers", REGISTERS + """
    module drv_mod loadable {
      var ok : bool = false;
      driver first { probe { ok = devm_ioremap_resource(regs); if not ok { return -EBUSY; } return 0; } }
      device dev0 : first present;
      init { register_driver(first); }
    }
    module port_mod loadable { var p : bool = false; init { p = request_region(ports, port_mod); release_region(ports, port_mod); } }
    module careless loadable { init { ioremap(regs_hi, careless); } }
    userspace admin { unbind(dev0); }
    invariant port_free_or_held : p or not requested(ports);
    final mapped_at_end : mapped(regs);
    """)
    model = load_text(text, "spin.probe")
    ours = {o.prop.name: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")}
    assert ours["no_shared_registers"] == "violated" and ours["port_free_or_held"] == "holds"
    assert spin_verdicts(model, ours, tmp_path) == ours


@pytest.mark.parametrize("call", ["iounmap(io0, m0);", "release_mem_region(io0, m0);"])
def test_undoing_what_was_never_done_checks_without_a_traceback(call):
    """An iounmap (release_mem_region) of a range its owner never ioremaps (requests) anywhere
    changes nothing, as __release_region (kernel/resource.c) only warns when nothing matches;
    it used to assign an undeclared variable (a KeyError in the search)."""
    from modelcheck.engines import explicit
    model = load_text('spec "undo"\nrange io0 : mmio @ 0xfe000000 .. 0xfe000fff;\n'
                      f'module m0 builtin {{ init {{ {call} }} }}\n')
    result = explicit.check_all(model, ["deadlock"], EngineOptions())["deadlock"]
    assert result.verdict is Verdict.PROVED
