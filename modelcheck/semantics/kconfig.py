"""The configurations a Kconfig tree allows, as constraints over the spec's `config` options.

kconfiglib computes each symbol's value from the values of the symbols its Kconfig lines
name and from the user's choice for it (Symbol.tri_value, Choice.tri_value and
Choice.selection, kconfiglib 14.1): prompts and `visible if` bound what the user may set,
`default`/`def_bool`/`def_tristate` give the value without a user choice, `imply` raises it
when the direct dependencies allow, `select` raises it always, a bool is promoted from m to y,
and a choice in y mode has exactly one visible member set. Kconfig forbids dependency loops,
so a whole configuration is one kconfig can produce exactly when every symbol's value is one
its own computation can give for some user choice: one local constraint per symbol, written
here in tristate arithmetic (n=0, m=1, y=2; && is min, || is max, ! is 2-x). The constraints
are exact for the spec's options as long as every symbol they read is declared too; the
symbols they name that the spec does not declare are returned, so that all are reported at
once. MODULES is taken as y (a tristate may be m).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..errors import SpecError
from ..ir import TRUE, BoolConst, BoolOp, Cmp, Const, Expr, Ite, Ref, Span, conj, disj, neg, simplify
from .kconfig_read import KconfigTree


@dataclass(frozen=True)
class Reference:
    """A symbol a spec option's Kconfig lines read, which the spec does not declare."""
    name: str
    kind: str                 # its Kconfig type: bool, tristate, int, ..., or "undefined"
    defined_at: Optional[str]  # file:line of its first definition in the tree
    read_by: str              # the spec option (or choice) whose value depends on it
    read_at: str              # file:line of that option's definition


@dataclass
class Reading:
    """What a Kconfig tree says about the spec's options."""
    constraints: list[Expr] = field(default_factory=list)
    missing: list[Reference] = field(default_factory=list)
    defined: dict[str, tuple[str, str]] = field(default_factory=dict)   # name -> (type, file:line)


def configuration_constraints(tree: KconfigTree, configs: dict[str, tuple[str, bool]],
                              span: Span) -> Reading:
    """One constraint per spec option the tree defines (one per choice for choice members).

    `configs` maps each spec option to (kind, open?). An open option needs every symbol its
    value depends on to be declared; a fixed option whose lines name undeclared symbols is
    taken as the spec fixes it (its constraint is left out). Raises SpecError E305 for
    constructs outside bool/tristate logic (tristate choices, comparisons of strings or
    numbers) and when the spec declares MODULES other than `= y`."""
    import kconfiglib as k
    kconf = tree.kconf
    reading = Reading()
    done_choices = set()
    for name, (_, is_open) in configs.items():
        sym = kconf.syms.get(name)
        if sym is None or not sym.nodes:
            continue
        reading.defined[name] = (k.TYPE_TO_STR[sym.orig_type], _where(sym))
        if sym.orig_type not in (k.BOOL, k.TRISTATE):
            continue                              # a type mismatch, reported by the caller
        if sym is kconf.modules:
            continue
        if sym.choice is not None:
            if sym.choice in done_choices:
                continue
            done_choices.add(sym.choice)
            is_open = any(configs[m.name][1] if m.name in configs else True for m in sym.choice.syms)
            owner = _Owner(sym.choice, is_open)
        else:
            owner = _Owner(sym, is_open)
        translator = _Translator(kconf, configs, span, owner)
        try:
            rule = simplify(translator.choice(sym.choice) if sym.choice is not None else translator.symbol(sym))
        except RecursionError:
            if not owner.is_open:
                continue                          # a fixed value is the spec's to give
            raise
        if owner.missing and not owner.is_open:
            continue                              # a fixed value is the spec's to give
        reading.missing += owner.missing
        reading.constraints.append(rule)
    return reading


@dataclass
class _Owner:
    item: object
    is_open: bool
    missing: list[Reference] = field(default_factory=list)


@dataclass(frozen=True)
class _Tri:
    """A tristate value as two conditions, `value >= m` and `value == y`, so that && (min),
    || (max) and ! stay linear in the size of the Kconfig expression (a min written with
    Ite would name each operand twice, doubling the expression at every level)."""
    ge1: Expr
    ge2: Expr

    def value(self) -> Expr:
        return Ite(self.ge2, Const(2), Ite(self.ge1, Const(1), Const(0)))


def _const(v: int) -> _Tri:
    return _Tri(BoolConst(v >= 1), BoolConst(v >= 2))


def _of(e: Expr) -> _Tri:
    if isinstance(e, Const):
        return _const(e.value)
    return _Tri(Cmp(">=", e, Const(1)), Cmp(">=", e, Const(2)))


def _flat(op: str, *args: Expr) -> Expr:
    """conj/disj with nested operands of the same operator spliced in, so that a chain of
    hundreds of `select` lines stays one flat disjunction (no deep recursion downstream)."""
    parts: list[Expr] = []
    for a in args:
        parts.extend(a.args if isinstance(a, BoolOp) and a.op == op else (a,))
    return conj(*parts) if op == "and" else disj(*parts)


def _and(a: _Tri, b: _Tri) -> _Tri:
    return _Tri(_flat("and", a.ge1, b.ge1), _flat("and", a.ge2, b.ge2))


def _or(a: _Tri, b: _Tri) -> _Tri:
    return _Tri(_flat("or", a.ge1, b.ge1), _flat("or", a.ge2, b.ge2))


def _not(a: _Tri) -> _Tri:
    return _Tri(neg(a.ge2), neg(a.ge1))


def _if(cond: Expr, a: _Tri, b: _Tri) -> _Tri:
    return _Tri(disj(conj(cond, a.ge1), conj(neg(cond), b.ge1)),
                disj(conj(cond, a.ge2), conj(neg(cond), b.ge2)))


def _truth(cond: Expr) -> _Tri:
    """A relation: y when it holds, else n."""
    return _Tri(cond, cond)


def _promote(vis: _Tri) -> _Tri:
    """kconfiglib's _visibility: m visibility is y for a symbol that is not tristate."""
    return _Tri(vis.ge1, vis.ge1)


class _Translator:
    """Kconfig expressions of one symbol (or choice) as IR expressions over spec options."""

    def __init__(self, kconf, configs: dict[str, tuple[str, bool]], span: Span, owner: _Owner):
        import kconfiglib
        self.k = kconfiglib
        self.kconf = kconf
        self.configs = configs
        self.span = span
        self.owner = owner
        self.choice_values: dict = {}

    # -- a symbol: kconfiglib Symbol.tri_value, outside choices --
    def symbol(self, sym) -> Expr:
        k = self.k
        is_bool = sym.orig_type is k.BOOL
        vis = self.visibility(sym)
        if is_bool:
            vis = _promote(vis)
        default = _const(0)
        for value, cond in reversed(sym.defaults):
            c = self.expr(cond)
            default = _if(c.ge1, _and(self.expr(value), c), default)
        weak, dep, rev = self.expr(sym.weak_rev_dep), self.expr(sym.direct_dep), self.expr(sym.rev_dep)
        no_user = _if(conj(weak.ge1, dep.ge1), _or(weak, default), default)

        def final(v: _Tri) -> Expr:
            v = _or(rev, v)                       # select takes precedence
            promoted = TRUE if is_bool else weak.ge2   # imply y promotes m
            return _Tri(v.ge1, disj(v.ge2, conj(v.ge1, promoted))).value()

        me = Ref(sym.name)
        options = [Cmp("==", me, final(no_user))]
        for user in ((0, 2) if is_bool else (0, 1, 2)):
            options.append(conj(vis.ge1, Cmp("==", me, final(_and(_const(user), vis)))))
        return disj(*options)

    # -- a choice: Choice.tri_value and Choice.selection, bool choices only --
    def choice(self, choice) -> Expr:
        k = self.k
        if choice.orig_type is not k.BOOL:
            raise SpecError("E305", self.span, f"the choice at {_where(choice)} is a tristate choice, "
                            "which modelcheck does not model",
                            "make the choice bool (the kernel's choices are bool)")
        visible = _promote(self.visibility(choice)).ge1
        # members' prompts depend on the choice itself: in y mode (the only one with a member set) it is y
        self.choice_values[choice] = _Tri(visible, visible)
        members = []
        for sym in choice.syms:
            raw = self.visibility(sym)
            # a member visible only as m is hidden in a y-mode choice; a bool one is promoted
            shown = raw.ge2 if sym.orig_type is k.TRISTATE else raw.ge1
            members.append((self.value(sym), shown))
        all_n = conj(*(neg(v.ge1) for v, _ in members))
        one_set = disj(*(conj(shown, v.ge2, *(neg(w.ge1) for j, (w, _) in enumerate(members) if j != i))
                         for i, (v, shown) in enumerate(members)))
        none_visible = conj(*(neg(shown) for _, shown in members))
        mode_n = TRUE if choice.is_optional else neg(visible)
        return disj(conj(mode_n, all_n), conj(visible, disj(one_set, conj(none_visible, all_n))))

    # -- expressions: kconfiglib expr_value --
    def visibility(self, item) -> _Tri:
        vis = _const(0)
        for node in item.nodes:
            if node.prompt:
                vis = _or(vis, self.expr(node.prompt[1]))
        return vis

    def expr(self, e) -> _Tri:
        k = self.k
        if isinstance(e, tuple):
            op = e[0]
            if op is k.AND:
                return _and(self.expr(e[1]), self.expr(e[2]))
            if op is k.OR:
                return _or(self.expr(e[1]), self.expr(e[2]))
            if op is k.NOT:
                return _not(self.expr(e[1]))
            return self.relation(e)
        return self.value(e)

    def value(self, sym) -> _Tri:
        if sym in self.choice_values:
            return self.choice_values[sym]
        return _of(self.number(sym))

    def number(self, sym) -> Expr:
        """The value of a symbol as 0..2: a spec option, a constant, or (undeclared) recorded."""
        k = self.k
        if not isinstance(sym, k.Symbol):
            raise SpecError("E305", self.span, f"a Kconfig expression of {self._owner_name()} names a "
                            "choice, which modelcheck does not model", "name the choice's symbols instead")
        if sym.is_constant:
            return Const(sym.tri_value)
        if sym.name in self.configs:
            return Ref(sym.name)
        if sym is self.kconf.modules:
            return Const(2)
        if sym.nodes and sym.orig_type not in (k.BOOL, k.TRISTATE):
            return Const(0)                       # kconfiglib: n in a logical context
        self._miss(sym)
        return Const(0)

    def relation(self, e) -> _Tri:
        """`A = B`, `A != B`, `A < B`...: bool and tristate values compare as n=0 < m=1 < y=2
        (kconfiglib _sym_to_num; scripts/kconfig/expr.c since 9059a3493ef)."""
        k = self.k
        op, a, b = e
        for side in (a, b):
            if side.is_constant:
                tristate = side.name in ("n", "m", "y")
            else:
                tristate = side.name in self.configs or side.orig_type in (k.BOOL, k.TRISTATE) or not side.nodes
            if not tristate:
                raise SpecError("E305", self.span, f"the Kconfig lines of {self._owner_name()} compare "
                                f"`{k.expr_str(e)}`, which is not bool or tristate logic; modelcheck "
                                "models only those",
                                "fix the option in the spec (`config NAME : bool = y;`) so that its lines are not read")
        symbol = {k.EQUAL: "==", k.UNEQUAL: "!=", k.LESS: "<", k.LESS_EQUAL: "<=", k.GREATER: ">",
                  k.GREATER_EQUAL: ">="}[op]
        return _truth(Cmp(symbol, self.number(a), self.number(b)))

    def _miss(self, sym) -> None:
        k = self.k
        kind = k.TYPE_TO_STR[sym.orig_type] if sym.nodes else "undefined"
        self.owner.missing.append(Reference(
            sym.name, kind, _where(sym) if sym.nodes else None, self._owner_name(), _where(self.owner.item)))

    def _owner_name(self) -> str:
        item = self.owner.item
        return item.name if item.name else f"the choice at {_where(item)}"


def _where(item) -> str:
    node = item.nodes[0]
    return f"{node.filename}:{node.linenr}"
