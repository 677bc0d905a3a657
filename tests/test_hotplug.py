"""Hotplug and uevent-driven module autoload (drivers/base/core.c device_add and device_del,
lib/kobject_uevent.c, systemd's 80-drivers.rules), rule by rule, both ways: explicit and foata
agree on the safety rules (tests/rule_helpers.py), explicit and SPIN on the liveness ones and
on one safety rule; the flawed and fixed pair of docs/examples/devmodel also goes through SPIN
(tests/test_devmodel_examples.py)."""
import pytest

from modelcheck.checker import check_model
from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.ir import is_liveness
from modelcheck.result import EngineOptions, Verdict
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin, spin_verdict

AFTER_BOOT = """
module m builtin {
  var late_done : bool = false;
  driver d { probe { assert probed_after_boot : late_done; } }
  DEVICE
  initcall late { late_done = true; }
  init { register_driver(d); }
}
"""


def test_rule_the_platform_hotplugs_a_device_only_after_boot():
    """A hotplug device appears when the platform adds it (drivers/base/core.c device_add ->
    bus_probe_device -> drivers/base/dd.c device_initial_probe), at any moment after boot;
    a device enumerated at boot is probed by the registration in its initcall."""
    expect(spec("hotplug", AFTER_BOOT.replace("DEVICE", "hotplug device d0 : d;")), probed_after_boot=PROVED)
    expect(spec("present", AFTER_BOOT.replace("DEVICE", "device d0 : d present;")), probed_after_boot=VIOLATED)


REMOVED = """
module m builtin {
  var removed : bool = false;
  driver d { probe { } remove { removed = true; } }
  DEVICE
  init { register_driver(d); }
}
final never_removed : not removed;
"""


def test_rule_a_hot_remove_runs_device_del():
    """The platform's removal is drivers/base/core.c device_del: kill_device under the device
    lock, then bus_remove_device (drivers/base/bus.c) -> device_release_driver runs the
    driver's remove; a device nobody removes keeps its driver."""
    expect(spec("hotplug", REMOVED.replace("DEVICE", "hotplug device d0 : d;")), never_removed=VIOLATED)
    expect(spec("present hotplug", REMOVED.replace("DEVICE", "hotplug device d0 : d present;")),
           never_removed=VIOLATED)
    expect(spec("present", REMOVED.replace("DEVICE", "device d0 : d present;")), never_removed=PROVED)


AUTOLOAD = """
module m loadable {
  MANUAL
  driver d { probe { } }
  init { register_driver(d); }
}
builtin platform_bus {
  hotplug device d0 : d;
}
final not_loaded : not loaded(m);
"""


def test_rule_kobj_add_makes_udev_load_the_module_of_the_driver():
    """drivers/base/core.c device_add raises kobject_uevent(KOBJ_ADD) (lib/kobject_uevent.c
    kobject_uevent_env: MODALIAS from the bus's uevent callback, broadcast on netlink);
    systemd's 80-drivers.rules runs `kmod load $env{MODALIAS}` on ACTION=="add". A module no
    alias matches (`manual`) is not loaded by it."""
    expect(spec("autoload", AUTOLOAD.replace("MANUAL", "")), not_loaded=VIOLATED)
    expect(spec("manual", AUTOLOAD.replace("MANUAL", "manual;")), not_loaded=PROVED)


RACE = """
module m loadable {
  var ready : bool = false;
  driver d { probe { assert probe_sees_ready : ready; } }
  init { INIT }
}
builtin platform_bus {
  hotplug device d0 : d;
  hotplug device d1 : d;
}
"""


def test_rule_a_hot_add_probes_while_the_module_init_runs():
    """udev's modprobe on d0's KOBJ_ADD runs the module's init (kernel/module/main.c
    do_init_module) while the platform may add d1: its device_add -> bus_probe_device finds the
    driver registered from the moment the init's driver_register returned, before the init
    has returned; an init that sets up first and registers last is safe."""
    expect(spec("register first", RACE.replace("INIT", "register_driver(d); ready = true;")),
           probe_sees_ready=VIOLATED)
    expect(spec("register last", RACE.replace("INIT", "ready = true; register_driver(d);")),
           probe_sees_ready=PROVED)


# --- liveness: the platform's choice is not forced by fairness (explicit and SPIN) ---------

def _live(text: str) -> dict:
    model = load_text(text, file="rule.probe")
    names = [p.name for p in model.properties if is_liveness(p)]
    got = {o.prop.name: o.result.verdict for o in check_model(model, "explicit", EngineOptions(timeout=120),
                                                               only=names)}
    require_spin()
    from modelcheck.promela_liveness import LivenessBuild
    said = {Verdict.VIOLATED: "violated", Verdict.PROVED: "holds", Verdict.VACUOUS: "holds"}
    with LivenessBuild(model, names, timeout=300) as build:
        assert {n: build.run(n).verdict for n in names} == {n: said[v] for n, v in got.items()}
    return got


NEVER = """
module m builtin {
  var probed : bool = false;
  driver d { probe { probed = true; } }
  DEVICE
  init { register_driver(d); ADD }
}
eventually probed_eventually : probed;
"""


def test_rule_the_platform_may_never_hotplug_a_device():
    """Whether the platform adds a hotplug device is its choice, not the kernel's: no fairness
    assumption forces the add (docs/language.md, Fairness), so a device the spec's code adds
    with device_add is probed eventually and a hotplug one need not be."""
    hotplug = NEVER.replace("DEVICE", "hotplug device d0 : d;").replace("ADD", "")
    added = NEVER.replace("DEVICE", "device d0 : d;").replace("ADD", "device_add(d0);")
    assert _live(spec("hotplug", hotplug))["probed_eventually"] is VIOLATED
    assert _live(spec("added", added))["probed_eventually"] is PROVED


COLDPLUG = """
module m loadable {
  driver d { probe { } }
  init { register_driver(d); }
}
builtin platform_bus {
  DEVICE
}
eventually loaded_eventually : loaded(m);
"""


def test_rule_udev_coldplug_loads_only_modules_with_a_device_present():
    """At boot udev replays the uevents of the devices present (coldplug), so a module whose
    driver matches a present device is loaded eventually; one whose drivers match only
    hotplug devices waits for the platform's KOBJ_ADD, which may never come."""
    hotplug = COLDPLUG.replace("DEVICE", "hotplug device d0 : d;")
    present = COLDPLUG.replace("DEVICE", "hotplug device d0 : d present;")
    assert _live(spec("hotplug", hotplug))["loaded_eventually"] is VIOLATED
    assert _live(spec("present", present))["loaded_eventually"] is PROVED


REGISTERED = """
module m builtin {
  driver d { probe { } }
  DEVICE
  init { register_driver(d); }
}
final plugged : device_is_registered(d0);
final bound_when_plugged : device_is_registered(d0) -> bound(d0);
invariant bound_only_when_plugged : bound(d0) -> device_is_registered(d0);
"""


def test_rule_device_is_registered_between_device_add_and_device_del():
    """include/linux/device.h device_is_registered: dev->kobj.state_in_sysfs, set by
    kobject_add in drivers/base/core.c device_add and cleared by kobject_del in device_del.
    A hotplug device may never be added, or be removed again: only `device_is_registered`
    tells a fixed design's "bound whenever plugged in" from "always bound"."""
    for device in ("hotplug device d0 : d;", "hotplug device d0 : d present;"):
        expect(spec("hotplug", REGISTERED.replace("DEVICE", device)), plugged=VIOLATED,
               bound_when_plugged=PROVED, bound_only_when_plugged=PROVED)
    expect(spec("present", REGISTERED.replace("DEVICE", "device d0 : d present;")), plugged=PROVED,
           bound_when_plugged=PROVED, bound_only_when_plugged=PROVED)


def test_spin_agrees_on_device_is_registered(tmp_path):
    model = load_text(spec("spin", REGISTERED.replace("DEVICE", "hotplug device d0 : d;")), "rule.probe")
    for prop, verdict in (("plugged", "violated"), ("bound_when_plugged", "holds"),
                          ("bound_only_when_plugged", "holds")):
        (tmp_path / prop).mkdir()
        assert spin_verdict(model, prop, tmp_path / prop) == verdict


def test_spin_agrees_on_the_probe_during_the_init(tmp_path):
    for init, verdict in (("register_driver(d); ready = true;", "violated"),
                          ("ready = true; register_driver(d);", "holds")):
        model = load_text(spec("spin", RACE.replace("INIT", init)), "rule.probe")
        assert spin_verdict(model, "probe_sees_ready", tmp_path) == verdict


@pytest.mark.parametrize("body, code", [
    ("module m loadable { driver d { probe { } } hotplug device d0 : d; init { device_add(d0); } }", "E278"),
    ("module m loadable { driver d { probe { } } hotplug device d0 : d present; exit { device_del(d0); } }", "E278"),
    ("range r0 : soft_reserved @ 0x1000 .. 0x1fff;\n"
     "module m loadable { driver d { probe(r) { } } hotplug device h[r in soft_reserved] : d; }", "E279"),
    ("module m loadable { driver d { probe { } } hotplug device d0 : d; }\nuserspace u { reboot(); }", "E277"),
])
def test_hotplug_errors(body, code):
    with pytest.raises(SpecError) as info:
        load_text(spec("error", body), "rule.probe")
    assert info.value.code == code
    assert info.value.span is not None and info.value.span.line >= 2
