"""CONFIG_DEBUG_TEST_DRIVER_REMOVE: after a successful probe, really_probe removes the driver
and probes again, once.

Kernel source followed (torvalds/linux): drivers/base/dd.c at 5a7a9efdb193, really_probe:
`test_remove = IS_ENABLED(CONFIG_DEBUG_TEST_DRIVER_REMOVE) && !drv->suppress_bind_attrs`; after
call_driver_probe returned 0 (and device_add_groups, the state_synced file), `if (test_remove)`:
test_remove = false, device_remove (dev->bus->remove, else drv->remove), driver_sysfs_remove,
device_unbind_cleanup (devres_release_all, dev->driver and the driver data cleared), and
`goto re_probe`, which sets dev->driver again and calls the probe a second time; its result is
the probe's result (driver_bound on 0, the probe_failed path otherwise). The option is
lib/Kconfig.debug `config DEBUG_TEST_DRIVER_REMOVE` (bool, depends on DEBUG_KERNEL).

A spec turns it on with `config DEBUG_TEST_DRIVER_REMOVE : bool = y;`, or leaves it a choice
with `config DEBUG_TEST_DRIVER_REMOVE : bool;` (both values are explored).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..errors import SpecError
from ..ir import FALSE, Const, Expr, conj, disj, eq, neg
from .context import Frame

if TYPE_CHECKING:
    from .compile import Compiler
    from .driver_core import Instance

OPTION = "DEBUG_TEST_DRIVER_REMOVE"
Y = 2                  # config values: n m y


class DebugRemove:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.decl = next((c for c in compiler.spec.configs if c.name == OPTION), None)

    def declare(self) -> None:
        if self.decl is not None and self.decl.kind != "bool":
            raise SpecError("E272", self.decl.span, f"{OPTION} is a bool option (lib/Kconfig.debug), "
                            f"not a {self.decl.kind}", f"write `config {OPTION} : bool = y;`")

    def enabled(self) -> Expr:
        """IS_ENABLED(CONFIG_DEBUG_TEST_DRIVER_REMOVE) (drv->suppress_bind_attrs is never set)."""
        if self.decl is None:
            return FALSE
        return self.c.fold(eq(OPTION, Y))

    def probed(self, inst: "Instance", d: str, frame: Frame, rc: str, post: int,
               run_probe: Callable[[int, int], None]) -> int:
        """Where the first probe returns: post itself when the option is off; else a node from
        which a failed probe goes on to post, and a successful one runs device_remove, the
        devres release and a second probe (lowered again, returning to post)."""
        on = self.enabled()
        if on == FALSE:
            return post
        core, b, n = self.c.driver_core, frame.b, inst.name
        decl = core.drivers[d].decl
        first = b.new()
        b.edge(first, post, "", None, guard=self.c.fold(disj(neg(eq(rc, 0)), neg(on))))
        removing = b.new()
        b.edge(first, removing, f"really_probe: test_remove (CONFIG_{OPTION}): device_remove({n}): "
               + (f"{d}.remove({n})" if decl.remove is not None else f"{d} has no remove callback"),
               decl.span, guard=self.c.fold(conj(eq(rc, 0), on)))
        removed = removing
        if decl.remove is not None:
            removed = b.new()
            inner = Frame(b, "remove", module=core.drivers[d].owner, device=n, ret=removed, loading=frame.loading)
            self.c.stmts.block(decl.remove, inner, removing, removed)
        cleaned = b.new()
        core.release_devres(inst, b, removed, cleaned, frame.loading, driver=d)
        again = b.new()
        b.edge(cleaned, again, f"really_probe: device_unbind_cleanup({n}), goto re_probe: {d}.probe({n}) again",
               None, assigns=((rc, Const(0)),) + self.c.devdata.allocate(n),
               checks=self.c.devdata.freed_check(f"the test remove of {n} freed its driver data", device=n))
        run_probe(again, post)
        return first
