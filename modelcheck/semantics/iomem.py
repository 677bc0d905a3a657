"""Busy regions in the kernel's resource trees (kernel/resource.c): request_mem_region and
request_region, their devres forms (released when the probe fails or the driver unbinds),
ioremap of register ranges, and the built-in check that no register range has two owners.

A request is a busy node of iomem_resource (memory: mmio, Soft Reserved, CXL) or of
ioport_resource (ioport ranges); the two trees never conflict with each other."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..errors import SpecError
from ..ir import Const, Expr, Property, conj, disj, eq, neg
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

MEMORY = ("soft_reserved", "region", "mmio")      # what request_mem_region takes
PORTS = ("ioport",)                                # what request_region takes
REGISTERS = ("mmio", "ioport")                     # what no_shared_registers watches

# primitive -> (range kinds it takes, whether it maps the range too)
REQUESTS = {"request_mem_region": (MEMORY, False), "request_region": (PORTS, False)}
RELEASES = {"release_mem_region": MEMORY, "release_region": PORTS}
DEVRES = {"devm_request_mem_region": (MEMORY, False), "devm_request_region": (PORTS, False),
          "devm_ioremap_resource": (("mmio",), True)}

# primitives that give a result (true when the region was granted): `ok = request_region(r, o);`
IOMEM_RESULTS = frozenset(REQUESTS) | frozenset(DEVRES) | {"ioremap"}


def tree(kind: str) -> str:
    """The resource tree a range lives in: ioport_resource for ports, iomem_resource otherwise."""
    return "ioport" if kind == "ioport" else "iomem"


class IoMem:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.res = compiler.resources
        self.requests: list[tuple[str, str]] = []     # (extent, owner) that can be busy
        self.mappings: list[tuple[str, str]] = []     # (extent, owner) that can be ioremapped

    # -- setup --
    def prescan(self, calls: list[ast.Call], probe_calls: dict[str, list[ast.Call]]) -> None:
        """Every (range, owner) pair a request or mapping can make, so queries and the
        no_shared_registers check see all of them from the start. `probe_calls` maps each
        driver to the calls of its probe: a devm_* request is owned by that driver."""
        def add(pairs, target, owner, kinds):
            named = isinstance(target, ast.Name) and target.id in self.res.extents
            for e in ([self.res.extents[target.id]] if named else self.res.extents.values()):
                if e.kind in kinds and (e.name, owner) not in pairs:
                    pairs.append((e.name, owner))

        for call in calls:
            spec = REQUESTS.get(call.func) or ((("mmio",), True) if call.func == "ioremap" else None)
            if spec is None or len(call.args) != 2 or not isinstance(call.args[1], ast.Name):
                continue
            add(self.mappings if call.func == "ioremap" else self.requests, call.args[0], call.args[1].id, spec[0])
        for driver, driver_calls in probe_calls.items():
            for call in driver_calls:
                if call.func in DEVRES and len(call.args) == 1:
                    kinds, maps = DEVRES[call.func]
                    add(self.requests, call.args[0], driver, kinds)
                    if maps:
                        add(self.mappings, call.args[0], driver, kinds)

    def declare(self) -> None:
        for e, o in self.requests:
            self.c.ctx.flag(self.busy(e, o))
        for e, o in self.mappings:
            self.c.ctx.flag(self.mapped(e, o))

    @staticmethod
    def busy(extent: str, owner: str) -> str:
        return f"{extent}.busy_by.{owner}"

    @staticmethod
    def mapped(extent: str, owner: str) -> str:
        return f"{extent}.mapped_by.{owner}"

    def kind(self, extent: str) -> str:
        return self.res.extents[extent].kind

    # -- the resource tree --
    def request_fits(self, x: str) -> Expr:
        """__request_region_locked (kernel/resource.c) descends only into non-busy nodes that
        fully contain the request, so it succeeds exactly when every present node of the same
        tree overlapping it is such a container: a busy node, or a child covering part of it
        (a straddle), makes it fail with -EBUSY."""
        same = tree(self.kind(x))
        nodes = [(name, present, False) for name, present in self.res.containers()]
        nodes += [(e, eq(self.busy(e, o), 1), True) for e, o in self.requests]
        blockers = [present for name, present, is_busy in nodes
                    if tree(self.kind(name)) == same and self.res.overlaps(name, x)
                    and (is_busy or not self.res.contains(name, x))]
        return neg(disj(*blockers))

    def _granted(self, x: str) -> str:
        # kmem's request of Soft Reserved or CXL memory turns it into System RAM
        return "System RAM" if self.kind(x) in ("soft_reserved", "region") else "granted"

    # -- statements --
    def statements(self) -> dict:
        out = {name: self.request for name in REQUESTS}
        out.update({name: self.release for name in RELEASES})
        out.update({name: self.devm_request for name in DEVRES})
        out.update({"ioremap": self.ioremap, "iounmap": self.iounmap})
        return out

    def devres(self) -> dict:
        """The devres entries this module adds to a probe: primitive -> undo(inst, site)."""
        return {name: self.devres_undo for name in DEVRES}

    def request(self, call, frame, at, nxt, target) -> None:
        """request_mem_region / request_region (include/linux/ioport.h): __request_region on
        iomem_resource or ioport_resource; NULL (false) when the range is busy."""
        arity(call, 2)
        x = self.c.exprs.extent_arg(call, 0, frame, REQUESTS[call.func][0])
        owner = self.res.owner_arg(call, 1)
        self._request(call, frame, at, nxt, target, x, owner, ((self.busy(x, owner), Const(1)),))

    def _request(self, call, frame, at, nxt, target, x, owner, on_success) -> None:
        fits = self.request_fits(x)
        ok = ((target, Const(1)),) if target else ()
        fail = ((target, Const(0)),) if target else ()
        frame.b.edge(at, nxt, f"{call.func}({x}) by {owner}: {self._granted(x)}", call.span,
                     guard=fits, assigns=on_success + ok)
        frame.b.edge(at, nxt, f"{call.func}({x}) by {owner}: conflict, -EBUSY", call.span,
                     guard=neg(fits), assigns=fail)

    def release(self, call, frame, at, nxt, target) -> None:
        """release_mem_region / release_region: __release_region drops the busy node."""
        arity(call, 2)
        x = self.c.exprs.extent_arg(call, 0, frame, RELEASES[call.func])
        owner = self.res.owner_arg(call, 1)
        # a pair nothing can request has no busy variable: releasing it changes nothing
        drop = ((self.busy(x, owner), Const(0)),) if (x, owner) in self.requests else ()
        frame.b.edge(at, nxt, f"{call.func}({x}) by {owner}", call.span, assigns=drop)

    def devm_request(self, call, frame, at, nxt, target) -> None:
        """__devm_request_region (kernel/resource.c) and __devm_ioremap_resource (lib/devres.c):
        the request, recorded as a devres entry of the probing device only when it succeeds;
        devm_ioremap_resource fails with -EBUSY (false) when the request does."""
        if frame.context == "probe" and frame.device is None and frame.b.kind == "lint":
            return frame.b.edge(at, nxt, "", None)   # the probe of a driver with no device, as devm_add_action
        inst = self._probing(call, frame)
        arity(call, 1)
        kinds, maps = DEVRES[call.func]
        x = self.c.exprs.extent_arg(call, 0, frame, kinds)
        owner = inst.decl.driver
        k = self.c.driver_core.devres_index(inst, call)
        assigns = ((self.busy(x, owner), Const(1)), (f"{inst.name}.devres{k}", Const(1)))
        if maps:
            assigns += ((self.mapped(x, owner), Const(1)),)
        self._request(call, frame, at, nxt, target, x, owner, assigns)

    def _probing(self, call, frame: Frame):
        if frame.context != "probe" or frame.device is None:
            raise SpecError("E212", call.span, f"{call.func}() belongs in a probe body",
                            f"call {call.func}() from probe (it is released when probe fails or on "
                            "unbind), or use the plain form with an owner elsewhere")
        return next(i for i in self.c.driver_core.instances if i.name == frame.device)

    def devres_undo(self, inst, site: ast.Call) -> tuple[str, tuple]:
        """devm_region_release / devm_ioremap_release: the region (and mapping) go back."""
        x = self._site_extent(inst, site)
        owner = inst.decl.driver
        undo = ((self.busy(x, owner), Const(0)),)
        if DEVRES[site.func][1]:
            undo += ((self.mapped(x, owner), Const(0)),)
        return f"devres: release region {x} of {inst.name}", undo

    def _site_extent(self, inst, site: ast.Call) -> str:
        name = site.args[0].id
        probe = self.c.driver_core.driver_of(inst).probe
        return inst.extent if probe.param == name else name

    def ioremap(self, call, frame, at, nxt, target) -> None:
        """ioremap (arch code): maps the registers whether or not anyone requested them; the
        resource tree is not consulted, so two owners can map one range."""
        arity(call, 2)
        x = self.c.exprs.extent_arg(call, 0, frame, ("mmio",))
        owner = self.res.owner_arg(call, 1)
        ok = ((target, Const(1)),) if target else ()
        frame.b.edge(at, nxt, f"ioremap({x}) by {owner}", call.span,
                     assigns=((self.mapped(x, owner), Const(1)),) + ok)

    def iounmap(self, call, frame, at, nxt, target) -> None:
        arity(call, 2)
        x = self.c.exprs.extent_arg(call, 0, frame, ("mmio",))
        owner = self.res.owner_arg(call, 1)
        # a pair nothing can ioremap has no mapping variable: unmapping it changes nothing
        unmap = ((self.mapped(x, owner), Const(0)),) if (x, owner) in self.mappings else ()
        frame.b.edge(at, nxt, f"iounmap({x}) by {owner}", call.span, assigns=unmap)

    # -- queries --
    def queries(self) -> dict:
        return {"requested": self.q_requested, "mapped": self.q_mapped}

    def q_requested(self, call, frame) -> Expr:
        """A busy region (request_mem_region, request_region, their devm forms) of the same
        tree overlaps the range."""
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame)
        return disj(*(eq(self.busy(e, o), 1) for e, o in self.requests
                      if tree(self.kind(e)) == tree(self.kind(r)) and self.res.overlaps(e, r)))

    def q_mapped(self, call, frame) -> Expr:
        """Some owner has ioremapped registers overlapping the range."""
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame, REGISTERS)
        return disj(*(eq(self.mapped(e, o), 1) for e, o in self.mappings if self.res.overlaps(e, r)))

    # -- the built-in property --
    def holds(self, extent: str, owner: str) -> Expr:
        """The owner has the registers: a busy request, or a mapping."""
        flags = [self.busy(extent, owner)] if (extent, owner) in self.requests else []
        flags += [self.mapped(extent, owner)] if (extent, owner) in self.mappings else []
        return disj(*(eq(f, 1) for f in flags))

    def shared_registers_property(self) -> Optional[Property]:
        """no_shared_registers: no two owners have overlapping register ranges at once."""
        holders = sorted({p for p in self.requests + self.mappings if self.kind(p[0]) in REGISTERS})
        if not holders:
            return None
        pairs = [(a, b) for i, a in enumerate(holders) for b in holders[i + 1:]
                 if a[1] != b[1] and tree(self.kind(a[0])) == tree(self.kind(b[0]))
                 and self.res.overlaps(a[0], b[0])]
        expr = conj(*(neg(conj(self.holds(*a), self.holds(*b))) for a, b in pairs))
        return Property("no_shared_registers", "invariant",
                        "no register range (mmio or ioport) is requested or mapped by two owners at once",
                        expr, builtin=True)
