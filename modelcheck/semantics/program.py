"""Emitting threads: locations and edges are added as statements are lowered."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..ir import FALSE, TRUE, Edge, Expr, Location, Span, Thread, Wait, conj, simplify, substitute


@dataclass
class _Edge:
    guard: Expr
    assigns: tuple
    target: int
    label: str
    span: Optional[Span]
    checks: tuple
    waits: Optional[Wait] = None


class ThreadBuilder:
    """A thread under construction. Location 0 is the entry; `finish` seals it."""

    def __init__(self, name: str, kind: str, fixed: dict[str, int] | None = None):
        self.fixed = fixed or {}     # variables whose value the spec fixes (Kconfig set to y/m/n)
        self.name = name
        self.kind = kind
        self.fairness = "weak"   # ir.FAIRNESS_CLASSES: the kernel schedules it eventually
        self.edges: list[list[_Edge]] = [[]]
        self.rest: set[int] = set()

    def new(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def edge(self, src: int, dst: int, label: str, span: Optional[Span] = None, *,
             guard: Expr = TRUE, assigns=(), checks=(), waits: Optional[Wait] = None) -> None:
        """An edge src -> dst; `waits` names what it waits for while `guard` is false (see ir.Wait)."""
        guard = self.fold(guard)
        if guard == FALSE:
            return   # a path the spec's fixed choices rule out
        self.edges[src].append(_Edge(guard, tuple(assigns), dst, label, span, tuple(checks),
                                     waits if guard != TRUE else None))

    def add_checks(self, src: int, first: int, checks: tuple) -> None:
        """Add `checks` to the edges leaving `src` from its `first`-th on (those one statement made)."""
        for e in self.edges[src][first:]:
            e.checks = e.checks + tuple(checks)

    def fold(self, expr: Expr) -> Expr:
        return simplify(substitute(expr, self.fixed))

    def step(self, src: int, label: str, span: Optional[Span] = None, **kw) -> int:
        """One atomic step from src to a fresh location; returns it."""
        dst = self.new()
        self.edge(src, dst, label, span, **kw)
        return dst

    def mark_rest(self, loc: int) -> None:
        self.rest.add(loc)

    def finish(self, end: int) -> Thread:
        """Seal the thread; `end` is where it stops (a resting location with no edges)."""
        self.rest.add(end)
        self._fold_silent_guards()
        forward = self._silent_jumps()
        order = self._reachable(forward)
        index = {loc: i for i, loc in enumerate(order)}
        locations = tuple(
            Location(tuple(Edge(e.guard, e.assigns, index[forward(e.target)], e.label, e.span, e.checks, e.waits)
                           for e in self.edges[loc]),
                     rest=loc in self.rest)
            for loc in order)
        return Thread(self.name, locations, self.kind, self.fairness)

    def _fold_silent_guards(self) -> None:
        """An unlabelled guarded jump (a call into module code that runs only while the module is
        loaded) is no step of its own: its guard joins each first step of the code it leads to."""
        for src in range(len(self.edges)):
            for _ in range(len(self.edges)):   # folded edges may lead to another silent guard
                folded, changed = [], False
                for e in self.edges[src]:
                    dst = e.target
                    if (e.label or e.assigns or e.checks or e.guard == TRUE or dst in self.rest
                            or dst == src or not self.edges[dst]
                            or any(d.target == dst for d in self.edges[dst])):
                        folded.append(e)
                        continue
                    changed = True
                    for d in self.edges[dst]:
                        guard = self.fold(conj(e.guard, d.guard))
                        if guard != FALSE:
                            folded.append(_Edge(guard, d.assigns, d.target, d.label, d.span, d.checks,
                                                d.waits if guard != TRUE else None))
                self.edges[src] = folded
                if not changed:
                    break

    def _silent_jumps(self):
        """Unlabelled unconditional jumps cost a step each; edges skip over them instead."""
        def silent(loc: int) -> bool:
            out = self.edges[loc]
            return (loc != 0 and loc not in self.rest and len(out) == 1 and out[0].guard == TRUE
                    and not out[0].assigns and not out[0].checks and not out[0].label)

        def forward(loc: int) -> int:
            seen = set()
            while silent(loc) and loc not in seen:
                seen.add(loc)
                loc = self.edges[loc][0].target
            return loc
        return forward

    def _reachable(self, forward) -> list[int]:
        order, todo, seen = [], [0], {0}
        while todo:
            loc = todo.pop(0)
            order.append(loc)
            for e in self.edges[loc]:
                nxt = forward(e.target)
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return order
