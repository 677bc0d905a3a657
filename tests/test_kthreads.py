"""Kernel threads, rule by rule, both ways, explicit and foata agreeing (tests/rule_helpers.py)."""
from __future__ import annotations

import pytest

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.promela import SpinBuild
from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import require_spin

STOP = """
    module m loadable {
      var busy : bool = false;
      kthread poller = poll_thread;
      init { kthread_run(poller); }
      exit { STOP assert not_busy: not busy; }
    }
    fn poll_thread { busy = true; busy = false; }
    userspace admin { rmmod(m); }
"""


def test_rule_kthread_stop_waits_for_the_thread_function():
    """kernel/kthread.c kthread_stop: sets KTHREAD_SHOULD_STOP, wakes the thread, and waits on
    kthread->exited, which kthread_exit completes once threadfn has returned."""
    expect(spec("exit stops its thread", STOP.replace("STOP", "kthread_stop(poller);")),
           not_busy=PROVED, work_outlives_owner=PROVED)
    expect(spec("exit forgets its thread", STOP.replace("STOP", "")),
           not_busy=VIOLATED, work_outlives_owner=VIOLATED)


EARLY = """
    module m loadable {
      var ran : bool = false;
      var seen : bool = false;
      kthread k = k_fn;
      init { kthread_run(k); kthread_stop(k); seen = ran; }
    }
    fn k_fn { ran = true; }
"""


def test_rule_kthread_stopped_before_it_runs_never_runs_its_function():
    """kernel/kthread.c kthread(): threadfn is called only if KTHREAD_SHOULD_STOP is still clear
    when the new thread gets to run; kthread_stop right after kthread_run may win that race."""
    expect(spec("stopped at once", EARLY + "final always_ran : ran;\n"), always_ran=VIOLATED)
    expect(spec("nothing runs after the stop", EARLY + "final nothing_after_stop : ran == seen;\n"),
           nothing_after_stop=PROVED)


SHOULD_STOP = """
    module m loadable {
      var saw_stop : bool = false;
      kthread k = k_fn;
      init { kthread_run(k); }
      exit { kthread_stop(k); }
    }
    fn k_fn { if kthread_should_stop() { saw_stop = true; } }
    userspace admin { rmmod(m); }
"""


def test_rule_kthread_should_stop_reports_the_stop_request():
    """kernel/kthread.c kthread_should_stop: test_bit(KTHREAD_SHOULD_STOP) of the current
    kthread, set by kthread_stop: a thread still running when the module goes may see it."""
    expect(spec("the thread may see the stop", SHOULD_STOP + "final never_sees_stop : not saw_stop;\n"),
           never_sees_stop=VIOLATED)
    expect(spec("only after a stop", SHOULD_STOP + "invariant only_when_stopping : saw_stop -> not loaded(m);\n"),
           only_when_stopping=PROVED)


DEVICE = """
    module m loadable {
      driver d {
        kthread worker = worker_fn;
        probe { kthread_run(worker); return 0; }
        remove { STOP }
      }
      device dev0 : d present;
      init { register_driver(d); }
      exit { unregister_driver(d); }
    }
    fn worker_fn { msleep(1); }
    userspace admin { rmmod(m); }
"""


def test_rule_device_kthread_must_be_stopped_in_remove():
    """drivers/base/dd.c __device_release_driver frees the private data after remove; a kthread
    of that data still running uses freed memory (kernel/kthread.c: kthread_stop waits for it)."""
    expect(spec("remove forgets the thread", DEVICE.replace("STOP", "")), work_outlives_owner=VIOLATED)
    expect(spec("remove stops the thread", DEVICE.replace("STOP", "kthread_stop(worker);")),
           work_outlives_owner=PROVED)


def test_kthread_misuse():
    twice = spec("run twice", """
        module m loadable { kthread k = k_fn; init { kthread_run(k); kthread_run(k); } }
        fn k_fn { }
    """)
    expect(twice, kthread_misuse=VIOLATED)
    stop_none = spec("stop without run", """
        module m loadable { kthread k = k_fn; init { kthread_stop(k); } }
        fn k_fn { }
    """)
    expect(stop_none, kthread_misuse=VIOLATED)


def test_kthread_should_stop_outside_a_kthread_is_an_error():
    text = spec("misplaced", """
        module m loadable { var x : bool = false; init { if kthread_should_stop() { x = true; } } }
    """)
    with pytest.raises(SpecError) as err:
        load_text(text, "rule.probe")
    assert err.value.code == "E235"


@pytest.mark.parametrize("stop, verdict", [("", "violated"), ("kthread_stop(worker);", "holds")])
def test_spin_agrees_on_the_device_kthread(stop, verdict, tmp_path):
    require_spin()
    model = load_text(spec("device kthread", DEVICE.replace("STOP", stop)), "rule.probe")
    with SpinBuild(model, ["work_outlives_owner"], str(tmp_path)) as build:
        run = build.run("work_outlives_owner")
    assert run.complete and run.verdict == verdict
