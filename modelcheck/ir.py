"""The intermediate representation: a finite transition system of threads.

This is the only thing engines see. Its meaning is defined by `modelcheck.interp`
(the reference interpreter); every engine must agree with it.

State: one integer per variable (each within its declared domain) and one program
counter per thread. Threads are lists of locations; each location holds the edges
leaving it. A step picks one thread and one of its enabled edges, evaluates the
assignments in the pre-state, and moves the thread to the edge's target.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union


@dataclass(frozen=True)
class Span:
    """A place in a spec file; lines and columns count from 1."""
    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# --- expressions -----------------------------------------------------------
# Integer-valued: Const, Ref, Arith, Ite. Boolean-valued: BoolConst, Not, BoolOp, Cmp.

@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class BoolConst:
    value: bool


@dataclass(frozen=True)
class Ref:
    """The current value of a variable (never a program counter)."""
    var: str


@dataclass(frozen=True)
class Not:
    arg: "Expr"


@dataclass(frozen=True)
class BoolOp:
    """'and' / 'or' over one or more boolean operands."""
    op: str
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class Cmp:
    """Comparison of two integer expressions: == != < <= > >=."""
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Arith:
    """'+' or '-' of two integer expressions."""
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Ite:
    """if cond then a else b; cond is boolean, a and b are integers."""
    cond: "Expr"
    then: "Expr"
    other: "Expr"


Expr = Union[Const, BoolConst, Ref, Not, BoolOp, Cmp, Arith, Ite]

BOOL_EXPRS = (BoolConst, Not, BoolOp, Cmp)
INT_EXPRS = (Const, Ref, Arith, Ite)
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")

TRUE = BoolConst(True)
FALSE = BoolConst(False)


def is_bool(expr: Expr) -> bool:
    return isinstance(expr, BOOL_EXPRS)


def truth(expr: Expr) -> Expr:
    """A boolean view of an expression: integers are true when non-zero."""
    return expr if is_bool(expr) else Cmp("!=", expr, Const(0))


def as_int(expr: Expr) -> Expr:
    """An integer view of an expression: booleans become 1 or 0."""
    return Ite(expr, Const(1), Const(0)) if is_bool(expr) else expr


def eq(var: str, value: int) -> Expr:
    return Cmp("==", Ref(var), Const(value))


def conj(*args: Expr) -> Expr:
    parts = tuple(a for a in args if a != TRUE)
    if any(a == FALSE for a in parts):
        return FALSE
    if not parts:
        return TRUE
    return parts[0] if len(parts) == 1 else BoolOp("and", parts)


def disj(*args: Expr) -> Expr:
    parts = tuple(a for a in args if a != FALSE)
    if any(a == TRUE for a in parts):
        return TRUE
    if not parts:
        return FALSE
    return parts[0] if len(parts) == 1 else BoolOp("or", parts)


def neg(expr: Expr) -> Expr:
    if expr == TRUE:
        return FALSE
    if expr == FALSE:
        return TRUE
    return Not(expr)


# --- variables -------------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    """A state variable ranging over lo..hi.

    init is the value at boot; None means any value in the domain (a Kconfig
    option or platform fact left open), restricted by Model.constraints.
    labels, when given, name each value lo..hi for traces (e.g. n/m/y).
    """
    name: str
    lo: int
    hi: int
    init: Optional[int]
    role: str = "state"          # config | platform | state | kernel
    labels: tuple[str, ...] = ()
    span: Optional[Span] = None

    def show(self, value: int) -> str:
        if self.labels and self.lo <= value <= self.hi:
            return self.labels[value - self.lo]
        return str(value)


# --- threads ---------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """A built-in or user check made when an edge is taken: `ok` must hold in the pre-state."""
    prop: str
    ok: Expr
    message: str


@dataclass(frozen=True)
class Wait:
    """What a blocking edge waits for: an optional annotation read only by counterexample
    reports (modelcheck/report/blocking.py), never by engines, so it changes no verdict.

    The convention, for every lowering module that emits an edge whose guard can be false
    while its thread has nothing else to do (a wait, a sleeping lock, a flush):
    - `obj` names the object waited for as the kernel spells it: "mutex cxl_mutex",
      "work defer_work", "probe_count", "completion probe_done";
    - `until` says, in words, what must become true: "defer_work has finished",
      "probe_count == 0", "the lock is free";
    - `on` lists the variables whose change could make the guard true (the lock's owner
      variable, the work item's pending/running flags, each device's probing flag). A report
      names, for each of them that keeps the guard false, the step that set its value and the
      threads that could still change it; that gives the holder and the waits-for cycle.
    Set it with `ThreadBuilder.edge(..., waits=Wait(...))`. An edge without it is still
    explained, from its label and the variables of its guard, only less well.
    """
    obj: str
    until: str
    on: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    """An atomic step: enabled when `guard` holds; assignments are simultaneous.
    `waits`, when set, says what the edge waits for while its guard is false (see Wait)."""
    guard: Expr
    assigns: tuple[tuple[str, Expr], ...]
    target: int
    label: str
    span: Optional[Span] = None
    checks: tuple[Check, ...] = ()
    waits: Optional[Wait] = None


@dataclass(frozen=True)
class Location:
    """A program point. `rest`: a thread blocked here has finished its job (an idle worker)."""
    edges: tuple[Edge, ...]
    rest: bool = False


# Fairness classes of threads (what liveness properties may assume about scheduling):
#   "weak": the kernel schedules it eventually. An execution in which the thread can take a
#           step in every state from some point on, yet never takes one, is not a real
#           execution (weak fairness per thread): the boot thread, udev's modprobes, kworkers
#           (the deferred-probe worker too) and async probe threads.
#   "optional_start": it may never start (a user's command, a hotplug from userspace: the
#           platform's and the user's choices are not forced); once it has taken its first
#           step it is scheduled eventually, like "weak" (a command runs to its end).
FAIRNESS_CLASSES = ("weak", "optional_start")


def fairness_applies(thread: "Thread", pc: int) -> bool:
    """Whether weak fairness binds `thread` at location `pc` (see FAIRNESS_CLASSES)."""
    return thread.fairness == "weak" or pc != 0


@dataclass(frozen=True)
class Thread:
    """A sequential actor; it starts at location 0 and is finished at len(locations).

    fairness is one of FAIRNESS_CLASSES; only liveness properties look at it.
    """
    name: str
    locations: tuple[Location, ...]
    kind: str = "thread"         # boot | modprobe | worker | async | userspace | thread
    fairness: str = "weak"


# --- properties ------------------------------------------------------------

@dataclass(frozen=True)
class Property:
    """What must hold.

    kind 'check':     no step ever fails a Check with this property name;
    kind 'invariant': `expr` holds in every reachable state;
    kind 'final':     `expr` holds in every state where no step is enabled and every
                      thread is finished or resting;
    kind 'deadlock':  no reachable state has no step enabled while some thread is
                      neither finished nor resting.
    Liveness kinds (LIVENESS_KINDS) speak of fair executions: infinite ones in which every
    thread that fairness binds (fairness_applies) and that can move in every state from some
    point on does move, and finite ones that end in a *quiescent* state (no thread fairness
    binds can move; a thread that may never start may still be able to):
    kind 'eventually':        `expr` holds in some state of every fair execution;
    kind 'always_eventually': `expr` holds infinitely often (in the last state of a finite one);
    kind 'leads_to':          after every state where `trigger` holds, `expr` holds at some
                              point (that state included);
    kind 'livelock':          no infinite fair execution (it repeats a cycle of states, so no
                              thread makes lasting progress);
    kind 'hung_task':         no infinite fair execution in which a thread stays at one location
                              where it is neither finished nor resting, and cannot move there in
                              some state of the cycle, while the others go on.
    A liveness violation is a lasso: a prefix, then a cycle (Trace.cycle) or a quiescent end.
    expect is 'holds', 'violation' or None (no recorded verdict).
    """
    name: str
    kind: str
    description: str
    expr: Optional[Expr] = None
    expect: Optional[str] = None
    span: Optional[Span] = None
    builtin: bool = False
    trigger: Optional[Expr] = None         # leads_to: the left-hand side A of A ~> B


LIVENESS_KINDS = ("eventually", "always_eventually", "leads_to", "livelock", "hung_task")


def is_liveness(prop: Property) -> bool:
    """Whether `prop` speaks of infinite executions (decided by fair-cycle search)."""
    return prop.kind in LIVENESS_KINDS


@dataclass(frozen=True)
class Model:
    """A whole compiled spec."""
    name: str
    file: str
    variables: tuple[Variable, ...]
    threads: tuple[Thread, ...]
    constraints: tuple[Expr, ...] = ()     # must hold in the initial state (Kconfig 'depends on')
    properties: tuple[Property, ...] = ()
    title: str = ""
    source: str = ""
    cases: tuple[str, ...] = ()            # review-case ids the spec decides

    def variable(self, name: str) -> Variable:
        return self._variables_by_name()[name]

    def _variables_by_name(self) -> dict[str, Variable]:
        cache = self.__dict__.get("_by_name")
        if cache is None:
            cache = {v.name: v for v in self.variables}
            object.__setattr__(self, "_by_name", cache)
        return cache

    def property(self, name: str) -> Property:
        """The property called `name`; raises KeyError if the model has none."""
        cache = self.__dict__.get("_props_by_name")
        if cache is None:
            cache = {p.name: p for p in self.properties}
            object.__setattr__(self, "_props_by_name", cache)
        return cache[name]


def simplify(expr: Expr) -> Expr:
    """Constant folding, so decisions fixed by the spec (e.g. a Kconfig set to m) cost no step."""
    kind = type(expr)
    if kind is Not:
        return neg(simplify(expr.arg))
    if kind is BoolOp:
        args = tuple(simplify(a) for a in expr.args)
        return conj(*args) if expr.op == "and" else disj(*args)
    if kind is Cmp:
        left, right = simplify(expr.left), simplify(expr.right)
        if isinstance(left, Const) and isinstance(right, Const):
            return BoolConst(_FOLD_CMP[expr.op](left.value, right.value))
        return Cmp(expr.op, left, right)
    if kind is Arith:
        left, right = simplify(expr.left), simplify(expr.right)
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(left.value + right.value if expr.op == "+" else left.value - right.value)
        return Arith(expr.op, left, right)
    if kind is Ite:
        cond = simplify(expr.cond)
        if cond == TRUE:
            return simplify(expr.then)
        if cond == FALSE:
            return simplify(expr.other)
        return Ite(cond, simplify(expr.then), simplify(expr.other))
    return expr


def substitute(expr: Expr, values: dict[str, int]) -> Expr:
    """Replace references to the named variables by constants."""
    return replace_refs(expr, {name: Const(value) for name, value in values.items()})


def replace_refs(expr: Expr, values: dict[str, Expr]) -> Expr:
    """expr with each variable named in `values` replaced by that expression."""
    kind = type(expr)
    if kind is Ref:
        return values.get(expr.var, expr)
    if kind is Not:
        return Not(replace_refs(expr.arg, values))
    if kind is BoolOp:
        return BoolOp(expr.op, tuple(replace_refs(a, values) for a in expr.args))
    if kind in (Cmp, Arith):
        return kind(expr.op, replace_refs(expr.left, values), replace_refs(expr.right, values))
    if kind is Ite:
        return Ite(replace_refs(expr.cond, values), replace_refs(expr.then, values),
                   replace_refs(expr.other, values))
    return expr


_FOLD_CMP = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
