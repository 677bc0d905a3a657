"""Several drivers for one device: the bus's match, the walk over the bus's drivers in
registration order, driver_override, and a match that asks for probe deferral.

Kernel sources followed (torvalds/linux): drivers/base/dd.c at 5a7a9efdb193 (__device_attach,
__device_attach_driver, driver_probe_device, __driver_probe_device, really_probe,
__driver_attach), drivers/base/base.h (driver_match_device: the bus's match, 1 when the bus has
none), drivers/base/bus.c (bus_add_driver: klist_add_tail on the bus's driver list;
bus_for_each_drv walks it from its head), drivers/base/platform.c (platform_match: a set
driver_override matches only the driver of that name, before any table is looked at; amba_match
does the same, then may return -EPROBE_DEFER) and drivers/base/driver.c driver_set_override
(v5.19+: the new string is swapped in under device_lock; no probe is started).

A device that is declared with several drivers (`device d0 : a, b;`), that a driver_override
statement names, or whose driver has a `match { }` block is attached by this module:

- `__device_attach` (device_add, the deferred-probe retry, bus_rescan_devices) walks the drivers
  in the order they were registered. Each registered driver is matched; no match goes on to the
  next, -EPROBE_DEFER from the match parks the device (driver_deferred_probe_add, can_match)
  and stops the walk; a match runs driver_probe_device. Its result: 0 (bound), -ENODEV (not
  registered or dead), -EBUSY (already bound) and the -EPROBE_DEFER really_probe returns before
  the probe (probing blocked, a supplier missing) stop the walk; an error from the probe itself
  (really_probe returns it as a positive number, -EPROBE_DEFER included, which parks the device)
  makes __device_attach_driver return 0, and the next driver tries.
- `__driver_attach` (register_driver) matches the one driver with each device; a match that
  defers parks the device and goes on to the next device.

The bus's driver list order is kept as one flag per pair of drivers that share a device: which
of the two was registered last (klist_add_tail puts it behind the other). Each walk takes the
one order the flags give.
"""
from __future__ import annotations

from itertools import permutations
from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import FALSE, TRUE, Const, Expr, conj, disj, eq, neg
from ..syntax import ast
from . import deferred as lists
from .context import Frame, internal

if TYPE_CHECKING:
    from .compile import Compiler
    from .driver_core import Instance

MAX_DRIVERS = 3          # the walk is unrolled for each order of a device's drivers (k! of them)
MATCH = "match"
NO_MATCH = "no match"
DEFERS = "-EPROBE_DEFER"


def order_flag(a: str, b: str) -> str:
    """1 while driver a is ahead of driver b on the bus's driver list (a declared before b):
    each registration goes to the tail, so the value says which of the two registered last."""
    return internal(f"klist_drivers:{a},{b}")


class Matching:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.overridden: dict[str, list[str]] = {}     # device -> drivers its driver_override names
        self._match_cache: dict = {}

    def prescan(self, calls) -> None:
        for call in calls:
            if call.func != "driver_override" or not call.args or not isinstance(call.args[0], ast.Name):
                continue
            named = self.overridden.setdefault(call.args[0].id, [])
            if len(call.args) > 1 and isinstance(call.args[1], ast.Name) and call.args[1].id not in named:
                named.append(call.args[1].id)

    # -- which devices this module attaches --
    def candidates(self, inst: "Instance") -> tuple[str, ...]:
        """The drivers that can match the device: those it is declared with, then those a
        driver_override names (platform_match lets an override bind a driver no table lists)."""
        listed = inst.decl.all_drivers
        extra = [d for d in self.overridden.get(inst.decl.name, []) if d not in listed
                 and d in self.c.driver_core.drivers]
        return tuple(listed) + tuple(extra)

    def walks(self, inst: "Instance") -> bool:
        core = self.c.driver_core
        return (len(self.candidates(inst)) > 1 or inst.decl.name in self.overridden
                or any(core.drivers[d].decl.match is not None for d in self.candidates(inst)))

    def multi(self, inst: "Instance") -> bool:
        return len(self.candidates(inst)) > 1

    def index(self, inst: "Instance", driver: str) -> int:
        return self.candidates(inst).index(driver)

    # -- declarations and the checks of what does not combine --
    def declare(self) -> None:
        core, ctx = self.c.driver_core, self.c.ctx
        for sym in self.c.sym.of_kind("driver"):
            if sym.decl.match is not None:
                self.outcome(sym.decl, None)            # E270 on any driver, even one no device names
        for sym in self.c.sym.of_kind("device"):
            decl = sym.decl
            seen = set()
            for d in decl.all_drivers:
                if d in seen:
                    raise SpecError("E269", decl.span, f"{decl.name} names driver {d} twice")
                seen.add(d)
            if len(decl.all_drivers) > MAX_DRIVERS:
                raise SpecError("E269", decl.span, f"{decl.name} names {len(decl.all_drivers)} drivers; "
                                f"at most {MAX_DRIVERS} are modelled",
                                "keep the drivers that can win; the walk is unrolled for each of their orders")
        pairs = set()
        for inst in core.instances:
            if not self.walks(inst):
                continue
            cands = self.candidates(inst)
            if len(cands) > MAX_DRIVERS:
                raise SpecError("E269", inst.decl.span, f"{inst.decl.name} can be bound by {len(cands)} drivers "
                                f"(with driver_override); at most {MAX_DRIVERS} are modelled")
            self._combinations(inst)
            if self.multi(inst):
                ctx.var(f"{inst.name}.driver", 0, len(cands) - 1, 0, labels=cands)
            if inst.decl.name in self.overridden:
                ctx.var(f"{inst.name}.driver_override", 0, len(cands), 0, labels=("NULL",) + cands)
            for i, a in enumerate(cands):
                for b in cands[i + 1:]:
                    pairs.add(self._pair(a, b))
        self.pairs = sorted(pairs)
        for a, b in self.pairs:
            ctx.var(order_flag(a, b), 0, 1, 1, labels=(f"{a} registered last", f"{b} registered last"))

    def _combinations(self, inst: "Instance") -> None:
        """E271: what the walk over several drivers does not model."""
        core = self.c.driver_core
        cands = self.candidates(inst)
        span = inst.decl.span
        if inst.decl.index_var and self.multi(inst):
            raise SpecError("E271", span, f"{inst.decl.name} is a device array with several drivers",
                            "declare the devices one by one: `device NAME : DRV_A, DRV_B;`")
        for d in cands:
            decl = core.drivers[d].decl
            if core.async_expr(d) != FALSE and self.walks(inst):
                raise SpecError("E271", span, f"{d} may probe asynchronously, and {inst.decl.name} is attached "
                                "by the walk over its drivers (several drivers, a match block or driver_override)",
                                f"give {d} `: force_sync`: the two passes of __device_attach are not modelled")
            if not self.multi(inst):
                continue
            data = decl.vars + decl.works + decl.delayed_works + decl.timers + decl.kthreads
            if data:
                raise SpecError("E271", data[0].span, f"{d} has per-device data, and {inst.decl.name} "
                                "has several drivers", "keep the state in module variables and module work items")
            for which in ("suspend", "resume", "shutdown"):
                if getattr(decl, which) is not None:
                    raise SpecError("E271", decl.span, f"{d} has a {which} callback, and {inst.decl.name} "
                                    "has several drivers", f"check the {which} path in a spec with one driver")
            if d != inst.decl.driver and any(s.func in core.devres_undo for s in core.devm_sites[d]):
                raise SpecError("E271", decl.span, f"{d} requests register ranges in probe, and is not the first "
                                f"driver {inst.decl.name} names", f"name {d} first, or keep it to devm_add_action")

    @staticmethod
    def _pair(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a < b else (b, a)

    # -- the bus's driver list --
    def on_register(self, driver: str) -> tuple:
        """bus_add_driver: klist_add_tail, so the driver goes behind every other one."""
        out = []
        for a, b in self.pairs:
            if driver == a:
                out.append((order_flag(a, b), Const(0)))
            elif driver == b:
                out.append((order_flag(a, b), Const(1)))
        return tuple(out)

    def ahead(self, x: str, y: str) -> Expr:
        a, b = self._pair(x, y)
        flag = eq(order_flag(a, b), 1)
        return flag if x == a else neg(flag)

    def orders(self, inst: "Instance") -> list[tuple[tuple[str, ...], Expr]]:
        cands = self.candidates(inst)
        if len(cands) == 1:
            return [(cands, TRUE)]
        return [(p, conj(*(self.ahead(p[i], p[j]) for i in range(len(p)) for j in range(i + 1, len(p)))))
                for p in permutations(cands)]

    # -- driver_match_device --
    def outcome(self, driver: ast.DriverDecl, device: Optional[str]) -> dict[str, Expr]:
        """The match block as conditions: {1: ..., 0: ..., -EPROBE_DEFER: ...}. Only `if`,
        blocks and `return 1;`, `return 0;`, `return -EPROBE_DEFER;` are allowed (E270)."""
        owner = self.c.driver_core.drivers[driver.name].owner
        frame = Frame(None, "match", module=owner, device=device)
        out = {MATCH: FALSE, NO_MATCH: FALSE, DEFERS: FALSE}
        rest = self._stmts(driver.match.stmts, TRUE, frame, out)
        if self.c.fold(rest) != FALSE:
            raise SpecError("E270", driver.match.span, f"the match of {driver.name} can reach its end without "
                            "returning", "end it with `return 1;` (match) or `return 0;` (no match)")
        return {k: self.c.fold(v) for k, v in out.items()}

    def _stmts(self, stmts, reach: Expr, frame: Frame, out: dict) -> Expr:
        for s in stmts:
            if self.c.fold(reach) == FALSE:
                raise SpecError("E270", s.span, "this statement of the match is never reached")
            if isinstance(s, ast.Return):
                out[self._returned(s)] = disj(out[self._returned(s)], reach)
                reach = FALSE
            elif isinstance(s, ast.If):
                c = self.c.exprs.cond(s.cond, frame)
                then = self._stmts(s.then.stmts if isinstance(s.then, ast.Block) else (s.then,),
                                   conj(reach, c), frame, out)
                if s.other is None:
                    other = conj(reach, neg(c))
                else:
                    branch = s.other.stmts if isinstance(s.other, ast.Block) else (s.other,)
                    other = self._stmts(branch, conj(reach, neg(c)), frame, out)
                reach = disj(then, other)
            elif isinstance(s, ast.Block):
                reach = self._stmts(s.stmts, reach, frame, out)
            else:
                raise SpecError("E270", s.span, "a match only tests and returns",
                                "write `if (...) return -EPROBE_DEFER;` and `return 1;` or `return 0;`: "
                                "the bus's match has no side effects the model keeps")
        return reach

    @staticmethod
    def _returned(s: ast.Return) -> str:
        v = s.value
        if isinstance(v, ast.Num) and v.value in (0, 1):
            return MATCH if v.value == 1 else NO_MATCH
        if isinstance(v, ast.Errno) and v.name == "EPROBE_DEFER":
            return DEFERS
        raise SpecError("E270", s.span, "a match returns 1 (match), 0 (no match) or -EPROBE_DEFER")

    def match(self, inst: "Instance", driver: str) -> tuple[Expr, Expr]:
        """driver_match_device(drv, dev): (it matches, it returns -EPROBE_DEFER)."""
        key = (inst.name, driver)
        if key in self._match_cache:
            return self._match_cache[key]
        decl = self.c.driver_core.drivers[driver].decl
        if driver not in inst.decl.all_drivers:
            table = (FALSE, FALSE)                   # only an override can bind it
        elif decl.match is None:
            table = (TRUE, FALSE)
        else:
            o = self.outcome(decl, inst.name)
            table = (o[MATCH], o[DEFERS])
        if inst.decl.name in self.overridden:
            ov = f"{inst.name}.driver_override"
            named = eq(ov, self.index(inst, driver) + 1)
            unset = eq(ov, 0)
            table = (disj(named, conj(unset, table[0])), conj(unset, table[1]))
        table = (self.c.fold(table[0]), self.c.fold(table[1]))
        self._match_cache[key] = table
        return table

    def may_defer(self, inst: "Instance") -> bool:
        return self.walks(inst) and any(self.match(inst, d)[1] != FALSE for d in self.candidates(inst))

    # -- binding --
    def bound_to(self, inst: "Instance", driver: str) -> Expr:
        """dev->driver == drv for a bound device."""
        bound = eq(f"{inst.name}.bound", 1)
        if not self.multi(inst):
            return bound
        return conj(bound, eq(f"{inst.name}.driver", self.index(inst, driver)))

    def on_bound(self, inst: "Instance", driver: str) -> tuple:
        return ((f"{inst.name}.driver", Const(self.index(inst, driver))),) if self.multi(inst) else ()

    def on_unbound(self, inst: "Instance") -> tuple:
        return ((f"{inst.name}.driver", Const(0)),) if self.multi(inst) else ()

    # -- the walks --
    def _deferred_by_match(self, inst: "Instance") -> tuple:
        """dev->can_match = true; driver_deferred_probe_add(dev)."""
        core = self.c.driver_core
        return self.c.devlinks.can_match(inst.name) + core._lists(lambda st: lists.add(st, inst.name))

    def walk(self, inst: "Instance", frame: Frame, at: int, nxt: int, how: str) -> None:
        """__device_attach: bus_for_each_drv(__device_attach_driver) under the device lock."""
        b, n = frame.b, inst.name
        for order, guard in self.orders(inst):
            cur = at
            if guard != TRUE:
                cur = b.new()
                b.edge(at, cur, f"{how}: bus_for_each_drv for {n}: {', '.join(order)} in registration order",
                       None, guard=guard)
            for d in order:
                after = b.new()
                self._try(inst, d, frame, cur, after, nxt, how, walk=True)
                cur = after
            b.edge(cur, nxt, f"{how}: no driver bound {n}", None)

    def driver_attach(self, inst: "Instance", driver: str, frame: Frame, at: int, nxt: int) -> None:
        """__driver_attach(dev, drv): match, then driver_probe_device; errors are dropped."""
        self._try(inst, driver, frame, at, nxt, nxt, "driver_attach", walk=False)

    def _try(self, inst: "Instance", d: str, frame: Frame, at: int, nxt: int, stop: int, how: str, *,
             walk: bool) -> None:
        """One driver: __device_attach_driver (walk) or __driver_attach (not walk)."""
        core, b, n = self.c.driver_core, frame.b, inst.name
        reg = eq(f"{d}.registered", 1)
        free = eq(f"{n}.locked", 0) if walk else TRUE      # __device_attach holds the device lock
        waits = core.device_lock_wait(n) if walk else None
        matches, defers = self.match(inst, d)
        if walk:
            b.edge(at, nxt, f"{how}: {d} is not on the bus's driver list", None, guard=neg(reg))
        else:
            # bus_for_each_dev walks the bus's devices: one not added is not there
            added = eq(f"{n}.added", 1)
            b.edge(at, nxt, f"{how}: {n} is not on the bus's device list", None, guard=neg(added))
            reg = added
        if matches != TRUE:
            b.edge(at, nxt, f"{how}: driver_match_device({d}, {n}) == 0: no match", None,
                   guard=conj(reg, free, neg(matches), neg(defers)), waits=waits)
        if defers != FALSE:
            then = "the walk stops" if walk else "driver_attach goes on"
            b.edge(at, stop, f"{how}: driver_match_device({d}, {n}) == -EPROBE_DEFER: {n} deferred, {then}",
                   None, guard=conj(reg, free, defers), waits=waits,
                   assigns=self._deferred_by_match(inst))
        probe = b.new()
        b.edge(at, probe, f"{how}: driver_match_device({d}, {n}): a match", None,
               guard=conj(reg, free, matches), waits=waits)
        core.probe(inst, frame, probe, stop, how, driver=d, failed_to=nxt if walk else None)

    # -- statements and queries --
    def statements(self) -> dict:
        return {"driver_override": self.driver_override}

    def queries(self) -> dict:
        return {"bound_to": self.q_bound_to}

    def _device_and_driver(self, call, frame, need_driver: bool):
        core = self.c.driver_core
        if len(call.args) not in ((2,) if need_driver else (1, 2)):
            want = "(DEVICE, DRIVER)" if need_driver else "(DEVICE, DRIVER) or (DEVICE)"
            raise SpecError("E204", call.span, f"{call.func} takes {want}")
        sym = self.c.exprs.symbol_arg(call, 0, ("device",), "a device")
        inst = next((i for i in core.instances if i.decl.name == sym.name), None)
        if inst is None or inst.decl.index_var:
            raise SpecError("E271", call.span, f"{call.func}() on a device array is not modelled",
                            "declare the device on its own: `device NAME : DRIVER;`")
        driver = self.c.exprs.symbol_arg(call, 1, ("driver",), "a driver").name if len(call.args) == 2 else None
        return inst, driver

    def driver_override(self, call, frame, at, nxt, target) -> None:
        """driver_set_override(dev, &pdev->driver_override, name): under device_lock; the next
        match (device_add, a deferred retry, driver registration, rescan) obeys it; a device
        already bound stays bound. `driver_override(d0);` clears it (an empty string)."""
        inst, driver = self._device_and_driver(call, frame, need_driver=False)
        value = 0 if driver is None else self.index(inst, driver) + 1
        core = self.c.driver_core
        label = f"driver_override({inst.name}, {driver})" if driver else f"driver_override({inst.name}): cleared"
        frame.b.edge(at, nxt, label + " (under the device lock)", call.span, guard=eq(f"{inst.name}.locked", 0),
                     assigns=((f"{inst.name}.driver_override", Const(value)),),
                     waits=core.device_lock_wait(inst.name))

    def q_bound_to(self, call, frame) -> Expr:
        inst, driver = self._device_and_driver(call, frame, need_driver=True)
        if driver not in self.candidates(inst):
            return FALSE
        return self.bound_to(inst, driver)
