"""One test per rule of reference counting (docs/semantics.md, section "Reference counts and
per-device data"): kref_init / kref_get / kref_put / kref_read, get_device / put_device, and
the checks use_after_release and refcount_underflow.

Each rule is checked both ways with every engine that must agree (tests/rule_helpers.py): a spec
that relies on the rule checks clean (PROVED), one that relies on the opposite is found (VIOLATED).
"""
from __future__ import annotations

import pytest

from modelcheck.checker import check_model
from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.result import Verdict
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import spin_verdicts

# A built-in object with a kref (its creator's reference: count 1) and two threads that run at
# once after boot: a module's init (from modprobe) and a userspace task.
KREF = """
    builtin core {{
      kref obj holds len;
      var len : int 0..3 = 0;
      var a : bool = false;
    }}
    fn obj_release {{ {release} }}
    module m loadable {{
      init {{ {first} }}
    }}
    userspace load {{ modprobe(m); }}
    userspace other {{ {second} }}
"""


def kref(first: str, second: str, release: str = "len = 0;") -> str:
    return KREF.format(first=first, second=second, release=release)


def test_rule_kref_put_releases_at_the_last_reference():
    """include/linux/kref.h kref_put: refcount_dec_and_test, and release(kref) only when the
    count reaches 0; kref_get (refcount_inc) adds a reference. A thread that took its own
    reference may use the object while another drops the creator's; one that takes it after the
    object was released uses freed memory (refcount_t: addition on 0; use-after-free)."""
    safe = kref("kref_get(obj); a = true; len = 1; kref_put(obj, obj_release);",
                "if a { kref_put(obj, obj_release); }",
                release="assert released_at_zero: kref_read(obj) == 0; len = 0;")
    expect(spec("own reference taken first", safe), released_at_zero=PROVED, use_after_release=PROVED,
           refcount_underflow=PROVED)
    late = kref("kref_get(obj); len = 1; kref_put(obj, obj_release);", "kref_put(obj, obj_release);")
    expect(spec("reference taken after the last put", late), use_after_release=VIOLATED)
    counted = kref("kref_get(obj); assert two_refs: kref_read(obj) == 2; kref_put(obj, obj_release); "
                   "assert one_ref: kref_read(obj) == 1;", "")
    expect(spec("kref_read counts", counted), two_refs=PROVED, one_ref=PROVED)


def test_rule_kref_put_returns_whether_it_released():
    """include/linux/kref.h kref_put: returns 1 if this call removed the object, else 0."""
    text = kref("kref_get(obj); a = kref_put(obj, obj_release); assert not_the_last: not a; "
                "a = kref_put(obj, obj_release); assert the_last: a;", "")
    expect(spec("kref_put's result", text), not_the_last=PROVED, the_last=PROVED)
    wrong = kref("a = kref_put(obj, obj_release); assert never_released: not a;", "")
    expect(spec("kref_put's result relied on wrongly", wrong), never_released=VIOLATED)


def test_rule_kref_get_unless_zero_fails_once_released():
    """include/linux/kref.h kref_get_unless_zero -> refcount_inc_not_zero: returns 0 without
    touching a count of 0, else adds a reference; a lookup that checks it never uses a released
    object, one that ignores it does."""
    checked = kref("a = kref_get_unless_zero(obj); if a { len = 1; kref_put(obj, obj_release); }",
                   "kref_put(obj, obj_release);")
    expect(spec("lookup checks the result", checked), use_after_release=PROVED, refcount_underflow=PROVED)
    ignored = kref("a = kref_get_unless_zero(obj); len = 1;", "kref_put(obj, obj_release);")
    expect(spec("lookup ignores the result", ignored), use_after_release=VIOLATED)


def test_rule_use_after_release():
    """include/linux/kref.h kref_put: the release function frees the object (the kernel's
    kfree(container_of(kref, ...))), so a variable the object holds must not be read or written
    after the last kref_put; the release function itself still reaches it."""
    inside = kref("len = 1; kref_put(obj, obj_release);", "", release="len = 0; assert zeroed: len == 0;")
    expect(spec("the release function uses the object", inside), use_after_release=PROVED, zeroed=PROVED)
    after = kref("len = 1; kref_put(obj, obj_release); if len == 1 { a = true; }", "")
    expect(spec("read after the last put", after), use_after_release=VIOLATED)
    reinit = kref("kref_put(obj, obj_release); kref_init(obj); len = 2;", "")
    expect(spec("kref_init makes a fresh object", reinit), use_after_release=PROVED)


def test_rule_refcount_underflow():
    """include/linux/refcount.h __refcount_sub_and_test: a decrement from 0 warns through
    lib/refcount.c refcount_warn_saturate (REFCOUNT_SUB_UAF: "refcount_t: underflow;
    use-after-free") and saturates the count, so nothing is released a second time."""
    once = kref("kref_get(obj); kref_put(obj, obj_release); kref_put(obj, obj_release);", "")
    expect(spec("each reference dropped once", once), refcount_underflow=PROVED)
    twice = kref("kref_put(obj, obj_release);", "kref_put(obj, obj_release);")
    expect(spec("dropped by two threads", twice), refcount_underflow=VIOLATED)


def test_kref_count_beyond_the_bound_is_reported():
    """A count is kept in 0..3: a fourth reference is value_in_range, not a wrap."""
    three = kref("kref_get(obj); kref_get(obj); kref_put(obj, obj_release); kref_put(obj, obj_release);", "")
    expect(spec("three references", three), value_in_range=PROVED)
    four = kref("kref_get(obj); kref_get(obj); kref_get(obj);", "")
    expect(spec("four references", four), value_in_range=VIOLATED)


DEVICE = """
    module m loadable {{
      driver d {{
        var st : int 0..3 = 0;
        probe {{ {probe} return 0; }}
        remove {{ {remove} }}
      }}
      device dev0 : d present;
      init {{ register_driver(d); }}
      exit {{ unregister_driver(d); }}
    }}
    userspace load {{ modprobe(m); rmmod(m); }}
"""


def test_rule_put_device_releases_the_device():
    """drivers/base/core.c get_device / put_device: kobject_get / kobject_put of the device's
    kobject; at the last reference device_release runs devres_release_all and dev->release, so
    the device and the driver data it reaches are freed. A remove that drops a reference probe
    never took frees the device under the driver, and its data is then used after release."""
    balanced = DEVICE.format(probe="get_device(dev0);", remove="put_device(dev0); st = 1;")
    expect(spec("probe takes the reference remove drops", balanced), use_after_release=PROVED,
           refcount_underflow=PROVED)
    extra = DEVICE.format(probe="", remove="put_device(dev0); st = 1;")
    expect(spec("an extra put_device in remove", extra), use_after_release=VIOLATED)
    twice = DEVICE.format(probe="", remove="put_device(dev0); put_device(dev0);")
    expect(spec("two puts of one reference", twice), refcount_underflow=VIOLATED)


@pytest.mark.parametrize("title,text", [
    ("kref, two threads", kref("kref_get(obj); len = 1; kref_put(obj, obj_release);",
                               "kref_put(obj, obj_release); kref_put(obj, obj_release);")),
    ("lookup by kref_get_unless_zero", kref("a = kref_get_unless_zero(obj); len = 1; if a { kref_put(obj, obj_release); }",
                                            "kref_put(obj, obj_release);")),
    ("put_device in remove", DEVICE.format(probe="get_device(dev0);", remove="put_device(dev0); st = 1; "
                                           "put_device(dev0);")),
])
def test_spin_agrees_on_refcounts(title, text, tmp_path):
    """Reference counts are plain IR: SPIN, given the Promela export, finds the explicit engine's verdicts."""
    from test_promela import _require_spin
    _require_spin()
    model = load_text(spec(title, text), "rule.probe")
    ours = {o.result.prop: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")
            if o.result.verdict in (Verdict.VIOLATED, Verdict.PROVED)}
    assert ours.get("use_after_release") == "violated" or ours.get("refcount_underflow") == "violated"
    assert spin_verdicts(model, ours, tmp_path) == ours


@pytest.mark.parametrize("code,text", [
    ("E246", "builtin b { mutex lk holds x; var x : bool; }"),
    ("E247", "builtin b { kref k; }\nfn f { kref_put(k, k); }"),
    ("E248", "builtin b { kref k holds nothing_here; }"),
])
def test_refcount_errors(code, text):
    with pytest.raises(SpecError) as err:
        load_text(spec(code, text), "rule.probe")
    assert err.value.code == code
