"""Per-device driver data: what a driver declares inside its `driver` block exists once per device.

The kernel allocates a driver's private data in probe (devm_kzalloc, or kzalloc and
dev_set_drvdata) and frees it when probe fails or after remove returns (drivers/base/dd.c:
really_probe and __device_release_driver both end in device_unbind_cleanup, whose
devres_release_all frees devm memory and whose dev_set_drvdata(dev, NULL) drops the pointer).
Each device therefore holds its own copy of every variable and work item the driver declares:
`usb0.hw_phy_work` is usb0's. Code running for a device (its probe and remove, the functions
they call, and the work functions of its own items, which reach the data through container_of)
names a copy by the declared name alone.

The check `work_outlives_owner` is made where the data (or a module) is freed: nothing the data
holds may still be queued or running, or its function would run on freed memory.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import TRUE, BoolConst, Check, Const, Expr, conj, neg
from ..syntax import ast
from .context import Frame
from .driver_core import instance_names
from .symbols import Symbol

if TYPE_CHECKING:
    from .compile import Compiler

PROPERTY = "work_outlives_owner"


class DeviceData:
    """Copies of per-device items, keyed `DEVICE.NAME`, and the lifetime checks on them."""

    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.devices: dict[str, list[str]] = {}     # driver -> its device instances, as driver_core names them
        self.driver_of: dict[str, str] = {}         # device instance -> driver
        drivers = {s.name for s in compiler.sym.of_kind("driver")}
        for sym in compiler.sym.of_kind("device"):
            decl = sym.decl
            if decl.driver not in drivers:
                continue   # driver_core reports the unknown driver
            extents = compiler.resources.domain(decl.index_domain, decl.span) if decl.index_var else []
            for name, _, _ in instance_names(decl, extents):
                self.devices.setdefault(decl.driver, []).append(name)
                self.driver_of[name] = decl.driver
        self.home: dict[str, str] = {}               # copy key -> the device whose data holds it

    # -- naming --
    def copies(self, sym: Symbol) -> list[str]:
        """The keys of a symbol's copies: itself for module data, one per device for per-device data."""
        if sym.driver is None:
            return [sym.name]
        return [f"{dev}.{sym.name}" for dev in self.devices.get(sym.driver, [])]

    def expand(self, kind: str) -> dict[str, Symbol]:
        """Every symbol of a kind, per-device ones replaced by their copies (named by key)."""
        out: dict[str, Symbol] = {}
        for sym in self.c.sym.of_kind(kind):
            for key in self.copies(sym):
                out[key] = sym if key == sym.name else replace(sym, name=key)
                if key != sym.name:
                    self.home[key] = key[: -len(sym.name) - 1]
        return out

    def key(self, sym: Symbol, frame: Frame, span) -> str:
        """The copy a name means where it is used: per-device data is the current device's.

        Raises E230 where no device of the driver is being served (module init, another driver's
        code, a property) and, for code no thread runs, E231 when the driver has no device.
        """
        if sym.driver is None:
            return sym.name
        device = frame.device
        if device is None and frame.b is not None and frame.b.kind == "lint":
            devices = self.devices.get(sym.driver)
            if not devices:
                raise SpecError("E231", span, f"{sym.name!r} is per-device data of driver {sym.driver}, "
                                f"which no device uses, so it never exists")
            device = devices[0]
        if device is None or self.driver_of.get(device) != sym.driver:
            where = f"code running for {device}" if device else "code that serves no device"
            raise SpecError("E230", span, f"{sym.name!r} is per-device data of driver {sym.driver}; "
                            f"{where} has no copy of it")
        return f"{device}.{sym.name}"

    # -- state --
    def declare(self) -> None:
        """One state variable per device for each per-device `var`, starting at its initializer."""
        for sym in self.c.sym.of_kind("var"):
            if sym.driver is None:
                continue
            t, init = sym.decl.type, self.initial(sym)
            for key in self.copies(sym):
                self.c.ctx.var(key, t.lo, t.hi, init, "state", t.labels, sym.span)

    def initial(self, sym: Symbol) -> int:
        t = sym.decl.type
        if sym.decl.init is None:
            return t.lo
        value = self.c.fold(self.c.exprs.lower(sym.decl.init, Frame(None, "decl")))
        if not isinstance(value, (Const, BoolConst)):
            raise SpecError("E206", sym.decl.init.span, "an initial value must be a constant")
        init = int(value.value)
        if not t.lo <= init <= t.hi:
            raise SpecError("E206", sym.span, f"{sym.name} starts at {init}, outside {t.lo}..{t.hi}")
        return init

    def allocate(self, device: str) -> tuple:
        """Assignments made when probe starts: the device's data is fresh (zeroed, then the
        declared initializers), as probe's kzalloc and INIT_WORK make it."""
        out = []
        for sym in self.c.sym.of_kind("var"):
            if sym.driver is not None and sym.driver == self.driver_of.get(device):
                out.append((f"{device}.{sym.name}", Const(self.initial(sym))))
        for key, dev in self.home.items():
            if dev == device and (key in self.c.workqueues.works or key in self.c.timers.timers):
                out.append((f"{key}.func", Const(self.c.ctx.variables[f"{key}.func"].init)))
        return tuple(out)

    # -- lifetimes --
    def busy_items(self, device: Optional[str] = None, module: Optional[str] = None) -> list[tuple[str, Expr]]:
        """(item, busy condition) for what a device's data holds, or what a module holds outside
        per-device data: work items (delayed too) queued or running, timers armed or running."""
        out = []
        for area, items in ((self.c.workqueues, self.c.workqueues.works), (self.c.timers, self.c.timers.timers),
                            (self.c.kthreads, self.c.kthreads.kthreads)):
            for key, sym in items.items():
                if device is not None and self.home.get(key) == device:
                    out.append((key, neg(area.idle(key))))
                elif module is not None and sym.owner == module and key not in self.home:
                    out.append((key, neg(area.idle(key))))
        return out

    def freed_check(self, why: str, device: Optional[str] = None,
                    module: Optional[str] = None) -> tuple[Check, ...]:
        """The work_outlives_owner check for one place where data is freed; none when it holds nothing."""
        items = self.busy_items(device, module)
        if not items:
            return ()
        ok = self.c.fold(conj(*(neg(busy) for _, busy in items)))
        if ok == TRUE:
            return ()
        names = ", ".join(k for k, _ in items)
        which = names if len(items) == 1 else f"one of {names}"
        return (self.c.ctx.check(PROPERTY, ok, f"{why} while {which} is still pending or running"),)


def may_fail(block) -> bool:
    """Whether a block can return an error code: it has a `return` of something other than 0."""
    if block is None:
        return False
    for node in ast.leaf_statements(block):
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Num) and node.value.value == 0):
                return True
    return False
