"""Device links: device_link_add and device_link_remove, the supplier check before a probe, the
link states that binding, a failed probe and unbinding move through, and the forced unbind of a
supplier's consumers before its own remove.

Kernel sources followed (torvalds/linux): drivers/base/core.c at 3b02a051d25d (device_link_add,
device_link_init_status, device_link_remove, device_links_check_suppliers,
device_links_driver_bound, device_links_no_driver, device_links_driver_cleanup,
device_links_busy, device_links_unbind_consumers, device_links_purge), with
device_links_missing_supplier and __device_links_no_driver in their v6.x form (8c3e315d4296: a
link falls back to "available" only while the supplier is bound, else to "dormant"), and
drivers/base/dd.c at 5a7a9efdb193 (really_probe, driver_bound, driver_deferred_probe_add,
__device_release_driver).

A managed link has one state variable `link(C,S)` (0 when there is no link, else enum
device_link_state); each device with a managed link has `D.links` (enum dl_dev_state). A
stateless link changes nothing the checker observes (runtime PM and the dpm_list reordering are
not modelled), so it has no state: device_link_add on it only returns whether the supplier is
registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Const, Expr, Ite, Ref, Span, conj, disj, eq, neg
from ..syntax import ast
from . import deferred as lists
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler
    from .context import Frame
    from .driver_core import Instance

STATELESS = "DL_FLAG_STATELESS"
AUTOREMOVE_CONSUMER = "DL_FLAG_AUTOREMOVE_CONSUMER"
AUTOREMOVE_SUPPLIER = "DL_FLAG_AUTOREMOVE_SUPPLIER"
AUTOPROBE_CONSUMER = "DL_FLAG_AUTOPROBE_CONSUMER"
MODELLED_FLAGS = (STATELESS, AUTOREMOVE_CONSUMER, AUTOREMOVE_SUPPLIER, AUTOPROBE_CONSUMER)
# include/linux/device.h flags whose effect (runtime PM, sync_state, fw_devlink) is not modelled
OTHER_FLAGS = ("DL_FLAG_PM_RUNTIME", "DL_FLAG_RPM_ACTIVE", "DL_FLAG_SYNC_STATE_ONLY", "DL_FLAG_INFERRED",
               "DL_FLAG_CYCLE")

# enum device_link_state, with 0 for "no link"
ABSENT, DORMANT, AVAILABLE, CONSUMER_PROBE, ACTIVE, SUPPLIER_UNBIND = range(6)
LINK_LABELS = ("no link", "dormant", "available", "consumer probe", "active", "supplier unbind")
# enum dl_dev_state
NO_DRIVER, PROBING, DRIVER_BOUND, UNBINDING = range(4)
DEV_LABELS = ("no driver", "probing", "driver bound", "unbinding")


@dataclass(frozen=True)
class Link:
    """All device_link_add call sites of one (consumer, supplier) pair: they share one link."""
    consumer: str
    supplier: str
    flags: frozenset
    span: Span
    declared: bool = False       # `supplier S -> C;` (fwdevlink.py), not a device_link_add call

    @property
    def managed(self) -> bool:
        return STATELESS not in self.flags

    @property
    def var(self) -> str:
        return f"link({self.consumer},{self.supplier})"


def _is(var: str, *states: int) -> Expr:
    return disj(*(eq(var, s) for s in states))


class DeviceLinks:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.links: dict[tuple[str, str], Link] = {}

    # -- setup --
    def prescan(self, calls: list[ast.Call]) -> None:
        """Collect every device_link_add call site into one Link per pair; reject what the
        kernel refuses (E262, E265) and what the checker does not model (E261, E266-E268)."""
        for call in calls:
            if call.func == "device_link_add":
                self._register(call)
        for call in calls:
            if call.func == "device_link_remove":
                self._removed(call)
        self.c.fwdevlink.register(self)
        self._reject_cycles()
        if self.links and (self.c.uses("suspend") or self.c.uses("reboot")):
            first = next(iter(self.links.values()))
            raise SpecError("E268", first.span, "device links and suspend()/reboot() in one spec: device_link_add "
                            "(for fw_devlink's declared links too) "
                            "moves the consumer to the end of dpm_list (device_reorder_to_tail), which is not modelled",
                            "check the links and the suspend or reboot in separate specs")

    def _pair(self, call: ast.Call, count: int) -> tuple[str, str]:
        arity(call, count)
        names = []
        for k in (0, 1):
            sym = self.c.exprs.symbol_arg(call, k, ("device",), "a device")
            if sym.decl.index_var:
                raise SpecError("E267", call.args[k].span, f"{sym.name} is a device array; {call.func}() "
                                "links single devices here", f"declare the device on its own: `device NAME : DRIVER;`")
            if sym.decl.instances > 1:
                raise SpecError("E237", call.args[k].span, f"{call.func}() links one struct device, and {sym.name} "
                                f"is declared with instances {sym.decl.instances}",
                                "declare the device without `instances`")
            names.append(sym.name)
        if names[0] == names[1]:
            raise SpecError("E265", call.span, f"{call.func}() links {names[0]} to itself: the kernel returns NULL "
                            "(device_is_dependent) or warns", "name two different devices: consumer, then supplier")
        return names[0], names[1]

    def _register(self, call: ast.Call) -> None:
        consumer, supplier = self._pair(call, 3)
        flags = self._flags(call.args[2], call)
        if STATELESS in flags and flags & {AUTOREMOVE_CONSUMER, AUTOREMOVE_SUPPLIER, AUTOPROBE_CONSUMER}:
            raise SpecError("E262", call.args[2].span, "device_link_add returns NULL for DL_FLAG_STATELESS with "
                            "DL_FLAG_AUTOREMOVE_* or DL_FLAG_AUTOPROBE_CONSUMER: a stateless link is not managed",
                            "drop DL_FLAG_STATELESS for a managed link, or the other flags for a stateless one")
        if AUTOPROBE_CONSUMER in flags and flags & {AUTOREMOVE_CONSUMER, AUTOREMOVE_SUPPLIER}:
            raise SpecError("E262", call.args[2].span, "device_link_add returns NULL for DL_FLAG_AUTOPROBE_CONSUMER "
                            "with DL_FLAG_AUTOREMOVE_*: autoprobe needs a persistent link",
                            "keep DL_FLAG_AUTOPROBE_CONSUMER alone, or the AUTOREMOVE flag alone")
        if AUTOREMOVE_SUPPLIER in flags:
            flags = flags - {AUTOREMOVE_CONSUMER}     # device_link_add prefers the longer life time
        link = Link(consumer, supplier, frozenset(flags), call.span)
        seen = self.links.get((consumer, supplier))
        if seen is not None and seen.flags != link.flags:
            raise SpecError("E266", call.span, f"{consumer} and {supplier} are linked with other flags at line "
                            f"{seen.span.line}: the checker keeps one set of flags per pair of devices",
                            "use the same flags at every device_link_add of one consumer and supplier")
        self.links.setdefault((consumer, supplier), link)

    def _flags(self, node, call: ast.Call) -> set:
        """The DL_FLAG_* names of `A | B | ...`, or 0 for none."""
        if isinstance(node, ast.Num) and node.value == 0:
            return set()
        if isinstance(node, ast.Binary) and node.op == "|":
            return self._flags(node.left, call) | self._flags(node.right, call)
        if isinstance(node, ast.Name) and node.id in MODELLED_FLAGS:
            return {node.id}
        text = node.id if isinstance(node, ast.Name) else "this value"
        why = ("its effect (runtime PM, sync_state or fw_devlink) is not modelled" if text in OTHER_FLAGS
               else "it is not a device link flag")
        raise SpecError("E261", node.span, f"{text} in device_link_add: {why}",
                        "write 0 or a `|` of " + ", ".join(MODELLED_FLAGS))

    def _reject_cycles(self) -> None:
        """device_is_dependent makes device_link_add return NULL for a link that would close a
        cycle; the checker wants call sites whose links can all exist at once."""
        consumers: dict[str, list[str]] = {}
        for (c, s) in self.links:
            consumers.setdefault(s, []).append(c)

        def reaches(a: str, b: str, seen: frozenset) -> bool:
            return any(n == b or (n not in seen and reaches(n, b, seen | {n})) for n in consumers.get(a, []))

        for (c, s), link in self.links.items():
            if reaches(c, s, frozenset({c})):
                raise SpecError("E265", link.span, f"the device links of this spec form a cycle through {c} and {s}: "
                                "the kernel refuses the link that closes it (device_is_dependent)",
                                "link the devices in one direction only")

    def managed(self) -> list[Link]:
        return [link for link in self.links.values() if link.managed]

    def linked(self, name: str) -> bool:
        """The device is one end of a managed link, so it has a `links` state."""
        return any(name in (link.consumer, link.supplier) for link in self.managed())

    def as_consumer(self, name: str) -> list[Link]:
        return [link for link in self.managed() if link.consumer == name]

    def as_supplier(self, name: str) -> list[Link]:
        return [link for link in self.managed() if link.supplier == name]

    def defers(self, name: str) -> bool:
        """device_links_check_suppliers can make this device's probe return -EPROBE_DEFER."""
        return bool(self.as_consumer(name))

    def _autoprobed(self, name: str) -> bool:
        return any(AUTOPROBE_CONSUMER in link.flags for link in self.as_consumer(name))

    def _tracks_can_match(self, name: str) -> bool:
        """dev->can_match is read by the autoprobe of a consumer, and by fw_devlink_drivers_done
        for the supplier of a declared link when the deferred-probe timeout can expire."""
        return self._autoprobed(name) or (
            self.c.probe_timeout.expires and any(link.supplier == name and link.declared
                                                 for link in self.links.values() if link.managed))

    def _tracks_registration(self, name: str) -> bool:
        """device_pm_initialized(supplier), and device_is_registered, need a flag of their own only
        when the device can be deleted: `added` is cleared at kill_device, these at the end of device_del."""
        read = "device_is_registered" in self.c.queried or any(link.supplier == name for link in self.links.values())
        return read and self.c.uses("device_del")

    def declare(self) -> None:
        ctx = self.c.ctx
        instances = {i.name for i in self.c.driver_core.instances}
        for link in self.links.values():
            for name in (link.consumer, link.supplier):
                if name not in instances:
                    raise SpecError("E267", link.span, f"{name} is not a single device")
            if link.managed:
                ctx.var(link.var, 0, len(LINK_LABELS) - 1, self.c.fwdevlink.initial(link, ABSENT, DORMANT),
                        labels=LINK_LABELS)
        self.c.fwdevlink.declare()
        for inst in self.c.driver_core.instances:
            n = inst.name
            if self.linked(n):
                ctx.var(f"{n}.links", 0, len(DEV_LABELS) - 1, NO_DRIVER, labels=DEV_LABELS)
            if self._tracks_can_match(n):
                ctx.flag(f"{n}.can_match")       # dev->can_match: a matching driver has tried it
            if self._tracks_registration(n):
                ctx.flag(f"{n}.pm_initialized", 1 if inst.decl.present and inst.copy == 1 else 0)

    def registered(self, name: str) -> Expr:
        """device_pm_initialized: on dpm_list from device_add's device_pm_add to device_del's
        device_pm_remove; also device_is_registered (in sysfs from device_add's kobject_add to
        device_del's kobject_del, which the model takes in the same last step of device_del)."""
        return eq(f"{name}.pm_initialized" if self._tracks_registration(name) else f"{name}.added", 1)

    # -- what the driver core calls at each point of a probe or an unbind --
    def check_suppliers(self, name: str, bookkeeping: bool = True) -> tuple[Expr, tuple, tuple]:
        """device_links_check_suppliers: (every managed supplier link is available, the
        assignments when it is: each becomes "consumer probe", the assignments when it is not:
        device_links_missing_supplier puts "consumer probe" links back, see _released).
        Either way dev->links.status becomes "probing"; dev->can_match was set just before."""
        mine = self.as_consumer(name)
        waiting = self.c.fwdevlink.waiting(name)     # fwnode_links_check_suppliers: -EPROBE_DEFER first
        ok = conj(neg(waiting), *(_is(link.var, ABSENT, AVAILABLE) for link in mine))
        common = ()
        if self.linked(name):
            common += ((f"{name}.links", Ite(waiting, Ref(f"{name}.links"), Const(PROBING))),)
        if self._tracks_can_match(name):
            common += ((f"{name}.can_match", Const(1)),)
        on_ok = tuple((link.var, Ite(eq(link.var, AVAILABLE), Const(CONSUMER_PROBE), Ref(link.var))) for link in mine)
        on_defer = tuple((link.var, Ite(eq(link.var, CONSUMER_PROBE), self._released(link), Ref(link.var)))
                         for link in mine)
        return ok, on_ok + common, on_defer + common

    def can_match(self, name: str) -> tuple:
        """__driver_probe_device sets dev->can_match before really_probe (kept for autoprobe)."""
        return ((f"{name}.can_match", Const(1)),) if self._tracks_can_match(name) else ()

    def bound(self, name: str) -> tuple:
        """device_links_driver_bound: links to consumers that are neither "consumer probe" nor
        "active" become "available"; links to suppliers become "active"."""
        out = [(link.var, Ite(_is(link.var, ABSENT, CONSUMER_PROBE, ACTIVE), Ref(link.var), Const(AVAILABLE)))
               for link in self.as_supplier(name)]
        out += [(link.var, Ite(eq(link.var, ABSENT), Const(ABSENT), Const(ACTIVE))) for link in self.as_consumer(name)]
        if self.linked(name):
            out.append((f"{name}.links", Const(DRIVER_BOUND)))
        return tuple(out)

    def autoprobe(self, state: "lists.ListState", name: str) -> "lists.ListState":
        """device_links_driver_bound: a DL_FLAG_AUTOPROBE_CONSUMER link it makes available puts
        the consumer on the pending list (driver_deferred_probe_add, which needs dev->can_match)."""
        for link in self.as_supplier(name):
            if AUTOPROBE_CONSUMER in link.flags:
                made_available = neg(_is(link.var, ABSENT, CONSUMER_PROBE, ACTIVE))
                state = lists.add(state, link.consumer, conj(made_available, eq(f"{link.consumer}.can_match", 1)))
        return state

    def relax_unmatched(self) -> tuple:
        """fw_devlink_drivers_done (drivers/base/core.c), called first by dd.c
        deferred_probe_timeout_work_func: fw_devlink_no_driver relaxes every fw_devlink link
        (DL_FLAG_INFERRED) whose supplier no driver ever matched (!supplier->can_match);
        fw_devlink_relax_link makes it SYNC_STATE_ONLY, which no longer holds back the
        consumer's probe nor unbinds it with the supplier: here the link is dropped."""
        return tuple((link.var, Ite(eq(f"{link.supplier}.can_match", 0), Const(ABSENT), Ref(link.var)))
                     for link in self.links.values()
                     if link.declared and link.managed and self._tracks_can_match(link.supplier))

    def _released(self, link: Link) -> Expr:
        """What a link the consumer no longer uses falls back to (device_links_missing_supplier,
        __device_links_no_driver since 8c3e315d4296): "available" while the supplier is bound,
        else "dormant"."""
        return Ite(eq(f"{link.supplier}.links", DRIVER_BOUND), Const(AVAILABLE), Const(DORMANT))

    def _no_driver(self, name: str) -> list:
        """__device_links_no_driver: DL_FLAG_AUTOREMOVE_CONSUMER links to suppliers go; the others
        that were "consumer probe" or "active" fall back (_released)."""
        out = []
        for link in self.as_consumer(name):
            if AUTOREMOVE_CONSUMER in link.flags:
                out.append((link.var, Const(ABSENT)))
            else:
                out.append((link.var, Ite(_is(link.var, CONSUMER_PROBE, ACTIVE), self._released(link), Ref(link.var))))
        if self.linked(name):
            out.append((f"{name}.links", Const(NO_DRIVER)))
        return out

    def probe_failed(self, name: str) -> tuple:
        """device_links_no_driver (really_probe's error path): links to consumers that were
        "consumer probe" or "active" become "dormant", then __device_links_no_driver."""
        out = [(link.var, Ite(_is(link.var, CONSUMER_PROBE, ACTIVE), Const(DORMANT), Ref(link.var)))
               for link in self.as_supplier(name)]
        return tuple(out + self._no_driver(name))

    def driver_cleanup(self, name: str) -> tuple:
        """device_links_driver_cleanup (after remove): links to consumers become "dormant", or go
        when DL_FLAG_AUTOREMOVE_SUPPLIER and "supplier unbind"; then __device_links_no_driver."""
        out = []
        for link in self.as_supplier(name):
            dormant = Ite(eq(link.var, ABSENT), Const(ABSENT), Const(DORMANT))
            if AUTOREMOVE_SUPPLIER in link.flags:
                dormant = Ite(eq(link.var, SUPPLIER_UNBIND), Const(ABSENT), dormant)
            out.append((link.var, dormant))
        return tuple(out + self._no_driver(name))

    def purge(self, name: str) -> tuple:
        """device_del: device_pm_remove, then device_links_purge deletes every link of the device."""
        out = [(link.var, Const(ABSENT)) for link in self.managed() if name in (link.consumer, link.supplier)]
        if self._tracks_registration(name):
            out.append((f"{name}.pm_initialized", Const(0)))
        return tuple(out)

    def on_device_add(self, name: str) -> tuple:
        """device_add -> device_pm_add: the device can be a supplier from now on."""
        own = ((f"{name}.pm_initialized", Const(1)),) if self._tracks_registration(name) else ()
        return own + self.c.fwdevlink.on_device_add(name, self.registered, self._init_status)

    # -- __device_release_driver: consumers first --
    def release_consumers(self, inst: "Instance", frame: "Frame", at: int, released: int, how: str) -> int:
        """The loop `while (device_links_busy(dev)) { unlock; device_links_unbind_consumers(dev);
        lock; if (dev->driver != drv) return; }` of __device_release_driver (drivers/base/dd.c),
        entered with the device locked and bound. Returns the location where remove() starts;
        `released` is where the unbind ends when another thread released the driver meanwhile.

        device_links_busy and device_links_unbind_consumers walk the links in the order they
        were made; the checker lets each walk take the links in any order (more interleavings,
        never fewer)."""
        n = inst.name
        if not self.linked(n):
            return at
        b, core = frame.b, self.c.driver_core
        mine = self.as_supplier(n)
        busy = disj(*(_is(link.var, CONSUMER_PROBE, ACTIVE) for link in mine))
        unbind_all = tuple((link.var, Ite(eq(link.var, ABSENT), Const(ABSENT), Const(SUPPLIER_UNBIND)))
                           for link in mine)
        removing = b.new()
        state = ((f"{n}.links", Const(UNBINDING)),)
        b.edge(at, removing, f"{how}: device_links_busy({n}): no consumer is bound or probing", None,
               guard=neg(busy), assigns=unbind_all + state)
        if not mine:
            return removing
        unlock, loop = b.new(), b.new()
        b.edge(at, unlock, f"{how}: device_links_busy({n}): a consumer is bound or probing", None,
               guard=busy, assigns=state)
        core.unlock_device(n, frame, unlock, loop, f"{how}: device_unlock({n}) to unbind its consumers", None)
        for link in mine:
            c = link.consumer
            waited = b.new()
            b.edge(loop, waited, f"device_links_unbind_consumers({n}): {c} is probing: wait_for_device_probe()",
                   None, guard=eq(link.var, CONSUMER_PROBE))
            core.wait_for_probes(b, waited, loop, None)
            release = b.new()
            b.edge(loop, release, f"device_links_unbind_consumers({n}): {c} is bound: link to supplier unbind, "
                   f"release {c}'s driver", None, guard=eq(link.var, ACTIVE),
                   assigns=((link.var, Const(SUPPLIER_UNBIND)),))
            consumer = next(i for i in core.instances if i.name == c)
            self.c.parents.locked(consumer, frame, release, loop, "device_links_unbind_consumers", unbind=True,
                                  emit=lambda a, n, i=consumer: core.unbind(i, frame, a, n,
                                                                            "device_links_unbind_consumers"))
            if len(mine) > 1:
                b.edge(loop, loop, f"device_links_unbind_consumers({n}): link from {c} to supplier unbind", None,
                       guard=_is(link.var, DORMANT, AVAILABLE), assigns=((link.var, Const(SUPPLIER_UNBIND)),))
        relock, again = b.new(), b.new()
        b.edge(loop, relock, f"device_links_unbind_consumers({n}): no consumer is bound or probing", None,
               guard=neg(busy), assigns=unbind_all)
        core.lock_device(n, frame, relock, again, f"{how}: device_lock({n}) again", None)
        b.edge(again, at, f"{how}: {n} still has its driver: check its links again", None, guard=eq(f"{n}.bound", 1))
        core.unlock_device(n, frame, again, released, f"{how}: {n} was released meanwhile (dev->driver != drv)",
                           None, guard=eq(f"{n}.bound", 0))
        return removing

    # -- statements --
    def statements(self) -> dict:
        return {"device_link_add": self.device_link_add, "device_link_remove": self.device_link_remove}

    def queries(self) -> dict:
        return {}

    def device_link_add(self, call, frame, at, nxt, target) -> None:
        """drivers/base/core.c device_link_add: NULL unless the supplier is registered
        (device_pm_initialized); an existing link of the pair is returned; a new managed link
        starts in the state device_link_init_status gives."""
        consumer, supplier = self._pair(call, 3)
        link = self.links[(consumer, supplier)]
        made = ((target, Const(1)),) if target else ()
        null = ((target, Const(0)),) if target else ()
        registered = self.registered(supplier)
        who = f"device_link_add({consumer}, {supplier})"
        frame.b.edge(at, nxt, f"{who} = NULL: {supplier} is not registered", call.span, guard=neg(registered),
                     assigns=null)
        if not link.managed:
            frame.b.edge(at, nxt, f"{who}: stateless link", call.span, guard=registered, assigns=made)
            return
        frame.b.edge(at, nxt, f"{who}: new link", call.span, guard=conj(registered, eq(link.var, ABSENT)),
                     assigns=((link.var, self._init_status(consumer, supplier)),) + made)
        frame.b.edge(at, nxt, f"{who}: the link exists already", call.span,
                     guard=conj(registered, neg(eq(link.var, ABSENT))), assigns=made)

    def _init_status(self, consumer: str, supplier: str) -> Expr:
        """device_link_init_status: from the supplier's and the consumer's dev->links.status."""
        s, c = f"{supplier}.links", f"{consumer}.links"
        consumer_probe_or = lambda other: Ite(eq(c, PROBING), Const(CONSUMER_PROBE), other)
        return Ite(eq(s, PROBING), consumer_probe_or(Const(DORMANT)),
                   Ite(eq(s, DRIVER_BOUND),
                       consumer_probe_or(Ite(eq(c, DRIVER_BOUND), Const(ACTIVE), Const(AVAILABLE))),
                       Ite(eq(s, UNBINDING), Const(SUPPLIER_UNBIND), Const(DORMANT))))

    def device_link_remove(self, call, frame, at, nxt, target) -> None:
        """drivers/base/core.c device_link_remove -> device_link_put_kref: drops a reference to a
        stateless link; a managed link only gets a WARN (E264 here)."""
        consumer, supplier = self._removed(call)
        frame.b.edge(at, nxt, f"device_link_remove({consumer}, {supplier}): a stateless link reference dropped",
                     call.span)

    def _removed(self, call: ast.Call) -> tuple[str, str]:
        consumer, supplier = self._pair(call, 2)
        link = self.links.get((consumer, supplier))
        if link is not None and link.managed:
            raise SpecError("E264", call.span, f"device_link_remove({consumer}, {supplier}) on a managed link: the "
                            "kernel only warns (\"Unable to drop a managed device link reference\")",
                            "let DL_FLAG_AUTOREMOVE_CONSUMER or DL_FLAG_AUTOREMOVE_SUPPLIER drop it, or make the "
                            "link DL_FLAG_STATELESS")
        return consumer, supplier

