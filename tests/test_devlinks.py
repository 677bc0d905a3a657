"""Device links (drivers/base/core.c, drivers/base/dd.c), rule by rule, both ways: explicit and
foata agree (tests/rule_helpers.py); the flawed and fixed pair of docs/examples/devmodel also
through SPIN (tests/test_devmodel_examples.py), and one rule spec here through SPIN too."""
import pytest

from modelcheck.frontend import load_text
from modelcheck.promela import SpinBuild
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin

ORDERED_PROBE = """
module m builtin {
  driver sd { probe { } }
  driver cd { probe { assert supplier_bound : bound(s0); } }
  device s0 : sd present;
  device c0 : cd present;
  init { device_link_add(c0, s0, FLAGS); register_driver(cd); register_driver(sd); }
}
final consumer_bound : bound(c0);
"""


def test_rule_a_managed_link_defers_the_consumer_until_its_supplier_is_bound():
    """drivers/base/dd.c really_probe calls device_links_check_suppliers (drivers/base/core.c)
    before the probe: while a managed link is not "available" (its supplier has no driver) it
    returns -EPROBE_DEFER, and driver_probe_device parks the consumer; the supplier's
    driver_bound makes the link available and triggers the retry."""
    expect(spec("managed", ORDERED_PROBE.replace("FLAGS", "0")), supplier_bound=PROVED, consumer_bound=PROVED)
    expect(spec("no link", ORDERED_PROBE.replace("device_link_add(c0, s0, FLAGS); ", "")),
           supplier_bound=VIOLATED)


def test_rule_a_stateless_link_imposes_no_probe_order():
    """drivers/base/core.c device_links_check_suppliers skips links without DL_FLAG_MANAGED,
    which device_link_add sets for every link that is not DL_FLAG_STATELESS."""
    expect(spec("stateless", ORDERED_PROBE.replace("FLAGS", "DL_FLAG_STATELESS")), supplier_bound=VIOLATED)
    expect(spec("managed", ORDERED_PROBE.replace("FLAGS", "DL_FLAG_AUTOREMOVE_CONSUMER")), supplier_bound=PROVED)


UNBIND_SUPPLIER = """
module m builtin {
  var supplier_up : bool = false;
  driver sd { probe { supplier_up = true; } remove { supplier_up = false; } }
  driver cd { probe { if not bound(s0) { return -EPROBE_DEFER; } device_link_add(c0, s0, FLAGS); } }
  device s0 : sd present;
  device c0 : cd present;
  init { register_driver(sd); register_driver(cd); }
}
userspace admin { unbind(s0); }
invariant consumer_has_its_supplier : bound(c0) -> supplier_up;
"""


def test_rule_unbinding_a_supplier_first_unbinds_its_bound_consumers():
    """drivers/base/dd.c __device_release_driver: while device_links_busy (drivers/base/core.c)
    finds an "active" or "consumer probe" link, it unlocks the supplier and
    device_links_unbind_consumers releases each bound consumer's driver, before the
    supplier's remove runs."""
    expect(spec("managed", UNBIND_SUPPLIER.replace("FLAGS", "0")), consumer_has_its_supplier=PROVED)
    expect(spec("stateless", UNBIND_SUPPLIER.replace("FLAGS", "DL_FLAG_STATELESS")),
           consumer_has_its_supplier=VIOLATED)


REBIND_CONSUMER = """
module m builtin {
  driver sd { probe { } remove { } }
  driver cd { probe { device_link_add(c0, s0, FLAGS); } remove { } }
  device s0 : sd present;
  device c0 : cd present;
  init { register_driver(sd); register_driver(cd); }
}
userspace admin { unbind(c0); unbind(s0); bind(c0); }
final consumer_rebound : bound(c0);
"""


def test_rule_autoremove_consumer_drops_the_link_when_the_consumer_unbinds():
    """drivers/base/core.c __device_links_no_driver (from device_links_driver_cleanup on the
    consumer's unbind) deletes DL_FLAG_AUTOREMOVE_CONSUMER links; a persistent link stays and
    holds the consumer's next probe back while the supplier has no driver."""
    expect(spec("autoremove", REBIND_CONSUMER.replace("FLAGS", "DL_FLAG_AUTOREMOVE_CONSUMER")),
           consumer_rebound=PROVED)
    expect(spec("persistent", REBIND_CONSUMER.replace("FLAGS", "0")), consumer_rebound=VIOLATED)


REBIND_WITHOUT_SUPPLIER = """
module m builtin {
  driver sd { probe { } remove { } }
  driver cd { probe { } remove { } }
  device s0 : sd present;
  device c0 : cd present;
  init { device_link_add(c0, s0, FLAGS); register_driver(sd); register_driver(cd); }
}
userspace admin { unbind(s0); bind(c0); }
final consumer_needs_supplier : bound(c0) -> bound(s0);
"""


def test_rule_autoremove_supplier_drops_the_link_when_the_supplier_unbinds():
    """drivers/base/core.c device_links_driver_cleanup deletes a DL_FLAG_AUTOREMOVE_SUPPLIER
    link in the "supplier unbind" state after the supplier's remove; other managed links
    become "dormant" and keep deferring the consumer."""
    expect(spec("persistent", REBIND_WITHOUT_SUPPLIER.replace("FLAGS", "0")), consumer_needs_supplier=PROVED)
    expect(spec("autoremove", REBIND_WITHOUT_SUPPLIER.replace("FLAGS", "DL_FLAG_AUTOREMOVE_SUPPLIER")),
           consumer_needs_supplier=VIOLATED)


AUTOPROBE = """
module m builtin {
  driver sd { probe { } }
  driver cd { probe { if not bound(s0) { return -ENODEV; } } }
  device s0 : sd present;
  device c0 : cd present;
  init { register_driver(cd); device_link_add(c0, s0, FLAGS); register_driver(sd); }
}
final consumer_bound : bound(c0);
"""


def test_rule_autoprobe_consumer_probes_the_consumer_when_the_supplier_binds():
    """drivers/base/core.c device_links_driver_bound: a DL_FLAG_AUTOPROBE_CONSUMER link it makes
    "available" puts the consumer on the pending list (drivers/base/dd.c
    driver_deferred_probe_add, for a device that has matched a driver: dev->can_match), and
    driver_bound's trigger retries it; without the flag a consumer whose probe failed with
    -ENODEV is not tried again."""
    expect(spec("autoprobe", AUTOPROBE.replace("FLAGS", "DL_FLAG_AUTOPROBE_CONSUMER")), consumer_bound=PROVED)
    expect(spec("no autoprobe", AUTOPROBE.replace("FLAGS", "0")), consumer_bound=VIOLATED)


UNREGISTERED_SUPPLIER = """
module m builtin {
  var made : bool = false;
  driver sd { probe { } }
  device s0 : sd;
  device c0 : sd present;
  init { ADD made = device_link_add(c0, s0, 0); }
}
final link_made : made;
"""


def test_rule_device_link_add_needs_a_registered_supplier():
    """drivers/base/core.c device_link_add returns NULL when the supplier is not on dpm_list
    yet (device_pm_initialized: device_add's device_pm_add puts it there)."""
    expect(spec("added", UNREGISTERED_SUPPLIER.replace("ADD", "device_add(s0);")), link_made=PROVED)
    expect(spec("not added", UNREGISTERED_SUPPLIER.replace("ADD", "")), link_made=VIOLATED)


def test_spin_agrees_on_the_forced_unbind_of_consumers(tmp_path):
    require_spin()
    for flags, verdict in (("0", "holds"), ("DL_FLAG_STATELESS", "violated")):
        model = load_text(spec("spin", UNBIND_SUPPLIER.replace("FLAGS", flags)), "rule.probe")
        with SpinBuild(model, ["consumer_has_its_supplier"], str(tmp_path)) as build:
            run = build.run("consumer_has_its_supplier")
        assert run.complete and run.verdict == verdict, run.output[-800:]


LINK_IN_CONSUMER_PROBE = """
module m builtin {
  var supplier_up : bool = false;
  driver sd { probe { supplier_up = true; } remove { supplier_up = false; } }
  device s0 : sd present;
  device c0 : cd present;
  init { INIT_LINK register_driver(sd); }
}
module cm loadable {
  manual;
  driver cd { probe { if not bound(s0) { return -EPROBE_DEFER; } PROBE_LINK } }
  init { register_driver(cd); }
}
userspace admin { unbind(s0); }
userspace loader { modprobe(cm); }
invariant consumer_has_its_supplier : bound(c0) -> supplier_up;
"""


def test_rule_a_link_made_while_its_supplier_unbinds_does_not_hold_the_consumer_back():
    """drivers/base/core.c device_link_init_status gives a new link "supplier unbind" while the
    supplier's dev->links.status is DL_DEV_UNBINDING (device_links_busy set it, and dev->driver
    is still set, so the consumer's probe sees a bound supplier); device_links_driver_bound
    only warns and makes it "active", and the supplier's remove then runs under a bound
    consumer. A link made before the consumer can probe defers the consumer instead."""
    link = "device_link_add(c0, s0, 0);"
    expect(spec("in probe", LINK_IN_CONSUMER_PROBE.replace("PROBE_LINK", link).replace("INIT_LINK ", "")),
           consumer_has_its_supplier=VIOLATED)
    expect(spec("before probe", LINK_IN_CONSUMER_PROBE.replace("PROBE_LINK", "").replace("INIT_LINK", link)),
           consumer_has_its_supplier=PROVED)


DELETED_SUPPLIER = """
module m builtin {
  driver sd { probe { } remove { } }
  driver cd { probe { } remove { } }
  device s0 : sd present;
  device c0 : cd present;
  init { device_link_add(c0, s0, 0); register_driver(sd); register_driver(cd); }
}
userspace admin { REMOVE bind(c0); }
final consumer_rebound : bound(c0);
"""


def test_rule_device_del_deletes_the_links_of_the_device():
    """drivers/base/core.c device_del: bus_remove_device unbinds the device (its consumers
    first), then device_links_purge deletes every link it has; with the supplier only unbound,
    the persistent link stays "dormant" and defers the consumer."""
    expect(spec("deleted", DELETED_SUPPLIER.replace("REMOVE", "device_del(s0);")), consumer_rebound=PROVED)
    expect(spec("unbound", DELETED_SUPPLIER.replace("REMOVE", "unbind(s0);")), consumer_rebound=VIOLATED)


def test_stateless_links_and_suspend_are_refused_too():
    """drivers/base/core.c device_link_add moves the consumer to the tail of dpm_list
    (device_reorder_to_tail) for stateless links as well, and that order is not modelled."""
    from modelcheck.errors import SpecError
    text = spec("stateless and suspend", """
        module m builtin {
          driver sd { probe { } }
          driver cd { probe { device_link_add(c0, s0, DL_FLAG_STATELESS); } }
          device c0 : cd present;
          device s0 : sd present;
          init { register_driver(sd); register_driver(cd); }
        }
        userspace u { suspend(); }
        """)
    with pytest.raises(SpecError) as info:
        load_text(text, "rule.probe")
    assert info.value.code == "E268"
