"""Parent and child devices: `device c0 : cd parent p0 [need_parent_lock];` (struct device's
dev->parent, and the bus's need_parent_lock).

Kernel sources followed (torvalds/linux): drivers/base/core.c at 00500147cbd3 (device_add,
get_device_parent, device_del, device_unregister), fs/sysfs/dir.c (sysfs_create_dir_ns),
drivers/base/dd.c at 5a7a9efdb193 (__device_driver_lock, __device_attach,
__driver_attach, __driver_attach_async_helper, device_driver_attach,
device_release_driver_internal, device_driver_detach, driver_detach) and
drivers/base/core.c device_links_unbind_consumers, drivers/base/bus.c unbind_store and
drivers/base/power/main.c (device_pm_add, dpm_suspend, dpm_resume).

What the kernel does, and so the checker:
- device_add of a child: get_device_parent returns &parent->kobj and kobject_add creates the
  child's sysfs directory inside the parent's (sysfs_create_dir_ns); a parent that was never
  added, or was deleted (device_del -> kobject_del -> sysfs_remove_dir clears kobj->sd), has
  no directory and device_add fails with -ENOENT: nothing of the child is added or probed.
- device_del (and device_unregister) of a parent does not touch its children: device_del
  walks no klist_children. A child stays added, and bound, until someone deletes it; busses
  and drivers delete children themselves (a parent's remove calling device_del or
  platform_device_unregister on them), and children registered through devres go when the
  parent's devres is released. Unbinding a parent likewise leaves its children alone.
- need_parent_lock: __device_driver_lock takes the parent's device lock before the child's
  for __driver_attach (driver registration), device_driver_attach (sysfs bind),
  driver_detach (driver unregistration), device_driver_detach (sysfs unbind) and
  device_links_unbind_consumers, and drivers/base/bus.c bus_rescan_devices_helper takes it
  around device_attach; __device_attach from device_add and the deferred retry, and
  device_release_driver (device_del), take only the child's own lock.
- dpm_list order: device_pm_add puts a device at the tail when it is added, and a child can
  only be added after its parent, so it comes later on dpm_list: dpm_suspend (from the tail)
  suspends children before their parent and dpm_resume (from the head) resumes parents first.
  Devices present at boot take that order here (parents first, then declaration order).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from ..errors import SpecError
from ..ir import Expr, conj, eq, neg

if TYPE_CHECKING:
    from .compile import Compiler
    from .context import Frame
    from .driver_core import Instance


class Parents:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.parent: dict[str, str] = {}           # child instance name -> parent instance name
        self.need_lock: set[str] = set()

    # -- setup (after DriverCore.declare: the instances are known) --
    def declare(self) -> None:
        core = self.c.driver_core
        by_name = {i.name: i for i in core.instances}
        for inst in core.instances:
            decl = inst.decl
            if decl.parent is None:
                continue
            span = decl.parent_span or decl.span
            sym = self.c.sym.get(decl.parent)
            if sym is None or sym.kind != "device":
                raise SpecError("E249", span, f"the parent of {decl.name}, {decl.parent}, is not a device",
                                f"declare it first: `device {decl.parent} : DRIVER;`")
            if decl.index_var or sym.decl.index_var or decl.instances > 1 or sym.decl.instances > 1:
                raise SpecError("E249", span, f"{decl.name} or its parent {decl.parent} is a device array "
                                "or has `instances`: parents and children are single devices here",
                                "declare both devices on their own: `device NAME : DRIVER;`")
            if decl.parent == decl.name:
                raise SpecError("E249", span, f"{decl.name} is its own parent", "name another device")
            self.parent[inst.name] = decl.parent
            if decl.need_parent_lock:
                self.need_lock.add(inst.name)
            parent = by_name[decl.parent]
            if decl.present and not parent.decl.present:
                raise SpecError("E251", span, f"{decl.name} is present at boot and its parent {decl.parent} is not: "
                                "device_add of a child whose parent has no sysfs directory fails with -ENOENT",
                                f"mark {decl.parent} `present` too, or add {decl.name} with device_add() "
                                f"after device_add({decl.parent})")
            if decl.need_parent_lock and core.may_be_async(inst):
                raise SpecError("E252", span, f"{decl.name} needs its parent's lock and its driver "
                                f"{decl.driver} may probe asynchronously: the parent lock of "
                                "__driver_attach_async_helper is not modelled",
                                f"make {decl.driver} `: force_sync`, or drop need_parent_lock")
        for child in self.parent:
            seen, node = {child}, self.parent[child]
            while node in self.parent:
                if node in seen:
                    first = by_name[child].decl
                    raise SpecError("E250", first.parent_span or first.span,
                                    f"the parents of {child} form a cycle through {node}",
                                    "make the parent relation a tree: each device's parent is declared "
                                    "without it as an ancestor")
                seen.add(node)
                node = self.parent[node]

    def parent_of(self, name: str) -> Optional[str]:
        return self.parent.get(name)

    def children_of(self, name: str) -> list[str]:
        return [c for c, p in self.parent.items() if p == name]

    def dpm_order(self, instances: list) -> list:
        """The instances with every parent before its children, otherwise in declaration order
        (device_pm_add appends at device_add, and a child is added after its parent)."""
        out: list = []
        placed: set[str] = set()
        pending = list(instances)
        while pending:
            for inst in pending:
                p = self.parent.get(inst.name)
                if p is None or p in placed or p not in {i.name for i in pending}:
                    out.append(inst)
                    placed.add(inst.name)
                    pending.remove(inst)
                    break
        return out

    # -- device_add of a child --
    def device_add(self, inst: "Instance", frame: "Frame", at: int, nxt: int, span) -> int:
        """drivers/base/core.c device_add -> kobject_add -> sysfs_create_dir_ns (fs/sysfs/dir.c):
        -ENOENT when the parent has no sysfs directory (never added, or deleted). Returns the
        location where the addition proper starts."""
        p = self.parent.get(inst.name)
        if p is None:
            return at
        ok = frame.b.new()
        frame.b.edge(at, nxt, f"device_add({inst.name}) = -ENOENT: its parent {p} is not added "
                     "(kobject_add: no sysfs directory to create it in)", span, guard=eq(f"{p}.added", 0))
        frame.b.edge(at, ok, f"device_add({inst.name}): its parent {p} is added", span, guard=eq(f"{p}.added", 1))
        return ok

    # -- the parent's lock around a child's probe or unbind (need_parent_lock) --
    def locked(self, inst: "Instance", frame: "Frame", at: int, nxt: int, how: str, *, unbind: bool,
               emit: Callable[[int, int], None], rescan: bool = False) -> None:
        """__device_driver_lock / __device_driver_unlock (drivers/base/dd.c) around emit(at, nxt):
        with dev->parent and dev->bus->need_parent_lock, the parent's device lock first. The
        callers take it for a device on the bus that the request applies to: an added device
        (a match, for a probe) or a bound one (for an unbind); otherwise emit runs unlocked and
        finds nothing to do. rescan: bus_rescan_devices_helper (drivers/base/bus.c), which
        takes the parent's lock around device_attach for an added device without a driver."""
        p = self.parent.get(inst.name)
        if inst.name not in self.need_lock or p is None:
            emit(at, nxt)
            return
        b, n = frame.b, inst.name
        core = self.c.driver_core
        wanted: Expr = eq(f"{n}.bound", 1) if unbind else eq(f"{n}.added", 1)
        if rescan:
            wanted = conj(wanted, eq(f"{n}.bound", 0))
        skip = b.new()
        b.edge(at, skip, f"{how}: {n} is {'not bound' if unbind else 'not on the bus'}: no parent lock", None,
               guard=neg(wanted))
        emit(skip, nxt)
        inner, done = b.new(), b.new()
        lock, lockdep = self.c.locks.device_acquire(p, b)
        b.edge(at, inner, f"{how}: device_lock({p}), the parent of {n} (bus need_parent_lock)", None,
               guard=conj(wanted, eq(f"{p}.locked", 0)), assigns=lock, checks=lockdep,
               waits=core.device_lock_wait(p))
        emit(inner, done)
        core.unlock_device(p, frame, done, nxt, f"{how}: device_unlock({p}), the parent of {n}", None)
