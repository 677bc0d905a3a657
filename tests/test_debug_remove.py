"""CONFIG_DEBUG_TEST_DRIVER_REMOVE (drivers/base/dd.c really_probe), both ways: explicit and
foata agree (tests/rule_helpers.py), and SPIN agrees on the example pair of
docs/examples/devmodel (tests/test_devmodel_examples.py) and on one rule spec here."""
import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import spin_verdict

REPROBE = """
config DEBUG_TEST_DRIVER_REMOVE : bool VALUE;
module m builtin {
  var irq_requested : bool = false;
  driver d { probe { assert no_double_request : not irq_requested; irq_requested = true; } remove { UNDO } }
  device d0 : d present;
  init { register_driver(d); }
}
final bound_with_irq : bound(d0) and irq_requested;
"""


def text(title, value, remove):
    return spec(title, REPROBE.replace("VALUE", value).replace("UNDO", remove))


def test_rule_test_remove_removes_and_probes_again():
    """drivers/base/dd.c really_probe with CONFIG_DEBUG_TEST_DRIVER_REMOVE: after the probe
    returned 0, device_remove (drv->remove), driver_sysfs_remove and device_unbind_cleanup
    (devres_release_all) run, then `goto re_probe` calls the probe a second time: a remove
    that does not undo what the probe did is found by the second probe."""
    expect(text("leaky remove", "= y", ""), no_double_request=VIOLATED, bound_with_irq=PROVED)
    expect(text("remove undoes probe", "= y", "irq_requested = false;"), no_double_request=PROVED,
           bound_with_irq=PROVED)
    expect(text("option off", "= n", ""), no_double_request=PROVED, bound_with_irq=PROVED)
    expect(text("option a choice", "", ""), no_double_request=VIOLATED)


DEVRES = """
config DEBUG_TEST_DRIVER_REMOVE : bool = y;
fn clk_off { clk_on = false; }
module m builtin {
  var clk_on : bool = false;
  driver d { probe { assert clk_was_off : not clk_on; clk_on = true; ACTION } }
  device d0 : d present;
  init { register_driver(d); }
}
"""


def test_rule_test_remove_releases_devres_before_the_second_probe():
    """drivers/base/dd.c really_probe: the test remove calls device_unbind_cleanup, whose
    devres_release_all runs the probe's devm actions (drivers/base/devres.c) before
    `goto re_probe`: what a devm action undoes is undone for the second probe."""
    expect(spec("devm action", DEVRES.replace("ACTION", "devm_add_action(clk_off);")), clk_was_off=PROVED)
    expect(spec("no devm action", DEVRES.replace("ACTION", "")), clk_was_off=VIOLATED)


def test_spin_agrees_on_the_second_probe(tmp_path):
    for remove, verdict in (("", "violated"), ("irq_requested = false;", "holds")):
        model = load_text(text("spin", "= y", remove), "rule.probe")
        assert spin_verdict(model, "no_double_request", tmp_path) == verdict


def test_the_option_is_a_bool():
    with pytest.raises(SpecError) as info:
        load_text(text("tristate", "", "").replace("DRIVER_REMOVE : bool", "DRIVER_REMOVE : tristate"), "rule.probe")
    assert info.value.code == "E272"
