"""Parent and child devices (`device c0 : cd parent p0 [need_parent_lock];`, semantics/parents.py),
rule by rule, both ways: explicit and foata agree (tests/rule_helpers.py), and SPIN agrees on
the Promela export of each rule spec."""
import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import spin_verdict

ADD_ORDER = """
module m builtin {
  driver pd { probe { } }
  driver cd { probe { } }
  device p0 : pd;
  device c0 : cd PARENT;
  init { register_driver(pd); register_driver(cd); ADD }
}
final child_bound : bound(c0);
"""


def test_rule_a_child_is_added_only_once_its_parent_is_added():
    """drivers/base/core.c device_add: get_device_parent gives the parent's kobject and
    kobject_add creates the child's directory in it; sysfs_create_dir_ns (fs/sysfs/dir.c)
    returns -ENOENT when the parent has no directory (not added yet), and device_add fails:
    the child is neither added nor probed."""
    first_parent = "device_add(p0); device_add(c0);"
    first_child = "device_add(c0); device_add(p0);"
    expect(spec("parent first", ADD_ORDER.replace("PARENT", "parent p0").replace("ADD", first_parent)),
           child_bound=PROVED)
    expect(spec("child first", ADD_ORDER.replace("PARENT", "parent p0").replace("ADD", first_child)),
           child_bound=VIOLATED)
    expect(spec("no parent", ADD_ORDER.replace("PARENT", "").replace("ADD", first_child)), child_bound=PROVED)


PARENT_DELETED = """
module m builtin {
  driver pd { probe { } REMOVE }
  driver cd { probe { } remove { } }
  device p0 : pd present;
  device c0 : cd present parent p0;
  init { register_driver(pd); register_driver(cd); }
}
userspace admin { device_del(p0); }
final children_go_with_their_parent : not bound(p0) -> not bound(c0);
"""


def test_rule_device_del_of_a_parent_does_not_delete_its_children():
    """drivers/base/core.c device_del (and device_unregister, which is device_del then
    put_device) walks no klist_children: a child stays added and bound after its parent is
    deleted, unless the parent's driver deletes it (here its remove calls device_del, as
    platform_device_unregister or of_platform_depopulate do in real drivers)."""
    expect(spec("core only", PARENT_DELETED.replace("REMOVE", "remove { }")),
           children_go_with_their_parent=VIOLATED)
    expect(spec("remove deletes the child", PARENT_DELETED.replace("REMOVE", "remove { device_del(c0); }")),
           children_go_with_their_parent=PROVED)


PARENT_LOCK = """
module m builtin {
  var busy : bool = false;
  driver pd { probe { } remove { busy = true; busy = false; } }
  device p0 : pd present;
  device c0 : cd present parent p0 LOCK;
  init { register_driver(pd); }
}
module cm loadable {
  manual;
  driver cd { probe { assert parent_quiet : not busy; } }
  init { register_driver(cd); }
}
userspace admin { unbind(p0); }
userspace loader { modprobe(cm); }
"""


def test_rule_need_parent_lock_serializes_a_childs_probe_with_its_parent():
    """drivers/base/dd.c __driver_attach takes __device_driver_lock(dev, dev->parent): with
    dev->bus->need_parent_lock the parent's device lock first, which the parent's unbind
    (device_release_driver_internal, under the parent's own lock) holds across its remove."""
    expect(spec("parent lock", PARENT_LOCK.replace("LOCK", "need_parent_lock")), parent_quiet=PROVED)
    expect(spec("no parent lock", PARENT_LOCK.replace("LOCK", "")), parent_quiet=VIOLATED)


RESCAN_LOCK = """
module m builtin {
  var busy : bool = false;
  var ok : bool = false;
  driver pd { probe { } remove { busy = true; busy = false; } }
  driver cd { probe { assert parent_quiet : not busy; if not ok { return -ENODEV; } } }
  device p0 : pd present;
  device c0 : cd present parent p0 LOCK;
  init { register_driver(pd); register_driver(cd); }
}
userspace admin { unbind(p0); }
userspace rescan { ok = true; bus_rescan(cd); }
"""


def test_rule_bus_rescan_takes_the_parent_lock():
    """drivers/base/bus.c bus_rescan_devices_helper: for a device without a driver, with
    dev->parent and dev->bus->need_parent_lock, device_lock(dev->parent) around device_attach."""
    expect(spec("parent lock", RESCAN_LOCK.replace("LOCK", "need_parent_lock")), parent_quiet=PROVED)
    expect(spec("no parent lock", RESCAN_LOCK.replace("LOCK", "")), parent_quiet=VIOLATED)


RESUME_ORDER = """
module m builtin {
  driver cd { probe { } resume { assert parent_awake : not suspended(p0); } }
  driver pd { probe { } }
  device c0 : cd present PARENT;
  device p0 : pd present;
  init { register_driver(pd); register_driver(cd); }
}
userspace u { suspend(); }
"""


def test_rule_parents_resume_before_their_children():
    """drivers/base/power/main.c device_pm_add puts a device at the tail of dpm_list when it is
    added, after its parent (device_add cannot add a child first); dpm_resume walks the list
    from the head, so the parent resumes first. A device with no parent declared keeps its
    own place: declared first, it resumes while the other device is still suspended."""
    expect(spec("parent", RESUME_ORDER.replace("PARENT", "parent p0")), parent_awake=PROVED)
    expect(spec("no parent", RESUME_ORDER.replace("PARENT", "")), parent_awake=VIOLATED)


SUSPEND_ORDER = """
module m builtin {
  driver cd { probe { } suspend { assert parent_awake : not suspended(p0); } }
  driver pd { probe { } }
  device p0 : pd present;
  device c0 : cd present PARENT;
  init { register_driver(pd); register_driver(cd); }
}
userspace u { suspend(); }
"""


def test_rule_children_suspend_before_their_parent():
    """drivers/base/power/main.c dpm_suspend walks dpm_list from the tail: a child, added
    after its parent, suspends first."""
    expect(spec("parent", SUSPEND_ORDER.replace("PARENT", "parent p0")), parent_awake=PROVED)
    swapped = SUSPEND_ORDER.replace("  device p0 : pd present;\n  device c0 : cd present PARENT;",
                                    "  device c0 : cd present;\n  device p0 : pd present;")
    expect(spec("no parent, declared first", swapped), parent_awake=VIOLATED)


@pytest.mark.parametrize("text, prop, verdict", [
    (spec("spin lock", PARENT_LOCK.replace("LOCK", "need_parent_lock")), "parent_quiet", "holds"),
    (spec("spin no lock", PARENT_LOCK.replace("LOCK", "")), "parent_quiet", "violated"),
    (spec("spin add", ADD_ORDER.replace("PARENT", "parent p0").replace("ADD", "device_add(c0); device_add(p0);")),
     "child_bound", "violated"),
    (spec("spin resume", RESUME_ORDER.replace("PARENT", "parent p0")), "parent_awake", "holds"),
])
def test_spin_agrees_on_the_parent_rules(text, prop, verdict, tmp_path):
    model = load_text(text, "rule.probe")
    assert spin_verdict(model, prop, tmp_path) == verdict


@pytest.mark.parametrize("body, code", [
    ("device c0 : cd parent nope;", "E249"),
    ("device c0 : cd parent c0;", "E249"),
    ("device a0 : cd parent b0;\n  device b0 : cd parent a0;", "E250"),
    ("device p0 : cd;\n  device c0 : cd present parent p0;", "E251"),
])
def test_parent_errors_point_at_the_parent(body, code):
    text = spec("errors", f"module m loadable {{\n  driver cd {{ probe {{ }} }}\n  {body}\n}}\n")
    with pytest.raises(SpecError) as info:
        load_text(text, "rule.probe")
    assert info.value.code == code
    assert info.value.span is not None and info.value.span.line >= 4


# --- fw_devlink: `supplier S -> C;` (semantics/fwdevlink.py) ---

DECLARED = """
module m builtin {
  driver sd { probe { } remove { } }
  driver cd { probe { assert supplier_bound : bound(s0); } remove { } }
  device s0 : sd SPRESENT;
  device c0 : cd present;
  init { register_driver(cd); ADD register_driver(sd); }
}
DECL
final consumer_bound : bound(c0);
"""


def _declared(present: bool, add: str, decl: str) -> str:
    return DECLARED.replace("SPRESENT", "present" if present else "").replace("ADD", add).replace("DECL", decl)


def test_rule_a_declared_supplier_defers_its_consumer_until_the_supplier_is_bound():
    """drivers/base/core.c fw_devlink_link_device (from device_add) -> fw_devlink_create_devlink
    -> device_link_add with FW_DEVLINK_FLAGS_ON (DL_FLAG_INFERRED | DL_FLAG_AUTOPROBE_CONSUMER):
    a managed link, so device_links_check_suppliers defers the consumer until the supplier's
    driver_bound; without the firmware dependency nothing orders the two probes."""
    expect(spec("declared", _declared(True, "", "supplier s0 -> c0;")), supplier_bound=PROVED,
           consumer_bound=PROVED)
    expect(spec("not declared", _declared(True, "", "")), supplier_bound=VIOLATED)


def test_rule_a_declared_supplier_without_a_device_keeps_its_consumer_waiting():
    """drivers/base/core.c device_links_check_suppliers: fwnode_links_check_suppliers finds the
    fwnode link that fw_devlink_create_devlink left (-EAGAIN: the supplier has no device) and
    the probe returns -EPROBE_DEFER; the supplier's device_add (__fw_devlink_link_to_consumers)
    turns it into a device link, and its bind lets the consumer probe."""
    expect(spec("supplier added", _declared(False, "device_add(s0);", "supplier s0 -> c0;")),
           supplier_bound=PROVED, consumer_bound=PROVED)
    expect(spec("supplier never added", _declared(False, "", "supplier s0 -> c0;")), consumer_bound=VIOLATED)


DECLARED_DELETED = """
module m builtin {
  driver sd { probe { } remove { } }
  driver cd { probe { } remove { } }
  device s0 : sd present;
  device c0 : cd present;
  init { register_driver(sd); register_driver(cd); }
}
supplier s0 -> c0;
userspace admin { REMOVE bind(c0); }
final consumer_needs_supplier : bound(c0) -> bound(s0);
"""


def test_rule_a_declared_link_is_made_once():
    """drivers/base/core.c __fw_devlink_link_to_suppliers deletes the fwnode link once the device
    link is made, and device_del's device_links_purge deletes the device link: after the
    supplier's device_del nothing holds the consumer back (the firmware is parsed once,
    FWNODE_FLAG_LINKS_ADDED); after an unbind the managed link stays and defers it."""
    expect(spec("unbound", DECLARED_DELETED.replace("REMOVE", "unbind(s0);")), consumer_needs_supplier=PROVED)
    expect(spec("deleted", DECLARED_DELETED.replace("REMOVE", "device_del(s0);")),
           consumer_needs_supplier=VIOLATED)


def test_spin_agrees_on_a_declared_supplier(tmp_path):
    for text, verdict in ((_declared(False, "device_add(s0);", "supplier s0 -> c0;"), "holds"),
                          (_declared(True, "", ""), "violated")):
        model = load_text(spec("spin", text), "rule.probe")
        assert spin_verdict(model, "supplier_bound", tmp_path) == verdict


@pytest.mark.parametrize("tail, code", [
    ("supplier c0 -> c0;", "E253"),
    ("supplier nope -> c0;", "E253"),
    ("supplier s0 -> c0;\nsupplier s0 -> c0;", "E253"),
    ("supplier s0 -> c0;\nuserspace u { suspend(); }", "E268"),
])
def test_declared_supplier_errors(tail, code):
    text = spec("errors", "module m loadable {\n  driver cd { probe { } }\n  device c0 : cd present;\n"
                "  device s0 : cd present;\n}\n" + tail + "\n")
    with pytest.raises(SpecError) as info:
        load_text(text, "rule.probe")
    assert info.value.code == code
