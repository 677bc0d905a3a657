"""Memory (kernel-semantics.md §5, §6.5): Soft Reserved ranges, CXL windows and regions,
exclusive dax_region claims, and the queries the designs make. Busy regions (request_mem_region
and friends) are in iomem.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError
from ..ir import Arith, BoolConst, Const, Expr, Ite, Property, conj, disj, eq, neg
from ..syntax import ast
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

DOMAINS = {"soft_reserved": "soft_reserved", "mmio": "mmio", "ioport": "ioport",
           "windows": "window", "window": "window", "regions": "region", "region": "region"}


class Resources:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.extents = {e.name: e for e in compiler.spec.extents}
        self.claims: list[tuple[str, str]] = []          # (extent, owner) pairs that can be held

    def prescan(self, calls: list[ast.Call]) -> None:
        """Every (range, owner) pair a claim can make, so queries see all of them from the start."""
        claimable = [e for e in self.extents.values() if e.kind in ("soft_reserved", "region")]
        for call in calls:
            pairs = self.claims if call.func == "claim" else None
            if pairs is None or len(call.args) != 2 or not isinstance(call.args[1], ast.Name):
                continue
            target, owner = call.args
            named = isinstance(target, ast.Name) and target.id in self.extents
            for e in ([self.extents[target.id]] if named else claimable):
                if (e.name, owner.id) not in pairs:
                    pairs.append((e.name, owner.id))

    def declare(self) -> None:
        for e, o in self.claims:
            self.c.ctx.flag(f"{e}.held_by.{o}")
        for e in self.extents.values():
            if e.kind == "window":
                self.c.ctx.flag(f"{e.name}.present")
            elif e.kind == "region":
                self.c.ctx.flag(f"{e.name}.committed")
            elif e.kind == "soft_reserved" and self.uses_iomem_insert:
                self.c.ctx.flag(f"{e.name}.in_iomem")

    @property
    def uses_iomem_insert(self) -> bool:
        return self.c.uses("iomem_insert")

    def domain(self, name: str, span) -> list[str]:
        kind = DOMAINS.get(name)
        if kind is None:
            raise SpecError("E200", span, f"unknown set {name!r}",
                            "loop over soft_reserved, mmio, ioport, windows or regions")
        return [e.name for e in self.extents.values() if e.kind == kind]

    def overlaps(self, a: str, b: str) -> bool:
        x, y = self.extents[a], self.extents[b]
        return x.start <= y.end and y.start <= x.end

    def contains(self, outer: str, inner: str) -> bool:
        x, y = self.extents[outer], self.extents[inner]
        return x.start <= y.start and y.end <= x.end

    def held(self, extent: str, owner: str) -> str:
        return f"{extent}.held_by.{owner}"

    # -- queries --
    def queries(self) -> dict:
        return {"intersects_cxl": self.q_intersects_cxl, "region_contains": self.q_region_contains,
                "owned": self.q_owned, "owned_by": self.q_owned_by, "owners": self.q_owners,
                "present": self.q_present, "committed": self.q_committed,
                "within": self.q_within}

    def q_intersects_cxl(self, call, frame) -> Expr:
        """region_intersects(..., IORES_DESC_CXL) != DISJOINT: a published window overlaps (§5.3)."""
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame)
        return disj(*(eq(f"{w}.present", 1) for w in self.domain("windows", call.span) if self.overlaps(w, r)))

    def q_region_contains(self, call, frame) -> Expr:
        """cxl_region_contains_resource: a committed region fully contains the range (§6.4)."""
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame)
        return disj(*(eq(f"{g}.committed", 1) for g in self.domain("regions", call.span) if self.contains(g, r)))

    def _held_over(self, r: str, owner=None) -> list[str]:
        return [self.held(e, o) for e, o in list(self.claims)
                if self.overlaps(e, r) and (owner is None or o == owner)]

    def q_owned(self, call, frame) -> Expr:
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame)
        return disj(*(eq(h, 1) for h in self._held_over(r)))

    def q_owned_by(self, call, frame) -> Expr:
        arity(call, 2)
        r = self.c.exprs.extent_arg(call, 0, frame)
        owner = self.owner_arg(call, 1)
        return disj(*(eq(h, 1) for h in self._held_over(r, owner)))

    def q_owners(self, call, frame) -> Expr:
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame)
        owners = sorted({o for e, o in self.claims if self.overlaps(e, r)})
        total: Expr = Const(0)
        for o in owners:
            total = Arith("+", total, Ite(disj(*(eq(h, 1) for h in self._held_over(r, o))), Const(1), Const(0)))
        return total

    def q_within(self, call, frame) -> Expr:
        """within(a, b): a's addresses lie inside b's (fixed geometry, known when compiling)."""
        arity(call, 2)
        a, b = self.c.exprs.extent_arg(call, 0, frame), self.c.exprs.extent_arg(call, 1, frame)
        return BoolConst(self.contains(b, a))

    def q_present(self, call, frame) -> Expr:
        arity(call, 1)
        return eq(f"{self.c.exprs.extent_arg(call, 0, frame, ('window',))}.present", 1)

    def q_committed(self, call, frame) -> Expr:
        arity(call, 1)
        return eq(f"{self.c.exprs.extent_arg(call, 0, frame, ('region',))}.committed", 1)

    # -- statements --
    def statements(self) -> dict:
        return {"claim": self.claim, "release": self.release, "publish_window": self.publish_window,
                "remove_window": self.remove_window, "commit_region": self.commit_region,
                "iomem_insert": self.iomem_insert, "iomem_remove": self.iomem_remove}

    def owner_arg(self, call: ast.Call, i: int) -> str:
        return self.c.exprs.symbol_arg(call, i, ("module", "driver"), "an owner (a module or driver name)").name

    def claim(self, call, frame, at, nxt, target) -> None:
        """alloc_dax_region: with `dax_regions exclusive;` (Linux 7.0+) any overlap fails (§6.5)."""
        arity(call, 2)
        r = self.c.exprs.extent_arg(call, 0, frame, ("soft_reserved", "region"))
        owner = self.owner_arg(call, 1)
        flag = self.held(r, owner)
        ok = ((target, Const(1)),) if target else ()
        fail = ((target, Const(0)),) if target else ()
        if not self.c.spec.exclusive_dax_regions:
            frame.b.edge(at, nxt, f"alloc_dax_region({r}) by {owner}", call.span,
                         assigns=((flag, Const(1)),) + ok)
            return
        busy = disj(*(eq(self.held(e, o), 1) for e, o in self.claims if self.overlaps(e, r)))
        frame.b.edge(at, nxt, f"alloc_dax_region({r}) by {owner}: succeeds", call.span,
                     guard=neg(busy), assigns=((flag, Const(1)),) + ok)
        frame.b.edge(at, nxt, f"alloc_dax_region({r}) by {owner}: range busy, returns NULL", call.span,
                     guard=busy, assigns=fail)

    def release(self, call, frame, at, nxt, target) -> None:
        arity(call, 2)
        r = self.c.exprs.extent_arg(call, 0, frame, ("soft_reserved", "region"))
        owner = self.owner_arg(call, 1)
        frame.b.edge(at, nxt, f"release dax_region {r} of {owner}", call.span,
                     assigns=((self.held(r, owner), Const(0)),))

    def publish_window(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        w = self.c.exprs.extent_arg(call, 0, frame, ("window",))
        # drivers/cxl/acpi.c add_cxl_resources: insert_resource_expand_to_fit never fails (the
        # window grows over a conflict; the growth is not modelled).
        frame.b.edge(at, nxt, f"insert CXL window {w} into iomem", call.span, assigns=((f"{w}.present", Const(1)),))

    def remove_window(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        w = self.c.exprs.extent_arg(call, 0, frame, ("window",))
        frame.b.edge(at, nxt, f"remove CXL window {w} from iomem", call.span, assigns=((f"{w}.present", Const(0)),))

    def commit_region(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        g = self.c.exprs.extent_arg(call, 0, frame, ("region",))
        self._insert(call, frame, at, nxt, target, g, f"{g}.committed", f"CXL region {g} committed")

    # -- the iomem resource tree (§5.2) --
    def containers(self) -> list[tuple[str, Expr]]:
        """(extent, present in iomem_resource) for every non-busy node the tree can hold: a
        published window, a committed region, an inserted Soft Reserved range."""
        nodes = []
        for e in self.extents.values():
            if e.kind == "window":
                nodes.append((e.name, eq(f"{e.name}.present", 1)))
            elif e.kind == "region":
                nodes.append((e.name, eq(f"{e.name}.committed", 1)))
            elif e.kind == "soft_reserved" and self.uses_iomem_insert:
                nodes.append((e.name, eq(f"{e.name}.in_iomem", 1)))
        return nodes

    def insert_fits(self, x: str) -> Expr:
        """kernel/resource.c __insert_resource: the new node descends into nodes that contain
        it and adopts nodes it contains, busy or not; a node that overlaps it only in part
        ("Partial overlap? Bad, and unfixable") makes insert_resource fail with -EBUSY."""
        from .iomem import tree
        nodes = list(self.containers())
        nodes += [(e, eq(self.c.iomem.busy(e, o), 1)) for e, o in self.c.iomem.requests
                  if tree(self.extents[e].kind) == "iomem"]
        blockers = [present for name, present in nodes
                    if name != x and self.overlaps(name, x)
                    and not self.contains(name, x) and not self.contains(x, name)]
        return neg(disj(*blockers))

    def _insert(self, call, frame, at, nxt, target, x: str, flag: str, label: str) -> None:
        """One insert_resource into iomem_resource: the flag is set, or it fails with -EBUSY."""
        fits = self.insert_fits(x)
        ok = ((target, Const(1)),) if target else ()
        fail = ((target, Const(0)),) if target else ()
        frame.b.edge(at, nxt, label, call.span, guard=fits, assigns=((flag, Const(1)),) + ok)
        frame.b.edge(at, nxt, f"{label}: fails, a partial overlap in iomem (-EBUSY)", call.span,
                     guard=neg(fits), assigns=fail)

    def iomem_insert(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame, ("soft_reserved",))
        # arch/x86/kernel/e820.c e820__reserve_resources_late: insert_resource_expand_to_fit.
        frame.b.edge(at, nxt, f"insert \"Soft Reserved\" {r} into iomem", call.span,
                     assigns=((f"{r}.in_iomem", Const(1)),))

    def iomem_remove(self, call, frame, at, nxt, target) -> None:
        arity(call, 1)
        r = self.c.exprs.extent_arg(call, 0, frame, ("soft_reserved",))
        frame.b.edge(at, nxt, f"remove \"Soft Reserved\" {r} from iomem", call.span,
                     assigns=((f"{r}.in_iomem", Const(0)),))

    # -- the built-in property --
    def double_claim_property(self):
        pairs = [(a, b) for i, a in enumerate(self.claims) for b in self.claims[i + 1:]
                 if self.overlaps(a[0], b[0])]
        if not self.claims:
            return None
        expr = conj(*(neg(conj(eq(self.held(*a), 1), eq(self.held(*b), 1))) for a, b in pairs))
        return Property("no_double_claim", "invariant",
                        "no memory range is held by two dax_regions at once", expr, builtin=True)
