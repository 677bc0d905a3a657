"""Several drivers for one device (drivers/base/dd.c, drivers/base/bus.c, drivers/base/platform.c),
rule by rule, both ways: explicit and foata agree (tests/rule_helpers.py); one rule spec also
through SPIN, and the flawed and fixed pair of docs/examples/devmodel through SPIN in
tests/test_devmodel_examples.py."""
import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import spin_verdict

ORDER = """
module m builtin {
  driver generic { probe { } remove { } }
  driver vendor { probe { } remove { } }
  device d0 : generic, vendor;
  init { register_driver(FIRST); register_driver(SECOND); device_add(d0); }
}
final vendor_binds : bound_to(d0, vendor);
"""


def test_rule_the_first_registered_driver_that_matches_binds():
    """drivers/base/dd.c __device_attach walks bus_for_each_drv (drivers/base/bus.c) from the
    head of the bus's driver list, which bus_add_driver fills with klist_add_tail: the driver
    registered first is tried first, and __device_attach_driver stops the walk once
    driver_probe_device returns 0."""
    expect(spec("vendor first", ORDER.replace("FIRST", "vendor").replace("SECOND", "generic")),
           vendor_binds=PROVED)
    expect(spec("generic first", ORDER.replace("FIRST", "generic").replace("SECOND", "vendor")),
           vendor_binds=VIOLATED)


FALLBACK = """
module m builtin {
  driver vendor { probe { return ERR; } }
  driver generic { probe { } }
  device d0 : vendor, generic;
  init { register_driver(vendor); register_driver(generic); device_add(d0); }
}
final generic_binds : bound_to(d0, generic);
"""


def test_rule_a_probe_error_lets_the_next_driver_try():
    """drivers/base/dd.c really_probe returns the probe's error as a positive number, and
    __device_attach_driver returns `ret == 0` for it ("Ignore errors returned by ->probe so
    that the next driver can try its luck"): -ENODEV, -ENXIO and any other error, even
    -EPROBE_DEFER (which driver_probe_device also parks). A probe that succeeds ends the walk."""
    for err in ("-ENODEV", "-ENOMEM", "-EPROBE_DEFER"):
        expect(spec(f"vendor fails {err}", FALLBACK.replace("ERR", err)), generic_binds=PROVED)
    expect(spec("vendor binds", FALLBACK.replace("return ERR;", "")), generic_binds=VIOLATED)


MATCH_DEFERS = """
module m builtin {
  var fw_ready : bool = READY;
  driver vendor { match { if not fw_ready { return -EPROBE_DEFER; } return 1; } probe { } }
  driver generic { probe { } }
  device d0 : vendor, generic;
  init { register_driver(vendor); register_driver(generic); device_add(d0); }
}
final bound_at_all : bound(d0);
"""


def test_rule_a_match_that_defers_stops_the_walk():
    """drivers/base/dd.c __device_attach_driver: driver_match_device returning -EPROBE_DEFER
    sets dev->can_match, calls driver_deferred_probe_add and returns the error, so
    bus_for_each_drv stops: no later driver is tried, and every deferred retry stops there
    again (amba_match does this while the peripheral ID cannot be read)."""
    expect(spec("match defers", MATCH_DEFERS.replace("READY", "false")), bound_at_all=VIOLATED)
    expect(spec("match matches", MATCH_DEFERS.replace("READY", "true")), bound_at_all=PROVED)


OVERRIDE = """
module m builtin {
  driver generic { probe { } }
  driver vfio { probe { } }
  device d0 : generic;
  init { OVERRIDE register_driver(generic); register_driver(vfio); device_add(d0); }
}
final vfio_binds : bound_to(d0, vfio);
invariant never_generic : not bound_to(d0, generic);
"""


def test_rule_driver_override_binds_only_the_named_driver():
    """drivers/base/platform.c platform_match: when pdev->driver_override is set, only the
    driver of that name matches, before any OF, ACPI or id table is looked at, so an override
    binds a driver no table lists and keeps out the one the table names
    (drivers/base/driver.c driver_set_override stores the name under device_lock)."""
    expect(spec("override", OVERRIDE.replace("OVERRIDE", "driver_override(d0, vfio);")),
           vfio_binds=PROVED, never_generic=PROVED)
    expect(spec("no override", OVERRIDE.replace("OVERRIDE ", "")), vfio_binds=VIOLATED, never_generic=VIOLATED)


DETACH = """
module m builtin {
  var vendor_up : bool = false;
  driver vendor { probe { vendor_up = true; } remove { vendor_up = false; } }
  driver generic { probe { } remove { } }
  device d0 : vendor, generic present;
  init { register_driver(FIRST); register_driver(SECOND); }
}
userspace admin { unregister_driver(generic); }
final vendor_stays : vendor_up;
"""


def test_rule_driver_detach_releases_only_the_devices_of_that_driver():
    """drivers/base/dd.c driver_detach (from bus_remove_driver) walks the driver's own device
    list and releases a device only while dev->driver == drv: unregistering a driver leaves a
    device another driver bound alone."""
    expect(spec("vendor bound", DETACH.replace("FIRST", "vendor").replace("SECOND", "generic")),
           vendor_stays=PROVED)
    expect(spec("generic bound", DETACH.replace("FIRST", "generic").replace("SECOND", "vendor")),
           vendor_stays=VIOLATED)


def test_spin_agrees_on_the_registration_order(tmp_path):
    for first, second, verdict in (("vendor", "generic", "holds"), ("generic", "vendor", "violated")):
        model = load_text(spec("spin", ORDER.replace("FIRST", first).replace("SECOND", second)), "rule.probe")
        assert spin_verdict(model, "vendor_binds", tmp_path) == verdict


@pytest.mark.parametrize("body, code", [
    ("driver a { probe { } } device d0 : a, a present;", "E269"),
    ("driver a { match { return 2; } probe { } } device d0 : a present;", "E270"),
    ("var x : bool = false; driver a { match { if x { return 1; } } probe { } } device d0 : a present;", "E270"),
    ("var x : bool = false; driver a { match { x = true; return 1; } probe { } } device d0 : a present;", "E270"),
    ("driver a : prefer_async { probe { } } driver b { probe { } } device d0 : a, b present;", "E271"),
    ("driver a { var v : bool; probe { } } driver b { probe { } } device d0 : a, b present;", "E271"),
    ("driver a { probe { } } driver b { probe { } } device d0 : a, b present; init { bind(d0); }", "E271"),
])
def test_what_the_walk_does_not_model_is_refused(body, code):
    text = spec("refused", f"module m builtin {{ {body} }}\n")
    with pytest.raises(SpecError) as info:
        load_text(text, "rule.probe")
    assert info.value.code == code, info.value
