"""fw_devlink: `supplier S -> C;` declares a firmware-described dependency (a DT phandle or an
ACPI _DEP: a `fwnode_link` from C's fwnode to S's) that the driver core turns into a managed
device link when both devices exist.

Kernel sources followed (torvalds/linux drivers/base/core.c, v6.x text: fwnode_links_check_suppliers,
device_links_check_suppliers, FW_DEVLINK_FLAGS_ON, fw_devlink_create_devlink,
__fw_devlink_link_to_consumers, __fw_devlink_link_to_suppliers, fw_devlink_link_device, and
device_add / device_del around `dev->fwnode->dev`):

- fw_devlink=on (the default) links with FW_DEVLINK_FLAGS_ON = DL_FLAG_INFERRED |
  DL_FLAG_AUTOPROBE_CONSUMER. DL_FLAG_INFERRED changes no ordering (it marks the link as
  fw_devlink's, for relaxing and cycle handling); DL_FLAG_AUTOPROBE_CONSUMER is the
  devlinks.py flag: when the supplier binds, the consumer goes on the deferred list.
- device_add calls fw_devlink_link_device after device_pm_add and before bus_probe_device:
  __fw_devlink_link_to_consumers links every consumer that already has a device to the new
  device, and __fw_devlink_link_to_suppliers links the new device to every supplier that has
  one; each link made (device_link_add, whose initial state device_link_init_status gives)
  deletes its fwnode link. A fwnode link whose other end has no device yet stays
  (fw_devlink_create_devlink returns -EAGAIN).
- device_links_check_suppliers first asks fwnode_links_check_suppliers: while the consumer's
  fwnode still has a supplier fwnode link, the probe returns -EPROBE_DEFER before any device
  link is looked at (and before dev->links.status becomes "probing").
- The fwnode link is gone once the device link is made: device_del's device_links_purge
  deletes the device link, and nothing makes it again (the firmware is parsed once,
  FWNODE_FLAG_LINKS_ADDED).

State: a flag `fwlink(C,S)` (the fwnode link still waits for a device at one end) beside
devlinks.py's `link(C,S)`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Const, Expr, Ite, Ref, conj, disj, eq
from ..syntax import ast

if TYPE_CHECKING:
    from .compile import Compiler
    from .devlinks import DeviceLinks, Link

FW_DEVLINK_FLAGS_ON = frozenset({"DL_FLAG_AUTOPROBE_CONSUMER"})    # DL_FLAG_INFERRED: no ordering effect


class FwDevlink:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.decls: list[ast.SupplierDecl] = list(compiler.spec.suppliers)
        for m in compiler.spec.modules:
            self.decls += list(m.suppliers)
        self.links: list["Link"] = []

    def register(self, devlinks: "DeviceLinks") -> None:
        """Each declaration becomes a managed link of devlinks.py with FW_DEVLINK_FLAGS_ON; a
        pair also linked by device_link_add is refused (E253), as is a self link (E253)."""
        from .devlinks import Link
        for d in self.decls:
            names = []
            for name in (d.consumer, d.supplier):
                sym = self.c.sym.get(name)
                if sym is None or sym.kind != "device" or sym.decl.index_var:
                    raise SpecError("E253", d.span, f"{name} in `supplier {d.supplier} -> {d.consumer};` is not a "
                                    "single device", f"declare it with `device {name} : DRIVER;`")
                names.append(name)
            if d.supplier == d.consumer:
                raise SpecError("E253", d.span, f"{d.supplier} is declared its own supplier",
                                "name two different devices: `supplier S -> C;`")
            seen = devlinks.links.get((d.consumer, d.supplier))
            if seen is not None:
                what = "declared twice" if seen.declared else f"also linked by device_link_add at line {seen.span.line}"
                raise SpecError("E253", d.span, f"{d.consumer} and {d.supplier} are {what}: the checker keeps one "
                                "link per pair of devices", "keep the declaration or the device_link_add, not both")
            link = Link(d.consumer, d.supplier, FW_DEVLINK_FLAGS_ON, d.span, declared=True)
            devlinks.links[(d.consumer, d.supplier)] = link
            self.links.append(link)

    @staticmethod
    def var(link: "Link") -> str:
        return f"fwlink({link.consumer},{link.supplier})"

    def _present(self, name: str) -> bool:
        return any(i.name == name and i.decl.present for i in self.c.driver_core.instances)

    def linked_at_boot(self, link: "Link") -> bool:
        """Both devices are present at boot: the device link was made when the second was added."""
        return self._present(link.consumer) and self._present(link.supplier)

    def declare(self) -> None:
        for link in self.links:
            self.c.ctx.flag(self.var(link), 0 if self.linked_at_boot(link) else 1)

    def initial(self, link: "Link", absent: int, dormant: int) -> int:
        """The link's state at boot: device_link_init_status of two devices without drivers."""
        return dormant if link.declared and self.linked_at_boot(link) else absent

    def waiting(self, name: str) -> Expr:
        """fwnode_links_check_suppliers(dev->fwnode) finds a supplier fwnode link still waiting."""
        return disj(*(eq(self.var(link), 1) for link in self.links if link.consumer == name))

    def on_device_add(self, name: str, registered, init_status) -> tuple:
        """fw_devlink_link_device from device_add: the fwnode links of the new device whose other
        end has a device become device links (initial state from device_link_init_status) and are
        deleted. registered(S): the supplier is on dpm_list; init_status(C, S): the new state."""
        out = []
        for link in self.links:
            c, s = link.consumer, link.supplier
            if name == c:
                other = registered(s)
            elif name == s:
                other = eq(f"{c}.added", 1)
            else:
                continue
            make = conj(eq(self.var(link), 1), other)
            out.append((link.var, Ite(make, init_status(c, s), Ref(link.var))))
            out.append((self.var(link), Ite(make, Const(0), Ref(self.var(link)))))
        return tuple(out)
