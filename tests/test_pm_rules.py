"""System sleep and reboot (drivers/base/power/main.c, kernel/power/suspend.c,
kernel/power/process.c, drivers/base/core.c device_shutdown, drivers/base/dd.c): each rule
both ways, with the explicit and foata engines agreeing (tests/rule_helpers.py)."""
import pytest

import rule_helpers
from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin, spin_verdicts


@pytest.fixture(autouse=True)
def deeper_search(monkeypatch):
    """A suspend is a long run of dependent steps (boot, freeze, two passes over dpm_list):
    foata needs more time than the one-line rules get."""
    monkeypatch.setattr(rule_helpers, "OPTIONS", EngineOptions(max_depth=80, timeout=600))

TWO_DEVICES = """
module m builtin {
  var step : int 0..4 = 0;
  var wrong : bool = false;
  driver first_drv {
    suspend { if step != 1 { wrong = true; } step = 2; }
    resume { if step != 2 { wrong = true; } step = 3; }
    shutdown { if step != 1 { wrong = true; } step = 2; }
  }
  driver second_drv {
    suspend { step = 1; }
    resume { if step != 3 { wrong = true; } step = 4; }
    shutdown { step = 1; }
  }
  device first : first_drv present;
  device second : second_drv present;
  init { register_driver(first_drv); register_driver(second_drv); }
}
invariant callbacks_in_order : not wrong;
"""


def test_rule_dpm_suspend_runs_callbacks_from_the_tail_of_dpm_list_and_resume_from_the_head():
    """drivers/base/power/main.c dpm_suspend takes devices from the tail of
    dpm_prepared_list (last added, so children, first), dpm_resume from the head of
    dpm_suspended_list; device_pm_add puts each device at the tail when it is added."""
    text = spec("dpm order", TWO_DEVICES + "userspace pm { suspend(); }\nfinal all_ran : step == 4;\n")
    expect(text, callbacks_in_order=PROVED, all_ran=PROVED)
    swapped = text.replace("device first : first_drv present;\n  device second : second_drv present;",
                           "device second : second_drv present;\n  device first : first_drv present;")
    expect(swapped, callbacks_in_order=VIOLATED)


def test_rule_dpm_list_order_is_the_order_of_device_add_at_run_time():
    """drivers/base/power/main.c device_pm_add: list_add_tail at device_add time, so a device
    added later is suspended earlier, whatever the declaration order."""
    text = spec("dpm order at run time", TWO_DEVICES.replace(" present;", ";").replace(
        "init { register_driver(first_drv); register_driver(second_drv); }",
        "init { register_driver(first_drv); register_driver(second_drv); device_add(first); device_add(second); }")
        + "userspace pm { suspend(); }\n")
    expect(text, callbacks_in_order=PROVED)
    expect(text.replace("device_add(first); device_add(second);", "device_add(second); device_add(first);"),
           callbacks_in_order=VIOLATED)


def test_rule_device_shutdown_walks_devices_from_the_tail():
    """drivers/base/core.c device_shutdown: the devices_kset list is walked backwards, each
    device locked, and its driver's shutdown callback called."""
    text = spec("shutdown order", TWO_DEVICES + "userspace admin { reboot(); }\nfinal shut : step == 2;\n")
    expect(text, callbacks_in_order=PROVED, shut=PROVED)
    swapped = text.replace("device first : first_drv present;\n  device second : second_drv present;",
                           "device second : second_drv present;\n  device first : first_drv present;")
    expect(swapped, callbacks_in_order=VIOLATED)


ADDED_ON_RESUME = """
module bus builtin {
  var ready : bool = false;
  driver host_drv { resume { device_add(chan0); ready = bound(chan0); } }
  driver chan_drv { probe { return 0; } }
  device host0 : host_drv present;
  device chan0 : chan_drv;
  init { register_driver(host_drv); register_driver(chan_drv); }
}
userspace pm { suspend(); }
final probed_on_resume : ready;
final probed_after_resume : bound(chan0);
"""


def test_rule_probing_is_blocked_until_dpm_complete_then_deferred_probes_run():
    """drivers/base/dd.c really_probe returns -EPROBE_DEFER while defer_all_probes is set
    (dpm_prepare -> device_block_probing); dpm_complete -> device_unblock_probing clears it
    and triggers the deferred list, so the device is probed after the resume."""
    text = spec("probing blocked", ADDED_ON_RESUME)
    expect(text, probed_on_resume=VIOLATED, probed_after_resume=PROVED)


def test_rule_user_space_is_frozen_across_suspend_but_kernel_workers_are_not():
    """kernel/power/process.c freeze_processes: every user task leaves the kernel and stays
    frozen until thaw_processes; a work item on a non-freezable queue still runs."""
    text = spec("frozen", """
    module m builtin {
      var asleep : bool = false;
      driver d { probe { return 0; } suspend { asleep = true; } resume { asleep = false; } }
      device d0 : d present;
      init { register_driver(d); }
    }
    userspace pm { suspend(); }
    userspace admin { unbind(d0); }
    invariant never_unbound_asleep : not (asleep and not bound(d0));
    """)
    expect(text, never_unbound_asleep=PROVED)
    from_kernel = text.replace("userspace admin { unbind(d0); }", "").replace(
        "init { register_driver(d); }", "work w = fn_unbind; init { register_driver(d); queue_work(system_wq, w); }") \
        + "fn fn_unbind { unbind(d0); }\n"
    expect(from_kernel, never_unbound_asleep=VIOLATED)


def test_rule_suspend_and_reboot_are_requests_from_user_space():
    """kernel/power/main.c state_store and kernel/reboot.c SYSCALL reboot: user space asks."""
    with pytest.raises(SpecError) as e:
        load_text('spec "x"\nmodule m loadable { init { suspend(); } }\n', "x.probe")
    assert e.value.code == "E260"


def test_suspend_and_reboot_export_to_promela_and_spin_agrees(tmp_path):
    """The freezer, the dpm_list passes and the blocked probe lower to plain IR: SPIN decides
    every property as the explicit engine does."""
    from modelcheck.checker import check_model
    from modelcheck.result import Verdict
    require_spin()
    text = spec("spin pm", ADDED_ON_RESUME.replace("userspace pm { suspend(); }",
                                                   "userspace pm { suspend(); }\nuserspace admin { reboot(); }"))
    model = load_text(text, "spin.probe")
    ours = {o.prop.name: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")}
    assert ours["probed_on_resume"] == "violated"
    assert spin_verdicts(model, ours, tmp_path) == ours
