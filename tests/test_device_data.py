"""Per-device driver data and the lifetime check `work_outlives_owner`, rule by rule.

Each rule is checked both ways with the explicit and the foata engines (tests/rule_helpers.py),
and the r8152 pair is also checked by SPIN through the Promela export.
"""
from __future__ import annotations

import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.promela import SpinBuild
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin

R8152 = """
    module r8152 loadable {
      driver d {
        work hw_phy_work = phy_work;            # in the device's private data, as tp->hw_phy_work is
        probe { queue_work(system_wq, hw_phy_work); CANCEL return -ENODEV; }
      }
      device usb0 : d present;
      init { register_driver(d); }
    }
    fn phy_work { }
"""


def r8152(cancel: bool) -> str:
    return spec("r8152 probe error path", R8152.replace("CANCEL", "cancel_work_sync(hw_phy_work);" if cancel else ""))


def test_rule_per_device_data_is_freed_when_probe_fails():
    """drivers/base/dd.c: really_probe, on a failed probe, calls device_unbind_cleanup, whose
    devres_release_all frees the driver's devm-allocated private data: a work item in it that is
    still queued runs on freed memory (kernel/workqueue.c: cancel_work_sync is what stops it)."""
    expect(r8152(cancel=False), work_outlives_owner=VIOLATED)
    expect(r8152(cancel=True), work_outlives_owner=PROVED)


REMOVE = """
    module m loadable {
      driver d {
        work poll = poll_fn;
        probe { queue_work(system_wq, poll); return 0; }
        remove { CANCEL }
      }
      device dev0 : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn poll_fn { }
    userspace admin { rmmod(m); }
"""


def test_rule_per_device_data_is_freed_after_remove_returns():
    """drivers/base/dd.c: __device_release_driver calls device_remove (the driver's remove),
    then device_unbind_cleanup, which frees the private data: remove must cancel its work."""
    flawed = spec("remove leaves work queued", REMOVE.replace("CANCEL", ""))
    fixed = spec("remove cancels its work", REMOVE.replace("CANCEL", "cancel_work_sync(poll);"))
    expect(flawed, work_outlives_owner=VIOLATED)
    expect(fixed, work_outlives_owner=PROVED)


FRESH = """
    module m loadable {
      driver d {
        var tries : int 0..2 = 0;
        probe { ASSERTION tries = tries + 1; return -ENODEV; }
      }
      device dev0 : d present;
      init { register_driver(d); }
    }
    userspace admin { bind(dev0); }
"""


def test_rule_per_device_data_is_fresh_at_each_probe():
    """drivers/base/dd.c: really_probe calls the driver's probe, which allocates the private data
    anew (devm_kzalloc); what a failed probe wrote was freed with it, so a second probe of the
    same device starts from the declared initial values."""
    fresh = spec("each probe starts from fresh data", FRESH.replace("ASSERTION", "assert fresh: tries == 0;"))
    expect(fresh, fresh=PROVED)
    # The opposite: data kept at module level survives the failed probe.
    module_level = spec("module data outlives the probe", """
        module m loadable {
          var tries : int 0..2 = 0;
          driver d { probe { assert kept: tries == 0; tries = tries + 1; return -ENODEV; } }
          device dev0 : d present;
          init { register_driver(d); }
        }
        userspace admin { bind(dev0); }
    """)
    expect(module_level, kept=VIOLATED)


OWN = """
    module m loadable {
      var first : bool = true;
      driver d {
        var queued : bool = false;
        var done : bool = false;
        work w = set_done;
        probe { if first { first = false; queued = true; queue_work(system_wq, w); } return 0; }
        remove { flush_work(w); assert ASSERTION; }
      }
      device a : d present;
      device b : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn set_done { done = true; }
    userspace admin { rmmod(m); }
"""


def test_rule_work_function_reaches_its_own_device_data():
    """A work item embedded in the private data finds its device with container_of
    (include/linux/container_of.h; e.g. drivers/net/usb/r8152.c: rtl_hw_phy_work_func_t):
    the function writes the data of the device whose item ran, and no other device's."""
    own = spec("the work writes its own device's data", OWN.replace("ASSERTION", "own_copy: done == queued"))
    every = spec("the work writes every device's data", OWN.replace("ASSERTION", "every_copy: done"))
    expect(own, own_copy=PROVED, work_outlives_owner=PROVED)
    expect(every, every_copy=VIOLATED)


MODULE_WORK = """
    module m loadable {
      work refresh = refresh_fn;
      init { queue_work(system_wq, refresh); }
      exit { CANCEL }
    }
    fn refresh_fn { }
    userspace admin { rmmod(m); }
"""


def test_rule_module_work_must_be_idle_when_exit_returns():
    """kernel/module/main.c: delete_module calls the module's exit, then free_module: a work item
    in the module's data still queued or running when exit returns runs freed code and data."""
    flawed = spec("exit leaves work queued", MODULE_WORK.replace("CANCEL", ""))
    fixed = spec("exit cancels its work", MODULE_WORK.replace("CANCEL", "cancel_work_sync(refresh);"))
    expect(flawed, work_outlives_owner=VIOLATED)
    expect(fixed, work_outlives_owner=PROVED)


def test_work_outlives_owner_can_be_disabled():
    text = r8152(cancel=False) + "disable work_outlives_owner;\n"
    names = {p.name for p in load_text(text, "rule.probe").properties}
    assert "work_outlives_owner" not in names and "deadlock" in names


def test_device_array_elements_each_have_their_data():
    """device hmem[r in soft_reserved]: each element is a device with its own copy."""
    text = spec("device array data", """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        range sr1 : soft_reserved @ 0x2000 .. 0x2fff;
        module m loadable {
          driver d {
            work w = fn_w;
            probe(r) { queue_work(system_wq, w); return -ENODEV; }
          }
          device hmem[r in soft_reserved] : d present;
          init { register_driver(d); }
        }
        fn fn_w { }
    """)
    model = load_text(text, "rule.probe")
    names = {v.name for v in model.variables}
    assert {"hmem[sr0].w.pending", "hmem[sr1].w.pending"} <= names
    expect(text, work_outlives_owner=VIOLATED)


@pytest.mark.parametrize("body, code", [
    ("init { register_driver(d); queue_work(system_wq, w); }", "E230"),
    ("init { register_driver(d); }", "E231"),
])
def test_per_device_data_named_without_a_device_is_an_error(body, code):
    device = "device dev : d present;" if code == "E230" else ""
    text = spec("misplaced", f"""
        module m loadable {{
          driver d {{ work w = fn_w; var ready : bool; probe {{ return 0; }} }}
          {device}
          {body}
        }}
        fn fn_w {{ }}
        fn poke {{ ready = true; }}
    """)
    with pytest.raises(SpecError) as err:
        load_text(text, "rule.probe")
    assert err.value.code == code


@pytest.mark.parametrize("cancel", [False, True])
def test_spin_agrees_on_the_r8152_pair(cancel, tmp_path):
    require_spin()
    model = load_text(r8152(cancel), "rule.probe")
    with SpinBuild(model, ["work_outlives_owner"], str(tmp_path)) as build:
        run = build.run("work_outlives_owner")
    assert run.complete
    assert run.verdict == ("holds" if cancel else "violated")
