"""Drift between a spec and the C it models: the modelled primitives of each side, compared.

The C side is what `extract` recognizes (Skeleton.sites); the spec side is every call of a spec
primitive the table produces, every `work` declaration and softdep, in the spec's modelled scope.
A primitive is named by its kind and the objects it names (`flush_work`, ("dax_hmem_work",));
the multisets are compared, so a call added to one side and not the other is drift.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from ..syntax import ast
from . import primitives as P
from .skeleton import Site


def _roles() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {"alloc_workqueue": ("wq",), "guard(mutex)": ("mutex",),
                                       "guard(device)": ("device",)}
    for prim in P.CALLS.values():
        out.setdefault(prim.spec, tuple(role for role, _ in prim.args))
    return out


ROLES = _roles()


@dataclass(frozen=True)
class Drift:
    only_in_c: tuple[Site, ...]        # the C has it, the spec does not
    only_in_spec: tuple[Site, ...]     # the spec has it, the C no longer does

    @property
    def drifted(self) -> bool:
        return bool(self.only_in_c or self.only_in_spec)


def compare(c_sites: list[Site], spec_sites: list[Site]) -> Drift:
    """Sites of each side without a counterpart on the other (multiset difference, in order)."""
    c_count, s_count = Counter(s.key for s in c_sites), Counter(s.key for s in spec_sites)
    return Drift(_excess(c_sites, c_count - s_count), _excess(spec_sites, s_count - c_count))


def _excess(sites: list[Site], extra: Counter) -> tuple[Site, ...]:
    left = Counter(extra)
    out = []
    for site in reversed(sites):          # the last occurrences are the ones without a partner
        if left[site.key] > 0:
            left[site.key] -= 1
            out.append(site)
    return tuple(reversed(out))


def spec_sites(spec: ast.Spec) -> list[Site]:
    """The modelled primitives of a spec, in the modules that declare `models` (with the fns they
    reach), or in the whole spec but its userspace blocks when `models` is top-level or absent."""
    scoped = [m for m in spec.modules if m.models]
    modules = list(spec.modules) if spec.models or not scoped else scoped
    fns = {f.name: f for f in spec.fns}
    out: list[Site] = []
    reached: list[str] = []
    for m in modules:
        for w in m.works:
            out.append(Site("work", (w.name, w.func) if w.func else (w.name,), m.name, spec.file, w.span.line))
            if w.func:
                reached.append(w.func)
        for sync in m.syncs:
            out.append(Site(sync.kind, (sync.name,), m.name, spec.file, sync.span.line))
        for dep in m.softdeps + m.post_softdeps:
            out.append(Site("softdep", (dep,), m.name, spec.file, m.span.line))
        blocks = [(f"{m.name}.init", m.init), (f"{m.name}.exit", m.exit)]
        blocks += [(f"{m.name}.initcall {i.level}", i.body) for i in m.initcalls]
        for d in m.drivers:
            blocks += [(f"{d.name}.probe", d.probe.body if d.probe else None), (f"{d.name}.remove", d.remove)]
        for where, block in blocks:
            if block is not None:
                out += _block_sites(block, where, spec.file, reached)
    if spec.models or not scoped:
        reached = list(fns)
    done: set[str] = set()
    while reached:
        name = reached.pop()
        if name in done or name not in fns:
            continue
        done.add(name)
        out += _block_sites(fns[name].body, name, spec.file, reached)
    return out


def _block_sites(block: ast.Block, where: str, file: str, reached: list[str]) -> list[Site]:
    out: list[Site] = []
    for node in _walk(block):
        if isinstance(node, ast.Guard) and node.lock_class in ("mutex", "device"):
            out.append(Site(f"guard({node.lock_class})", (node.lock,), where, file, node.span.line))
        elif isinstance(node, ast.Call):
            if node.func == "schedule_work" and len(node.args) == 1:    # queue_work(system_wq, w), as extract writes it
                out.append(Site("queue_work", ("system_wq", _arg(node.args[0])), where, file, node.span.line))
            elif node.func in ROLES and node.func in P.spec_primitives():
                args = [a for a, role in zip(node.args, ROLES[node.func]) if role != "cond"]
                out.append(Site(node.func, tuple(_arg(a) for a in args), where, file, node.span.line))
            for a in node.args:
                if isinstance(a, ast.Name):
                    reached.append(a.id)          # init_work(w, fn), devm_add_action(fn)
            reached.append(node.func)
    return out


def _arg(node) -> str:
    return node.id if isinstance(node, ast.Name) else type(node).__name__


def _walk(node) -> Iterator:
    """Statements and expressions below `node`, in source order."""
    yield node
    if isinstance(node, ast.Block):
        for s in node.stmts:
            yield from _walk(s)
    elif isinstance(node, ast.If):
        yield from _walk(node.cond)
        yield from _walk(node.then)
        if node.other is not None:
            yield from _walk(node.other)
    elif isinstance(node, ast.For):
        if node.where is not None:
            yield from _walk(node.where)
        yield from _walk(node.body)
    elif isinstance(node, ast.CallStmt):
        yield from _walk(node.call)
    elif isinstance(node, (ast.Assign,)):
        yield from _walk(node.value)
    elif isinstance(node, ast.Assert):
        yield from _walk(node.cond)
    elif isinstance(node, ast.Return) and node.value is not None:
        yield from _walk(node.value)
    elif isinstance(node, ast.Call):
        for a in node.args:
            yield from _walk(a)
    elif isinstance(node, ast.Unary):
        yield from _walk(node.arg)
    elif isinstance(node, ast.Binary):
        yield from _walk(node.left)
        yield from _walk(node.right)


def show(site: Site) -> str:
    """`flush_work(dax_hmem_work)`, `work dax_hmem_work = process_defer_work`."""
    if site.primitive == "work":
        return f"work {site.objects[0]}" + (f" = {site.objects[1]}" if len(site.objects) > 1 else " (no initializer)")
    if site.primitive in ("softdep", "mutex", "rwsem", "completion", "waitqueue"):
        return f"{site.primitive} {site.objects[0]}"
    return f"{site.primitive}({', '.join(site.objects)})"
