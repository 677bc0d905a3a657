"""Delayed work, timers and atomic context, rule by rule, both ways, explicit and foata agreeing
(tests/rule_helpers.py); the remove-without-del_timer_sync pair also through SPIN."""
from __future__ import annotations

import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.promela import SpinBuild
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin

WATCHDOG = """
    module m loadable {
      driver d {
        timer watchdog = watchdog_fn;
        probe { mod_timer(watchdog); return 0; }
        remove { DELETE(watchdog); }
      }
      device dev0 : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn watchdog_fn { mod_timer(watchdog); }      # re-arms itself, as watchdogs do
    userspace admin { rmmod(m); }
"""


def watchdog(delete: str) -> str:
    return spec(f"remove with {delete}", WATCHDOG.replace("DELETE", delete))


def test_rule_timer_delete_does_not_wait_for_the_callback():
    """kernel/time/timer.c: timer_delete (del_timer) only detaches a pending timer; a callback
    already running goes on, and may re-arm it. timer_delete_sync (__timer_delete_sync) retries
    until the callback is not running, then detaches: nothing is left when remove returns."""
    expect(watchdog("timer_delete"), work_outlives_owner=VIOLATED)
    expect(watchdog("del_timer"), work_outlives_owner=VIOLATED)
    expect(watchdog("timer_delete_sync"), work_outlives_owner=PROVED)
    expect(watchdog("del_timer_sync"), work_outlives_owner=PROVED)


REARM = """
    module m loadable {
      driver d {
        timer t = t_fn;
        work kick = kick_fn;
        probe { mod_timer(t); queue_work(system_wq, kick); return 0; }
        remove { STOP(t); cancel_work_sync(kick); }
      }
      device dev0 : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn t_fn { }
    fn kick_fn { mod_timer(t); }                 # another path that arms the timer
    userspace admin { rmmod(m); }
"""


def test_rule_timer_shutdown_sync_makes_later_mod_timer_a_no_op():
    """kernel/time/timer.c: timer_shutdown_sync clears timer->function, and __mod_timer returns
    without arming when it finds no function ("Has @timer been shutdown?"); after
    timer_delete_sync the timer can be armed again by a racing mod_timer."""
    expect(spec("delete_sync, then re-armed", REARM.replace("STOP", "timer_delete_sync")),
           work_outlives_owner=VIOLATED)
    expect(spec("shutdown_sync", REARM.replace("STOP", "timer_shutdown_sync")), work_outlives_owner=PROVED)


def test_rule_timer_callback_runs_in_atomic_context():
    """kernel/time/timer.c: call_timer_fn runs the callback from run_timer_softirq, in softirq
    context, where a sleeping call is a might_sleep() splat (kernel/sched/core.c: __might_sleep).
    The same call in a work function (process context, kernel/workqueue.c: process_one_work)
    is fine."""
    in_timer = spec("msleep in a timer callback", """
        module m loadable { timer t = t_fn; init { mod_timer(t); } }
        fn t_fn { wait_a_bit(); }
        fn wait_a_bit { msleep(10); }
    """)
    expect(in_timer, sleep_in_atomic=VIOLATED)
    in_work = spec("msleep in a work function", """
        module m loadable { work w = w_fn; init { queue_work(system_wq, w); } }
        fn w_fn { msleep(10); }
    """)
    assert "sleep_in_atomic" not in {p.name for p in load_text(in_work, "rule.probe").properties}


POLL = """
    module m loadable {
      var ran : bool = false;
      delayed_work poll = poll_fn;
      init { QUEUE; ASSERTION; }
    }
    fn poll_fn { ran = true; }
"""


def test_rule_delayed_work_runs_at_any_later_moment():
    """kernel/workqueue.c: queue_delayed_work_on arms dwork->timer; delayed_work_timer_fn queues
    the work when it expires, which may be at once or much later: nothing is promised about the
    moment. flush_delayed_work queues a still-armed item at once and waits for it."""
    not_yet = spec("the delay is no guarantee", POLL.replace("QUEUE", "schedule_delayed_work(poll)")
                   .replace("ASSERTION", "assert not_yet: not ran"))
    flushed = spec("flush_delayed_work waits", POLL.replace("QUEUE", "schedule_delayed_work(poll); flush_delayed_work(poll)")
                   .replace("ASSERTION", "assert ran_after_flush: ran"))
    modded = spec("mod_delayed_work queues an idle item",
                  POLL.replace("QUEUE", "mod_delayed_work(system_wq, poll); flush_delayed_work(poll)")
                  .replace("ASSERTION", "assert ran_after_flush: ran"))
    expect(not_yet, not_yet=VIOLATED)
    expect(flushed, ran_after_flush=PROVED)
    expect(modded, ran_after_flush=PROVED)


def test_rule_queue_delayed_work_returns_false_while_pending():
    """kernel/workqueue.c queue_delayed_work_on: test_and_set_bit(WORK_STRUCT_PENDING_BIT)
    fails while the item is armed or queued; mod_delayed_work_on returns whether it was pending."""
    text = spec("pending delayed work", """
        module m loadable {
          var first : bool = false;
          var second : bool = true;
          var modded : bool = false;
          delayed_work poll = poll_fn;
          init {
            first = queue_delayed_work(system_wq, poll);
            second = queue_delayed_work(system_wq, poll);
            modded = mod_delayed_work(system_wq, poll);
          }
        }
        fn poll_fn { }
        final first_queues : first;
        final second_refused : not second;
    """)
    expect(text, first_queues=PROVED, second_refused=VIOLATED)


REMOVE_POLL = """
    module m loadable {
      driver d {
        delayed_work poll = poll_fn;
        probe { schedule_delayed_work(poll); return 0; }
        remove { CANCEL(poll); }
      }
      device dev0 : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn poll_fn { }
    userspace admin { rmmod(m); }
"""


def test_rule_cancel_delayed_work_does_not_wait():
    """kernel/workqueue.c: cancel_delayed_work (__cancel_work with WORK_CANCEL_DELAYED) takes a
    pending item off its timer or queue but does not wait for a running instance;
    cancel_delayed_work_sync waits for it (and keeps the item disabled meanwhile)."""
    expect(spec("cancel_delayed_work in remove", REMOVE_POLL.replace("CANCEL", "cancel_delayed_work")),
           work_outlives_owner=VIOLATED)
    expect(spec("cancel_delayed_work_sync in remove", REMOVE_POLL.replace("CANCEL", "cancel_delayed_work_sync")),
           work_outlives_owner=PROVED)


def test_module_timer_must_be_idle_when_exit_returns():
    text = spec("module timer left armed", """
        module m loadable { timer t = t_fn; init { mod_timer(t); } exit { } }
        fn t_fn { }
        userspace admin { rmmod(m); }
    """)
    expect(text, work_outlives_owner=VIOLATED)
    expect(text.replace("exit { }", "exit { timer_delete_sync(t); }"), work_outlives_owner=PROVED)


def test_delayed_work_on_a_module_workqueue_is_refused():
    text = spec("own queue", """
        module m loadable { workqueue q : unordered; delayed_work d = f;
          init { alloc_workqueue(q); queue_delayed_work(q, d); } }
        fn f { }
    """)
    with pytest.raises(SpecError) as err:
        load_text(text, "rule.probe")
    assert err.value.code == "E234"


@pytest.mark.parametrize("delete, verdict", [("timer_delete", "violated"), ("timer_delete_sync", "holds")])
def test_spin_agrees_on_remove_without_del_timer_sync(delete, verdict, tmp_path):
    require_spin()
    model = load_text(watchdog(delete), "rule.probe")
    with SpinBuild(model, ["work_outlives_owner"], str(tmp_path)) as build:
        run = build.run("work_outlives_owner")
    assert run.complete and run.verdict == verdict
