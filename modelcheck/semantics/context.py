"""Shared state of one compilation: variables, threads, properties, and the lowering frame."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ..errors import SpecError
from ..ir import Check, Expr, Property, Span, Thread, Variable
from .program import ThreadBuilder

# Return codes are kept as small indices so traces can name them.
ERRNO_NAMES = ("0", "-EPROBE_DEFER", "-EBUSY", "-ENODEV", "-ENOMEM", "-ENXIO", "-ENOENT",
               "-EINVAL", "-EIO", "-EEXIST", "-ETIMEDOUT", "-EINTR", "-ERESTARTSYS")
ERRNO = {name.lstrip("-"): i for i, name in enumerate(ERRNO_NAMES) if i}

# The checker's own state is named with a ':' no spec identifier can contain, so no spec name aliases it.
KERNEL = "kernel:"


def internal(name: str) -> str:
    """The IR name of the checker's own variable `name` (e.g. 'boot_done' -> 'kernel:boot_done')."""
    return KERNEL + name


@dataclass(frozen=True)
class Frame:
    """Where a statement is being lowered: which thread, and what its control words mean."""
    b: ThreadBuilder
    context: str                           # init exit probe remove work initcall userspace fn
    module: Optional[str] = None           # module (or built-in object) whose code this is
    device: Optional[str] = None           # device being probed or removed
    bindings: tuple = ()                   # ((name, ('extent'|'device-index', value)), ...)
    ret: Optional[int] = None              # where `return` goes
    rc: Optional[str] = None               # variable that receives a returned code
    cont: Optional[int] = None             # where `continue` goes
    stack: tuple[str, ...] = ()            # functions being inlined, for recursion errors
    work: Optional[str] = None             # the work item whose function this is (for chained queueing)
    loading: tuple[str, ...] = ()          # modules this thread is loading right now (modprobe chain)
    result: Optional[str] = None           # `fn f -> int` inlined: variable a `return VALUE` assigns ("" drops it)
    atomic: bool = False                   # softirq (a timer callback): sleeping is sleep_in_atomic
    releasing: tuple[str, ...] = ()        # counted objects whose release function this code is

    def bind(self, name: str, value) -> "Frame":
        return replace(self, bindings=((name, value),) + self.bindings)

    def lookup(self, name: str):
        for key, value in self.bindings:
            if key == name:
                return value
        return None


class Context:
    """Accumulates the model: every area module adds variables, threads and checks here."""

    def __init__(self, file: str):
        self.file = file
        self.variables: dict[str, Variable] = {}
        self.threads: list[Thread] = []
        self.properties: dict[str, Property] = {}
        self.checked_props: set[str] = set()
        self.constraints: list[Expr] = []
        self._locals = 0

    def var(self, name: str, lo: int, hi: int, init: Optional[int], role: str = "kernel",
            labels: tuple[str, ...] = (), span: Optional[Span] = None) -> str:
        if name not in self.variables:
            self.variables[name] = Variable(name, lo, hi, init, role, labels, span)
        return name

    def flag(self, name: str, init: int = 0, role: str = "kernel") -> str:
        return self.var(name, 0, 1, init, role, ("0", "1"))

    def local(self, prefix: str, lo: int, hi: int, labels=()) -> str:
        """A fresh variable private to one inlined call site."""
        self._locals += 1
        return self.var(f"{prefix}#{self._locals}", lo, hi, lo, "local", labels)

    def check(self, prop: str, ok: Expr, message: str) -> Check:
        self.checked_props.add(prop)
        return Check(prop, ok, message)

    def add_property(self, prop: Property) -> None:
        if prop.name in self.properties:
            raise SpecError("E201", prop.span, f"property {prop.name!r} is declared twice")
        self.properties[prop.name] = prop
