"""Mutexes, rw-semaphores, and the device lock seen as a lock: who holds what, who blocks,
and lockdep's checks (lock order, unlock by a non-owner, double unlock).

Kernel sources followed: kernel/locking/mutex.c (mutex_lock, mutex_trylock,
__mutex_unlock_slowpath), kernel/locking/rwsem.c (__down_read, rwsem_down_read_slowpath,
__down_read_trylock, rwsem_down_write_slowpath, __up_read, __up_write), and
kernel/locking/lockdep.c (validate_chain, check_prev_add, print_unlock_imbalance_bug).
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Arith, Cmp, Const, Expr, Ite, Ref, conj, disj, eq, neg
from ..syntax import ast
from .context import Frame, internal
from .exprs import arity
from .program import ThreadBuilder

if TYPE_CHECKING:
    from .compile import Compiler

UNLOCKED = 0
READ_NESTING = 2        # down_read nested deeper than this in one thread is beyond the model

# Primitives that may sleep (might_sleep() in the kernel source), for the atomic-context check.
SLEEPS = frozenset({"mutex_lock", "down_read", "down_write", "guard"})


class Locks:
    """Lock state is an owner: 0 when free, else the id (1, 2, ...) of the holding thread.
    An rw-semaphore has a writer owner, a reader count, one read-hold count per thread, and a
    count of queued writers (for the rule that a reader arriving while a writer waits queues)."""

    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.mutexes = {s.name: s for s in compiler.sym.of_kind("mutex")}
        self.rwsems = {s.name: s for s in compiler.sym.of_kind("rwsem")}
        self._threads: list[ThreadBuilder] = []
        self._readers: dict[str, set[int]] = {s: set() for s in self.rwsems}
        self._writers: dict[str, set[int]] = {s: set() for s in self.rwsems}
        # Owners of device locks and lockdep's dependency graph are only kept when the spec has
        # a lock of its own: the device mutexes alone are in lockdep's no-validate class
        # (drivers/base/core.c device_initialize: lockdep_set_novalidate_class(&dev->mutex)),
        # and without them `DEV.locked` stays a flag, which keeps such specs' state small.
        self.tracks_order = bool(self.mutexes or self.rwsems)

    # -- threads --
    def tid(self, b: ThreadBuilder) -> int:
        """The owner value that stands for thread `b` (1, 2, ...)."""
        for i, t in enumerate(self._threads):
            if t is b:
                return i + 1
        self._threads.append(b)
        return len(self._threads)

    def owner_labels(self) -> tuple[str, ...]:
        return ("unlocked",) + tuple(t.name for t in self._threads)

    def finish(self) -> None:
        """Declare the owner variables once every thread is known (their domain is the thread ids)."""
        ctx, hi, labels = self.c.ctx, len(self._threads), self.owner_labels()
        for m, sym in self.mutexes.items():
            ctx.var(f"{m}.owner", 0, hi, UNLOCKED, labels=labels, span=sym.span)
        for s, sym in self.rwsems.items():
            ctx.var(f"{s}.writer", 0, hi, UNLOCKED, labels=labels, span=sym.span)
            ctx.var(f"{s}.readers", 0, READ_NESTING * max(1, len(self._readers[s])), 0)
            ctx.var(f"{s}.writers_waiting", 0, max(1, len(self._writers[s])), 0)
        for inst in self.c.driver_core.instances if hi and self.tracks_order else ():
            name = f"{inst.name}.locked"
            var = ctx.variables[name]
            ctx.variables[name] = replace(var, hi=hi, labels=labels)

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        """A reloaded module's locks come back unlocked (DEFINE_MUTEX / DECLARE_RWSEM in .data)."""
        out: list[tuple[str, Expr]] = []
        for m, sym in self.mutexes.items():
            if sym.owner == module:
                out.append((f"{m}.owner", Const(UNLOCKED)))
        for s, sym in self.rwsems.items():
            if sym.owner == module:
                out += [(f"{s}.writer", Const(UNLOCKED)), (f"{s}.readers", Const(0)),
                        (f"{s}.writers_waiting", Const(0))]
        return out

    # -- who holds what --
    def _read_held(self, s: str, tid: int) -> str:
        name = f"{s}.read_held[{self._threads[tid - 1].name}]"
        self.c.ctx.var(name, 0, READ_NESTING, 0)
        return name

    def held(self, kind: str, name: str, b: ThreadBuilder) -> Expr:
        """Whether thread b holds the lock (either side, for an rw-semaphore)."""
        t = self.tid(b)
        if kind == "mutex":
            return eq(f"{name}.owner", t)
        if kind == "device":
            return eq(f"{name}.locked", t)
        self._readers[name].add(t)
        return disj(eq(f"{name}.writer", t), Cmp(">", Ref(self._read_held(name, t)), Const(0)))

    def _order_locks(self) -> list[tuple[str, str]]:
        return ([("mutex", m) for m in self.mutexes] + [("rwsem", s) for s in self.rwsems]
                + [("device", i.name) for i in self.c.driver_core.instances])

    def _dep(self, first: str, then: str) -> str:
        return self.c.ctx.flag(internal(f"lockdep[{first} -> {then}]"))

    def lockdep_acquire(self, kind: str, name: str, b: ThreadBuilder) -> tuple[tuple, tuple]:
        """lockdep's check_prev_add at a (non-try) acquisition of `name` by thread b: for every
        lock the thread holds, record the order held -> name, and report an inversion when the
        opposite order was recorded before (lockdep.c validate_chain / check_prev_add)."""
        if not self.tracks_order:
            return (), ()
        assigns, checks = [], []
        for other_kind, other in self._order_locks():
            if other == name or (other_kind == kind == "device"):
                continue
            held = self.held(other_kind, other, b)
            forward, backward = self._dep(other, name), self._dep(name, other)
            checks.append(self.c.ctx.check(
                "lock_order_inversion", neg(conj(held, eq(backward, 1))),
                f"lock order inversion: {name} taken while holding {other}, "
                f"and {other} was taken while holding {name} earlier"))
            assigns.append((forward, Ite(held, Const(1), Ref(forward))))
        return tuple(assigns), tuple(checks)

    def release_checks(self, name: str, owner: Expr, mine: Expr) -> tuple:
        """lockdep's print_unlock_imbalance_bug (a lock the thread does not hold) and
        mutex.c's MUTEX_WARN_ON(__owner_task(owner) != current), split by cause."""
        ctx = self.c.ctx
        return (ctx.check("double_unlock", neg(eq_expr(owner, UNLOCKED)),
                          f"{name} is released while nobody holds it"),
                ctx.check("unlock_not_owner", disj(eq_expr(owner, UNLOCKED), mine),
                          f"{name} is released by a thread that does not hold it"))

    # -- the device lock (drivers/base/core.c: device_lock is mutex_lock(&dev->mutex)) --
    def device_acquire(self, dev: str, b: ThreadBuilder) -> tuple[tuple, tuple]:
        """Assignments and checks of taking dev's lock in thread b (the caller guards on free)."""
        if not self.tracks_order:
            return ((f"{dev}.locked", Const(1)),), ()
        assigns, checks = self.lockdep_acquire("device", dev, b)
        return ((f"{dev}.locked", Const(self.tid(b))),) + assigns, checks

    def device_release_checks(self, dev: str, b: ThreadBuilder) -> tuple:
        """The unlock checks of device_unlock, in a spec whose device locks record their owner."""
        if not self.tracks_order:
            return ()
        return self.release_checks(dev, Ref(f"{dev}.locked"), eq(f"{dev}.locked", self.tid(b)))

    # -- statements --
    def statements(self) -> dict:
        return {"mutex_lock": self.mutex_lock, "mutex_unlock": self.mutex_unlock,
                "mutex_trylock": self.mutex_trylock,
                "down_read": self.down_read, "up_read": self.up_read,
                "down_read_trylock": self.down_read_trylock,
                "down_write": self.down_write, "up_write": self.up_write,
                "lockdep_assert_held": self.assert_held, "lockdep_assert_held_read": self.assert_held,
                "lockdep_assert_held_write": self.assert_held}

    def queries(self) -> dict:
        return {"mutex_is_locked": self.q_mutex_is_locked}

    def mutex_arg(self, call: ast.Call) -> str:
        """The mutex a one-argument call names (E204, E202 otherwise)."""
        return self._mutex(call)

    def _mutex(self, call: ast.Call) -> str:
        arity(call, 1)
        return self.c.exprs.symbol_arg(call, 0, ("mutex",), "a mutex (mutex NAME;)").name

    def _rwsem(self, call: ast.Call) -> str:
        arity(call, 1)
        return self.c.exprs.symbol_arg(call, 0, ("rwsem",), "an rw-semaphore (rwsem NAME;)").name

    def q_mutex_is_locked(self, call, frame) -> Expr:
        return neg(eq(f"{self._mutex(call)}.owner", UNLOCKED))

    def mutex_lock(self, call, frame, at, nxt, target) -> None:
        self.lock_mutex(self._mutex(call), frame, at, nxt, f"mutex_lock({call.args[0].id})", call.span)

    def lock_mutex(self, m: str, frame: Frame, at: int, nxt: int, label: str, span) -> None:
        """mutex.c mutex_lock: sleeps until the owner field is free, then owns it."""
        assigns, checks = self.lockdep_acquire("mutex", m, frame.b)
        frame.b.edge(at, nxt, label, span, guard=eq(f"{m}.owner", UNLOCKED),
                     assigns=((f"{m}.owner", Const(self.tid(frame.b))),) + assigns, checks=checks)

    def mutex_unlock(self, call, frame, at, nxt, target) -> None:
        self.unlock_mutex(self._mutex(call), frame, at, nxt, f"mutex_unlock({call.args[0].id})", call.span)

    def unlock_mutex(self, m: str, frame: Frame, at: int, nxt: int, label: str, span) -> None:
        """mutex.c __mutex_unlock_slowpath: warns when current is not the owner, releases anyway."""
        owner = Ref(f"{m}.owner")
        checks = self.release_checks(m, owner, eq(f"{m}.owner", self.tid(frame.b)))
        frame.b.edge(at, nxt, label, span, assigns=((f"{m}.owner", Const(UNLOCKED)),), checks=checks)

    def mutex_trylock(self, call, frame, at, nxt, target) -> None:
        """mutex.c mutex_trylock: 1 and owned when free, else 0 at once; lockdep records the
        hold but no order (validate_chain: trylock adds no dependencies)."""
        m = self._mutex(call)
        free = eq(f"{m}.owner", UNLOCKED)
        ok = ((target, Const(1)),) if target else ()
        no = ((target, Const(0)),) if target else ()
        frame.b.edge(at, nxt, f"mutex_trylock({m}) = 1", call.span, guard=free,
                     assigns=((f"{m}.owner", Const(self.tid(frame.b))),) + ok)
        frame.b.edge(at, nxt, f"mutex_trylock({m}) = 0: held", call.span, guard=neg(free), assigns=no)

    def guard(self, node: ast.Guard, rest: ast.Block, frame: Frame, at: int, nxt: int) -> None:
        """guard(mutex)(m) and guard(device)(dev) (include/linux/cleanup.h; DEFINE_GUARD(mutex,
        ...) in include/linux/mutex.h, DEFINE_GUARD(device, ...) in include/linux/device.h):
        the lock now, its unlock whenever the enclosing block is left: at its end, by `return`,
        or by `continue`."""
        if node.lock_class == "mutex":
            name = self.c.sym.require(node.lock, ("mutex",), node.span, "a mutex (mutex NAME;)").name
            take, drop = self.lock_mutex, self.unlock_mutex
        elif node.lock_class == "device":
            call = ast.Call("device_lock", (ast.Name(node.lock, node.span),), node.span)
            name = self.c.driver_core.device_arg(call, frame).name
            take, drop = self.c.driver_core.lock_device, self.c.driver_core.unlock_device
        else:
            raise SpecError("E245", node.span, f"guard({node.lock_class}) is not modelled",
                            f"write guard(mutex)(NAME) for a mutex or guard(device)(NAME) for a "
                            f"device, or lock and unlock {node.lock} by hand")
        kind = node.lock_class
        b = frame.b
        body = b.new()
        take(name, frame, at, body, f"guard({kind})({name})", node.span)
        label = f"guard({kind})({name}) released: end of scope"
        exits = {}
        for key in ("ret", "cont"):
            target = getattr(frame, key)
            if target is not None:
                exits[key] = b.new()
                drop(name, frame, exits[key], target, label, node.span)
        end = b.new()
        self.c.stmts.block(rest, replace(frame, **exits), body, end)
        drop(name, frame, end, nxt, label, node.span)

    # -- rw-semaphores --
    def _reader_in(self, s: str) -> Expr:
        """rwsem.c __down_read: the fast path fails on a writer or on any queued waiter
        (RWSEM_READ_FAILED_MASK), and rwsem_down_read_slowpath then queues behind them."""
        return conj(eq(f"{s}.writer", UNLOCKED), eq(f"{s}.writers_waiting", 0))

    def down_read(self, call, frame, at, nxt, target) -> None:
        s = self._rwsem(call)
        t = self.tid(frame.b)
        self._readers[s].add(t)
        mine = self._read_held(s, t)
        assigns, checks = self.lockdep_acquire("rwsem", s, frame.b)
        deep = self.c.ctx.check("value_in_range", Cmp("<", Ref(mine), Const(READ_NESTING)),
                                f"down_read({s}) nested more than {READ_NESTING} deep in one thread")
        frame.b.edge(at, nxt, f"down_read({s})", call.span, guard=self._reader_in(s),
                     assigns=self._read_count(s, mine, +1) + assigns, checks=checks + (deep,))

    def _read_count(self, s: str, mine: str, delta: int) -> tuple:
        op = "+" if delta > 0 else "-"
        bound = Const(READ_NESTING)
        if delta > 0:   # keep the state inside the domain; the nesting check reports the excess
            mine_ok = Cmp("<", Ref(mine), bound)
        else:
            mine_ok = Cmp(">", Ref(mine), Const(0))
            mine_ok = conj(mine_ok, Cmp(">", Ref(f"{s}.readers"), Const(0)))
        return ((mine, Ite(mine_ok, Arith(op, Ref(mine), Const(1)), Ref(mine))),
                (f"{s}.readers", Ite(mine_ok, Arith(op, Ref(f"{s}.readers"), Const(1)), Ref(f"{s}.readers"))))

    def down_read_trylock(self, call, frame, at, nxt, target) -> None:
        """rwsem.c __down_read_trylock: gives up on a writer or a queued waiter."""
        s = self._rwsem(call)
        t = self.tid(frame.b)
        self._readers[s].add(t)
        mine = self._read_held(s, t)
        ok = ((target, Const(1)),) if target else ()
        no = ((target, Const(0)),) if target else ()
        deep = self.c.ctx.check("value_in_range", Cmp("<", Ref(mine), Const(READ_NESTING)),
                                f"down_read_trylock({s}) nested more than {READ_NESTING} deep in one thread")
        frame.b.edge(at, nxt, f"down_read_trylock({s}) = 1", call.span, guard=self._reader_in(s),
                     assigns=self._read_count(s, mine, +1) + ok, checks=(deep,))
        frame.b.edge(at, nxt, f"down_read_trylock({s}) = 0: a writer holds or waits", call.span,
                     guard=neg(self._reader_in(s)), assigns=no)

    def up_read(self, call, frame, at, nxt, target) -> None:
        s = self._rwsem(call)
        t = self.tid(frame.b)
        self._readers[s].add(t)
        mine = self._read_held(s, t)
        readers = Ref(f"{s}.readers")
        checks = self.release_checks(f"{s} (read)", readers, Cmp(">", Ref(mine), Const(0)))
        frame.b.edge(at, nxt, f"up_read({s})", call.span, assigns=self._read_count(s, mine, -1),
                     checks=checks)

    def down_write(self, call, frame, at, nxt, target) -> None:
        """rwsem.c: __down_write takes a free lock at once (the optimistic spin may take it
        even with waiters queued); otherwise rwsem_down_write_slowpath queues the writer,
        which from then on holds back new readers, and it sleeps until readers and writer left."""
        s = self._rwsem(call)
        t = self.tid(frame.b)
        self._writers[s].add(t)
        b = frame.b
        free = conj(eq(f"{s}.writer", UNLOCKED), eq(f"{s}.readers", 0))
        assigns, checks = self.lockdep_acquire("rwsem", s, b)
        waiting = Ref(f"{s}.writers_waiting")
        b.edge(at, nxt, f"down_write({s})", call.span, guard=free,
               assigns=((f"{s}.writer", Const(t)),) + assigns, checks=checks)
        queued = b.new()
        b.edge(at, queued, f"down_write({s}): busy, queued (new readers now wait)", call.span,
               guard=neg(free), assigns=((f"{s}.writers_waiting", Arith("+", waiting, Const(1))),) + assigns,
               checks=checks)
        b.edge(queued, nxt, f"down_write({s}): woken, owns it", call.span, guard=free,
               assigns=((f"{s}.writer", Const(t)), (f"{s}.writers_waiting", Arith("-", waiting, Const(1)))))

    def up_write(self, call, frame, at, nxt, target) -> None:
        """rwsem.c __up_write: DEBUG_RWSEMS_WARN_ON(sem->owner != current), then releases."""
        s = self._rwsem(call)
        owner = Ref(f"{s}.writer")
        checks = self.release_checks(f"{s} (write)", owner, eq(f"{s}.writer", self.tid(frame.b)))
        frame.b.edge(at, nxt, f"up_write({s})", call.span, assigns=((f"{s}.writer", Const(UNLOCKED)),),
                     checks=checks)


    def assert_held(self, call, frame, at, nxt, target) -> None:
        """include/linux/lockdep.h lockdep_assert_held(l): WARN unless the calling task holds l
        (lockdep_is_held: a mutex it owns, an rw-semaphore it holds on either side);
        lockdep_assert_held_write and _read ask for one side of an rw-semaphore. One step that
        changes nothing; a WARN is a violation of the built-in check `lockdep_assert_held`."""
        arity(call, 1)
        if call.func == "lockdep_assert_held":
            sym = self.c.exprs.symbol_arg(call, 0, ("mutex", "rwsem"), "a mutex or an rw-semaphore")
        else:
            sym = self.c.exprs.symbol_arg(call, 0, ("rwsem",), "an rw-semaphore (rwsem NAME;)")
        t = self.tid(frame.b)
        if sym.kind == "mutex":
            held, side = self.held("mutex", sym.name, frame.b), ""
        elif call.func == "lockdep_assert_held_write":
            held, side = eq(f"{sym.name}.writer", t), " for writing"
        elif call.func == "lockdep_assert_held_read":
            self._readers[sym.name].add(t)
            held, side = Cmp(">", Ref(self._read_held(sym.name, t)), Const(0)), " for reading"
        else:
            held, side = self.held("rwsem", sym.name, frame.b), ""
        check = self.c.ctx.check("lockdep_assert_held", held,
                                 f"{call.func}({sym.name}): {frame.b.name} does not hold {sym.name}{side}")
        frame.b.edge(at, nxt, f"{call.func}({sym.name})", call.span, checks=(check,))


def eq_expr(expr: Expr, value: int) -> Expr:
    return Cmp("==", expr, Const(value))
