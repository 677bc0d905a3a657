"""The deferred-probe lists of drivers/base/dd.c: a pending list and an active list, both FIFO.

Each deferrable device has `D.deferred` (0 on no list, 1 pending, 2 active) and `D.dpos`, its
place in that list (1 = first). The operations below are pure: each maps a list state (the
expressions that give every device's list and place) to the state after the kernel operation,
so that several of them compose into one atomic step.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import TRUE, Arith, Cmp, Const, Expr, Ite, Ref, conj, eq, neg, simplify

NO, PENDING, ACTIVE = 0, 1, 2
LABELS = ("no", "pending list", "active list")


@dataclass(frozen=True)
class ListState:
    """{device: (which list, place in it)} as expressions over the state before the step."""
    where: dict
    place: dict

    @staticmethod
    def now(devices: list[str]) -> "ListState":
        return ListState({d: Ref(f"{d}.deferred") for d in devices},
                         {d: Ref(f"{d}.dpos") if ordered(devices) else Const(1) for d in devices})

    def assigns(self, devices: list[str]) -> tuple:
        """The assignments that take the current state to this one (unchanged variables left out)."""
        out = []
        for d in devices:
            places = ((f"{d}.dpos", self.place[d]),) if ordered(devices) else ()
            for var, expr in ((f"{d}.deferred", self.where[d]),) + places:
                expr = simplify(expr)
                if expr != Ref(var):
                    out.append((var, expr))
        return tuple(out)


def ordered(devices: list[str]) -> bool:
    """Places are kept only when two or more devices can share a list."""
    return len(devices) > 1


def _count(state: ListState, which: int, but: str = "") -> Expr:
    total: Expr = Const(0)
    for d, where in state.where.items():
        if d != but:
            total = Arith("+", total, Ite(_is(where, which), Const(1), Const(0)))
    return total


def _is(expr: Expr, value: int) -> Expr:
    return Cmp("==", expr, Const(value))


def add(state: ListState, dev: str, when: Expr = TRUE) -> ListState:
    """driver_deferred_probe_add: list_add_tail on the pending list, only if the device is on
    no list (`list_empty(&dev->p->deferred_probe)`); one already pending or active stays put."""
    go = conj(when, _is(state.where[dev], NO))
    where, place = dict(state.where), dict(state.place)
    where[dev] = Ite(go, Const(PENDING), state.where[dev])
    place[dev] = Ite(go, Arith("+", _count(state, PENDING, but=dev), Const(1)), state.place[dev])
    return ListState(where, place)


def delete(state: ListState, dev: str, when: Expr = TRUE) -> ListState:
    """driver_deferred_probe_del / list_del_init: off its list; those behind it move up."""
    go = conj(when, neg(_is(state.where[dev], NO)))
    where, place = dict(state.where), dict(state.place)
    for d in state.where:
        if d == dev:
            continue
        behind = conj(go, Cmp("==", state.where[d], state.where[dev]),
                      Cmp(">", state.place[d], state.place[dev]))
        place[d] = Ite(behind, Arith("-", state.place[d], Const(1)), state.place[d])
    where[dev] = Ite(go, Const(NO), state.where[dev])
    place[dev] = Ite(go, Const(0), state.place[dev])
    return ListState(where, place)


def trigger(state: ListState, when: Expr = TRUE) -> ListState:
    """driver_deferred_probe_trigger: list_splice_tail_init(pending, active), keeping order."""
    active = _count(state, ACTIVE)
    where, place = {}, {}
    for d in state.where:
        move = conj(when, _is(state.where[d], PENDING))
        where[d] = Ite(move, Const(ACTIVE), state.where[d])
        place[d] = Ite(move, Arith("+", state.place[d], active), state.place[d])
    return ListState(where, place)


def first_active(dev: str, devices: list[str]) -> Expr:
    """list_first_entry(&deferred_probe_active_list) is dev."""
    if not ordered(devices):
        return eq(f"{dev}.deferred", ACTIVE)
    return conj(eq(f"{dev}.deferred", ACTIVE), eq(f"{dev}.dpos", 1))


def none_active(devices: list[str]) -> Expr:
    return conj(*(neg(eq(f"{d}.deferred", ACTIVE)) for d in devices))
