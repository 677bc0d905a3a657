"""Counterexamples that explain themselves: slices that keep causes (data, control and
enabling dependencies), the waits-for picture of a deadlock in every format, and the words
a trace ends with."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.replay import ReplayError
from modelcheck.report.blocking import deadlock_picture
from modelcheck.report.formats import to_email, to_json
from modelcheck.report.text import trace_text
from modelcheck.report.timeline import timeline
from modelcheck.report.traceformats import TRACE_RENDERERS
from modelcheck.slicing import relevant_in_replay, replay_without

ROOT = Path(__file__).resolve().parent.parent

BUSY = '''spec "a busy work item makes the probe return -EBUSY"
module m loadable {
  work w = f;
  driver d {
    probe {
      if work_pending(w) { return -EBUSY; }
    }
  }
  device d0 : d present;
  init { queue_work(system_wq, w); register_driver(d); }
}
fn f { }
final probed : bound(d0);
expect violation probed;
'''

UNBIND = '''spec "an unbind decides a later branch"
module m loadable {
  var saw : bool = false;
  driver d { probe { } }
  device d0 : d present;
  init { register_driver(d); }
}
userspace admin { modprobe(m); unbind(d0); }
userspace reader { modprobe(m); if bound(d0) { saw = true; } }
final saw_it : saw;
expect violation saw_it;
'''

SELF_LOCK = '''spec "a probe takes its own device lock again"
module m loadable {
  driver d { probe { device_lock(d0); } }
  device d0 : d present;
  init { register_driver(d); }
}
expect violation deadlock;
'''

TWO_OWNERS = '''spec "an invariant broken mid-run"
range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
module a loadable { init { claim(sr0, a); } }
module b loadable { init { claim(sr0, b); } }
invariant single_owner : owners(sr0) <= 1;
expect violation single_owner;
'''


def violation(text: str, prop: str, name: str = "s.probe"):
    model = load_text(text, name)
    [outcome] = check_model(model, "explicit", only=[prop])
    assert outcome.replay is not None, outcome.result.label
    return model, outcome


def by_label(outcome, start: str):
    return [s for s in outcome.replay.steps if s.edge.label.startswith(start)]


def assert_folding_is_sound(model, outcome):
    relevant = relevant_in_replay(model, outcome.replay, outcome.result.prop)
    dropped = {s.index for s in outcome.replay.steps} - relevant
    replay_without(model, outcome.result.trace, dropped, outcome.result.prop)
    return relevant


# --- slices that keep causes -----------------------------------------------------------

def test_slice_keeps_the_branch_that_returned_ebusy_and_the_queue_work_behind_it():
    model, outcome = violation(BUSY, "probed")
    relevant = assert_folding_is_sound(model, outcome)
    [branch] = by_label(outcome, "if (work_pending(w)): true")
    [queued] = [s for s in outcome.replay.steps if "queue_work(system_wq, w)" in s.edge.label]
    assert branch.index in relevant and queued.index in relevant
    assert "if (work_pending(w)): true" in trace_text(model, outcome)


ASYNC_PROBE = '''spec "async_probe: modprobe returns before the probe ran"
module usb_serial loadable {
  async_probe;
  var ready : bool = false;
  driver serial_drv { probe { ready = true; } }
  init { register_driver(serial_drv); }
}
builtin usb_hub { DEVICE }
userspace app { modprobe(usb_serial); assert ready_after_modprobe : ready; }
expect violation ready_after_modprobe;
'''


def test_slice_keeps_the_step_that_queued_the_write_the_violation_came_before():
    """The async probe that would set `ready` had been queued, not run: the queueing explains
    the violation although it does not write `ready`."""
    model, outcome = violation(ASYNC_PROBE.replace("DEVICE", "device port0 : serial_drv present;"),
                               "ready_after_modprobe")
    relevant = assert_folding_is_sound(model, outcome)
    [queued] = by_label(outcome, "driver_attach: port0 queued for async probe")
    assert queued.index in relevant
    assert "port0 queued for async probe" in trace_text(model, outcome)


def test_a_race_says_whether_the_writer_could_have_run():
    """A write that had not happened: its thread was runnable (only the scheduler kept it
    back), or nothing had started it (here the platform never plugged the port in)."""
    model, outcome = violation(ASYNC_PROBE.replace("DEVICE", "device port0 : serial_drv present;"),
                               "ready_after_modprobe")
    [claim, *_] = name_races(model, outcome.replay, "ready_after_modprobe")
    assert claim.second.thread_name == "async:port0" and claim.recheck == "holds"
    assert "(its thread was runnable, not yet scheduled)" in claim.text
    model, outcome = violation(ASYNC_PROBE.replace("DEVICE", "hotplug device port0 : serial_drv;"),
                               "ready_after_modprobe")
    [claim, *_] = name_races(model, outcome.replay, "ready_after_modprobe")
    assert claim.second.thread_name == "async:port0"
    assert "(nothing had let its thread start)" in claim.text


def test_slice_keeps_the_unbind_and_the_branch_it_decided():
    model, outcome = violation(UNBIND, "saw_it")
    relevant = assert_folding_is_sound(model, outcome)
    [branch] = by_label(outcome, "if (bound(d0)): false")
    [unbound] = by_label(outcome, "d0 unbound from d")
    [bound] = by_label(outcome, "d.probe(d0) returned 0: bound")
    assert {branch.index, unbound.index, bound.index} <= relevant
    assert "that do not affect the violation" not in trace_text(model, outcome)


def test_v7_exit_flush_keeps_what_makes_dax_hmem_live_and_starts_its_exit():
    path = ROOT / "specs/cxl/v7-exit-flush.probe"
    model, outcome = violation(path.read_text(), "flush_uninitialized_work", "specs/cxl/v7-exit-flush.probe")
    relevant = assert_folding_is_sound(model, outcome)
    for label in ("dax_hmem_init returned 0: dax_hmem is live", "userspace unload starts",
                  "rmmod dax_hmem: dax_hmem_exit runs", "driver_attach: hmem_platform is not added"):
        [step] = by_label(outcome, label)
        assert step.index in relevant, label
    page = TRACE_RENDERERS["html"](model, outcome)
    live = next(line for line in page.splitlines() if "dax_hmem is live</td>" in line)
    assert 'class="aside"' not in live    # not greyed


def test_replay_without_refuses_a_fold_that_hides_a_cause():
    """The check behind folding can fail: dropping the step that queued the work leaves the
    -EBUSY branch disabled."""
    model, outcome = violation(BUSY, "probed")
    [queued] = [s for s in outcome.replay.steps if "queue_work(system_wq, w)" in s.edge.label]
    with pytest.raises(ReplayError):
        replay_without(model, outcome.result.trace, {queued.index}, "probed")


# --- why it blocks ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def deadlock():
    path = "docs/examples/language/deadlock.probe"
    return violation((ROOT / path).read_text(), "deadlock", path)


def test_waits_for_picture_names_each_wait_its_holder_and_the_cycle(deadlock):
    model, outcome = deadlock
    picture = deadlock_picture(model, outcome)
    modprobe, worker = picture.blocked
    assert (modprobe.thread, modprobe.waits_for, modprobe.where) == \
        ("udev: modprobe dax_hmem", "work defer_work", "deadlock.probe:6")
    assert (worker.thread, worker.waits_for, worker.where) == \
        ("kworker:defer_work", "probe_count", "deadlock.probe:11")
    [holder] = worker.holders
    assert (holder.var, holder.value, holder.thread, holder.could_change) == \
        ("hmem_platform.probing", "1", "udev: modprobe dax_hmem", ("udev: modprobe dax_hmem",))
    assert picture.cycle == ("udev: modprobe dax_hmem", "kworker:defer_work", "udev: modprobe dax_hmem")
    assert picture.missing == ()
    # the kworker's blocking wait_for_device_probe appears, not only the wait that passed
    text = trace_text(model, outcome)
    assert 'kworker:defer_work is blocked before "wait_for_device_probe: probe_count == 0"' in text
    assert "cycle: udev: modprobe dax_hmem -> kworker:defer_work -> udev: modprobe dax_hmem" in text


@pytest.mark.parametrize("fmt", ["timeline", "email", "json", "itf", "html", "markdown", "mermaid"])
def test_every_format_carries_the_waits_for_picture(deadlock, fmt):
    model, outcome = deadlock
    if fmt == "timeline":
        out = timeline(model, outcome)
    elif fmt == "email":
        out = to_email([(model.file, model, [outcome])], [], 0)
    elif fmt == "json":
        doc = json.loads(to_json([(model.file, model, [outcome])], [], 0))
        waits = doc["specs"][0]["properties"][0]["trace"]["waits_for"]
        assert waits["cycle"][0] == "udev: modprobe dax_hmem"
        assert [b["waits_for"] for b in waits["blocked"]] == ["work defer_work", "probe_count"]
        return
    else:
        out = TRACE_RENDERERS[fmt](model, outcome)
    if fmt == "itf":
        meta = json.loads(out)["#meta"]
        assert meta["waits-for"]["blocked"][1]["holders"][0]["var"] == "hmem_platform.probing"
        return
    assert "why it blocks" in out
    assert "kworker:defer_work" in out and "probe_count" in out
    assert "cycle" in out


def test_a_wait_nobody_can_end_is_a_missing_event():
    model, outcome = violation(SELF_LOCK, "deadlock")
    text = trace_text(model, outcome)
    assert 'blocked before "device_lock(d0)"' in text
    assert "d0.locked = 1, set at step 4 by this thread itself" in text
    assert "missing event: nothing left can end the wait of udev: modprobe m: device_lock(d0)" in text


# --- how a trace ends -------------------------------------------------------------------

def test_an_invariant_broken_mid_run_is_not_called_an_end_state():
    model, outcome = violation(TWO_OWNERS, "single_owner")
    lines = [line.strip() for line in trace_text(model, outcome).splitlines()]
    assert f"the state after step {len(outcome.replay.steps)} violates single_owner" in lines
    assert not any("end state" in line for line in lines)
    assert "blocked" not in trace_text(model, outcome)


def test_a_final_violation_says_every_thread_settled():
    model, outcome = violation(BUSY, "probed")
    lines = [line.strip() for line in trace_text(model, outcome).splitlines()]
    assert "the end state (every thread finished or idle, nothing can move) violates probed" in lines


def test_no_step_is_an_unnamed_internal_step_in_the_bundled_specs():
    for path in sorted(ROOT.glob("specs/**/*.probe")):
        model = load_text(path.read_text(), str(path))
        for thread in model.threads:
            for location in thread.locations:
                assert all(edge.label for edge in location.edges), (path, thread.name)


def test_rmmod_refusal_names_its_reason():
    """kernel/module/main.c, delete_module (v6.12): -ENOENT when the module is not loaded,
    -EBUSY while it is not MODULE_STATE_LIVE, -EWOULDBLOCK while another module uses it."""
    spec = '''spec "rmmod too early"
module a loadable { init { } exit { } }
module b loadable { uses a; init { } exit { } }
userspace early { rmmod(a); }
final gone : not loaded(a);
expect violation gone;
'''
    model = load_text(spec, "s.probe")
    labels = {e.label for t in model.threads for loc in t.locations for e in loc.edges if "rmmod a" in e.label}
    assert {"rmmod a: not loaded, -ENOENT", "rmmod a: still loading, -EBUSY",
            "rmmod a: in use by b, -EWOULDBLOCK", "rmmod a: a_exit runs"} <= labels
    assert not any("not live, in use, or no exit" in label for label in labels)


# --- the race, named and verified ------------------------------------------------------

from modelcheck.race import enforce_order, name_races  # noqa: E402
from modelcheck.result import Verdict  # noqa: E402


def test_v7_exit_flush_race_is_the_exit_flush_before_the_late_probes_init_work():
    path = ROOT / "specs/cxl/v7-exit-flush.probe"
    model, outcome = violation(path.read_text(), "flush_uninitialized_work", "specs/cxl/v7-exit-flush.probe")
    [claim, *_] = name_races(model, outcome.replay, "flush_uninitialized_work")
    assert (claim.first.thread_name, claim.first.line) == ("userspace:unload", "v7-exit-flush.probe:72")
    assert (claim.second.thread_name, claim.second.line) == ("userspace:test_rig", "v7-exit-flush.probe:54")
    assert claim.second.label.startswith("INIT_WORK(dax_hmem_work")
    assert not claim.happened and claim.recheck == "holds"
    assert "which had not run yet (its thread was runnable, not yet scheduled); nothing orders them" in claim.text
    assert "race: userspace:unload's" in trace_text(model, outcome)


def test_the_recheck_is_a_real_check_of_the_model_with_the_order_enforced():
    path = ROOT / "specs/cxl/v7-exit-flush.probe"
    model, outcome = violation(path.read_text(), "flush_uninitialized_work", "specs/cxl/v7-exit-flush.probe")
    [claim, *_] = name_races(model, outcome.replay, "flush_uninitialized_work")
    enforced = enforce_order(model, before=claim.second, after=claim.first)
    assert len(enforced.variables) == len(model.variables) + 1
    [again] = check_model(enforced, "explicit", only=["flush_uninitialized_work"])
    assert again.result.verdict is Verdict.PROVED
    # the other way round (INIT_WORK waits for the flush) leaves the violation in place
    reverse = enforce_order(model, before=claim.first, after=claim.second)
    [still] = check_model(reverse, "explicit", only=["flush_uninitialized_work"])
    assert still.result.verdict is Verdict.VIOLATED


def test_race_of_a_read_before_a_worker_overwrote_it():
    model, outcome = violation(BUSY, "probed")
    [claim] = name_races(model, outcome.replay, "probed")
    assert claim.first.label.startswith("if (work_pending(w)): true") and claim.second.thread_name == "kworker:w"
    assert claim.happened and claim.recheck == "holds"


def test_race_whose_recheck_finds_another_interleaving(deadlock):
    model, outcome = deadlock
    [claim] = name_races(model, outcome.replay, "deadlock")
    assert claim.recheck == "violated"
    assert claim.detail.startswith("re-checked with the opposite order enforced: still violated by another interleaving (")


def test_no_race_is_claimed_where_the_order_is_fixed():
    """Each claim of the range happens whatever the order: nothing to name."""
    model, outcome = violation(TWO_OWNERS, "single_owner")
    assert name_races(model, outcome.replay, "single_owner") == []
    assert "race: none found" in trace_text(model, outcome)
    doc = json.loads(TRACE_RENDERERS["itf"](model, outcome))
    assert doc["#meta"]["races"] == []


def test_an_unannotated_wait_is_still_explained_from_its_guard():
    """mutex_lock carries no ir.Wait yet: the picture falls back to the step's label and the
    variables of its guard, which still name the holder and the cycle."""
    spec = '''spec "abba"
builtin core { mutex ma; mutex mb; }
userspace one { mutex_lock(ma); mutex_lock(mb); mutex_unlock(mb); mutex_unlock(ma); }
userspace two { mutex_lock(mb); mutex_lock(ma); mutex_unlock(ma); mutex_unlock(mb); }
expect violation deadlock;
'''
    model, outcome = violation(spec, "deadlock")
    text = trace_text(model, outcome)
    assert "mb.owner = userspace:two, set at step" in text and "ma.owner = userspace:one, set at step" in text
    assert "cycle: userspace:one -> userspace:two -> userspace:one" in text


TWO_DRIVERS = '''spec "two drivers race for one port"
platform needs_errata : bool;
module serial_generic loadable {
  driver generic_uart { probe { } remove { } }
  init { register_driver(generic_uart); }
}
module serial_vendor loadable {
  var errata_fixed : bool = false;
  driver vendor_uart { probe { errata_fixed = true; } remove { errata_fixed = false; } }
  init { register_driver(vendor_uart); }
}
builtin soc { device uart0 : generic_uart, vendor_uart present; }
final port_works : bound(uart0) and (needs_errata -> errata_fixed);
'''


def test_a_branch_that_tested_a_write_is_a_race_not_a_wait():
    """The vendor driver's attach found the port already bound (-EBUSY) because the generic
    driver's probe bound it first: the device lock between them orders nothing (the vendor
    driver could have taken it first), so the claim is the bind against the -EBUSY, and
    enforcing the other order makes the property hold."""
    model, outcome = violation(TWO_DRIVERS, "port_works")
    [claim, *_] = name_races(model, outcome.replay, "port_works")
    assert claim.first.label.startswith("generic_uart.probe(uart0) returned 0: bound")
    assert claim.second.label.startswith("driver_attach: uart0 is already bound, -EBUSY")
    assert claim.happened and claim.recheck == "holds"


def test_a_queued_work_item_orders_its_worker():
    """queue_work -> the worker: the worker could take no step before the queueing (nothing was
    pending at the start), so it waited for it and the pair is no race."""
    model, outcome = violation(BUSY, "probed")
    from modelcheck.race import _orders
    steps = outcome.replay.steps
    [queued] = [s for s in steps if "queue_work(system_wq, w)" in s.edge.label]
    workers = [s for s in steps if s.thread.startswith("kworker") and s.index > queued.index]
    assert workers and all(queued.index in _orders(model, steps)[0][w.index] for w in workers[:1])


SECOND_MODPROBE = '''spec "a second modprobe returns while the first one still waits for the async probe"
module usb_foo loadable {
  driver foo_drv : prefer_async { probe { return 0; } }
  init { register_driver(foo_drv); }
}
builtin usb_hub { device port0 : foo_drv present; }
userspace setup_helper { modprobe(usb_foo); assert bound_after_modprobe : bound(port0); }
'''


def test_meanwhile_names_the_modprobe_still_waiting_for_the_async_probe():
    """kernel/module/main.c do_init_module: only the load that ran the init waits in
    async_synchronize_full(); a second modprobe finds the module live and returns. The trace
    says where the first one stands when the assertion fails, and nothing about threads whose
    wait has no bearing on it."""
    model, outcome = violation(SECOND_MODPROBE, "bound_after_modprobe")
    text = trace_text(model, outcome)
    assert "modprobe usb_foo: already loaded" in text
    assert 'meanwhile: udev: modprobe usb_foo is blocked in "do_init_module(usb_foo): ' \
           'async_synchronize_full()"' in text
    model, outcome = violation((ROOT / "specs/cxl/v7-6of7.probe").read_text(), "flush_uninitialized_work",
                               "specs/cxl/v7-6of7.probe")
    assert "meanwhile:" not in trace_text(model, outcome)


READ_SIDE = '''spec "the sysfs store takes only the read side"
module foo loadable {
  rwsem cfg_rwsem;
  var mode : int 0..2 = 0;
  driver foo_driver {
    probe { down_write(cfg_rwsem); set_mode(); up_write(cfg_rwsem); return 0; }
  }
  device foo0 : foo_driver present;
  init { register_driver(foo_driver); }
}
fn set_mode { lockdep_assert_held_write(cfg_rwsem); mode = 1; }
userspace mode_store { if bound(foo0) { down_read(cfg_rwsem); set_mode(); up_read(cfg_rwsem); } }
'''


def test_a_step_after_a_test_is_ordered_after_what_the_test_read():
    """The store's assertion runs only because its `if bound(foo0)` saw the probe's bind, which
    came after the probe's up_write in the same thread: that up_write is ordered before the
    assertion (through the test), so it is no race; the bind against the test is one."""
    model, outcome = violation(READ_SIDE, "lockdep_assert_held")
    claims = name_races(model, outcome.replay, "lockdep_assert_held")
    assert not any(c.first.label.startswith("up_write") for c in claims)
    [claim] = claims
    assert claim.first.label.startswith("foo_driver.probe(foo0) returned 0: bound")
    assert claim.second.label == "if (bound(foo0)): true" and claim.recheck == "holds"
