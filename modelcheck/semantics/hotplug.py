"""Hotplug: `hotplug device NAME : DRIVER;`, a device the platform adds, and removes, after
boot, and the KOBJ_ADD uevent on which udev loads the module of its driver.

Kernel sources followed: drivers/base/core.c at torvalds/linux 3b02a051d25d (`device_add`:
bus_add_device, device_pm_add, then kobject_uevent(&dev->kobj, KOBJ_ADD), then
bus_probe_device; `device_del`: kill_device under the device lock, bus_remove_device,
device_pm_remove, driver_deferred_probe_del, device_links_purge); drivers/base/bus.c at
00c4a3c47da7 (`bus_probe_device` -> device_initial_probe, `bus_remove_device` ->
device_release_driver); drivers/base/dd.c at 5a7a9efdb193 (`device_initial_probe` ->
__device_attach(dev, true)); lib/kobject_uevent.c in its v6.0 text (`kobject_uevent_env`:
the bus's uevent callback adds MODALIAS, kobject_uevent_net_broadcast sends the event on
netlink and returns; nothing waits for user space); systemd rules.d/80-drivers.rules at
30e283cb1b2e (ACTION=="add", ENV{MODALIAS}=="?*": RUN{builtin}+="kmod load $env{MODALIAS}").

The platform's choice for each hotplug device is a platform fact, fixed at boot like one
(`D.hotplug`: nothing happens, one event, or two), so no fairness assumption forces a hotplug:
every liveness property must hold when the platform never adds the device too. A device that
is not `present` may be added, then removed; a `present` one may be removed, then added again.
The platform's thread `hotplug: D` runs the driver core's own device_add and device_del
(driver_core.py add_device, del_device). A hotplug add of a device whose driver belongs to a
loadable module that is not `manual` sets `D.uevent`; the thread `udev: KOBJ_ADD D` then runs
`modprobe` of that module (modules.py load), as one system call, concurrently with the probe.
A module whose drivers match only hotplug devices that are not present at boot has no coldplug
`udev: modprobe M` thread: nothing matches its alias until the platform adds a device.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import FALSE, Cmp, Const, Expr, Ref, conj, eq
from ..syntax import ast
from .context import Frame
from .modules import BOOT_DONE

if TYPE_CHECKING:
    from .compile import Compiler
    from .driver_core import Instance

ABSENT_LABELS = ("never added", "added", "added, then removed")
PRESENT_LABELS = ("stays", "removed", "removed, then added again")


class Hotplug:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.decls: list[tuple[ast.ModuleDecl, ast.DeviceDecl]] = [
            (m, d) for m in compiler.spec.modules for d in m.devices if d.hotplug]
        parents = {d.parent for m in compiler.spec.modules for d in m.devices if d.parent}
        for _, d in self.decls:
            if d.index_var:
                raise SpecError("E279", d.span, f"{d.name} is a device array: the platform hot-adds "
                                "single devices here",
                                f"declare each hotplugged device on its own: `hotplug device NAME : {d.driver};`")
            # the hot add follows one driver's module, and skips the parent's sysfs check and
            # the instance count device_add and platform_device_add keep (driver_core.py)
            if d.instances > 1 or d.parent or d.name in parents or len(d.all_drivers) > 1:
                raise SpecError("E279", d.span, f"hotplug device {d.name} has instances, a parent, children "
                                "or several drivers: the platform hot-adds a single device of one driver here",
                                f"declare it as `hotplug device {d.name} : {d.driver};`, and check the "
                                "parent, instances or drivers in a spec without hotplug")

    @property
    def used(self) -> bool:
        return bool(self.decls)

    def names(self) -> set[str]:
        return {d.name for _, d in self.decls}

    # -- what the other areas ask --
    def reject_code_on(self, call: ast.Call, frame: Frame) -> None:
        """E278: device_add, platform_device_add or device_del of a hotplug device in the spec's code
        (the platform adds and deletes it)."""
        if not self.used or not call.args or not isinstance(call.args[0], ast.Name):
            return
        name = call.args[0].id
        if name in self.names():
            raise SpecError("E278", call.span, f"{name} is a hotplug device: the platform adds and removes "
                            f"it (thread `hotplug: {name}`), the spec's code does not",
                            f"drop {call.func}({name}), or declare `device {name} : ...;` without `hotplug` "
                            "to add and delete it from code")

    def only_hotplugged(self, m: ast.ModuleDecl) -> bool:
        """The module's drivers match devices, and every one of them is a hotplug device that is
        not present at boot: udev's coldplug finds no device for its alias."""
        drivers = {d.name for d in m.drivers}
        devices = [d for mod in self.c.spec.modules for d in mod.devices if d.driver in drivers]
        return bool(devices) and all(d.hotplug and not d.present for d in devices)

    def autoload_module(self, inst: "Instance") -> Optional[ast.ModuleDecl]:
        """The module udev loads on the device's KOBJ_ADD: its driver's module, when that can be a
        loadable module and is not `manual` (no alias of it matches: nothing autoloads it)."""
        owner = self.c.sym.get(self.c.driver_core.drivers[inst.decl.driver].owner)
        m = owner.decl if owner is not None else None
        if m is None or m.is_object or m.manual or self.c.modules.loadable(m) == FALSE:
            return None
        return m

    def instances(self) -> list["Instance"]:
        names = self.names()
        return [i for i in self.c.driver_core.instances if i.decl.name in names]

    def udev_thread_names(self) -> list[str]:
        return [self._udev_name(i) for i in self.instances() if self.autoload_module(i) is not None]

    @staticmethod
    def _udev_name(inst: "Instance") -> str:
        return f"udev: KOBJ_ADD {inst.name}"

    @staticmethod
    def choice(inst: "Instance") -> str:
        return f"{inst.name}.hotplug"

    @staticmethod
    def uevent(inst: "Instance") -> str:
        return f"{inst.name}.uevent"

    # -- setup --
    def declare(self) -> None:
        if self.used and self.c.pm.used:
            _, first = self.decls[0]
            raise SpecError("E277", first.span, f"hotplug device {first.name} and suspend()/reboot() in one spec: "
                            "a device the platform adds or removes while dpm_suspend, dpm_resume or "
                            "device_shutdown walks dpm_list is not modelled",
                            "check the hotplug and the suspend or reboot in separate specs")
        for inst in self.instances():
            labels = PRESENT_LABELS if inst.decl.present else ABSENT_LABELS
            self.c.ctx.var(self.choice(inst), 0, 2, None, "platform", labels, inst.decl.span)
            if self.autoload_module(inst) is not None:
                self.c.ctx.flag(self.uevent(inst))

    # -- threads --
    def build_threads(self) -> None:
        for inst in self.instances():
            self.c.ctx.threads.append(self._platform_thread(inst))
            m = self.autoload_module(inst)
            if m is not None:
                self.c.ctx.threads.append(self._udev_thread(inst, m))

    def _platform_thread(self, inst: "Instance"):
        """The platform's hotplug events, in their order: add then remove, or remove then add."""
        b = self.c.thread(f"hotplug: {inst.name}", "platform")
        frame = Frame(b, "platform")
        choice = self.choice(inst)
        middle, end = b.new(), b.new()
        b.mark_rest(0)
        b.mark_rest(middle)      # the platform may stop after its first event
        first = conj(eq(BOOT_DONE, 1), _at_least(choice, 1))
        if inst.decl.present:
            self._remove(inst, frame, 0, middle, first)
            self._add(inst, frame, middle, end, eq(choice, 2), again=True)
        else:
            self._add(inst, frame, 0, middle, first)
            self._remove(inst, frame, middle, end, eq(choice, 2))
        return b.finish(end)

    def _add(self, inst: "Instance", frame: Frame, at: int, nxt: int, guard: Expr, again: bool = False) -> None:
        """device_add: KOBJ_ADD raised before bus_probe_device (drivers/base/core.c)."""
        uevent = self.autoload_module(inst) is not None
        what = "plugged in again" if again else "hot-added"
        label = f"hotplug: {inst.name} {what}: device_add({inst.name}), KOBJ_ADD uevent"
        extra = ((self.uevent(inst), Const(1)),) if uevent else ()
        self.c.driver_core.add_device(inst, frame, at, nxt, inst.decl.span, guard=guard, label=label, extra=extra)

    def _remove(self, inst: "Instance", frame: Frame, at: int, nxt: int, guard: Expr) -> None:
        label = f"hotplug: {inst.name} removed: device_del({inst.name}): kill_device (under the device lock)"
        self.c.driver_core.del_device(inst, frame, at, nxt, inst.decl.span, guard=guard, label=label)

    def _udev_thread(self, inst: "Instance", m: ast.ModuleDecl):
        """systemd-udevd on the KOBJ_ADD uevent: MODALIAS matches m, `kmod load` (modprobe) it."""
        b = self.c.thread(self._udev_name(inst), "userspace")
        pm = self.c.pm
        b.mark_rest(0)
        start, loaded, end = b.new(), b.new(), b.new()
        guard, enter = pm.syscall_enter(b.name)
        b.edge(0, start, f"udev: KOBJ_ADD {inst.name}: MODALIAS matches {m.name}: modprobe {m.name}", None,
               guard=conj(eq(self.uevent(inst), 1), guard), assigns=((self.uevent(inst), Const(0)),) + enter)
        self.c.modules.load(m, Frame(b, "userspace"), start, loaded, "modprobe")
        b.edge(loaded, end, "", None, assigns=pm.syscall_leave(b.name))
        return b.finish(end)


def _at_least(var: str, value: int) -> Expr:
    return Cmp(">=", Ref(var), Const(value))
