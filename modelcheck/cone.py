"""Cone of influence on configurations: an open option that no step and no property reads is
not enumerated.

Such an option can only matter through the constraints (a Kconfig `depends on`, `select`,
...). It is removed from the model, and the constraints that name it are replaced by their
projection on the options that stay: a combination of the remaining options is allowed
exactly when some value of the removed ones satisfies those constraints. Every engine then
sees the same behaviours with fewer initial states (3^k fewer for k removed tristates); a
trace names only the options that matter to it.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

from .interp import Interpreter
from .ir import FALSE, TRUE, Cmp, Const, Model, Ref, Variable, conj, disj, eq
from .reduce import edge_reads, variables_of

MAX_PROJECTION = 200_000   # assignments tried to eliminate one option; beyond it the option is kept
MAX_SCOPE = 12             # options sharing constraints with it, beyond which it is not tried


def drop_unread_configs(model: Model, roles: tuple[str, ...] = ("config",)) -> Model:
    """The model without the open configuration options nothing but constraints reads
    (`roles`: the variable roles eliminated; the property cone passes platform facts too).

    Exact: the options are eliminated one at a time (fewest neighbours first), the
    constraints naming one replaced by a table over its neighbours that allows a combination
    exactly when some value of the option satisfies them. An option whose elimination would
    try more than MAX_PROJECTION assignments is kept."""
    read = _read_by_behaviour(model)
    unread = {v.name for v in model.variables if v.role in roles and v.init is None and v.name not in read}
    if not unread:
        return model
    by_name = {v.name: v for v in model.variables}
    constraints = {i: c for i, c in enumerate(model.constraints) if c != TRUE}
    names_of = {i: variables_of(c) for i, c in constraints.items()}
    dropped: set[str] = set()
    pending = set(unread)
    next_id = len(model.constraints)

    def scope(name: str):
        """The options sharing a constraint with `name`; None when too many to project."""
        out: set[str] = set()
        for i in names_of:
            if name in names_of[i]:
                out |= names_of[i]
                if len(out) > MAX_SCOPE + 1:
                    return None
        out.discard(name)
        return out
    while pending:
        scopes = {name: scope(name) for name in sorted(pending)}
        pending -= {name for name, sc in scopes.items() if sc is None}
        if not pending:
            break
        name = min(sorted(pending), key=lambda n: len(scopes[n]))
        pending.discard(name)
        touching = [i for i in names_of if name in names_of[i]]
        projected = _project([constraints[i] for i in touching],
                             [by_name[n] for n in sorted(scopes[name])], by_name[name])
        if projected is None:
            continue
        for i in touching:
            del constraints[i], names_of[i]
        if projected != TRUE:
            constraints[next_id], names_of[next_id] = projected, variables_of(projected)
            next_id += 1
        dropped.add(name)
    if not dropped:
        return model
    return replace(model, variables=tuple(v for v in model.variables if v.name not in dropped),
                   constraints=tuple(constraints.values()))


def _read_by_behaviour(model: Model) -> set[str]:
    read: set[str] = set()
    for thread in model.threads:
        for location in thread.locations:
            for edge in location.edges:
                read |= edge_reads(edge) | {var for var, _ in edge.assigns}
    for prop in model.properties:
        if prop.expr is not None:
            read |= variables_of(prop.expr)
    return read


def _project(group, free: list[Variable], hidden: Variable):
    """One constraint over `free` allowing what some value of `hidden` allows; None if too big."""
    free_domains = [range(v.lo, v.hi + 1) if v.init is None else (v.init,) for v in free]
    size = hidden.hi - hidden.lo + 1
    for d in free_domains:
        size *= len(d)
    if size > MAX_PROJECTION:
        return None
    interp = Interpreter(Model("projection", "", tuple(free) + (hidden,), ()))
    allowed, refused = [], []
    for values in itertools.product(*free_domains):
        ok = any(all(interp.eval(c, values + (x,)) for c in group) for x in range(hidden.lo, hidden.hi + 1))
        (allowed if ok else refused).append(values)
    if not refused:
        return TRUE
    if not allowed:
        return FALSE

    def cube(values):
        return conj(*(eq(v.name, x) for v, x in zip(free, values)))
    if len(refused) < len(allowed):
        return conj(*(disj(*(_differs(v, x) for v, x in zip(free, values))) for values in refused))
    return disj(*(cube(values) for values in allowed))


def _differs(var: Variable, value: int):
    return Cmp("!=", Ref(var.name), Const(value))


def more_configurations_than(model: Model, limit: int) -> bool:
    """Whether the model has more than `limit` initial states; also True when telling would take
    more than 5 * limit partial assignments (constraints that reject almost everything)."""
    size = 1
    for v in model.variables:
        if v.init is None:
            size *= v.hi - v.lo + 1
    if size <= limit:
        return False
    interp = Interpreter(model)
    found = sum(1 for _ in itertools.islice(interp.initial_states(budget=5 * limit), limit + 1))
    return found > limit or interp.budget_spent
