"""The deferred-probe timeout (drivers/base/dd.c): each rule both ways, with the explicit and
foata engines agreeing (tests/rule_helpers.py)."""
import pytest

import rule_helpers
from modelcheck.result import EngineOptions
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin, spin_verdicts


@pytest.fixture(autouse=True)
def deeper_search(monkeypatch):
    """Boot, two deferred passes and the timeout work make longer runs than one-line rules."""
    monkeypatch.setattr(rule_helpers, "OPTIONS", EngineOptions(max_depth=80, timeout=600))


OPTIONAL_SUPPLIER = """
module consumer_mod loadable {
  driver consumer_drv {
    probe { if not bound(phy0) { if driver_deferred_probe_check_state() == -EPROBE_DEFER { return -EPROBE_DEFER; } } }
  }
  driver phy_drv { probe { } }
  device c0 : consumer_drv present;
  device phy0 : phy_drv;
  init { register_driver(consumer_drv); }
}
final consumer_bound : bound(c0);
"""


def test_rule_check_state_gives_up_once_the_timeout_work_has_run():
    """drivers/base/dd.c deferred_probe_timeout_work_func sets driver_deferred_probe_timeout
    to 0 and triggers the list once more; driver_deferred_probe_check_state then returns
    -ETIMEDOUT, so a driver treating the supplier as optional binds without it."""
    expect(spec("timeout", OPTIONAL_SUPPLIER), consumer_bound=PROVED)
    forever = OPTIONAL_SUPPLIER.replace(
        "if driver_deferred_probe_check_state() == -EPROBE_DEFER { return -EPROBE_DEFER; }", "return -EPROBE_DEFER;")
    expect(spec("no timeout", forever), consumer_bound=VIOLATED)


def test_rule_a_negative_timeout_never_expires_and_zero_expires_at_initcalls_done():
    """drivers/base/dd.c deferred_probe_initcall schedules the timeout work only for a
    positive timeout; driver_deferred_probe_check_state returns -ETIMEDOUT when the timeout
    is 0 and initcalls_done is set."""
    expect(spec("zero", "deferred_probe_timeout 0;\n" + OPTIONAL_SUPPLIER), consumer_bound=PROVED)
    expect(spec("never", "deferred_probe_timeout -1;\n" + OPTIONAL_SUPPLIER), consumer_bound=VIOLATED)


EARLY_PROBE = """
deferred_probe_timeout 0;
module consumer_mod builtin {
  var asked : bool = false;
  var deferred_early : bool = false;
  driver consumer_drv {
    probe {
      if not asked { asked = true; deferred_early = driver_deferred_probe_check_state() == -EPROBE_DEFER; }
    }
  }
  device c0 : consumer_drv present;
  init { register_driver(consumer_drv); }
}
final deferred_during_initcalls : deferred_early;
"""


def test_rule_check_state_defers_until_initcalls_are_done():
    """drivers/base/dd.c driver_deferred_probe_check_state: before deferred_probe_initcall
    sets initcalls_done it returns -EPROBE_DEFER, whatever the timeout."""
    expect(spec("early", EARLY_PROBE), deferred_during_initcalls=PROVED)
    late = EARLY_PROBE.replace("module consumer_mod builtin", "module consumer_mod loadable")
    expect(spec("late", late), deferred_during_initcalls=VIOLATED)


TRIGGER = """
deferred_probe_timeout -1;
module provider loadable {
  var ready : bool = false;
  init { ready = true; driver_deferred_probe_trigger(); }
}
module consumer_mod builtin {
  driver consumer_drv { probe { if not ready { return -EPROBE_DEFER; } } }
  device c0 : consumer_drv present;
  init { register_driver(consumer_drv); }
}
final consumer_bound : bound(c0);
"""


def test_rule_driver_deferred_probe_trigger_retries_the_pending_list():
    """drivers/base/dd.c driver_deferred_probe_trigger (exported): the pending list moves to
    the active list and the deferred-probe work runs again."""
    expect(spec("trigger", TRIGGER), consumer_bound=PROVED)
    expect(spec("no trigger", TRIGGER.replace(" driver_deferred_probe_trigger();", "")), consumer_bound=VIOLATED)


UNMATCHED_SUPPLIER = """
config PINCTRL_FOO : tristate = n;
module pinctrl_foo if PINCTRL_FOO {
  driver pinctrl_drv { probe { } }
  init { register_driver(pinctrl_drv); }
}
module serial builtin {
  driver uart_drv { probe { } }
  device pinctrl0 : pinctrl_drv present;
  device uart0 : uart_drv present;
  init { register_driver(uart_drv); }
}
supplier pinctrl0 -> uart0;
final console_bound : bound(uart0);
"""


def test_rule_the_timeout_relaxes_fw_devlink_links_to_suppliers_no_driver_matched():
    """drivers/base/dd.c deferred_probe_timeout_work_func calls fw_devlink_drivers_done
    (drivers/base/core.c) first: fw_devlink_no_driver relaxes each fw_devlink link whose
    supplier never matched a driver (!can_match), so its consumer binds on the last trigger.
    Without a timeout the consumer waits for ever; a supplier a driver did match keeps its
    link (the consumer waits for that driver's probe, which here always defers)."""
    expect(spec("relaxed", "deferred_probe_timeout 10;\n" + UNMATCHED_SUPPLIER), console_bound=PROVED)
    expect(spec("never", "deferred_probe_timeout -1;\n" + UNMATCHED_SUPPLIER), console_bound=VIOLATED)
    matched = UNMATCHED_SUPPLIER.replace("config PINCTRL_FOO : tristate = n;", "config PINCTRL_FOO : tristate = y;") \
        .replace("driver pinctrl_drv { probe { } }", "driver pinctrl_drv { probe { return -EPROBE_DEFER; } }")
    expect(spec("matched", "deferred_probe_timeout 10;\n" + matched), console_bound=VIOLATED)


def test_probe_timeout_exports_to_promela_and_spin_agrees(tmp_path):
    """initcalls_done, the timeout work and the check-state query lower to plain IR."""
    from modelcheck.checker import check_model
    from modelcheck.frontend import load_text
    from modelcheck.result import Verdict
    require_spin()
    model = load_text(spec("spin timeout", "deferred_probe_timeout 10;\n" + UNMATCHED_SUPPLIER
                           + OPTIONAL_SUPPLIER + "\n" + TRIGGER.split("\n", 2)[2].replace(
        "consumer_mod", "consumer2").replace("consumer_drv", "consumer2_drv").replace("c0", "c1")
        .replace("final consumer_bound", "final consumer2_bound")), "spin.probe")
    ours = {o.prop.name: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")}
    assert spin_verdicts(model, ours, tmp_path) == ours
