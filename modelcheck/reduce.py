"""Step fusion: a step that only touches its own thread's private state is merged into the
step before it, as SPIN merges local statements. Fewer steps, same reachable behaviour.

A location M is fused away when it cannot block (its edges' guards are exhaustive), it is not
a resting point, and every edge leaving M is invisible: it carries no check, and reads and
writes only variables that no other thread writes (for reads) or accesses (for writes), and
that no state property reads. Each edge into M is then composed with each edge out of M.
"""
from __future__ import annotations

from dataclasses import replace

from .ir import (TRUE, replace_refs, Arith, BoolOp, Cmp, Edge, Expr, Ite, Location, Model, Not, Ref, Thread,
                 conj, neg, simplify)


def variables_of(expr: Expr) -> set[str]:
    kind = type(expr)
    if kind is Ref:
        return {expr.var}
    if kind is Not:
        return variables_of(expr.arg)
    if kind is BoolOp:
        return set().union(*(variables_of(a) for a in expr.args))
    if kind in (Cmp, Arith):
        return variables_of(expr.left) | variables_of(expr.right)
    if kind is Ite:
        return variables_of(expr.cond) | variables_of(expr.then) | variables_of(expr.other)
    return set()


def edge_reads(edge: Edge) -> set[str]:
    out = variables_of(edge.guard)
    for _, expr in edge.assigns:
        out |= variables_of(expr)
    for check in edge.checks:
        out |= variables_of(check.ok)
    return out


def edge_writes(edge: Edge) -> set[str]:
    return {var for var, _ in edge.assigns}


def fuse(model: Model) -> Model:
    """The model with every fusable location merged away."""
    readers, writers = _access(model)
    watched = set()
    for prop in model.properties:
        if prop.expr is not None:
            watched |= variables_of(prop.expr)
    threads = tuple(_fuse_thread(t, i, readers, writers, watched) for i, t in enumerate(model.threads))
    return replace(model, threads=threads)


def _access(model: Model) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    readers: dict[str, set[int]] = {}
    writers: dict[str, set[int]] = {}
    for t, thread in enumerate(model.threads):
        for loc in thread.locations:
            for edge in loc.edges:
                for v in edge_reads(edge):
                    readers.setdefault(v, set()).add(t)
                for v in edge_writes(edge):
                    writers.setdefault(v, set()).add(t)
    return readers, writers


def _invisible(edge: Edge, t: int, readers, writers, watched) -> bool:
    if edge.checks:
        return False
    for v in edge_reads(edge):
        if writers.get(v, set()) - {t}:
            return False
    for v in edge_writes(edge):
        if v in watched or (readers.get(v, set()) | writers.get(v, set())) - {t}:
            return False
    return True


def _cannot_block(edges: tuple[Edge, ...]) -> bool:
    guards = [e.guard for e in edges]
    if any(g == TRUE for g in guards):
        return True
    return len(guards) == 2 and (guards[0] == neg(guards[1]) or guards[1] == neg(guards[0]))


def _fuse_thread(thread: Thread, t: int, readers, writers, watched) -> Thread:
    locs = [list(l.edges) for l in thread.locations]
    rest = [l.rest for l in thread.locations]
    fusable = {m for m, out in enumerate(locs)
               if m != 0 and not rest[m] and out and _cannot_block(tuple(out))
               and all(_invisible(e, t, readers, writers, watched) for e in out)
               and all(e.target != m for e in out)}
    fusable = _acyclic(fusable, locs)
    fused: list[list[Edge]] = [[] for _ in locs]
    seen, todo = {0}, [0]
    while todo:                      # only locations still reachable after fusion are expanded
        src = todo.pop()
        fused[src] = _through(locs[src], fusable, locs)
        for e in fused[src]:
            if e.target not in seen:
                seen.add(e.target)
                todo.append(e.target)
    return _compact(thread, fused, rest)


def _acyclic(fusable: set[int], locs: list[list[Edge]]) -> set[int]:
    """The fusable locations outside any cycle of fusable locations (Kahn's algorithm): fusing
    around such a cycle would never end, so its locations (and those after it) are kept."""
    succ = {m: {e.target for e in locs[m] if e.target in fusable} for m in fusable}
    preds = {m: 0 for m in fusable}
    for m in fusable:
        for n in succ[m]:
            preds[n] += 1
    ready = [m for m in fusable if preds[m] == 0]
    kept = set()
    while ready:
        m = ready.pop()
        kept.add(m)
        for n in succ[m]:
            preds[n] -= 1
            if preds[n] == 0:
                ready.append(n)
    return kept


def _through(edges: list[Edge], fusable: set[int], locs: list[list[Edge]]) -> list[Edge]:
    """Each edge composed forward through fusable locations until it reaches a kept one, in
    order; edges whose composed guard is false are dropped. Iterative: chains may be long."""
    out = []
    todo = list(reversed(edges))
    while todo:
        e = todo.pop()
        if e.guard == FALSE_:
            continue
        if e.target in fusable:
            todo.extend(reversed([_compose(e, f) for f in locs[e.target]]))
        else:
            out.append(e)
    return out


FALSE_ = simplify(Not(TRUE))


def _compose(first: Edge, second: Edge) -> Edge:
    """`first` then `second` as one atomic step."""
    after = dict(first.assigns)
    guard = simplify(conj(first.guard, replace_refs(second.guard, after)))
    assigns = dict(first.assigns)
    for var, expr in second.assigns:
        assigns[var] = simplify(replace_refs(expr, after))
    label = " ; ".join(x for x in (first.label, second.label) if x)
    return Edge(guard, tuple(assigns.items()), second.target, label,
                first.span or second.span, first.checks, first.waits or second.waits)


def _compact(thread: Thread, locs: list[list[Edge]], rest: list[bool]) -> Thread:
    order, seen, todo = [], {0}, [0]
    while todo:
        loc = todo.pop(0)
        order.append(loc)
        for e in locs[loc]:
            if e.target not in seen:
                seen.add(e.target)
                todo.append(e.target)
    index = {loc: i for i, loc in enumerate(order)}
    locations = tuple(Location(tuple(replace(e, target=index[e.target]) for e in locs[loc]), rest[loc])
                      for loc in order)
    return replace(thread, locations=locations)
