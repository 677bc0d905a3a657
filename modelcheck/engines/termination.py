"""A static proof that every execution of a model is finite, from the IR alone.

A thread's steps follow its location graph; a step not on a cycle of that graph is taken at
most once. A cycle can be gone round forever only if each round's *consuming* step can be
re-enabled forever: a step whose guard needs `x == c` and which sets x to another value (a
kworker taking its pending work, for example) runs at most once more than the steps that set
x back to c (its *producers*). So a strongly connected part of a thread's location graph is
finite when some consuming step lies on every cycle of it and all its producers are finite
steps; the rest follows as a fixed point. When every part is finite there is no infinite
execution, so no cycle in the state graph: no livelock, no hung task, and a liveness property
can only fail at a quiescent end.
"""
from __future__ import annotations

from typing import Optional

from ..ir import BoolOp, Cmp, Const, Edge, Ite, Model, Not, Ref

EdgeId = tuple[int, int, int]        # thread, location, edge index


def finite_argument(model: Model) -> Optional[str]:
    """Why every execution is finite, or None when this argument cannot show it."""
    edges = {(t, k, e): edge for t, th in enumerate(model.threads)
             for k, loc in enumerate(th.locations) for e, edge in enumerate(loc.edges)}
    parts = [(t, comp) for t, th in enumerate(model.threads) for comp in _cyclic_parts(th)]
    if not parts:
        return "no thread's code has a loop, so every execution is finite"
    in_part = {eid: i for i, (t, comp) in enumerate(parts)
               for eid in edges if eid[0] == t and eid[1] in comp and edges[eid].target in comp}
    finite_parts: set[int] = set()

    def edge_finite(eid) -> bool:
        return in_part.get(eid) is None or in_part[eid] in finite_parts

    def token_finite(var: str, value: int, seen: frozenset = frozenset()) -> bool:
        """Whether x becomes `value` only finitely often: every step that can make it so runs
        finitely often, or only turns another finitely-produced value into it."""
        if (var, value) in seen:
            return False
        seen = seen | {(var, value)}
        for eid, edge in edges.items():
            for source in _productions(edge, var, value):
                if edge_finite(eid):
                    continue
                if source is None or not token_finite(var, source, seen):
                    return False
        return True

    changed = True
    while changed:
        changed = False
        for i, (t, comp) in enumerate(parts):
            if i in finite_parts:
                continue
            inside = [eid for eid, p in in_part.items() if p == i]
            consumers: dict[tuple[str, int], set[EdgeId]] = {}
            for eid in inside:
                for consumed in _consumed(edges[eid], model):
                    consumers.setdefault(consumed, set()).add(eid)
            for consumed, cut in consumers.items():
                if _cuts_every_cycle(edges, inside, cut) and token_finite(*consumed):
                    finite_parts.add(i)
                    changed = True
                    break
    if len(finite_parts) < len(parts):
        return None
    return (f"every loop in the threads' code ({len(parts)}) is gone round only as often as a "
            "step that runs finitely often re-enables it (a work item queued by code that runs "
            "once, for example), so every execution is finite")


def _cyclic_parts(thread) -> list[set[int]]:
    """The strongly connected sets of locations with a cycle (Tarjan on the location graph)."""
    n = len(thread.locations)
    succ = [[e.target for e in loc.edges if e.target < n] for loc in thread.locations]
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in succ[v]:
                out.append(comp)

    import sys
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * n + 100))
    for v in range(n):
        if v not in index:
            visit(v)
    return out


def _consumed(edge: Edge, model: Model) -> list[tuple[str, int]]:
    """Every (x, c) such that the edge needs x == c and leaves x at a constant other than c."""
    sets = {var: expr for var, expr in edge.assigns}
    out = []
    for g in _conjuncts(edge.guard):
        need = _needs_value(g, model)
        if need is None:
            continue
        var, value = need
        after = sets.get(var)
        if isinstance(after, Const) and after.value != value:
            out.append((var, value))
    return out


def _conjuncts(expr) -> list:
    if isinstance(expr, BoolOp) and expr.op == "and":
        return [c for a in expr.args for c in _conjuncts(a)]
    return [expr]


def _needs_value(guard, model: Model) -> Optional[tuple[str, int]]:
    if isinstance(guard, Cmp) and isinstance(guard.left, Ref) and isinstance(guard.right, Const):
        if guard.op == "==":
            return guard.left.var, guard.right.value
        v = model.variable(guard.left.var) if model is not None else None
        if guard.op == "!=" and v is not None and v.hi - v.lo == 1:
            return guard.left.var, v.lo if guard.right.value == v.hi else v.hi
    if isinstance(guard, Not) and isinstance(guard.arg, Cmp) and guard.arg.op == "!=":
        return _needs_value(Cmp("==", guard.arg.left, guard.arg.right), model)
    return None


def _productions(edge: Edge, var: str, value: int) -> list[Optional[int]]:
    """How the edge can set var to value: None, from any value; a, only when var was a (a
    transfer, as `Ite(var == a, value, ...)` or a guard needing var == a, writes it)."""
    expr = next((e for v, e in edge.assigns if v == var), None)
    if expr is None:
        return []
    needed = next((c for v, c in (_needs_value(g, None) or (None, None) for g in _conjuncts(edge.guard))
                   if v == var), None)
    out: list[Optional[int]] = []

    def walk(e, source):
        if isinstance(e, Ite):
            test = _needs_value(e.cond, None)
            if test is not None and test[0] == var:
                walk(e.then, test[1])
            else:
                walk(e.then, source)
            walk(e.other, source)
        elif isinstance(e, Const):
            if e.value == value and source != value:
                out.append(source)
        elif isinstance(e, Ref) and e.var == var:
            return            # left as it was: no new value
        else:
            out.append(source)   # computed: assume it may be anything

    walk(expr, needed)
    return out


def _cuts_every_cycle(edges, inside: list[EdgeId], cut: set[EdgeId]) -> bool:
    """Whether the locations joined by `inside` minus `cut` have no cycle left."""
    succ: dict[int, list[int]] = {}
    for eid in inside:
        if eid not in cut:
            succ.setdefault(eid[1], []).append(edges[eid].target)
    state: dict[int, int] = {}

    def cyclic(v) -> bool:
        stack = [(v, iter(succ.get(v, ())))]
        state[v] = 1
        while stack:
            node, it = stack[-1]
            for w in it:
                if state.get(w) == 1:
                    return True
                if w not in state:
                    state[w] = 1
                    stack.append((w, iter(succ.get(w, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
        return False

    return not any(cyclic(v) for v in list(succ) if v not in state)
