"""One test per rule of the sleeping locks, completions and wait queues (docs/semantics.md,
sections "Locks: mutexes and rw-semaphores" and "Completions and wait queues").

Each rule is checked both ways with every engine that must agree (tests/rule_helpers.py): a spec
that relies on the rule checks clean (PROVED), one that relies on the opposite is found (VIOLATED).
"""
from __future__ import annotations

from rule_helpers import PROVED, VIOLATED, expect, spec
from spin_agreement import spin_verdicts

# Two threads that run at once after boot: a module's init (from modprobe) and a userspace task;
# the locks belong to built-in code, so both may use them at any time.
TWO_THREADS = """
    builtin core {{
      {decls}
      var a : bool = false;
      var b : bool = false;
    }}
    module m loadable {{
      init {{ {first} }}
    }}
    userspace load {{ modprobe(m); }}
    userspace other {{ {second} }}
"""


def two(decls: str, first: str, second: str) -> str:
    return TWO_THREADS.format(decls=decls, first=first, second=second)


# --- mutexes ---------------------------------------------------------------------------------

def test_rule_mutex_lock_excludes_other_threads():
    """kernel/locking/mutex.c mutex_lock: the caller sleeps until the owner field is free and
    then owns the mutex, so two threads never run the section between lock and unlock at once."""
    locked = two("mutex lk;",
                 "mutex_lock(lk); a = true; assert alone_in_first: not b; a = false; mutex_unlock(lk);",
                 "mutex_lock(lk); b = true; assert alone_in_second: not a; b = false; mutex_unlock(lk);")
    expect(spec("mutex excludes", locked), alone_in_first=PROVED, alone_in_second=PROVED,
           deadlock=PROVED)
    unlocked = two("mutex lk;",
                   "a = true; assert alone_in_first: not b; a = false;",
                   "mutex_lock(lk); b = true; b = false; mutex_unlock(lk);")
    expect(spec("mutex taken by one side only", unlocked), alone_in_first=VIOLATED)


def test_rule_mutex_trylock_returns_false_while_held():
    """kernel/locking/mutex.c mutex_trylock: returns 1 and owns a free mutex, 0 at once
    (without sleeping) while another thread owns it."""
    text = two("mutex lk; var got : bool = false;",
               "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
               "got = mutex_trylock(lk); if got { assert trylock_owns_it: not a; mutex_unlock(lk); }")
    expect(spec("mutex_trylock", text), trylock_owns_it=PROVED, deadlock=PROVED)
    wrong = two("mutex lk; var got : bool = false;",
                "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                "got = mutex_trylock(lk); assert trylock_always_succeeds: got; if got { mutex_unlock(lk); }")
    expect(spec("mutex_trylock relied on", wrong), trylock_always_succeeds=VIOLATED)


IF_TRYLOCK = two("mutex lk;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                 "if mutex_trylock(lk) { assert trylock_owns_it: not a; mutex_unlock(lk); } else { b = true; }")
IF_NOT_TRYLOCK = two("mutex lk;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                     "if not mutex_trylock(lk) { assert never_refused: false; } else { mutex_unlock(lk); }")
HELD_BY_THE_CALLER = two(
    "mutex lk; rwsem rw;",
    "mutex_lock(lk); lockdep_assert_held(lk); mutex_unlock(lk); "
    "down_read(rw); lockdep_assert_held(rw); lockdep_assert_held_read(rw); up_read(rw);",
    "down_write(rw); lockdep_assert_held_write(rw); lockdep_assert_held(rw); up_write(rw);")
HELD_BY_ANOTHER_THREAD = two("mutex lk;", "mutex_lock(lk); a = true; mutex_unlock(lk);",
                             "if mutex_is_locked(lk) { lockdep_assert_held(lk); }")


def test_rule_mutex_trylock_as_the_condition_of_an_if():
    """kernel/locking/mutex.c mutex_trylock, written as C writes it, `if (mutex_trylock(&m))`:
    the branch is taken exactly when the mutex was free and is now owned; `if not` takes the
    other branch. Explicit and foata agree here; SPIN in test_spin_agrees_on_rule_specs."""
    expect(spec("if mutex_trylock", IF_TRYLOCK), trylock_owns_it=PROVED, deadlock=PROVED)
    expect(spec("if not mutex_trylock", IF_NOT_TRYLOCK), never_refused=VIOLATED)


def test_rule_lockdep_assert_held_warns_unless_the_caller_holds_the_lock():
    """include/linux/lockdep.h lockdep_assert_held: WARN unless the *current* task holds the
    lock (kernel/locking/lockdep.c lock_is_held_type walks current->held_locks): another
    thread's hold does not count, and the _read/_write forms ask for one side. SPIN agrees in
    test_spin_agrees_on_rule_specs."""
    expect(spec("held by the caller", HELD_BY_THE_CALLER), lockdep_assert_held=PROVED)
    expect(spec("held by another thread", HELD_BY_ANOTHER_THREAD), lockdep_assert_held=VIOLATED)
    side = two("rwsem rw;", "down_read(rw); lockdep_assert_held_write(rw); up_read(rw);", "")
    expect(spec("the wrong side", side), lockdep_assert_held=VIOLATED)


def test_rule_guard_mutex_released_when_the_scope_is_left():
    """include/linux/cleanup.h DEFINE_GUARD and include/linux/mutex.h DEFINE_GUARD(mutex, ...):
    guard(mutex)(m) takes the mutex and releases it whenever the enclosing block is left,
    including by `return`."""
    text = """
        module m loadable {
          mutex lk;
          var early : bool = false;
          driver d { probe { guard(mutex)(lk); if early { return -ENODEV; } return 0; } }
          device dev0 : d present;
          init { register_driver(d); mutex_lock(lk); assert released_after_probe: true; mutex_unlock(lk); }
        }
        userspace load { modprobe(m); }
    """
    expect(spec("guard released on return", text), released_after_probe=PROVED, deadlock=PROVED)
    held = """
        module m loadable {
          mutex lk;
          driver d { probe { mutex_lock(lk); return 0; } }
          device dev0 : d present;
          init { register_driver(d); mutex_lock(lk); mutex_unlock(lk); }
        }
        userspace load { modprobe(m); }
    """
    expect(spec("a plain mutex_lock is not released by return", held), deadlock=VIOLATED)


def test_rule_guard_device_released_when_the_scope_is_left():
    """include/linux/device.h DEFINE_GUARD(device, struct device *, device_lock(_T),
    device_unlock(_T)): guard(device)(dev) holds the device lock to the end of the block,
    so a probe of that device waits for it; `return` releases it."""
    text = """
        builtin core {
          var inside : bool = false;
          device dev0 : d present;
        }
        module m loadable {
          driver d { probe { assert probe_not_inside_guard: not inside; return 0; } }
          init { register_driver(d); }
        }
        fn scan { guard(device)(dev0); inside = true; if bound(dev0) { inside = false; return; } inside = false; }
        userspace load { modprobe(m); }
        userspace other { scan(); device_lock(dev0); device_unlock(dev0); }
    """
    expect(spec("guard(device) excludes the probe", text), probe_not_inside_guard=PROVED,
           deadlock=PROVED)
    unguarded = text.replace("guard(device)(dev0); ", "")
    expect(spec("no guard: the probe may run inside", unguarded), probe_not_inside_guard=VIOLATED)


def test_rule_unlock_not_owner():
    """kernel/locking/mutex.c __mutex_unlock_slowpath: MUTEX_WARN_ON(__owner_task(owner) !=
    current); lockdep (kernel/locking/lockdep.c print_unlock_imbalance_bug) reports it too."""
    own = two("mutex lk;", "mutex_lock(lk); mutex_unlock(lk);", "mutex_lock(lk); mutex_unlock(lk);")
    expect(spec("each thread unlocks its own", own), unlock_not_owner=PROVED, double_unlock=PROVED)
    other = two("mutex lk;", "mutex_lock(lk); a = true;", "if a { mutex_unlock(lk); }")
    expect(spec("unlocked by another thread", other), unlock_not_owner=VIOLATED, double_unlock=PROVED)


def test_rule_double_unlock():
    """kernel/locking/lockdep.c print_unlock_imbalance_bug: releasing a lock nobody holds."""
    once = two("mutex lk;", "mutex_lock(lk); if a { a = false; } mutex_unlock(lk);", "")
    expect(spec("unlocked once", once), double_unlock=PROVED)
    twice = two("mutex lk;", "mutex_lock(lk); mutex_unlock(lk); if not a { mutex_unlock(lk); }", "")
    expect(spec("unlocked twice", twice), double_unlock=VIOLATED)


def test_rule_lock_order_inversion():
    """kernel/locking/lockdep.c validate_chain / check_prev_add: taking B while holding A
    records A -> B; taking A while holding B later (in any thread) closes a cycle and is
    reported, whether or not the two threads ever deadlock. A trylock adds no order."""
    one_order = two("mutex la; mutex lb;",
                    "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la);",
                    "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la);")
    expect(spec("one lock order", one_order), lock_order_inversion=PROVED, deadlock=PROVED)
    # The same thread takes both orders one after the other: no interleaving can deadlock.
    both = two("mutex la; mutex lb;",
               "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la); "
               "mutex_lock(lb); mutex_lock(la); mutex_unlock(la); mutex_unlock(lb);", "")
    expect(spec("both orders, one thread", both), lock_order_inversion=VIOLATED, deadlock=PROVED)
    trylock = two("mutex la; mutex lb; var got : bool = false;",
                  "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la); "
                  "mutex_lock(lb); got = mutex_trylock(la); if got { mutex_unlock(la); } mutex_unlock(lb);", "")
    expect(spec("the reverse order by trylock", trylock), lock_order_inversion=PROVED)


def test_rule_ab_ba_deadlock():
    """kernel/locking/mutex.c mutex_lock sleeps while another task owns the mutex: two threads
    taking two mutexes in opposite orders can each hold one and wait for the other forever."""
    abba = two("mutex la; mutex lb;",
               "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la);",
               "mutex_lock(lb); mutex_lock(la); mutex_unlock(la); mutex_unlock(lb);")
    expect(spec("AB-BA", abba), deadlock=VIOLATED, lock_order_inversion=VIOLATED)
    ab_ab = two("mutex la; mutex lb;",
                "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la);",
                "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la);")
    expect(spec("AB-AB", ab_ab), deadlock=PROVED)


def test_rule_device_lock_is_a_lock_for_lockdep():
    """drivers/base/dd.c __driver_attach / device_driver_attach: probe runs under device_lock
    (mutex_lock(&dev->mutex), include/linux/device.h device_lock); a driver mutex taken in
    probe and held elsewhere around device_lock is an AB-BA pair. (The kernel's lockdep does not
    see it: drivers/base/core.c device_initialize sets dev->mutex's class to novalidate.)"""
    text = """
        module foo loadable {
          mutex big_lock;
          driver d { probe { mutex_lock(big_lock); mutex_unlock(big_lock); return 0; } }
          device dev0 : d present;
          init { register_driver(d); }
        }
        userspace load { modprobe(foo); }
        userspace sysfs { %s }
    """
    bad = "mutex_lock(big_lock); device_lock(dev0); device_unlock(dev0); mutex_unlock(big_lock);"
    expect(spec("device_lock inside big_lock", text % bad), lock_order_inversion=VIOLATED,
           deadlock=VIOLATED)
    good = "device_lock(dev0); mutex_lock(big_lock); mutex_unlock(big_lock); device_unlock(dev0);"
    expect(spec("big_lock inside device_lock", text % good), lock_order_inversion=PROVED,
           deadlock=PROVED)


def test_rule_mutex_of_a_module_is_reset_on_reload():
    """kernel/module/main.c load_module copies the module's .data afresh: a DEFINE_MUTEX of a
    module starts unlocked at every load, even if a previous instance exited holding it."""
    text = """
        module m loadable {
          mutex lk;
          init { mutex_lock(lk); mutex_unlock(lk); }
          exit { mutex_lock(lk); }
        }
        userspace u { modprobe(m); rmmod(m); modprobe(m); }
    """
    expect(spec("held at exit, free at the next load", text), deadlock=PROVED)
    builtin = """
        builtin core { mutex lk; }
        module m loadable {
          init { mutex_lock(lk); mutex_unlock(lk); }
          exit { mutex_lock(lk); }
        }
        userspace u { modprobe(m); rmmod(m); modprobe(m); }
    """
    expect(spec("a built-in mutex is never reset", builtin), deadlock=VIOLATED)


# --- rw-semaphores ---------------------------------------------------------------------------

def test_rule_rwsem_readers_share_writers_exclude():
    """kernel/locking/rwsem.c __down_read / __down_write: readers hold the semaphore together;
    a writer holds it alone."""
    shared = two("rwsem sem;",
                 "down_read(sem); a = true; assert writer_excludes_reader: not b; a = false; up_read(sem);",
                 "down_write(sem); b = true; b = false; up_write(sem);")
    expect(spec("writer excludes readers", shared), writer_excludes_reader=PROVED, deadlock=PROVED)
    readers = two("rwsem sem;",
                  "down_read(sem); a = true; assert readers_exclude_each_other: not b; a = false; up_read(sem);",
                  "down_read(sem); b = true; b = false; up_read(sem);")
    expect(spec("readers share", readers), readers_exclude_each_other=VIOLATED)


def test_rule_rwsem_reader_queues_behind_a_waiting_writer():
    """kernel/locking/rwsem.c __down_read: the fast path fails when any waiter is queued
    (RWSEM_READ_FAILED_MASK includes RWSEM_FLAG_WAITERS), and rwsem_down_read_slowpath queues
    the reader behind a waiting writer even though readers hold the lock. So a thread that
    takes the read side twice deadlocks if a writer queued in between."""
    nested = two("rwsem sem;",
                 "down_read(sem); a = true; down_read(sem); up_read(sem); up_read(sem);",
                 "if a { down_write(sem); up_write(sem); }")
    expect(spec("recursive down_read with a writer", nested), deadlock=VIOLATED)
    flat = two("rwsem sem;",
               "down_read(sem); a = true; up_read(sem); down_read(sem); up_read(sem);",
               "if a { down_write(sem); up_write(sem); }")
    expect(spec("down_read twice, not nested", flat), deadlock=PROVED)


def test_rule_mutex_lock_interruptible_fails_only_while_held():
    """kernel/locking/mutex.c mutex_lock_interruptible / mutex_lock_killable ->
    __mutex_lock_common: a free mutex is taken at once (0); a waiter tests
    signal_pending_state only after __mutex_trylock failed, and then returns -EINTR without
    the lock. A spec that takes the error path is safe; one that ignores the result and
    unlocks anyway releases the other thread's mutex (unlock_not_owner)."""
    checked = two("mutex lk;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                  "if mutex_lock_interruptible(lk) { return; } assert owns_it: not a; mutex_unlock(lk);")
    expect(spec("error path taken", checked), owns_it=PROVED, unlock_not_owner=PROVED,
           double_unlock=PROVED, deadlock=PROVED)
    assigned = two("mutex lk; var ret : int 0..12 = 0;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                   "ret = mutex_lock_killable(lk); assert zero_or_eintr: ret == 0 or ret == -EINTR; "
                   "if ret == 0 { assert owns_it: not a; mutex_unlock(lk); }")
    expect(spec("result assigned", assigned), zero_or_eintr=PROVED, owns_it=PROVED, unlock_not_owner=PROVED)
    uncontended = two("mutex lk; var ret : int 0..12 = 0;", "",
                      "ret = mutex_lock_interruptible(lk); assert free_is_taken: ret == 0; mutex_unlock(lk);")
    expect(spec("a free mutex is taken", uncontended), free_is_taken=PROVED, unlock_not_owner=PROVED)
    ignored = two("mutex lk;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
                  "mutex_lock_interruptible(lk); assert owns_it: not a; mutex_unlock(lk);")
    expect(spec("result ignored", ignored), owns_it=VIOLATED, unlock_not_owner=VIOLATED)
    relied = two("mutex lk; var ret : int 0..12 = 0;", "mutex_lock(lk); mutex_unlock(lk);",
                 "ret = mutex_lock_interruptible(lk); assert always_taken: ret == 0; if ret == 0 { mutex_unlock(lk); }")
    expect(spec("a signal never comes", relied), always_taken=VIOLATED, unlock_not_owner=PROVED)


def test_rule_down_read_trylock_fails_while_a_writer_waits():
    """kernel/locking/rwsem.c __down_read_trylock: gives up when the count shows a writer or
    queued waiters (RWSEM_READ_FAILED_MASK)."""
    text = two("rwsem sem; var got : bool = false;",
               "down_write(sem); a = true; a = false; up_write(sem);",
               "got = down_read_trylock(sem); if got { assert no_writer_inside: not a; up_read(sem); }")
    expect(spec("down_read_trylock", text), no_writer_inside=PROVED, deadlock=PROVED)
    wrong = two("rwsem sem; var got : bool = false;",
                "down_write(sem); a = true; a = false; up_write(sem);",
                "got = down_read_trylock(sem); assert read_trylock_always_succeeds: got; if got { up_read(sem); }")
    expect(spec("down_read_trylock relied on", wrong), read_trylock_always_succeeds=VIOLATED)


# --- completions -----------------------------------------------------------------------------

def test_rule_wait_for_completion_sleeps_until_complete():
    """kernel/sched/completion.c wait_for_completion / do_wait_for_common: sleeps while
    x->done is 0, then takes one (done--); complete() adds one. A wait that nobody completes
    sleeps forever: a deadlock."""
    text = two("completion ready;", "a = true; complete(ready);",
               "wait_for_completion(ready); assert completed_before: a;")
    expect(spec("wait_for_completion", text), completed_before=PROVED, deadlock=PROVED)
    nobody = two("completion ready;", "if b { complete(ready); }",
                 "wait_for_completion(ready);")
    expect(spec("nobody completes", nobody), deadlock=VIOLATED)


def test_rule_complete_wakes_one_complete_all_wakes_every_waiter():
    """kernel/sched/completion.c complete: done++ (one waiter passes); complete_all: done =
    UINT_MAX, and do_wait_for_common leaves it so, so every waiter passes, now and later."""
    all_ = two("completion ready;", "complete_all(ready);",
               "wait_for_completion(ready); wait_for_completion(ready);")
    expect(spec("complete_all", all_), deadlock=PROVED)
    one = two("completion ready;", "complete(ready);",
              "wait_for_completion(ready); wait_for_completion(ready);")
    expect(spec("complete once, wait twice", one), deadlock=VIOLATED)


def test_rule_reinit_completion_forgets_earlier_completes():
    """include/linux/completion.h reinit_completion: done = 0, so a complete() made before it
    no longer lets a wait through."""
    text = two("completion ready;", "complete(ready); reinit_completion(ready); a = true;",
               "if a { wait_for_completion(ready); }")
    expect(spec("reinit_completion", text), deadlock=VIOLATED)
    kept = two("completion ready;", "reinit_completion(ready); complete(ready); a = true;",
               "if a { wait_for_completion(ready); }")
    expect(spec("complete after reinit", kept), deadlock=PROVED)


def test_rule_wait_for_completion_timeout_may_time_out_at_any_moment():
    """kernel/sched/completion.c wait_for_completion_timeout: returns 0 when the timeout
    expired (and takes nothing), else the time left (non-zero). The timeout is any moment."""
    text = two("completion ready; var ok : bool = false;", "a = true; complete(ready);",
               "ok = wait_for_completion_timeout(ready); if ok { assert completed_when_ok: a; }")
    expect(spec("timeout result checked", text), completed_when_ok=PROVED, deadlock=PROVED)
    wrong = two("completion ready; var ok : bool = false;", "a = true; complete(ready);",
                "ok = wait_for_completion_timeout(ready); assert never_times_out: a;")
    expect(spec("timeout ignored", wrong), never_times_out=VIOLATED)


def test_rule_wait_for_completion_interruptible_returns_erestartsys():
    """kernel/sched/completion.c wait_for_completion_interruptible / _killable ->
    do_wait_for_common: with done > 0 it takes one and returns 0; otherwise a signal may end
    the wait (-ERESTARTSYS) before complete(), and nothing is taken."""
    checked = two("completion ready; var ret : int 0..12 = 0;", "a = true; complete(ready);",
                  "ret = wait_for_completion_interruptible(ready); "
                  "assert zero_or_erestartsys: ret == 0 or ret == -ERESTARTSYS; if ret == 0 { assert completed: a; }")
    expect(spec("interrupted wait checked", checked), zero_or_erestartsys=PROVED, completed=PROVED, deadlock=PROVED)
    done_first = two("completion ready; var ret : int 0..12 = 0;", "",
                     "complete(ready); ret = wait_for_completion_killable(ready); assert done_is_taken: ret == 0;")
    expect(spec("a done completion is taken", done_first), done_is_taken=PROVED)
    ignored = two("completion ready;", "a = true; complete(ready);",
                  "wait_for_completion_interruptible(ready); assert completed: a;")
    expect(spec("interrupted wait ignored", ignored), completed=VIOLATED)
    negated = two("completion ready;", "a = true; complete(ready);",
                  "if not wait_for_completion_killable(ready) { assert completed: a; }")
    expect(spec("if not ...: the completed branch", negated), completed=PROVED)


# --- wait queues -----------------------------------------------------------------------------

def test_rule_wait_event_retests_only_when_woken():
    """include/linux/wait.h ___wait_event: the sleeper tests COND, then sleeps until a wake_up
    (kernel/sched/wait.c __wake_up_common) takes it off the queue, and only then tests again:
    COND made true without a wake_up leaves it asleep (a missed wakeup)."""
    woken = two("waitqueue wq;", "a = true; wake_up(wq);", "wait_event(wq, a); assert cond_holds: a;")
    expect(spec("set, then wake_up", woken), cond_holds=PROVED, deadlock=PROVED)
    missed = two("waitqueue wq;", "wake_up(wq); a = true;", "wait_event(wq, a);")
    expect(spec("wake_up before the condition is set", missed), deadlock=VIOLATED)


def test_rule_wait_event_timeout_returns_the_condition_on_timeout():
    """include/linux/wait.h wait_event_timeout / ___wait_cond_timeout: after the timeout it
    returns 0 if COND is false, 1 if COND became true; it may time out at any moment."""
    text = two("waitqueue wq; var ok : bool = false;", "a = true;",
               "ok = wait_event_timeout(wq, a); assert ok_means_cond: ok -> a;")
    expect(spec("no wake_up, but a timeout", text), ok_means_cond=PROVED, deadlock=PROVED)
    wrong = two("waitqueue wq; var ok : bool = false;", "a = true;",
                "ok = wait_event_timeout(wq, a); assert always_true: ok;")
    expect(spec("timeout relied on", wrong), always_true=VIOLATED)


# --- the same rules through SPIN -------------------------------------------------------------

import pytest  # noqa: E402

from pathlib import Path  # noqa: E402

from modelcheck.checker import check_model  # noqa: E402
from modelcheck.frontend import load_text  # noqa: E402
from modelcheck.result import Verdict  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SYNC_EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs/examples/sync").glob("*.probe"))


@pytest.mark.parametrize("rel_path", SYNC_EXAMPLES)
def test_spin_agrees_on_the_sync_examples(rel_path, tmp_path):
    """The lowering of locks, completions and wait queues is plain IR: SPIN, given the
    Promela export, must find the same verdicts as the explicit engine."""
    from test_promela import _require_spin
    _require_spin()
    model = load_text((ROOT / rel_path).read_text(encoding="utf-8"), rel_path)
    ours = {o.result.prop: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")
            if o.result.verdict in (Verdict.VIOLATED, Verdict.PROVED)}
    assert ours.get("deadlock") is not None
    assert spin_verdicts(model, ours, tmp_path) == ours


SPIN_RULE_SPECS = {
    "rwsem nested read behind a writer": two(
        "rwsem sem;", "down_read(sem); a = true; down_read(sem); up_read(sem); up_read(sem);",
        "if a { down_write(sem); up_write(sem); }"),
    "rwsem trylock and writer": two(
        "rwsem sem; var got : bool = false;", "down_write(sem); a = true; a = false; up_write(sem);",
        "got = down_read_trylock(sem); if got { assert no_writer_inside: not a; up_read(sem); }"),
    "guard, trylock and a stray unlock": two(
        "mutex la; mutex lb; var got : bool = false;",
        "{ guard(mutex)(la); got = mutex_trylock(lb); if got { mutex_unlock(lb); } } mutex_unlock(la);",
        "mutex_lock(lb); mutex_lock(la); mutex_unlock(la); mutex_unlock(lb);"),
    "interruptible lock, ignored result": two(
        "mutex lk; var ret : int 0..12 = 0;", "mutex_lock(lk); a = true; a = false; mutex_unlock(lk);",
        "mutex_lock_interruptible(lk); assert owns_it: not a; mutex_unlock(lk); "
        "ret = mutex_lock_killable(lk); if ret == 0 { mutex_unlock(lk); }"),
    "interruptible completion wait": two(
        "completion c; var ret : int 0..12 = 0;", "a = true; complete(c);",
        "if wait_for_completion_interruptible(c) { return; } assert completed: a; "
        "ret = wait_for_completion_killable(c);"),
    "wait_event_timeout and complete_all": two(
        "waitqueue wq; completion c; var ok : bool = false;",
        "a = true; complete_all(c); wake_up(wq);",
        "ok = wait_event_timeout(wq, a); wait_for_completion(c); wait_for_completion(c);"),
    "if mutex_trylock": IF_TRYLOCK,
    "if not mutex_trylock": IF_NOT_TRYLOCK,
    "lockdep_assert_held by the caller": HELD_BY_THE_CALLER,
    "lockdep_assert_held by another thread": HELD_BY_ANOTHER_THREAD,
}


@pytest.mark.parametrize("title", sorted(SPIN_RULE_SPECS))
def test_spin_agrees_on_rule_specs(title, tmp_path):
    """rw-semaphores, guard, trylock and timeouts through SPIN, against the explicit engine."""
    from test_promela import _require_spin
    _require_spin()
    model = load_text(spec(title, SPIN_RULE_SPECS[title]), "rule.probe")
    ours = {o.result.prop: ("violated" if o.result.verdict is Verdict.VIOLATED else "holds")
            for o in check_model(model, "explicit")
            if o.result.verdict in (Verdict.VIOLATED, Verdict.PROVED)}
    assert spin_verdicts(model, ours, tmp_path) == ours
    assert "deadlock" in ours


def test_lock_checks_can_be_switched_off():
    """lock_order_inversion, unlock_not_owner and double_unlock are built-in properties a spec
    may `disable`, like the others."""
    text = spec("both orders, checks off", two(
        "mutex la; mutex lb;",
        "mutex_lock(la); mutex_lock(lb); mutex_unlock(lb); mutex_unlock(la); "
        "mutex_lock(lb); mutex_lock(la); mutex_unlock(la); mutex_unlock(lb); mutex_unlock(la);", "")
        + "disable lock_order_inversion;\ndisable double_unlock;\ndisable unlock_not_owner;\n")
    props = {p.name for p in load_text(text, "rule.probe").properties}
    assert not props & {"lock_order_inversion", "double_unlock", "unlock_not_owner"}
    assert "deadlock" in props
