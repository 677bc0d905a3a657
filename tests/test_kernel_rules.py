"""One test per kernel rule the .probe language models (shared/domain/kernel-semantics.md).

Each test checks a tiny spec both ways: a spec that breaks the rule, or relies on something the
rule does not promise, is found (VIOLATED, with a trace that replays), and a spec that respects
it checks clean (PROVED). Every spec goes through the explicit engine and the foata engine, which
must agree (tests/rule_helpers.py).
"""
from __future__ import annotations

import pytest

from rule_helpers import PROVED, VIOLATED, expect, spec


# --- §1 initcalls ----------------------------------------------------------------------------

def test_rule_initcall_levels_run_in_order_1_1():
    """§1.1 Levels: pure, core, ..., subsys, subsys_sync, fs, rootfs, device, late run in that
    order; a `*_sync` level runs after every plain initcall of the same level."""
    levels = """
        builtin first {
          var subsys_done : bool = false;
          initcall subsys { subsys_done = true; }
        }
        builtin second {
          initcall core { assert core_runs_before_subsys: not subsys_done; }
          initcall subsys_sync { assert sync_runs_after_plain: subsys_done; }
          initcall fs { assert fs_runs_after_subsys: subsys_done; }
        }
    """
    expect(spec("initcall levels", levels), core_runs_before_subsys=PROVED,
           sync_runs_after_plain=PROVED, fs_runs_after_subsys=PROVED)
    wrong = """
        builtin first {
          var device_done : bool = false;
          initcall device { device_done = true; }
        }
        builtin second {
          initcall subsys { assert device_level_already_ran: device_done; }
        }
    """
    expect(spec("initcall levels, relied on backwards", wrong), device_level_already_ran=VIOLATED)


def test_rule_initcalls_within_a_level_run_in_link_order_1_1():
    """§1.1 Within a level: initcalls run in link order (here, declaration order), so a global
    set up by one initcall is visible to another of the same level only if it links earlier
    (the cxl_acpi / efisubsys_init precedent). A built-in module_init is a device_initcall."""
    ordered = """
        builtin early {
          var early_done : bool = false;
          initcall subsys { early_done = true; }
        }
        module drv builtin {
          var drv_init_done : bool = false;
          init { drv_init_done = true; }
        }
        builtin late_linked {
          initcall subsys { assert earlier_link_ran_first: early_done; }
          initcall device { assert builtin_module_init_is_device_level: drv_init_done; }
        }
    """
    expect(spec("link order", ordered), earlier_link_ran_first=PROVED,
           builtin_module_init_is_device_level=PROVED)
    wrong = """
        builtin user {
          initcall subsys { assert later_link_already_ran: wq_ready; }
        }
        builtin provider {
          var wq_ready : bool = false;
          initcall subsys { wq_ready = true; }
        }
    """
    expect(spec("link order, relied on backwards", wrong), later_link_already_ran=VIOLATED)


def test_rule_builtin_init_runs_before_any_loadable_init_1_1():
    """§1.1 Built-in vs. loadable: every built-in initcall (even a late one) runs before any
    loadable module's init; loadable modules are loaded by udev after boot, in any order."""
    text = """
        module core_part builtin {
          level late;
          var builtin_done : bool = false;
          init { builtin_done = true; }
        }
        module first_mod loadable {
          var first_done : bool = false;
          init { assert builtin_ran_first: builtin_done; first_done = true; }
        }
        module second_mod loadable {
          init { assert other_loadable_ran_first: first_done; }
        }
    """
    expect(spec("built-in before loadable", text), builtin_ran_first=PROVED,
           other_loadable_ran_first=VIOLATED)


def test_rule_request_module_fails_before_rootfs_1_1():
    """§1.1 Usermode helpers: they are enabled by populate_rootfs (rootfs_initcall), so
    request_module() from an earlier level returns -EBUSY and loads nothing; from the rootfs
    level on it runs modprobe."""
    target = """
        module target loadable {
          manual;
          var target_done : bool = false;
          init { target_done = true; }
        }
    """
    too_early = target + """
        builtin caller { initcall fs { request_module(target); assert loaded_from_fs_level: target_done; } }
    """
    expect(spec("request_module at fs level", too_early), loaded_from_fs_level=VIOLATED)
    in_time = target + """
        builtin caller { initcall rootfs { request_module(target); assert loaded_from_rootfs_level: target_done; } }
    """
    expect(spec("request_module at rootfs level", in_time), loaded_from_rootfs_level=PROVED)


# --- §2 loadable modules ---------------------------------------------------------------------

PROVIDER = """
    module provider loadable {
      var provider_returned : bool = false;
      init { provider_returned = true; }
      exit { }
    }
"""


def test_rule_symbol_dependency_orders_init_2_1():
    """§2.1 Symbol dependency: the importer's init starts only after the provider's init has
    returned successfully (resolve_symbol waits while the provider is COMING); if the
    provider's init fails, the importer does not load."""
    with_uses = PROVIDER + """
        module importer loadable {
          uses provider;
          init { assert provider_init_returned: provider_returned and loaded(provider); }
        }
    """
    expect(spec("uses", with_uses), provider_init_returned=PROVED)
    without = PROVIDER + """
        module importer loadable {
          init { assert provider_init_returned: provider_returned; }
        }
    """
    expect(spec("no dependency", without), provider_init_returned=VIOLATED)
    failing = """
        platform fails : bool;
        module provider loadable { manual; init { if fails { return -ENOMEM; } } }
        module importer loadable { uses provider; init { assert provider_live: loaded(provider); } }
    """
    expect(spec("uses, provider init fails", failing), provider_live=PROVED)


def test_rule_softdep_is_a_modprobe_hint_only_2_1():
    """§2.1 MODULE_SOFTDEP is read by userspace modprobe only: modprobe loads the "pre:" module
    first, but the kernel never enforces it, so a built-in module (or an insmod) gets no
    ordering from it. A module that needs another one must ask for it (request_module) or
    import a symbol from it."""
    by_modprobe = PROVIDER + """
        module importer loadable {
          softdep provider;
          init { assert provider_init_returned: provider_returned; }
        }
    """
    expect(spec("softdep honoured by modprobe", by_modprobe), provider_init_returned=PROVED)
    built_in = PROVIDER + """
        module importer builtin {
          softdep provider;
          init { assert provider_init_returned: provider_returned; }
        }
    """
    expect(spec("softdep ignored for a built-in", built_in), provider_init_returned=VIOLATED)
    asks = PROVIDER + """
        module importer loadable {
          manual;
          init { request_module(provider); assert provider_init_returned: provider_returned; }
        }
        userspace insmod { modprobe(importer); }
    """
    expect(spec("request_module instead", asks), provider_init_returned=PROVED)


def test_rule_request_module_is_synchronous_2_1():
    """§2.1 request_module(): synchronous (UMH_WAIT_PROC), so a loadable target's init has
    finished when it returns; for a built-in target modprobe finds it in modules.builtin and
    does nothing, so nothing is run or waited for."""
    loadable = """
        module target loadable {
          manual;
          var target_done : bool = false;
          init { target_done = true; }
        }
        module caller loadable {
          init { request_module(target); assert target_init_finished: target_done and loaded(target); }
        }
    """
    expect(spec("request_module of a loadable module", loadable), target_init_finished=PROVED)
    builtin = """
        module target builtin {
          level late;
          var target_done : bool = false;
          init { target_done = true; }
        }
        builtin caller {
          initcall device { request_module(target); assert target_init_finished: target_done; }
        }
    """
    expect(spec("request_module of a built-in module", builtin), target_init_finished=VIOLATED)


def test_rule_do_init_module_waits_for_async_probes_2_1():
    """§2.1 do_init_module calls async_synchronize_full() (when async_probe is not requested),
    so the async probes that init scheduled have finished when modprobe returns; work the init
    queued on a workqueue has not necessarily run (what request_module does NOT guarantee, (b))."""
    async_probe = """
        module m loadable {
          manual;
          driver d : prefer_async { probe { } }
          device x : d present;
          init { register_driver(d); }
        }
        userspace admin { modprobe(m); assert async_probe_finished: bound(x); }
    """
    expect(spec("modprobe waits for async probes", async_probe), async_probe_finished=PROVED)
    work = """
        module m loadable {
          manual;
          var work_ran : bool = false;
          work w = set_up;
          init { queue_work(system_long_wq, w); }
        }
        fn set_up { work_ran = true; }
        userspace admin { modprobe(m); assert queued_work_finished: work_ran; }
    """
    expect(spec("modprobe does not wait for work", work), queued_work_finished=VIOLATED)


ASYNC_PARAM = """
    module m loadable {
      manual;
      %s
      driver d { probe { } }
      device x : d present;
      init { register_driver(d); }
    }
    userspace admin { modprobe(m); assert async_probe_finished: bound(x); }
"""


def test_rule_async_probe_param_skips_the_wait_2_1():
    """§2.1 / §3.3 With the async_probe module parameter, the module's default drivers probe
    asynchronously and do_init_module skips async_synchronize_full(), so the probe may not have
    run when modprobe returns."""
    expect(spec("async_probe", ASYNC_PARAM % "async_probe;"), async_probe_finished=VIOLATED)
    expect(spec("async_probe = false", ASYNC_PARAM % "async_probe = false;"), async_probe_finished=PROVED)


def test_rule_reload_reinitializes_module_state_builtin_state_persists_2_2():
    """§2.2 What survives a reload: the reloaded module's own .data/.bss comes back from the
    image (static initializers take effect again); state in built-in objects persists."""
    text = """
        builtin keeper { var builtin_seen : bool = false; }
        module m loadable {
          manual;
          var own_seen : bool = false;
          init {
            assert own_var_fresh: not own_seen;
            assert builtin_var_fresh: not builtin_seen;
            own_seen = true;
            builtin_seen = true;
          }
          exit { }
        }
        userspace admin { modprobe(m); rmmod(m); modprobe(m); }
    """
    expect(spec("reload", text), own_var_fresh=PROVED, builtin_var_fresh=VIOLATED)


def test_rule_rmmod_refused_while_importer_loaded_2_2():
    """§2.2 delete_module fails with -EWOULDBLOCK while another module uses this one (and with
    -EBUSY when there is an init but no exit); once the importer is gone it unloads."""
    text = """
        module provider loadable { manual; init { } exit { } }
        module importer loadable { manual; uses provider; init { } exit { } }
        module no_exit loadable { manual; init { } }
        userspace admin {
          modprobe(importer);
          rmmod(provider);
          assert refused_while_importer_loaded: loaded(provider);
          modprobe(no_exit);
          rmmod(no_exit);
          assert refused_without_exit: loaded(no_exit);
          rmmod(importer);
          rmmod(provider);
          assert still_loaded_after_importer_gone: loaded(provider);
        }
    """
    expect(spec("rmmod", text), refused_while_importer_loaded=PROVED, refused_without_exit=PROVED,
           still_loaded_after_importer_gone=VIOLATED)


def test_rule_module_exit_must_undo_init_2_2():
    """§2.2 / §7 A module is freed after its exit: a driver it left registered, or work of its
    own still queued or running, would point into freed text (module_unload_leaks)."""
    module = """
        module m loadable {
          manual;
          driver d { probe { } }
          init { register_driver(d); }
          exit { %s }
        }
        userspace admin { modprobe(m); rmmod(m); }
    """
    expect(spec("exit forgets the driver", module % ""), module_unload_leaks=VIOLATED)
    expect(spec("exit unregisters the driver", module % "unregister_driver(d);"),
           module_unload_leaks=PROVED)


# --- §3 driver core --------------------------------------------------------------------------

def test_rule_register_driver_and_device_add_probe_matches_3_1():
    """§3.1 driver_register → driver_attach probes every already-added matching device;
    device_add → bus_probe_device probes it if a matching driver is registered (and not
    otherwise: the device waits for a driver)."""
    text = """
        builtin bus {
          driver d { probe { } }
          device early_dev : d present;
          device late_dev : d;
          initcall device {
            register_driver(d);
            assert register_probes_added_devices: bound(early_dev);
            device_add(late_dev);
            assert device_add_probes_with_registered_driver: bound(late_dev);
          }
        }
    """
    expect(spec("matching", text), register_probes_added_devices=PROVED,
           device_add_probes_with_registered_driver=PROVED)
    wrong = """
        builtin bus {
          driver d { probe { } }
          device dev : d;
          initcall device { device_add(dev); assert bound_without_driver: bound(dev); register_driver(d); }
        }
    """
    expect(spec("device added before its driver", wrong), bound_without_driver=VIOLATED)


def test_rule_bus_rescan_probes_synchronously_3_1():
    """§3.1 bus_rescan_devices → device_attach → __device_attach(dev, false): always a
    synchronous probe, even for a PREFER_ASYNC driver (device_add would have gone async)."""
    text = """
        builtin bus {
          driver d : prefer_async { probe { } }
          device x : d;
          initcall device { register_driver(d); device_add(x); %s assert bound_on_return: bound(x); }
        }
    """
    expect(spec("device_add, async driver", text % ""), bound_on_return=VIOLATED)
    expect(spec("bus_rescan, async driver", text % "bus_rescan(d);"), bound_on_return=PROVED)


def test_rule_deferred_probe_parked_until_late_initcall_3_2():
    """§3.2 / §1.3 -EPROBE_DEFER parks the device; it is retried only when something triggers,
    and before deferred_probe_initcall (late) triggers do nothing: not a resource change, not
    wait_for_device_probe(). The late initcall triggers and flushes the retry."""
    text = """
        builtin bus {
          var ready : bool = false;
          driver d { probe { if not ready { return -EPROBE_DEFER; } } }
          device x : d present;
          initcall device { register_driver(d); ready = true; }
          initcall %s
        }
    """
    expect(spec("deferred probe before the late initcall",
                text % "device_sync { wait_for_device_probe(); assert retried_before_late: bound(x); }"),
           retried_before_late=VIOLATED)
    expect(spec("deferred probe and the late initcall",
                text % "late_sync { assert late_initcall_retried: bound(x); }"),
           late_initcall_retried=PROVED)


def test_rule_successful_bind_triggers_deferred_retry_3_2():
    """§3.2 After the late initcall, a parked device is retried when another device binds
    (driver_bound → driver_deferred_probe_trigger); without such a trigger (making the missing
    resource available is none) it stays parked for good."""
    text = """
        builtin bus {
          var ready : bool = false;
          driver d { probe { if not ready { return -EPROBE_DEFER; } } }
          driver e { probe { } }
          device x : d present;
          device other : e present;
          initcall late_sync { register_driver(d); ready = true; %s }
        }
        final deferred_device_retried: bound(x);
    """
    expect(spec("no trigger", text % ""), deferred_device_retried=VIOLATED)
    expect(spec("a bind triggers", text % "register_driver(e);"), deferred_device_retried=PROVED)


def test_rule_defer_racing_with_a_bind_is_retried_3_2():
    """§3.2 driver_probe_device: on -EPROBE_DEFER, if deferred_trigger_count changed during the
    probe (another device bound meanwhile), it triggers again so the device retries at once.
    So a device whose probe defers while its dependency binds is never left parked."""
    text = """
        builtin bus {
          var ready : bool = false;
          driver d { probe { if not ready { return -EPROBE_DEFER; } } }
          driver e { probe { ready = true; } }
          device x : d present;
          device y : e present;
        }
        userspace load_d { register_driver(d); }
        userspace load_e { register_driver(e); }
        final deferred_device_retried: bound(x);
    """
    expect(spec("defer racing with a bind", text), deferred_device_retried=PROVED)


def test_rule_failed_probe_releases_devres_in_reverse_order_3_6():
    """§3.6 devres_release_all walks the list in reverse: the actions a failed probe registered
    run last-registered first (and the device stays unbound); on unbind they run after remove(),
    also in reverse."""
    lifo = """
        builtin bus {
          var undone : int 0..2 = 0;
          driver d { probe { devm_add_action(undo_first); devm_add_action(undo_second); return -ENOMEM; } }
          device x : d present;
          initcall device { register_driver(d); assert all_released: undone == 2 and not bound(x); }
        }
        fn undo_second { undone = 1; }
        fn undo_first { assert first_released_last: undone == 1; undone = 2; }
    """
    expect(spec("devres LIFO", lifo), first_released_last=PROVED, all_released=PROVED)
    fifo = """
        builtin bus {
          var undone : int 0..2 = 0;
          driver d { probe { devm_add_action(undo_first); devm_add_action(undo_second); return -ENOMEM; } }
          device x : d present;
          initcall device { register_driver(d); }
        }
        fn undo_first { assert first_released_first: undone == 0; undone = 1; }
        fn undo_second { undone = 2; }
    """
    expect(spec("devres relied on as FIFO", fifo), first_released_first=VIOLATED)
    unbind = """
        builtin bus {
          var undone : int 0..2 = 0;
          var removed : bool = false;
          driver d {
            probe { devm_add_action(undo_first); devm_add_action(undo_second); }
            remove { removed = true; }
          }
          device x : d present;
          initcall device { register_driver(d); unregister_driver(d); }
        }
        fn undo_second { assert remove_ran_first: removed and undone == 0; undone = 1; }
        fn undo_first { assert unbind_lifo: undone == 1; undone = 2; }
    """
    expect(spec("devres on unbind", unbind), remove_ran_first=PROVED, unbind_lifo=PROVED)


def test_rule_prefer_async_probe_may_not_have_run_when_register_returns_3_3():
    """§3.3 / §3.1 A PREFER_ASYNC driver's probes are async_schedule'd, so they may not have
    run when register_driver returns; FORCE_SYNC and DEFAULT (without async_probe) probe
    inside register_driver. The end of boot (async_synchronize_full) waits for them."""
    text = """
        builtin bus {
          driver d : %s { probe { } }
          device x : d present;
          initcall device { register_driver(d); assert probed_when_register_returns: bound(x); }
        }
    """
    expect(spec("prefer_async", text % "prefer_async"), probed_when_register_returns=VIOLATED)
    expect(spec("force_sync", text % "force_sync"), probed_when_register_returns=PROVED)
    expect(spec("default", text % "default"), probed_when_register_returns=PROVED)
    boot_end = """
        builtin bus {
          driver d : prefer_async { probe { } }
          device x : d present;
          initcall device { register_driver(d); }
        }
        userspace check { assert probed_by_end_of_boot: bound(x); }
    """
    expect(spec("kernel_init waits for async probes", boot_end), probed_by_end_of_boot=PROVED)


def test_rule_wait_for_device_probe_3_4():
    """§3.4 wait_for_device_probe() waits for the current deferred pass, for probes in flight
    (probe_count) and for async probes; it does not wait for drivers not registered yet."""
    async_probe = """
        builtin bus {
          driver d : prefer_async { probe { } }
          device x : d present;
          initcall device { register_driver(d); wait_for_device_probe(); assert async_probe_waited: bound(x); }
        }
    """
    expect(spec("waits for async probes", async_probe), async_probe_waited=PROVED)
    in_flight = """
        module m loadable {
          var started : bool = false;
          driver d { probe { started = true; } }
          device x : d present;
          init { register_driver(d); }
        }
        userspace check { if started { wait_for_device_probe(); assert probe_in_flight_waited: bound(x); } }
    """
    expect(spec("waits for a probe in flight", in_flight), probe_in_flight_waited=PROVED)
    unregistered = """
        module m loadable {
          driver d { probe { } }
          device x : d present;
          init { register_driver(d); }
        }
        userspace check { wait_for_device_probe(); assert unregistered_driver_waited: bound(x); }
    """
    expect(spec("does not wait for a driver not registered yet", unregistered),
           unregistered_driver_waited=VIOLATED)


def test_rule_device_lock_serializes_with_probe_3_5():
    """§3.5 Probe runs under the device lock, so device_lock(dev) waits for a probe in progress,
    and after taking it the bound state is final; without the lock a probe may be mid-way."""
    text = """
        module m loadable {
          var started : bool = false;
          driver d { probe { started = true; } }
          device x : d present;
          init { register_driver(d); }
        }
        userspace check { if started { %s } }
    """
    expect(spec("device lock", text % "device_lock(x); assert probe_finished: bound(x); device_unlock(x);"),
           probe_finished=PROVED)
    expect(spec("no device lock", text % "assert probe_finished: bound(x);"), probe_finished=VIOLATED)


# --- §4 workqueues ---------------------------------------------------------------------------

def test_rule_schedule_work_is_queue_work_on_system_wq():
    """include/linux/workqueue.h schedule_work: queue_work(system_wq, work), result included.
    The work runs on system_wq, and a second call while it is pending returns false."""
    text = """
        builtin obj {
          var runs : int 0..2 = 0;
          var again : bool = true;
          work w = count;
          initcall device { schedule_work(w); again = schedule_work(w); }
        }
        fn count { runs = runs + 1; }
        final ran_once_or_twice: runs >= 1 and (runs == 2 or not again);
    """
    expect(spec("schedule_work", text), ran_once_or_twice=PROVED)
    uninitialized = """
        module m loadable {
          work w;
          init { schedule_work(w); }
        }
    """
    expect(spec("schedule_work before INIT_WORK", uninitialized), queue_uninitialized_work=VIOLATED)


def test_rule_work_busy_is_pending_or_running():
    """kernel/workqueue.c work_busy: WORK_BUSY_RUNNING while a worker executes the item, which
    work_pending (include/linux/workqueue.h, the PENDING bit) no longer shows."""
    text = """
        builtin obj {
          var seen_pending : bool = true;
          var seen_busy : bool = false;
          work w = look;
          initcall device { queue_work(system_wq, w); }
        }
        fn look { seen_pending = work_pending(w); seen_busy = work_busy(w); }
        final running_is_busy_not_pending : seen_busy and not seen_pending;
    """
    expect(spec("work_busy while running", text), running_is_busy_not_pending=PROVED)
    idle = text.replace("initcall device { queue_work(system_wq, w); }",
                        "initcall device { queue_work(system_wq, w); seen_busy = work_busy(w); }")
    idle = idle.replace("fn look { seen_pending = work_pending(w); seen_busy = work_busy(w); }",
                        "fn look { seen_pending = work_pending(w); }")
    expect(spec("work_busy once idle", idle), running_is_busy_not_pending=VIOLATED)


def test_rule_queue_work_on_pending_item_is_noop_4_2():
    """§4.2 queue_work() on an item whose PENDING bit is set returns false and does nothing:
    the item runs once. Once it has run (PENDING cleared), queueing it again runs it again."""
    text = """
        builtin obj {
          var runs : int 0..2 = 0;
          var again : bool = true;
          workqueue q : ordered;
          work blocker = hold;
          work w = count;
          driver gate_drv { }
          device gate : gate_drv present;
          initcall device {
            alloc_workqueue(q);
            device_lock(gate);
            queue_work(q, blocker);    # the head of the ordered queue waits for the gate
            queue_work(q, w);
            again = queue_work(q, w);  # w is certainly still pending here
            device_unlock(gate);
          }
        }
        fn hold { device_lock(gate); device_unlock(gate); }
        fn count { runs = runs + 1; }
        final second_queue_was_a_noop: runs == 1 and not again;
    """
    expect(spec("queue_work on a pending item", text), second_queue_was_a_noop=PROVED)
    idle = """
        builtin obj {
          var runs : int 0..2 = 0;
          work w = count;
          initcall device { queue_work(system_wq, w); flush_work(w); queue_work(system_wq, w); }
        }
        fn count { runs = runs + 1; }
        final ran_once: runs == 1;
    """
    expect(spec("queue_work after it ran", idle), ran_once=VIOLATED)


def test_rule_ordered_workqueue_runs_one_at_a_time_in_order_4_3():
    """§4.3 An ordered workqueue runs its items one at a time, in the order queued; the system
    workqueues give no ordering between items, which may run concurrently."""
    text = """
        builtin obj {
          var a_started : bool = false;
          var a_done : bool = false;
          workqueue q : ordered;
          work a = fa;
          work b = fb;
          initcall device { alloc_workqueue(q); queue_work(%s, a); queue_work(%s, b); }
        }
        fn fa { a_started = true; a_done = true; }
        fn fb {
          assert in_order: a_started;
          assert one_at_a_time: a_started -> a_done;
          assert a_finished_before_b_started: a_done;   # both of the above
        }
    """
    expect(spec("ordered workqueue", text % ("q", "q")), a_finished_before_b_started=PROVED)
    expect(spec("system workqueue", text % ("system_wq", "system_wq")), in_order=VIOLATED,
           one_at_a_time=VIOLATED)


def test_rule_flush_work_with_null_func_warns_and_returns_4_4():
    """§4.4 flush_work: WARN_ON(!work->func) and return false at once, without waiting
    (flush_uninitialized_work); after INIT_WORK the flush is fine. Queueing a NULL-func item
    is flagged too (queue_uninitialized_work, §4.2)."""
    null = """
        builtin obj {
          work w;
          initcall device { queue_work(system_wq, w); flush_work(w); assert returned_without_waiting: work_pending(w); }
        }
    """
    expect(spec("flush_work of a NULL func", null), flush_uninitialized_work=VIOLATED,
           queue_uninitialized_work=VIOLATED, returned_without_waiting=PROVED, deadlock=PROVED)
    initialized = """
        builtin obj {
          work w;
          initcall device { init_work(w, f); queue_work(system_wq, w); flush_work(w); }
        }
        fn f { }
    """
    expect(spec("flush_work after INIT_WORK", initialized), flush_uninitialized_work=PROVED,
           queue_uninitialized_work=PROVED)


def test_rule_flush_work_idle_returns_at_once_otherwise_waits_4_4():
    """§4.4 flush_work: an item that is neither pending nor running returns at once; otherwise
    it waits for the queued instance to finish. Without the flush nothing is waited for."""
    text = """
        builtin obj {
          var ran : bool = false;
          work w = f;
          initcall device {
            flush_work(w);
            assert idle_flush_did_not_run_it: not ran;
            queue_work(system_wq, w);
            %s
            assert waited_for_queued_work: ran;
          }
        }
        fn f { ran = true; }
    """
    expect(spec("flush_work", text % "flush_work(w);"), idle_flush_did_not_run_it=PROVED,
           waited_for_queued_work=PROVED)
    expect(spec("no flush_work", text % ""), waited_for_queued_work=VIOLATED)


REQUEUE = """
    builtin obj {
      var runs : int 0..2 = 0;
      workqueue q : unordered;
      work w = f;
      initcall device { alloc_workqueue(q); queue_work(q, w); %s assert %s: %s; }
    }
    fn f { if runs == 0 { runs = 1; queue_work(q, w); } else { runs = 2; } }
"""


def test_rule_flush_work_waits_only_for_the_current_instance_4_4():
    """§4.4 flush_work waits only for the last queueing instance to finish; it does not wait for
    re-queues made after the flush began (the barrier goes right after the current instance)."""
    expect(spec("flush_work waits for the current instance", REQUEUE % ("flush_work(w);", "first_run_done", "runs >= 1")),
           first_run_done=PROVED)
    expect(spec("flush_work and a re-queue", REQUEUE % ("flush_work(w);", "requeue_done", "runs == 2")),
           requeue_done=VIOLATED)


def test_rule_flush_workqueue_waits_only_for_earlier_items_4_4():
    """§4.4 flush_workqueue waits for every item queued before the call only; items queued
    later, including re-queues from the items themselves, are not waited for."""
    expect(spec("flush_workqueue waits for earlier items", REQUEUE % ("flush_workqueue(q);", "first_run_done", "runs >= 1")),
           first_run_done=PROVED)
    expect(spec("flush_workqueue and a re-queue", REQUEUE % ("flush_workqueue(q);", "requeue_done", "runs == 2")),
           requeue_done=VIOLATED)


def test_rule_flushing_own_work_from_inside_deadlocks_4_4():
    """§4.4 Flushing a work from inside itself always deadlocks, and so does flushing a work
    queued behind you on the same ordered workqueue; flushing another item on a concurrent
    (system) workqueue is fine."""
    own = """
        builtin obj {
          work w = f;
          initcall device { queue_work(system_wq, w); }
        }
        fn f { flush_work(w); }
    """
    expect(spec("flush_work of itself", own), deadlock=VIOLATED)
    other = """
        builtin obj {
          workqueue q : ordered;
          work w = f;
          work other = g;
          initcall device { alloc_workqueue(q); queue_work(%s, w); queue_work(%s, other); }
        }
        fn f { flush_work(other); }
        fn g { }
    """
    expect(spec("flush_work of another item, system_wq", other % ("system_wq", "system_wq")), deadlock=PROVED)
    expect(spec("flush_work of the next item, same ordered wq", other % ("q", "q")), deadlock=VIOLATED)


def test_rule_queue_work_after_destroy_workqueue_is_flagged_4_4():
    """§4.4 / §4.2 destroy_workqueue drains the queue; a queue_work on it afterwards is a
    use-after-free (and on a never-allocated, NULL queue an oops): queue_on_dead_workqueue."""
    text = """
        builtin obj {
          var ran : bool = false;
          workqueue q : unordered;
          work w = f;
          initcall device { %s }
        }
        fn f { ran = true; }
    """
    expect(spec("queue after destroy", text % "alloc_workqueue(q); destroy_workqueue(q); queue_work(q, w);"),
           queue_on_dead_workqueue=VIOLATED)
    expect(spec("queue before alloc", text % "queue_work(q, w); alloc_workqueue(q);"),
           queue_on_dead_workqueue=VIOLATED)
    expect(spec("queue, then destroy", text % "alloc_workqueue(q); queue_work(q, w); destroy_workqueue(q); "
                "assert destroy_drained: ran;"),
           queue_on_dead_workqueue=PROVED, destroy_drained=PROVED)


def test_rule_destroy_workqueue_allows_chained_work_4_2():
    """§4.2 / §7 While a workqueue is draining or being destroyed, only chained queueing (from a
    work item of that same queue) is allowed, and the drain waits for it; other queueing WARNs."""
    expect(spec("chained work during destroy", REQUEUE % ("destroy_workqueue(q);", "drain_ran_chained_work", "runs == 2")),
           queue_on_dead_workqueue=PROVED, drain_ran_chained_work=PROVED)


def test_rule_cancel_work_sync_leaves_work_idle_4_4():
    """§4.4 cancel_work_sync steals PENDING and waits for a running instance: on return the
    item is neither pending nor running."""
    text = """
        builtin obj {
          var started : bool = false;
          var finished : bool = false;
          work w = f;
          initcall device {
            queue_work(system_wq, w);
            %s
            assert neither_pending_nor_running: not work_pending(w) and (started -> finished);
          }
        }
        fn f { started = true; finished = true; }
    """
    expect(spec("cancel_work_sync", text % "cancel_work_sync(w);"), neither_pending_nor_running=PROVED)
    expect(spec("no cancel", text % ""), neither_pending_nor_running=VIOLATED)


def test_rule_cancel_work_sync_refuses_requeue_while_waiting_4_4():
    """§4.4 cancel_work_sync = __cancel_work(w, WORK_CANCEL_DISABLE) + __flush_work + enable_work:
    while it waits for the running instance the item is disabled, so a re-queue (here by the
    item itself) returns false, and on return the item is neither pending nor running."""
    text = """
        builtin obj {
          var runs : int 0..2 = 0;
          work w = f;
          initcall device {
            queue_work(system_wq, w);
            cancel_work_sync(w);
            assert idle_after_cancel: not work_pending(w);
          }
        }
        fn f { if runs == 0 { runs = 1; queue_work(system_wq, w); } else { runs = 2; } }
    """
    expect(spec("cancel_work_sync and a self re-queue", text), idle_after_cancel=PROVED)


def test_rule_probe_must_not_flush_work_that_waits_for_probes_4_4():
    """§4.4 deadlock rules / §6.6 (3): do not call wait_for_device_probe() from a work whose
    completion a probe waits on. A probe that flushes such a work deadlocks (the work waits for
    probe_count == 0, the probe waits for the work); checking work_pending() and returning
    -EBUSY instead, as dax_hmem_platform_probe does, is fine."""
    text = """
        builtin obj {
          driver d { probe { %s } }
          device x : d;
          work w = f;
          initcall device { register_driver(d); queue_work(system_wq, w); device_add(x); }
        }
        fn f { wait_for_device_probe(); }
    """
    expect(spec("probe flushes the work", text % "flush_work(w);"), deadlock=VIOLATED)
    expect(spec("probe returns -EBUSY", text % "if work_pending(w) { return -EBUSY; }"), deadlock=PROVED)


def test_rule_init_work_on_busy_item_is_flagged_4_1():
    """§4.1 Re-initializing a work item that is queued or running corrupts the queue
    (reinit_busy_work); INIT_WORK before queueing is fine."""
    text = """
        builtin obj {
          work w;
          initcall device { %s }
        }
        fn f { }
    """
    expect(spec("INIT_WORK on a queued item", text % "init_work(w, f); queue_work(system_wq, w); init_work(w, f);"),
           reinit_busy_work=VIOLATED)
    expect(spec("INIT_WORK, then queue", text % "init_work(w, f); queue_work(system_wq, w); flush_work(w); init_work(w, f);"),
           reinit_busy_work=PROVED)


# --- §5 and §6.5 memory ----------------------------------------------------------------------

def test_rule_region_intersects_cxl_disjoint_until_window_published_5_3():
    """§5.3 / §5.1 region_intersects(..., IORES_DESC_CXL) is DISJOINT until cxl_acpi has
    inserted an overlapping CXL Window, and again after it is removed; a built-in initcall,
    which runs before a modular cxl_acpi probes, always sees DISJOINT."""
    text = """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        window w0 @ 0x1000 .. 0x1fff;
        window far @ 0x8000 .. 0x8fff;
        builtin acpi {
          initcall device {
            assert disjoint_before_publish: not intersects_cxl(sr0);
            publish_window(far);
            assert disjoint_with_other_window: not intersects_cxl(sr0);
            publish_window(w0);
            assert intersects_after_publish: intersects_cxl(sr0);
            remove_window(w0);
            assert disjoint_after_remove: not intersects_cxl(sr0);
          }
        }
    """
    expect(spec("region_intersects", text), disjoint_before_publish=PROVED,
           disjoint_with_other_window=PROVED, intersects_after_publish=PROVED,
           disjoint_after_remove=PROVED)
    modular = """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        window w0 @ 0x1000 .. 0x1fff;
        module cxl_acpi loadable {
          driver acpi_drv { probe { publish_window(w0); } }
          device acpi0017 : acpi_drv present;
          init { register_driver(acpi_drv); }
        }
        builtin hmem { initcall device { assert builtin_sees_cxl: intersects_cxl(sr0); } }
    """
    expect(spec("region_intersects before modular cxl_acpi", modular), builtin_sees_cxl=VIOLATED)


def test_rule_exclusive_dax_regions_6_5():
    """§6.5 alloc_dax_region requests the range in the global "DAX Regions" root: with
    `dax_regions exclusive;` any overlap fails (first come, first served), so a second owner's
    claim returns NULL; without it two owners can hold the same memory (no_double_claim)."""
    text = """
        %s
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        region g0 @ 0x1800 .. 0x27ff;
        module hmem_owner builtin {
          var ok_hmem : bool = false;
          var ok_cxl : bool = false;
          init {
            ok_hmem = claim(sr0, hmem_owner);
            ok_cxl = claim(g0, cxl_owner);
            assert second_claim_fails: ok_hmem and not ok_cxl;
          }
        }
        module cxl_owner builtin { }
    """
    expect(spec("exclusive dax_regions", text % "dax_regions exclusive;"), no_double_claim=PROVED,
           second_claim_fails=PROVED)
    expect(spec("no dax_regions arbitration", text % ""), no_double_claim=VIOLATED,
           second_claim_fails=VIOLATED)


def test_rule_region_contains_needs_a_committed_region_covering_the_range_6_4():
    """§6.4 cxl_region_contains_resource(res) is true only when a *committed* CXL region fully
    contains the range; an uncommitted region, or one covering only part of it, does not.
    (`whole` contains `part`: two regions that overlap only in part cannot both be inserted,
    kernel/resource.c __insert_resource.)"""
    text = """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        region whole @ 0x1000 .. 0x27ff;
        region part @ 0x1800 .. 0x27ff;
        builtin cxl {
          initcall device {
            assert uncommitted_does_not_contain: not region_contains(sr0);
            commit_region(part);
            assert %s: %sregion_contains(sr0);
            commit_region(whole);
            assert committed_contains: region_contains(sr0);
          }
        }
    """
    expect(spec("region_contains", text % ("partial_does_not_contain", "not ")),
           uncommitted_does_not_contain=PROVED, partial_does_not_contain=PROVED, committed_contains=PROVED)
    expect(spec("region_contains, partial relied on", text % ("partial_contains", "")),
           partial_contains=VIOLATED)


def test_rule_unregister_driver_leaves_the_bus_before_detaching_3_1():
    """§3.1 / drivers/base/bus.c bus_remove_driver: klist_remove(&drv->p->knode_bus) comes before
    driver_detach, so a device added while the driver is being unregistered never binds to it;
    after unregister_driver returns, no device is bound to the driver."""
    racing = """
        module m loadable {
          driver d { probe { } }
          device x : d;
          init { register_driver(d); }
          exit { unregister_driver(d); }
        }
        userspace plug { device_add(x); }
        userspace unload { rmmod(m); }
        final unbound_after_unload: loaded(m) or not bound(x);
    """
    expect(spec("device_add racing unregister_driver", racing), unbound_after_unload=PROVED)
    leaky = racing.replace("exit { unregister_driver(d); }", "exit { }")
    expect(spec("no unregister in exit", leaky), unbound_after_unload=VIOLATED)


# --- issue-driven rules: each follows the kernel source named in its docstring -------------------

def test_rule_device_del_kills_the_device_before_unbinding():
    """drivers/base/core.c device_del: kill_device() sets dev->p->dead under the device lock
    before bus_remove_device() unbinds; drivers/base/dd.c __driver_probe_device then fails with
    -ENODEV, so a bind racing with device_del never leaves a deleted device bound. An unbind
    (device_release_driver) kills nothing: a bind after it binds again."""
    text = """
        builtin plat {
          driver d { probe { } remove { } }
          device d0 : d present;
          initcall device { register_driver(d); }
        }
        userspace remover { %s(d0); }
        userspace binder  { bind(d0); }
        final deleted_device_unbound : not bound(d0);
    """
    expect(spec("device_del racing a sysfs bind", text % "device_del"), deleted_device_unbound=PROVED)
    expect(spec("unbind racing a sysfs bind", text % "unbind"), deleted_device_unbound=VIOLATED)


def test_rule_async_driver_attach_probes_the_stored_driver():
    """drivers/base/dd.c __driver_attach stores the driver in dev->p->async_driver and
    schedules __driver_attach_async_helper, which calls driver_probe_device() without looking
    at the bus's driver list; driver_detach() first waits (async_synchronize_full). So a probe
    queued by driver registration runs even when unregister_driver follows at once. A probe
    queued by device_add (__device_attach_async_helper) scans the bus's drivers again and
    finds none once the driver is gone."""
    text = """
        module m loadable {
          manual;
          var probed : bool = false;
          driver d : prefer_async { probe { probed = true; } remove { } }
          device d0 : d %s;
          init { register_driver(d); %s unregister_driver(d); }
        }
        userspace loader { modprobe(m); }
        final probe_always_ran : probed or not loaded(m);
    """
    expect(spec("queued by register_driver", text % ("present", "")), probe_always_ran=PROVED)
    expect(spec("queued by device_add", text % ("", "device_add(d0);")), probe_always_ran=VIOLATED)


def test_rule_sysfs_bind_does_not_park_a_deferring_device():
    """drivers/base/dd.c device_driver_attach (bind_store) calls __driver_probe_device, not
    driver_probe_device: no probe_count, and -EPROBE_DEFER is returned to userspace as
    -EAGAIN, never put on the deferred list, so a later trigger does not retry the device.
    bus_rescan_devices goes through driver_probe_device, which parks it."""
    text = """
        builtin plat {
          var ready : bool = true;
          driver cons_drv { probe { if not ready { return -EPROBE_DEFER; } } remove { } }
          device c0 : cons_drv present;
          driver sup_drv { probe { ready = true; } }
          device s0 : sup_drv;
          initcall device { register_driver(cons_drv); register_driver(sup_drv); }
        }
        userspace admin { unbind(c0); ready = false; %s; device_add(s0); }
        final c0_stays_unbound : not bound(c0);
    """
    expect(spec("sysfs bind defers", text % "bind(c0)"), timeout=300, c0_stays_unbound=PROVED)
    expect(spec("bus rescan defers", text % "bus_rescan(cons_drv)"), c0_stays_unbound=VIOLATED)


def test_rule_deferred_devices_retry_in_the_order_they_deferred():
    """drivers/base/dd.c: driver_deferred_probe_add is list_add_tail on the pending list,
    driver_deferred_probe_trigger is list_splice_tail_init onto the active list, and
    deferred_probe_work_func always takes list_first_entry: retries run in the order the
    devices deferred, not in declaration order."""
    text = """
        builtin plat {
          var gate : bool = false;
          var x_before_y : bool = false;
          driver xd { probe { if not gate { return -EPROBE_DEFER; } if not bound(y0) { x_before_y = true; } } }
          driver yd { probe { if not gate { return -EPROBE_DEFER; } } }
          driver td { probe { } }
          device x0 : xd present;
          device y0 : yd present;
          device t0 : td present;
          initcall late_sync { %s gate = true; register_driver(td); }
        }
        final y_first : not x_before_y;
    """
    expect(spec("y deferred first", text % "register_driver(yd); register_driver(xd);"), timeout=300,
           y_first=PROVED)
    expect(spec("x deferred first", text % "register_driver(xd); register_driver(yd);"), timeout=300,
           y_first=VIOLATED)


def test_rule_device_on_the_active_list_that_defers_again_stays_there():
    """drivers/base/dd.c driver_deferred_probe_add adds the device only if it is on no list
    (list_empty(&dev->p->deferred_probe)): a device on the active list whose probe defers
    through another path (here bus_rescan) stays on the active list, and the running pass
    retries it. A device that the pass already took off goes to the pending list."""
    text = """
        builtin plat {
          var b_tries : int 0..3 = 0;
          driver bd { probe { b_tries = b_tries + 1; return -EPROBE_DEFER; } }
          driver td { probe { } }
          device b0 : bd present;
          device t0 : td present;
          initcall late_sync { register_driver(bd); register_driver(td); bus_rescan(bd); }
        }
        final %s
    """
    expect(spec("retried once more", text % "retried_by_the_pass : b_tries == 3;"), timeout=300,
           retried_by_the_pass=PROVED)
    expect(spec("moved to pending", text % "left_pending : b_tries < 3;"), left_pending=VIOLATED)


def test_rule_modprobe_of_a_loaded_or_builtin_module_skips_its_softdeps():
    """libkmod/libkmod-module.c kmod_module_probe_insert_module: a module that is built in or
    live (module_is_inkernel) returns at once, before the probe list with its softdeps is
    built; for a module that must be loaded, __kmod_module_fill_softdep puts the "pre:"
    softdeps before it and the "post:" softdeps after it."""
    text = """
        module helper loadable { manual; init { } exit { } }
        module main_mod %s { %s init { } }
        userspace admin { modprobe(main_mod); }
        final helper_not_loaded : not loaded(helper);
    """
    expect(spec("built in", text % ("builtin", "softdep helper;")), helper_not_loaded=PROVED)
    expect(spec("loadable, pre:", text % ("loadable", "manual; softdep pre: helper;")), helper_not_loaded=VIOLATED)
    post = """
        module helper loadable { manual; var saw_main : bool = false; init { saw_main = loaded(main_mod); } exit { } }
        module main_mod loadable { manual; softdep %s: helper; init { } exit { } }
        userspace admin { modprobe(main_mod); }
        final helper_after_main : saw_main or not loaded(helper);
    """
    expect(spec("post: softdep", post % "post"), helper_after_main=PROVED)
    expect(spec("pre: softdep", post % "pre"), helper_after_main=VIOLATED)


def test_rule_insert_resource_refuses_a_partial_overlap():
    """kernel/resource.c __insert_resource: a new node descends into a node that contains it
    and adopts the nodes it contains, but one that overlaps a node only in part ("Partial
    overlap? Bad, and unfixable") is refused (insert_resource returns -EBUSY). So a CXL
    region that straddles its window is never inserted; one inside it is. A window is
    inserted with insert_resource_expand_to_fit (drivers/cxl/acpi.c add_cxl_resources),
    which never fails."""
    text = """
        window w0 @ 0x1000 .. 0x1fff;
        region g0 @ %s;
        builtin cxl { initcall device { publish_window(w0); commit_region(g0); } }
        final %s : %scommitted(g0);
    """
    expect(spec("straddling region", text % ("0x1800 .. 0x27ff", "straddler_not_committed", "not ")),
           straddler_not_committed=PROVED)
    expect(spec("region inside its window", text % ("0x1800 .. 0x1fff", "straddler_not_committed", "not ")),
           straddler_not_committed=VIOLATED)
    expect(spec("a window straddling a committed region", """
        window w0 @ 0x1000 .. 0x1fff;
        region g0 @ 0x1800 .. 0x27ff;
        builtin cxl { initcall device { commit_region(g0); publish_window(w0); } }
        final window_published : present(w0) and committed(g0);
    """), window_published=PROVED)


# The six specs the conformance review wrote down, each with the kernel's verdict in its expect line.
KERNEL_VERDICT_SPECS = {
    "device_del": """
        builtin plat {
          driver d { probe { } remove { } }
          device d0 : d present;
          initcall device { register_driver(d); }
        }
        userspace remover { device_del(d0); }
        userspace binder  { bind(d0); }
        final deleted_device_unbound : not bound(d0);
        expect holds deleted_device_unbound;
    """,
    "async probe queued, then unregister_driver": """
        module m loadable {
          manual;
          var probed : bool = false;
          driver d : prefer_async { probe { probed = true; } remove { } }
          device d0 : d present;
          init { register_driver(d); unregister_driver(d); }
        }
        userspace loader { modprobe(m); }
        final probe_always_ran : probed or not loaded(m);
        expect holds probe_always_ran;
    """,
    "sysfs bind": """
        builtin plat {
          var ready : bool = true;
          driver cons_drv { probe { if not ready { return -EPROBE_DEFER; } } remove { } }
          device c0 : cons_drv present;
          driver sup_drv { probe { ready = true; } }
          device s0 : sup_drv;
          initcall device { register_driver(cons_drv); register_driver(sup_drv); }
        }
        userspace admin { unbind(c0); ready = false; bind(c0); device_add(s0); }
        final c0_stays_unbound : not bound(c0);
        expect holds c0_stays_unbound;
    """,
    "deferred retry order": """
        builtin plat {
          var gate : bool = false;
          var x_retried_before_y : bool = false;
          driver xd { probe { if not gate { return -EPROBE_DEFER; } if not bound(y0) { x_retried_before_y = true; } } }
          driver yd { probe { if not gate { return -EPROBE_DEFER; } } }
          driver td { probe { gate = true; } }
          device x0 : xd present;
          device y0 : yd present;
          device t0 : td;
          initcall device { register_driver(yd); register_driver(xd); register_driver(td); }
          initcall late { device_add(t0); }
        }
        final y_first : not x_retried_before_y;
        expect holds y_first;
    """,
    "softdeps": """
        module helper loadable { manual; init { } exit { } }
        module main_mod builtin { softdep helper; init { } }
        userspace admin { modprobe(main_mod); }
        final helper_not_loaded : not loaded(helper);
        expect holds helper_not_loaded;
    """,
    "insert_resource": """
        window w0 @ 0x1000 .. 0x1fff;
        region g0 @ 0x1800 .. 0x27ff;
        builtin cxl { initcall device { publish_window(w0); commit_region(g0); } }
        final straddler_not_committed : not committed(g0);
        expect holds straddler_not_committed;
    """,
}


@pytest.mark.parametrize("name", sorted(KERNEL_VERDICT_SPECS))
def test_kernel_verdict_specs_give_the_kernels_verdict(name):
    """Each spec's expect line states what the kernel does (drivers/base/core.c device_del,
    drivers/base/dd.c __driver_attach / device_driver_attach / deferred_probe_work_func,
    libkmod kmod_module_probe_insert_module, kernel/resource.c __insert_resource); the
    explicit engine searches every state and must agree with it."""
    from modelcheck.frontend import load_text
    from modelcheck.checker import check_model
    from rule_helpers import OPTIONS
    model = load_text(spec(name, KERNEL_VERDICT_SPECS[name]), file="kernel-verdict.probe")
    wanted = {p.name: p.expect for p in model.properties if p.expect is not None}
    assert wanted, "every spec here states the kernel's verdict with an expect line"
    got = {o.result.prop: o.result.verdict for o in check_model(model, "explicit", OPTIONS, only=list(wanted))}
    kernel = {p: PROVED if e == "holds" else VIOLATED for p, e in wanted.items()}
    assert got == kernel, f"{{property: verdict}}: got {got}, the kernel gives {kernel}"


def test_rule_flush_work_on_an_item_a_dying_workqueue_refused_returns_at_once():
    """kernel/workqueue.c __queue_work refuses work on a destroying workqueue (WARN, return)
    after queue_work set PENDING, so the item is on no list; __flush_work -> start_flush_work
    then finds no pwq and no worker running it ("already_gone") and returns false at once:
    it does not block, and the item's function has not run."""
    text = """
        module m loadable {
          manual;
          var ran : bool = false;
          workqueue q : unordered;
          work w = wfn;
          init { alloc_workqueue(q); }
          exit { destroy_workqueue(q); }
        }
        fn wfn { ran = true; }
        userspace loader { modprobe(m); rmmod(m); }
        userspace user { queue_work(q, w); flush_work(w); %s }
    """
    expect(spec("flush of a refused item", text % ""), deadlock=PROVED)
    expect(spec("flush of a refused item, relied on", text % "assert ran_after_flush : ran;"),
           ran_after_flush=VIOLATED)


def test_rule_flush_workqueue_while_it_drains_is_no_bug():
    """kernel/workqueue.c __flush_workqueue checks nothing about __WQ_DRAINING or
    __WQ_DESTROYING: flushing a workqueue that destroy_workqueue is draining is allowed (it
    waits like any flush); only a NULL or freed workqueue is a bug. Here the drain cannot
    finish while the user holds the device lock the queued work needs."""
    text = """
        builtin plat { driver pd { } device x0 : pd; }
        module m loadable {
          manual;
          workqueue q : unordered;
          work w = wfn;
          init { alloc_workqueue(q); queue_work(q, w); }
          exit { destroy_workqueue(q); }
        }
        fn wfn { device_lock(x0); device_unlock(x0); }
        userspace user { %s modprobe(m); flush_workqueue(q); }
        userspace remover { rmmod(m); }
    """
    expect(spec("flush while draining", text % "device_lock(x0);"), queue_on_dead_workqueue=PROVED)
    expect(spec("flush after destroy", text % ""), queue_on_dead_workqueue=VIOLATED)


def test_rule_cancel_work_sync_disable_is_a_count():
    """kernel/workqueue.c cancel_work_sync = __cancel_work(WORK_CANCEL_DISABLE), which adds one
    to the item's disable count (work_offqd_disable), __flush_work, then enable_work, which
    takes one off: queue_work is refused while any cancel_work_sync is still in flight, not
    only until the first one returns. After the only cancel returned, queueing works again."""
    text = """
        builtin plat {
          var ok : bool = false;
          work w = wfn;
        }
        fn wfn { }
        userspace a { queue_work(system_wq, w); cancel_work_sync(w); ok = queue_work(system_wq, w); assert %s : ok; }
        %s
    """
    expect(spec("one cancel", text % ("queue_after_cancel", "")), queue_after_cancel=PROVED)
    expect(spec("a second cancel in flight", text % ("queue_after_cancel", "userspace b { cancel_work_sync(w); }")),
           queue_after_cancel=VIOLATED)


def test_rule_module_code_runs_only_while_the_module_is_loaded():
    """kernel/module/main.c: a module's code is in memory only from load_module until
    free_module, and other code reaches it only through a reference the module's state allows
    (try_module_get fails once it is GOING). A function that touches a loadable module's
    objects is that module's code: called from userspace (or other code) while the module is
    not loaded, the call does nothing, so the module's later load cannot undo an INIT_WORK
    that never happened."""
    issue = """
        module phylib loadable { work state_queue; init { } }
        fn phy_start_machine { init_work(state_queue, phy_state_machine); queue_work(system_wq, state_queue); }
        fn phy_state_machine { }
        userspace resume { phy_start_machine(); }
    """
    expect(spec("userspace calls into a module udev loads", issue), queue_uninitialized_work=PROVED)
    text = """
        module phylib loadable { manual; var started : bool = false; work state_queue; init { } exit { } }
        fn phy_start_machine { started = true; init_work(state_queue, phy_state_machine); queue_work(system_wq, state_queue); }
        fn phy_state_machine { }
        userspace resume { %s phy_start_machine(); }
        final nothing_started : not started;
    """
    expect(spec("called, the module never loaded", text % ""), nothing_started=PROVED)
    expect(spec("called after modprobe", text % "modprobe(phylib);"), nothing_started=VIOLATED)


def test_every_test_the_conformance_table_names_exists():
    """docs/semantics.md names, for each rule, the test that holds it: each must be a test."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    table = (root / "docs" / "semantics.md").read_text()
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", table))
    defined = set()
    for path in (root / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text(), re.M))
    assert named, "the table names no test"
    assert not sorted(named - defined), f"named in docs/semantics.md but not defined: {sorted(named - defined)}"


def test_rule_builtin_code_cannot_use_module_exports():
    """The vmlinux link (scripts/Makefile.vmlinux_o, scripts/mod/modpost.c): built-in code that
    calls an EXPORT_SYMBOL of code built as a module has an undefined reference, so no kernel
    is built that way; Kconfig's `depends on PROVIDER` keeps the importer at most the provider.
    Only the configurations that link are explored."""
    text = """
        config A : tristate;
        config B : tristate;
        module b if B { init { } }
        module a if A { uses b; init { } }
        final importer_not_above_provider : not (IS_BUILTIN(A) and IS_MODULE(B));
    """
    expect(spec("uses: importer at most provider", text), importer_not_above_provider=PROVED)
    expect(spec("no uses: any pair", text.replace(" uses b;", "")), importer_not_above_provider=VIOLATED)


def test_device_add_twice_is_flagged():
    """drivers/base/core.c device_add -> kobject_add (lib/kobject.c kobject_add_internal ->
    create_dir -> fs/sysfs/dir.c sysfs_create_dir_ns): a device that is in sysfs already gets
    -EEXIST (sysfs_warn_dup: "cannot create duplicate filename", a stack dump) and device_add
    returns the error without probing. The built-in check device_added_twice flags it; one
    device_add, or a device_add again after device_del, is fine."""
    text = """
        module m loadable {
          driver d { probe { } remove { } }
          device d0 : d;
          init { register_driver(d); device_add(d0); %s device_add(d0); }
        }
    """
    expect(spec("added twice", text % ""), device_added_twice=VIOLATED)
    expect(spec("deleted, then added again", text % "device_del(d0);"), device_added_twice=PROVED)
    present = """
        module m loadable {
          driver d { probe { } }
          device d0 : d present;
          init { register_driver(d); device_add(d0); }
        }
    """
    expect(spec("a device present at boot added again", present), device_added_twice=VIOLATED)


def test_device_add_twice_does_not_probe_again():
    """drivers/base/core.c device_add: kobject_add fails before bus_probe_device, so the
    second device_add of a device whose probe failed does not retry the probe (with the check
    switched off, `disable device_added_twice;`, the run goes on as the kernel's does)."""
    text = """
        module m loadable {
          var tries : int 0..3 = 0;
          driver d { probe { tries = tries + 1; return -ENODEV; } }
          device d0 : d;
          init { register_driver(d); device_add(d0); device_add(d0); }
        }
        disable device_added_twice;
        final probed_once: tries == 1;
    """
    expect(spec("second add of a device whose probe failed", text), probed_once=PROVED)


def test_platform_device_add_new_instance_probes():
    """drivers/base/platform.c platform_device_alloc + platform_device_add, as
    drivers/dax/hmem/hmem.c __hmem_register_device calls them for every range it registers:
    each call adds a new struct device, which is probed as device_add probes. Two such calls
    for one range with `instances 2` add two devices, and both probe; bound() asks about any
    instance."""
    text = """
        range sr0 : soft_reserved @ 0x1000 .. 0x1fff;
        module m loadable {
          var probes : int 0..3 = 0;
          driver d { probe(r) { probes = probes + 1; } }
          device hmem[r in soft_reserved] : d instances 2;
          init { register_driver(d); platform_device_add(hmem, sr0); platform_device_add(hmem, sr0); }
        }
        final both_probed: probes == 2 and bound(hmem, sr0);
    """
    expect(spec("two platform devices for one range", text), device_instances=PROVED, both_probed=PROVED)


def test_platform_device_add_beyond_the_instances_bound_is_reported():
    """The spec's `instances N` is a modelling bound, not a kernel limit (platform_device_alloc
    allocates without one): a run that adds one more is reported as the built-in property
    device_instances, so no verdict rests silently on a cut model."""
    text = """
        module m loadable {
          driver d { probe { } }
          device d0 : d instances %d;
          init { register_driver(d); platform_device_add(d0); platform_device_add(d0); }
        }
    """
    expect(spec("one instance, two adds", text % 1), device_instances=VIOLATED)
    expect(spec("two instances, two adds", text % 2), device_instances=PROVED)


def test_platform_device_add_after_device_add_takes_the_next_instance():
    """device_add names the declared struct device (the first instance); platform_device_add
    allocates one that was never added, so the two together add two devices; device_del of a
    name with several instances deletes each (platform_device_unregister of every pdev, as
    __hmem_register_device's devm action release_hmem does when its host unbinds)."""
    text = """
        module m loadable {
          driver d { probe { } remove { } }
          device d0 : d instances 2;
          init { register_driver(d); device_add(d0); platform_device_add(d0); %s }
        }
        final any_bound: bound(d0);
    """
    expect(spec("device_add, then platform_device_add", text % ""), device_added_twice=PROVED,
           device_instances=PROVED, any_bound=PROVED)
    expect(spec("then both deleted", text % "device_del(d0);"), any_bound=VIOLATED)
