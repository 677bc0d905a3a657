"""The driver core (kernel-semantics.md §3): registration, matching, probing, deferral,
async probing, device locks, devres and wait_for_device_probe."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import FALSE, TRUE, Const, Expr, Ite, Ref, Wait, conj, disj, eq, neg
from ..syntax import ast
from . import deferred as lists
from .context import ERRNO, Frame, internal
from .exprs import arity
from .program import ThreadBuilder

if TYPE_CHECKING:
    from .compile import Compiler

DEFER = ERRNO["EPROBE_DEFER"]
EBUSY = ERRNO["EBUSY"]
ASYNC_STATES = ("none", "queued", "running", "running, queued again")

DEFERRED_PROBE_ENABLE = internal("deferred_probe_enable")
DEFERRED_WORK_PENDING = internal("deferred_probe_work.pending")
DEFERRED_WORK_RUNNING = internal("deferred_probe_work.running")


@dataclass(frozen=True)
class Instance:
    """One device: a plain device, or one element of a device array (device d[r in KIND]);
    with `instances N`, each of the N struct devices of that name (copy 1 is the declared one)."""
    name: str
    decl: ast.DeviceDecl
    extent: Optional[str]
    copy: int = 1


def instance_names(decl: ast.DeviceDecl, extents) -> list[tuple[str, Optional[str], int]]:
    """(name, extent, copy) of every struct device a declaration stands for: `d`, `d[r]`, and
    with `instances N` the further copies `d#2`, `d[r]#2`, ... (platform_device_alloc'ed ones)."""
    out = []
    for ext in (extents if decl.index_var else [None]):
        base = f"{decl.name}[{ext}]" if ext is not None else decl.name
        out += [(base if k == 1 else f"{base}#{k}", ext, k) for k in range(1, decl.instances + 1)]
    return out


class DriverCore:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.drivers = {s.name: s for s in compiler.sym.of_kind("driver")}
        self.instances: list[Instance] = []
        self.devm_sites: dict[str, list[ast.Call]] = {d: [] for d in self.drivers}
        # devres entries other areas add: primitive -> undo(inst, site) giving (label, assigns)
        self.devres_undo: dict = {}
        self.allocated: set[str] = set()     # device names platform_device_add adds
        self.inlining: list[tuple[str, str]] = []   # (driver, device) of the probes being inlined

    def prescan(self, calls) -> None:
        self.allocated = {c.args[0].id for c in calls
                          if c.func == "platform_device_add" and c.args and isinstance(c.args[0], ast.Name)}

    # -- setup --
    def declare(self) -> None:
        ctx = self.c.ctx
        for sym in self.c.sym.of_kind("device"):
            decl = sym.decl
            for d in decl.all_drivers:
                self.c.sym.require(d, ("driver",), decl.span, "a driver")
            extents = self.c.resources.domain(decl.index_domain, decl.span) if decl.index_var else []
            for name, ext, k in instance_names(decl, extents):
                self.instances.append(Instance(name, decl, ext, k))
        for d in self.drivers:
            ctx.flag(f"{d}.registered")
            self.devm_sites[d] = _devm_calls(self.drivers[d].decl, {"devm_add_action", *self.devres_undo})
        for inst in self.instances:
            ctx.flag(f"{inst.name}.added", 1 if inst.decl.present and inst.copy == 1 else 0)
            if inst.copy == 1 and self.counts_instances(inst.decl):
                # How many of the name's struct devices were ever added (platform_device_add takes the next).
                ctx.var(self.used_var(inst), 0, inst.decl.instances, 1 if inst.decl.present else 0)
            ctx.flag(f"{inst.name}.bound")
            ctx.flag(f"{inst.name}.locked")
            ctx.flag(f"{inst.name}.probing")
            if self.may_defer(inst):
                ctx.var(f"{inst.name}.deferred", 0, 2, 0, labels=lists.LABELS)
                if lists.ordered(self._devices_on_lists()):
                    ctx.var(f"{inst.name}.dpos", 0, len(self.deferrable()), 0)   # place in its list
                ctx.flag(f"{inst.name}.trigger_seen")   # a trigger happened while it probed
            if self.may_be_async(inst):
                ctx.var(f"{inst.name}.async", 0, 3, 0, labels=ASYNC_STATES)
                ctx.flag(f"{inst.name}.async_driver")   # dev->p->async_driver is set
            for k, _ in enumerate(self.devres_sites(inst)):
                ctx.flag(f"{inst.name}.devres{k}")
        if self.deferrable():
            ctx.flag(DEFERRED_PROBE_ENABLE)
            ctx.flag(DEFERRED_WORK_PENDING)
            ctx.flag(DEFERRED_WORK_RUNNING)

    def counts_instances(self, decl: ast.DeviceDecl) -> bool:
        return decl.instances > 1 or decl.name in self.allocated

    def used_var(self, inst: Instance) -> str:
        """The counter of a name's instances ever added, kept under its first instance."""
        first = inst.name if inst.copy == 1 else inst.name.rsplit("#", 1)[0]
        return f"{first}.instances_used"

    def copies(self, inst: Instance) -> list[Instance]:
        """Every instance of inst's name (same declaration and range), first to last."""
        return [i for i in self.instances if i.decl is inst.decl and i.extent == inst.extent]

    def driver_of(self, inst: Instance):
        return self.drivers[inst.decl.driver].decl

    def drivers_of(self, inst: Instance) -> tuple[str, ...]:
        """Every driver that can bind the device (matching.py: several, or an override's)."""
        return self.c.matching.candidates(inst)

    def devres_sites(self, inst: Instance) -> list[ast.Call]:
        """The devres entries of the device: each driver's probe call sites, one after the other."""
        return [s for d in self.drivers_of(inst) for s in self.devm_sites[d]]

    def may_defer(self, inst: Instance) -> bool:
        """The probe can return -EPROBE_DEFER: the driver says so, or probing can be blocked
        (device_block_probing during a suspend or a reboot)."""
        if self.c.pm.probe_blocked() is not None or self.c.devlinks.defers(inst.name):
            return True
        if self.c.matching.may_defer(inst):
            return True
        probes = [self.drivers[d].decl.probe for d in self.drivers_of(inst)]
        return any(p is not None and _may_return_defer(p.body) for p in probes)

    def deferrable(self) -> list[Instance]:
        return [i for i in self.instances if self.may_defer(i)]

    def async_expr(self, driver: str) -> Expr:
        """Whether probing is asynchronous (§3.3 driver_allows_async_probing)."""
        decl = self.drivers[driver].decl
        if decl.probe_type == "prefer_async":
            return TRUE
        if decl.probe_type == "force_sync":
            return FALSE
        module = self.c.sym.get(self.drivers[driver].owner)
        if module is not None and module.decl.async_probe is not None and not module.decl.is_object:
            # The async_probe module parameter exists only for a module that is loaded (§3.3).
            requested = self.c.exprs.cond(module.decl.async_probe, Frame(None, "module"))
            return self.c.fold(conj(self.c.modules.loadable(module.decl), requested))
        return FALSE

    def may_be_async(self, inst: Instance) -> bool:
        return self.async_expr(inst.decl.driver) != FALSE

    def of_driver(self, driver: str) -> list[Instance]:
        return [i for i in self.instances if driver in self.drivers_of(i)]

    def all_async_done(self) -> Expr:
        return conj(*(eq(f"{i.name}.async", 0) for i in self.instances if self.may_be_async(i)))

    # -- the probe itself (§3.2) --
    def probe(self, inst: Instance, frame: Frame, at: int, nxt: int, how: str, *,
              counted: bool = True, async_driver: bool = False, driver: Optional[str] = None,
              failed_to: Optional[int] = None) -> None:
        """One probe of inst by its driver, inlined at one call site (drivers/base/dd.c).

        counted: driver_probe_device (probe_count, and -EPROBE_DEFER parks the device); False
        for __driver_probe_device alone, as sysfs bind (device_driver_attach) calls it.
        async_driver: __driver_attach_async_helper, which probes the driver stored in
        dev->p->async_driver without looking at the bus's driver list; every other path
        finds the driver on that list, so only a registered driver probes.
        driver: which of the device's drivers probes (matching.py); failed_to: where a failed
        probe goes (the next driver of the walk; nxt when None)."""
        b, n = frame.b, inst.name
        d = driver or inst.decl.driver
        decl = self.drivers[d].decl
        registered = eq(f"{d}.registered", 1)
        taken = ()
        if async_driver:
            registered = disj(registered, eq(f"{n}.async_driver", 1))
            taken = ((f"{n}.async_driver", Const(0)),)    # the helper takes the stored driver
        can = conj(eq(f"{n}.added", 1), eq(f"{n}.bound", 0), registered)
        rc = self.c.ctx.local(f"rc:{n}", 0, len(ERRNO), labels=_rc_labels())
        body = b.new()
        free = eq(f"{n}.locked", 0)
        b.edge(at, nxt, f"{how}: {n} is not added, nothing to probe", None,
               guard=conj(free, eq(f"{n}.added", 0)), assigns=taken)
        b.edge(at, nxt, f"{how}: {n} is already bound, -EBUSY", None,
               guard=conj(free, eq(f"{n}.added", 1), eq(f"{n}.bound", 1)), assigns=taken)
        b.edge(at, nxt, f"{how}: {d} is not registered, nothing to probe", None,
               guard=conj(free, eq(f"{n}.added", 1), eq(f"{n}.bound", 0), neg(registered)), assigns=taken)
        blocked = self.c.pm.probe_blocked()
        if blocked is not None:
            # really_probe returns -EPROBE_DEFER; driver_probe_device parks it (a sysfs bind does not).
            parked = self._lists(lambda st: lists.add(st, n)) if counted else ()
            b.edge(at, nxt, f"{how}: probing is blocked (defer_all_probes): {n} deferred", None,
                   guard=conj(free, can, blocked), assigns=parked + taken + self.c.devlinks.can_match(n))
            can = conj(can, neg(blocked))
        links_ok, links_on_ok, links_on_defer = self.c.devlinks.check_suppliers(n)
        if links_ok != TRUE:
            # really_probe: device_links_check_suppliers returns -EPROBE_DEFER before the probe runs.
            parked = self._lists(lambda st: lists.add(st, n)) if counted else ()
            b.edge(at, nxt, f"{how}: device_links_check_suppliers({n}): a supplier is not ready, -EPROBE_DEFER"
                   + ("" if counted else " (-EAGAIN to the caller, nothing parked)"), None,
                   guard=conj(free, can, neg(links_ok)), assigns=links_on_defer + parked + taken)
        lock, lockdep = self.c.locks.device_acquire(n, b)
        counts = ((f"{n}.probing", Const(1)),) if counted else ()
        b.edge(at, body, f"{how}: {d}.probe({n}) starts (device locked)", decl.span,
               guard=conj(eq(f"{n}.locked", 0), can, links_ok), checks=lockdep, waits=self.device_lock_wait(n),
               assigns=lock + ((rc, Const(0)),) + counts + taken + links_on_ok
               + (((f"{n}.trigger_seen", Const(0)),) if counted and self.may_defer(inst) else ())
               + self.c.devdata.allocate(n))
        post = b.new()

        def run_probe(start: int, end: int) -> None:
            if decl.probe is None:
                b.edge(start, end, "", None)
                return
            inner = Frame(b, "probe", module=self.drivers[d].owner, device=n, ret=end, rc=rc,
                          loading=frame.loading)
            if decl.probe.param:
                if inst.extent is None:
                    raise SpecError("E202", decl.probe.span,
                                    f"probe({decl.probe.param}) needs a device array, and {n} is a single device",
                                    f"declare it as `device {inst.decl.name}[r in soft_reserved] : {d};`")
                inner = inner.bind(decl.probe.param, ("extent", inst.extent))
            if (d, n) in self.inlining:
                # every call site inlines the probe it can reach: a probe that reaches itself never ends
                chain = " -> ".join(f"{drv}.probe({dev})" for drv, dev in
                                    self.inlining[self.inlining.index((d, n)):] + [(d, n)])
                raise SpecError("E273", decl.probe.span, f"the probe of {d} for {n} is reached from inside "
                                f"itself: {chain}", "register the driver or add the device outside the probe "
                                "(in init, or in a work item the probe queues)")
            self.inlining.append((d, n))
            try:
                self.c.stmts.block(decl.probe.body, inner, start, end)
            finally:
                self.inlining.pop()

        # CONFIG_DEBUG_TEST_DRIVER_REMOVE: remove, devres release and a second probe (debug_remove.py)
        run_probe(body, self.c.debug_remove.probed(inst, d, frame, rc, post, run_probe))
        failed = b.new()
        b.edge(post, nxt, f"{d}.probe({n}) returned 0: bound", None, guard=eq(rc, 0),
               assigns=((f"{n}.bound", Const(1)), (f"{n}.locked", Const(0)), (f"{n}.probing", Const(0)))
               + self.c.matching.on_bound(inst, d) + self.bound_assigns(inst))
        b.edge(post, failed, f"{d}.probe({n}) failed: release devres", None, guard=neg(eq(rc, 0)),
               assigns=self.c.devlinks.probe_failed(n))
        done = b.new()
        self.release_devres(inst, b, failed, done, frame.loading, driver=d)
        parked = self._park(inst, rc) if counted else ()
        b.edge(done, nxt if failed_to is None else failed_to, f"{d}.probe({n}) failed, device unlocked"
               + ("" if counted else " (-EPROBE_DEFER reaches the caller as -EAGAIN, nothing parked)"), None,
               assigns=((f"{n}.locked", Const(0)), (f"{n}.probing", Const(0)), (rc, Const(0))) + parked,
               checks=self.c.devdata.freed_check(f"probe of {n} failed and its driver data is freed", device=n))

    def _devices_on_lists(self) -> list[str]:
        return [i.name for i in self.deferrable()]

    def _lists(self, build) -> tuple:
        """Assignments for one atomic change of the deferred lists (build: ListState -> ListState)."""
        names = self._devices_on_lists()
        if not names:
            return ()
        return build(lists.ListState.now(names)).assigns(names)

    def bound_assigns(self, inst: Instance) -> tuple:
        """driver_bound: off the deferred lists (driver_deferred_probe_del), then trigger."""
        on = eq(DEFERRED_PROBE_ENABLE, 1)
        mine = self.may_defer(inst)
        # device_links_driver_bound first: it may put autoprobe consumers on the pending list.
        links = self.c.devlinks
        moved = self._lists(lambda s: lists.trigger(lists.delete(links.autoprobe(s, inst.name), inst.name)
                                                    if mine else links.autoprobe(s, inst.name), on))
        return links.bound(inst.name) + moved + self._trigger_side(on, exclude=inst)

    def trigger_assigns(self, exclude: Optional[Instance] = None) -> tuple:
        """driver_deferred_probe_trigger as one step: once deferred probing is enabled, the
        pending list moves to the tail of the active list and the retry work is queued."""
        on = eq(DEFERRED_PROBE_ENABLE, 1)
        return self._lists(lambda st: lists.trigger(st, on)) + self._trigger_side(on, exclude)

    def _off_deferred_list(self, inst: Instance) -> tuple:
        return self._lists(lambda s: lists.delete(s, inst.name)) if self.may_defer(inst) else ()

    def _park(self, inst: Instance, rc: str) -> tuple:
        """driver_probe_device on -EPROBE_DEFER: driver_deferred_probe_add (pending list tail,
        unless already on a list); if a trigger happened while it probed (deferred_trigger_count
        changed), trigger again (drivers/base/dd.c)."""
        if not self.may_defer(inst):
            return ()
        deferred = eq(rc, DEFER)
        again = conj(deferred, eq(f"{inst.name}.trigger_seen", 1), eq(DEFERRED_PROBE_ENABLE, 1))
        moved = self._lists(lambda s: lists.trigger(lists.add(s, inst.name, deferred), again))
        return moved + self._trigger_side(again, exclude=inst)

    def _trigger_side(self, when: Expr, exclude: Optional[Instance] = None) -> tuple:
        """What a trigger does besides moving the lists: deferred_trigger_count changes (seen by
        every probe in flight) and the deferred-probe work is queued."""
        if not self.deferrable():
            return ()
        out = [(f"{i.name}.trigger_seen", Ite(when, Const(1), Ref(f"{i.name}.trigger_seen")))
               for i in self.deferrable() if i != exclude]
        out.append((DEFERRED_WORK_PENDING, Ite(when, Const(1), Ref(DEFERRED_WORK_PENDING))))
        return tuple((v, self.c.fold(e)) for v, e in out)

    def release_devres(self, inst: Instance, b: ThreadBuilder, at: int, nxt: int, loading=(),
                       driver: Optional[str] = None) -> None:
        """devres_release_all: actions run last-registered first (§3.6)."""
        driver = driver or inst.decl.driver
        everything = self.devres_sites(inst)
        sites = self.devm_sites[driver]
        base = everything.index(sites[0]) if sites else 0     # driver's first entry among the device's
        for k in reversed(range(len(sites))):
            flag = f"{inst.name}.devres{base + k}"
            if sites[k].func in self.devres_undo:
                after = nxt if k == 0 else b.new()
                label, undo = self.devres_undo[sites[k].func](inst, sites[k])
                b.edge(at, after, label, sites[k].span, guard=eq(flag, 1), assigns=((flag, Const(0)),) + undo)
                b.edge(at, after, f"devres: {sites[k].func} of {inst.name} was not registered here", None,
                       guard=eq(flag, 0))
                at = after
                continue
            fn = sites[k].args[0].id
            run, after = b.new(), (nxt if k == 0 else b.new())
            b.edge(at, run, f"devres: release action {fn}() of {inst.name}", sites[k].span,
                   guard=eq(flag, 1), assigns=((flag, Const(0)),))
            b.edge(at, after, f"devres: no action {fn}() registered for {inst.name}", None, guard=eq(flag, 0))
            fn_decl = self.c.sym.require(fn, ("fn",), sites[k].span, "a function").decl
            frame = Frame(b, "fn", module=self.drivers[driver].owner, device=inst.name,
                          ret=after, stack=(fn,), loading=loading)
            if fn_decl.param:
                frame = frame.bind(fn_decl.param, ("extent", self._devm_arg(sites[k], inst)))
            self.c.stmts.block(fn_decl.body, frame, run, after)
            at = after
        if not sites:
            b.edge(at, nxt, "", None)

    def _devm_arg(self, call: ast.Call, inst: Instance) -> str:
        if len(call.args) < 2 or inst.extent is None:
            raise SpecError("E204", call.span, "this action takes the device's range: devm_add_action(fn, r)")
        return inst.extent

    def unbind(self, inst: Instance, frame: Frame, at: int, nxt: int, how: str, only: Optional[str] = None) -> None:
        """device_release_driver: remove(), then devres release, under the device lock.
        only: driver_detach(drv), which releases the device only if dev->driver == drv."""
        b, n = frame.b, inst.name
        drivers = (only,) if only else self.drivers_of(inst)
        if len(self.drivers_of(inst)) == 1:
            bound = {d: eq(f"{n}.bound", 1) for d in drivers}
            b.edge(at, nxt, f"{how}: {n} is not bound", None,
                   guard=conj(eq(f"{n}.locked", 0), eq(f"{n}.bound", 0)))
        else:
            bound = {d: self.c.matching.bound_to(inst, d) for d in drivers}
            b.edge(at, nxt, f"{how}: {n} is not bound" + (f" to {only}" if only else ""), None,
                   guard=conj(eq(f"{n}.locked", 0), neg(disj(*bound.values()))))
        for d in drivers:
            self._release(inst, frame, at, nxt, how, d, bound[d])

    def _release(self, inst: Instance, frame: Frame, at: int, nxt: int, how: str, d: str, bound: Expr) -> None:
        """__device_release_driver of a device bound to d."""
        b, n = frame.b, inst.name
        decl = self.drivers[d].decl
        start = b.new()
        lock, lockdep = self.c.locks.device_acquire(n, b)
        b.edge(at, start, f"{how}: {d}.remove({n}) (device locked)", decl.span,
               guard=conj(eq(f"{n}.locked", 0), bound), assigns=lock, checks=lockdep,
               waits=self.device_lock_wait(n))
        start = self.c.devlinks.release_consumers(inst, frame, start, nxt, how)
        released = b.new()
        after_remove = start
        if decl.remove is not None:
            after_remove = b.new()
            inner = Frame(b, "remove", module=self.drivers[d].owner, device=n, ret=after_remove,
                          loading=frame.loading)
            self.c.stmts.block(decl.remove, inner, start, after_remove)
        cleanup = self.c.devlinks.driver_cleanup(n)
        if cleanup:
            after_remove = b.step(after_remove, f"device_links_driver_cleanup({n})", None, assigns=cleanup)
        self.release_devres(inst, b, after_remove, released, frame.loading, driver=d)
        b.edge(released, nxt, f"{n} unbound from {d}", None,
               assigns=((f"{n}.bound", Const(0)), (f"{n}.locked", Const(0))) + self.c.matching.on_unbound(inst),
               checks=self.c.devdata.freed_check(f"{d}.remove({n}) returned and its driver data is freed", device=n))

    def attach(self, inst: Instance, frame: Frame, at: int, nxt: int, how: str, *, by_driver: bool = False) -> None:
        """Probe now, or hand the device to an async probe thread (§3.1).

        by_driver: __driver_attach (driver registration), which stores the driver in
        dev->p->async_driver, unless one is stored already, and schedules
        __driver_attach_async_helper; otherwise __device_attach, which schedules
        __device_attach_async_helper (it scans the bus's drivers again)."""
        if self.c.matching.walks(inst):
            self.c.matching.walk(inst, frame, at, nxt, how)      # synchronous only (E271)
            return
        asynchronous = self.async_expr(inst.decl.driver)
        if asynchronous == FALSE:
            self.probe(inst, frame, at, nxt, how)
            return
        sync, n = frame.b.new(), inst.name
        free = eq(f"{n}.locked", 0)                        # both paths look under device_lock
        if by_driver:
            wanted = conj(eq(f"{n}.bound", 0), eq(f"{n}.added", 1), eq(f"{n}.async_driver", 0))
            stored = ((f"{n}.async_driver", Const(1)),)
        else:
            wanted = conj(eq(f"{n}.bound", 0), eq(f"{n}.added", 1), eq(f"{inst.decl.driver}.registered", 1))
            stored = ()
        # A request made while an async pass runs is kept (3) and runs after it (§3.1 async_schedule_dev).
        queued = Ite(eq(f"{n}.async", 0), Const(1), Ite(eq(f"{n}.async", 2), Const(3), Ref(f"{n}.async")))
        frame.b.edge(at, nxt, f"{how}: {n} queued for async probe", None, guard=conj(asynchronous, free, wanted),
                     assigns=((f"{n}.async", queued),) + stored)
        nothing = ("not added, already bound or already queued with its driver" if by_driver
                   else "not added, already bound or no driver")
        frame.b.edge(at, nxt, f"{how}: {n} {nothing}: nothing to probe", None,
                     guard=conj(asynchronous, free, neg(wanted)))
        frame.b.edge(at, sync, f"{how}: {n} probed synchronously", None, guard=neg(asynchronous))
        self.probe(inst, frame, sync, nxt, how)

    # -- statements --
    def statements(self) -> dict:
        return {"register_driver": self.register_driver, "unregister_driver": self.unregister_driver,
                "device_add": self.device_add, "device_del": self.device_del,
                "platform_device_add": self.platform_device_add,
                "bus_rescan": self.bus_rescan, "wait_for_device_probe": self.wait_for_device_probe,
                "device_lock": self.device_lock, "device_unlock": self.device_unlock,
                "devm_add_action": self.devm_add_action, "bind": self.bind, "unbind": self.unbind_stmt}

    def queries(self) -> dict:
        return {"bound": self.q_bound, "registered": self.q_registered,
                "device_is_registered": self.q_device_is_registered}

    def device_arg(self, call: ast.Call, frame: Frame, several: bool = False) -> Instance:
        """The device a call names (its first instance). several: the call is one that takes a
        name with `instances N` (device_add, platform_device_add, device_del, unbind, bound);
        any other names one struct device, so a name with several instances is E237."""
        arity(call, 1, 2)
        sym = self.c.exprs.symbol_arg(call, 0, ("device",), "a device")
        ext = self.c.exprs.extent_arg(call, 1, frame) if len(call.args) == 2 else None
        if sym.decl.instances > 1 and not several:
            raise SpecError("E237", call.span, f"{call.func}() names one struct device, and {sym.name} is declared "
                            f"with instances {sym.decl.instances}",
                            "declare the device without `instances`, or use device_del/unbind/bound, "
                            "which take every instance")
        for inst in self.instances:
            if inst.decl.name == sym.name and inst.extent == ext and inst.copy == 1:
                return inst
        if ext is None:
            raise SpecError("E204", call.span, f"{sym.name} is a device array; name the element: "
                            f"{call.func}({sym.name}, r)")
        raise SpecError("E202", call.span, f"{sym.name} has no element for {ext}")

    def driver_arg(self, call: ast.Call) -> str:
        arity(call, 1)
        return self.c.exprs.symbol_arg(call, 0, ("driver",), "a driver").name

    def q_bound(self, call, frame) -> Expr:
        """bound(d): d's driver is bound to it; with `instances N`, to any of its instances."""
        return disj(*(eq(f"{i.name}.bound", 1) for i in self.copies(self.device_arg(call, frame, several=True))))

    def q_device_is_registered(self, call, frame) -> Expr:
        """device_is_registered(d): d is added, between its device_add and its device_del
        (include/linux/device.h `device_is_registered`: `dev->kobj.state_in_sysfs`, set by
        kobject_add in drivers/base/core.c device_add, cleared by kobject_del at the end of
        device_del, after the driver is released); with `instances N`, any of its instances."""
        return disj(*(self.c.devlinks.registered(i.name) for i in self.copies(self.device_arg(call, frame, several=True))))

    def q_registered(self, call, frame) -> Expr:
        return eq(f"{self.driver_arg(call)}.registered", 1)

    def register_driver(self, call, frame, at, nxt, target) -> None:
        d = self.driver_arg(call)
        at = frame.b.step(at, f"register_driver({d})", call.span,
                          assigns=((f"{d}.registered", Const(1)),) + self.c.matching.on_register(d))
        self._each(self.of_driver(d), frame, at, nxt, lambda i, a, n: self.c.parents.locked(
            i, frame, a, n, "driver_attach", unbind=False,
            emit=lambda a2, n2: self.c.matching.driver_attach(i, d, frame, a2, n2) if self.c.matching.walks(i)
            else self.attach(i, frame, a2, n2, "driver_attach", by_driver=True)))

    def unregister_driver(self, call, frame, at, nxt, target) -> None:
        """bus_remove_driver: off the bus's driver list first, so nothing new binds to it,
        then driver_detach of every bound device (drivers/base/bus.c)."""
        d = self.driver_arg(call)
        at = frame.b.step(at, f"unregister_driver({d}): off the bus, no new matches", call.span,
                          assigns=((f"{d}.registered", Const(0)),))
        if self.async_expr(d) != FALSE:
            # driver_detach first waits for outstanding async probes (§3.3).
            at = frame.b.step(at, f"driver_detach({d}): async_synchronize_full()", call.span,
                              guard=self.all_async_done(), waits=self.async_wait())
        self._each(self.of_driver(d), frame, at, nxt, lambda i, a, n: self.c.parents.locked(
            i, frame, a, n, "driver_detach", unbind=True,
            emit=lambda a2, n2: self.unbind(i, frame, a2, n2, "driver_detach", only=d)))

    def _each(self, items, frame, at, nxt, emit) -> None:
        if not items:
            frame.b.edge(at, nxt, "", None)
        for k, inst in enumerate(items):
            after = nxt if k == len(items) - 1 else frame.b.new()
            emit(inst, at, after)
            at = after

    def device_add(self, call, frame, at, nxt, target) -> None:
        """drivers/base/core.c device_add: kobject_add puts the device in sysfs, then
        bus_probe_device. On a device that is added already, kobject_add_internal -> create_dir
        -> sysfs_create_dir_ns fails with -EEXIST (sysfs_warn_dup: "cannot create duplicate
        filename", a stack dump) and device_add returns the error without probing: the
        check device_added_twice. With `instances N`, device_add adds the first instance."""
        self.c.hotplug.reject_code_on(call, frame)
        inst = self.device_arg(call, frame, several=True)
        at = self.c.parents.device_add(inst, frame, at, nxt, call.span)
        added = eq(f"{inst.name}.added", 1)
        check = self.c.ctx.check("device_added_twice", neg(added),
                                 f"device_add({inst.name}) of a device that is added already: "
                                 "kobject_add fails with -EEXIST")
        used = ((self.used_var(inst), Ite(eq(self.used_var(inst), 0), Const(1), Ref(self.used_var(inst)))),) \
            if self.counts_instances(inst.decl) else ()
        frame.b.edge(at, nxt, f"device_add({inst.name}): kobject_add fails with -EEXIST, {inst.name} is "
                     "added already", call.span, guard=added, checks=(check,))
        self.add_device(inst, frame, at, nxt, call.span, guard=neg(added), checks=(check,), extra=used)

    def add_device(self, inst: Instance, frame: Frame, at: int, nxt: int, span, *, guard: Expr = TRUE,
                   label: str = "", extra: tuple = (), checks: tuple = ()) -> None:
        """drivers/base/core.c device_add: on the bus and dpm_list, then bus_probe_device.
        guard, label, extra: a hotplug add (semantics/hotplug.py) waits for the platform's
        choice and raises the KOBJ_ADD uevent in the same step; checks: device_add's
        device_added_twice."""
        at = frame.b.step(at, label or f"device_add({inst.name})", span, guard=guard, checks=checks,
                          assigns=((f"{inst.name}.added", Const(1)),) + self.c.pm.on_device_add(inst)
                          + self.c.devlinks.on_device_add(inst.name) + extra)
        self.attach(inst, frame, at, nxt, "bus_probe_device")

    def platform_device_add(self, call, frame, at, nxt, target) -> None:
        """platform_device_alloc + platform_device_add (drivers/base/platform.c), as
        __hmem_register_device (drivers/dax/hmem/hmem.c) does for each range it registers:
        a new struct device each time, added and probed as device_add does. The spec bounds
        how many there can be (`instances N`); a run that needs one more is reported as the
        property device_instances, not cut silently."""
        self.c.hotplug.reject_code_on(call, frame)
        first = self.device_arg(call, frame, several=True)
        used = self.used_var(first)
        copies = self.copies(first)
        bound = self.c.ctx.check("device_instances", neg(eq(used, len(copies))),
                                 f"platform_device_add({first.decl.name}): all {len(copies)} instances the spec "
                                 f"declares for {first.name} are used; raise `instances` on device "
                                 f"{first.decl.name}")
        for k, inst in enumerate(copies):
            mine = eq(used, k)
            after = frame.b.new()
            frame.b.edge(at, after, f"platform_device_add({inst.name}): a new struct device, added", call.span,
                         guard=mine, checks=(bound,), assigns=((used, Const(k + 1)), (f"{inst.name}.added", Const(1)))
                         + self.c.pm.on_device_add(inst) + self.c.devlinks.on_device_add(inst.name))
            self.attach(inst, frame, after, nxt, "bus_probe_device")
        frame.b.edge(at, nxt, f"platform_device_add({first.name}): no instance left (the spec's bound)",
                     call.span, guard=eq(used, len(copies)), checks=(bound,))

    def device_del(self, call, frame, at, nxt, target) -> None:
        self.c.hotplug.reject_code_on(call, frame)
        first = self.device_arg(call, frame, several=True)
        self._each(self.copies(first), frame, at, nxt, lambda i, a, n: self.del_device(i, frame, a, n, call.span))

    def del_device(self, inst: Instance, frame: Frame, at: int, nxt: int, span, *, guard: Expr = TRUE,
                   label: str = "") -> None:
        """drivers/base/core.c device_del: kill_device under the device lock first (a probe
        that comes later sees dev->p->dead and fails with -ENODEV), then bus_remove_device
        unbinds the driver, then driver_deferred_probe_del."""
        killed, unbound = frame.b.new(), frame.b.new()
        frame.b.edge(at, killed, label or f"device_del({inst.name}): kill_device (under the device lock)", span,
                     guard=conj(guard, eq(f"{inst.name}.locked", 0)), assigns=((f"{inst.name}.added", Const(0)),))
        self.unbind(inst, frame, killed, unbound, "device_del")
        frame.b.edge(unbound, nxt, f"device_del({inst.name}): off the deferred list", span,
                     assigns=self._off_deferred_list(inst) + self.c.pm.on_device_del(inst)
                     + self.c.devlinks.purge(inst.name))

    def bind(self, call, frame, at, nxt, target) -> None:
        """bind_store -> device_driver_attach -> __driver_probe_device: not counted in
        probe_count, and -EPROBE_DEFER parks nothing (userspace gets -EAGAIN)."""
        inst = self.device_arg(call, frame)
        if self.c.matching.walks(inst):
            raise SpecError("E271", call.span, f"sysfs bind of {inst.name}, which has several drivers, an override "
                            "or a match block, is not modelled", "write the bind in a spec with one driver")
        self.c.parents.locked(inst, frame, at, nxt, "bind (sysfs)", unbind=False,
                              emit=lambda a, n: self.probe(inst, frame, a, n, "bind (sysfs)", counted=False))

    def unbind_stmt(self, call, frame, at, nxt, target) -> None:
        first = self.device_arg(call, frame, several=True)
        self._each(self.copies(first), frame, at, nxt, lambda i, a, n: self.c.parents.locked(
            i, frame, a, n, "unbind (sysfs)", unbind=True,
            emit=lambda a2, n2: self.unbind(i, frame, a2, n2, "unbind (sysfs)")))

    def bus_rescan(self, call, frame, at, nxt, target) -> None:
        """bus_rescan_devices: device_attach on every unbound device, always synchronously (§3.1)."""
        d = self.driver_arg(call)
        at = frame.b.step(at, f"bus_rescan_devices (driver {d})", call.span)
        self._each(self.of_driver(d), frame, at, nxt, lambda i, a, n: self.c.parents.locked(
            i, frame, a, n, "bus_rescan_devices_helper", unbind=False, rescan=True,
            emit=lambda a2, n2: self.c.matching.walk(i, frame, a2, n2, "device_attach") if self.c.matching.walks(i)
            else self.probe(i, frame, a2, n2, "device_attach")))

    def wait_for_device_probe(self, call, frame, at, nxt, target) -> None:
        """§3.4: flush the current deferred pass, wait for probe_count == 0, then async_synchronize_full."""
        arity(call, 0)
        self.wait_for_probes(frame.b, at, nxt, call.span)

    def wait_for_probes(self, b: ThreadBuilder, at: int, nxt: int, span) -> None:
        """The steps of wait_for_device_probe, from any code that waits for it."""
        if self.deferrable():
            at = b.step(at, "wait_for_device_probe: flush_work(deferred_probe_work)", span,
                        guard=conj(eq(DEFERRED_WORK_PENDING, 0), eq(DEFERRED_WORK_RUNNING, 0)),
                        waits=self.deferred_pass_wait())
        no_probe = conj(*(eq(f"{i.name}.probing", 0) for i in self.instances))
        last = nxt
        if self.all_async_done() != TRUE:
            last = b.new()
        b.edge(at, last, "wait_for_device_probe: probe_count == 0", span, guard=no_probe,
               waits=Wait("probe_count", "probe_count == 0: no probe in progress",
                          tuple(f"{i.name}.probing" for i in self.instances)))
        if last != nxt:
            b.edge(last, nxt, "wait_for_device_probe: async_synchronize_full()", span,
                   guard=self.all_async_done(), waits=self.async_wait())

    # -- what the waits of this module wait for (ir.Wait, for counterexample reports) --
    def device_lock_wait(self, n: str) -> Wait:
        return Wait(f"device_lock({n})", f"{n}'s device lock is free", (f"{n}.locked",))

    def async_wait(self) -> Wait:
        return Wait("async_synchronize_full()", "every asynchronous probe has finished",
                    tuple(f"{i.name}.async" for i in self.instances if self.may_be_async(i)))

    def deferred_pass_wait(self) -> Wait:
        return Wait("work deferred_probe_work", "the deferred-probe pass has finished",
                    (DEFERRED_WORK_PENDING, DEFERRED_WORK_RUNNING))

    def device_lock(self, call, frame, at, nxt, target) -> None:
        inst = self.device_arg(call, frame)
        self.lock_device(inst.name, frame, at, nxt, f"device_lock({inst.name})", call.span)

    def device_unlock(self, call, frame, at, nxt, target) -> None:
        inst = self.device_arg(call, frame)
        self.unlock_device(inst.name, frame, at, nxt, f"device_unlock({inst.name})", call.span)

    def lock_device(self, name: str, frame, at: int, nxt: int, label: str, span) -> None:
        """include/linux/device.h device_lock: mutex_lock(&dev->mutex); waits while it is held."""
        lock, lockdep = self.c.locks.device_acquire(name, frame.b)
        frame.b.edge(at, nxt, label, span, guard=eq(f"{name}.locked", 0),
                     assigns=lock, checks=lockdep, waits=self.device_lock_wait(name))

    def unlock_device(self, name: str, frame, at: int, nxt: int, label: str, span, guard: Expr = TRUE) -> None:
        """include/linux/device.h device_unlock: mutex_unlock(&dev->mutex)."""
        frame.b.edge(at, nxt, label, span, guard=guard, assigns=((f"{name}.locked", Const(0)),),
                     checks=self.c.locks.device_release_checks(name, frame.b))

    def devm_add_action(self, call, frame, at, nxt, target) -> None:
        if frame.context == "probe" and frame.device is None and frame.b.kind == "lint":
            return frame.b.edge(at, nxt, "", None)   # the probe of a driver with no device: nothing to record
        if frame.context != "probe" or frame.device is None:
            raise SpecError("E212", call.span, "devm_add_action() belongs in a probe body",
                            "register devres actions from probe; they run when probe fails or on unbind")
        inst = next(i for i in self.instances if i.name == frame.device)
        k = self.devres_index(inst, call)
        fn = call.args[0].id
        frame.b.edge(at, nxt, f"devm_add_action({fn})", call.span, assigns=((f"{inst.name}.devres{k}", Const(1)),))

    def devres_index(self, inst: Instance, call: ast.Call) -> int:
        """Which devres entry of the device a devm_* call site records (its `devres{k}` flag)."""
        return next(k for k, s in enumerate(self.devres_sites(inst)) if s.span == call.span)

    # -- kernel threads --
    def build_threads(self) -> None:
        for inst in self.instances:
            if self.may_be_async(inst):
                self.c.ctx.threads.append(self._async_thread(inst))
        if self.deferrable():
            self.c.ctx.threads.append(self._deferred_worker())

    def _async_thread(self, inst: Instance):
        b = self.c.thread(f"async:{inst.name}", "async")
        b.mark_rest(0)
        start, done = b.new(), b.new()
        flag = f"{inst.name}.async"
        b.edge(0, start, f"async probe of {inst.name} starts", None, guard=eq(flag, 1),
               assigns=((flag, Const(2)),))
        self.probe(inst, Frame(b, "async"), start, done, "async probe", async_driver=True)
        b.edge(done, 0, f"async probe of {inst.name} finished", None,
               assigns=((flag, Ite(eq(flag, 3), Const(1), Const(0))),))
        return b.finish(b.new())

    def _deferred_worker(self):
        """deferred_probe_work_func: while the active list is not empty, take its first device
        off it (list_first_entry, list_del_init) and retry it with bus_probe_device."""
        b = self.c.thread("kworker (deferred_probe_work)", "worker")
        b.mark_rest(0)
        loop = b.step(0, "deferred_probe_work starts", None, guard=eq(DEFERRED_WORK_PENDING, 1),
                      assigns=((DEFERRED_WORK_PENDING, Const(0)), (DEFERRED_WORK_RUNNING, Const(1))))
        frame = Frame(b, "work")
        for inst in self.deferrable():
            retry = b.new()
            b.edge(loop, retry, f"deferred probe: retry {inst.name} (first on the active list)", None,
                   guard=lists.first_active(inst.name, self._devices_on_lists()), assigns=self._off_deferred_list(inst))
            self.attach(inst, frame, retry, loop, "deferred retry")
        b.edge(loop, 0, "deferred_probe_work done: the active list is empty", None,
               guard=lists.none_active(self._devices_on_lists()),
               assigns=((DEFERRED_WORK_RUNNING, Const(0)),))
        return b.finish(b.new())

    def late_initcall_steps(self, b: ThreadBuilder, at: int) -> int:
        """deferred_probe_initcall (§1.3): enable retries, trigger, wait for the pass."""
        if not self.deferrable():
            return self.c.probe_timeout.initcalls_done_steps(b, at)
        at = b.step(at, "deferred_probe_initcall: enable and trigger deferred probing", None,
                    assigns=((DEFERRED_PROBE_ENABLE, Const(1)),) + self._lists(lists.trigger)
                    + self._trigger_side(TRUE))
        at = b.step(at, "deferred_probe_initcall: flush_work(deferred_probe_work)", None,
                    guard=self.deferred_work_idle(), waits=self.deferred_pass_wait())
        return self.c.probe_timeout.initcalls_done_steps(b, at)

    def deferred_work_idle(self) -> Expr:
        """flush_work(&deferred_probe_work) may return: the work is neither queued nor running."""
        return conj(eq(DEFERRED_WORK_PENDING, 0), eq(DEFERRED_WORK_RUNNING, 0))


def _rc_labels() -> tuple[str, ...]:
    from .context import ERRNO_NAMES
    return ERRNO_NAMES[: len(ERRNO) + 1]


def _may_return_defer(block: ast.Block) -> bool:
    for node in _walk(block):
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, (ast.Num, ast.Errno)) and
                    not (isinstance(node.value, ast.Errno) and node.value.name == "EPROBE_DEFER")):
                return True
    return False


def _devm_calls(driver: ast.DriverDecl, funcs: set[str]) -> list[ast.Call]:
    """The probe's devres call sites, in order: each is one entry devres_release_all undoes."""
    if driver.probe is None:
        return []
    calls = [n.call for n in _walk(driver.probe.body) if isinstance(n, ast.CallStmt)]
    calls += [n.value for n in _walk(driver.probe.body)
              if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)]
    return sorted((c for c in calls if c.func in funcs), key=lambda c: (c.span.line, c.span.col))


def _walk(node):
    """Every statement inside a block, depth first."""
    if isinstance(node, ast.Block):
        for s in node.stmts:
            yield from _walk(s)
    elif isinstance(node, ast.If):
        yield node
        yield from _walk(node.then)
        if node.other is not None:
            yield from _walk(node.other)
    elif isinstance(node, ast.For):
        yield node
        yield from _walk(node.body)
    else:
        yield node
