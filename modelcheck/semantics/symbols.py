"""Name resolution: every declared name, its kind, and where it was declared."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..errors import SpecError
from ..ir import Span
from ..syntax import ast

SYSTEM_WORKQUEUES = ("system_wq", "system_long_wq", "system_unbound_wq", "system_dfl_wq",
                     "system_percpu_wq")
TRISTATE_LITERALS = {"n": 0, "m": 1, "y": 2}


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str          # config platform var work wq driver device module fn extent enum_label userspace
                       # mutex rwsem completion waitqueue
    decl: Any          # the AST node (or None for predefined names)
    owner: Optional[str] = None   # module or built-in object that declares it
    span: Optional[Span] = None
    driver: Optional[str] = None  # per-device data: the driver whose devices each hold a copy


class Symbols:
    def __init__(self, spec: ast.Spec):
        self.table: dict[str, Symbol] = {}
        for wq in SYSTEM_WORKQUEUES:
            self.table[wq] = Symbol(wq, "wq", ast.WqDecl(wq, False, None), None, None)
        for c in spec.configs:
            self._add(c.name, "config", c, None, c.span)
        for p in spec.platforms:
            self._add(p.name, "platform", p, None, p.span)
            self._add_labels(p.type, p.span)
        for e in spec.extents:
            self._add(e.name, "extent", e, None, e.span)
        for m in spec.modules:
            self._add(m.name, "module", m, None, m.span)
            for v in m.vars:
                self._add(v.name, "var", v, m.name, v.span)
                self._add_labels(v.type, v.span)
            for w in m.works:
                self._add(w.name, "work", w, m.name, w.span)
            for s in m.syncs:
                self._add(s.name, s.kind, s, m.name, s.span)
            for w in m.delayed_works:
                self._add(w.name, "delayed_work", w, m.name, w.span)
            for t in m.timers:
                self._add(t.name, "timer", t, m.name, t.span)
            for k in m.kthreads:
                self._add(k.name, "kthread", k, m.name, k.span)
            for q in m.wqs:
                self._add(q.name, "wq", q, m.name, q.span)
            for d in m.drivers:
                self._add(d.name, "driver", d, m.name, d.span)
                for v in d.vars:
                    self._add(v.name, "var", v, m.name, v.span, d.name)
                    self._add_labels(v.type, v.span)
                for w in d.works:
                    self._add(w.name, "work", w, m.name, w.span, d.name)
                for w in d.delayed_works:
                    self._add(w.name, "delayed_work", w, m.name, w.span, d.name)
                for t in d.timers:
                    self._add(t.name, "timer", t, m.name, t.span, d.name)
                for k in d.kthreads:
                    self._add(k.name, "kthread", k, m.name, k.span, d.name)
            for d in m.devices:
                self._add(d.name, "device", d, m.name, d.span)
        for f in spec.fns:
            self._add(f.name, "fn", f, None, f.span)
        for u in spec.userspaces:
            self._add(u.name, "userspace", u, None, u.span)

    def _add(self, name: str, kind: str, decl, owner, span, driver=None) -> None:
        if name in self.table:
            prev = self.table[name]
            where = f" (first declared at {prev.span})" if prev.span else " (a predefined name)"
            raise SpecError("E201", span, f"{name!r} is already declared{where}")
        self.table[name] = Symbol(name, kind, decl, owner, span, driver)

    def _add_labels(self, type_: ast.TypeSpec, span) -> None:
        if type_.kind != "enum":
            return
        for value, label in enumerate(type_.labels):
            existing = self.table.get(label)
            if existing and existing.kind == "enum_label" and existing.decl == value:
                continue   # the same label at the same position in two enums is one constant
            self._add(label, "enum_label", value, None, span)

    def get(self, name: str) -> Optional[Symbol]:
        return self.table.get(name)

    def require(self, name: str, kinds: tuple[str, ...], span: Span, role: str) -> Symbol:
        sym = self.table.get(name)
        if sym is None:
            raise SpecError("E200", span, f"unknown name {name!r}: expected {role}")
        if sym.kind not in kinds:
            raise SpecError("E202", span, f"{name!r} is a {sym.kind}, but {role} is expected here")
        return sym

    def of_kind(self, kind: str) -> list[Symbol]:
        return [s for s in self.table.values() if s.kind == kind]
