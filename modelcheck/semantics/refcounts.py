"""Reference counts: kref_init, kref_get, kref_put, kref_read, and get_device / put_device,
with the checks `use_after_release` and `refcount_underflow`.

Kernel sources followed: include/linux/kref.h (kref_init sets 1, kref_get is refcount_inc,
kref_put calls release when refcount_dec_and_test reaches 0), include/linux/refcount.h
(__refcount_add: an addition on 0 warns REFCOUNT_ADD_UAF; __refcount_sub_and_test: a
decrement below 0 warns REFCOUNT_SUB_UAF) with lib/refcount.c refcount_warn_saturate
("refcount_t: addition on 0; use-after-free", "refcount_t: underflow; use-after-free"), and
drivers/base/core.c (get_device is kobject_get, put_device is kobject_put; at the last
reference device_release frees the device, its devres and the data it holds).

A counted object is `NAME.refs` in 0..REF_BOUND: it starts at 1 (the reference of whoever
created it: kref_init, or device_initialize for a device) and 0 means released. An access is
an operation on the object by a thread after that: for a `kref K holds V, ...` the variables
V named (read or written) by a statement, and kref_get / kref_read of K; for a device, any
call that takes the device (get_device, device_add, device_del, bind, unbind, device_lock,
device_unlock) and, in code running for it, its driver's per-device variables (the data
dev_get_drvdata reaches, freed by the devres release of device_release). A put at 0 is
`refcount_underflow`, not an access. The release function of a kref_put runs with the object
still reachable, as the kernel's release callback does.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterator, Optional

from ..errors import SpecError
from ..ir import Arith, Check, Cmp, Const, Expr, Ite, Ref, conj, eq, neg
from ..syntax import ast
from .context import Frame
from .exprs import arity

if TYPE_CHECKING:
    from .compile import Compiler

REF_BOUND = 3                  # references counted; a 4th get is beyond the model (value_in_range)
LABELS = ("0 (released)",) + tuple(str(i) for i in range(1, REF_BOUND + 1))
USE = "use_after_release"
UNDERFLOW = "refcount_underflow"

# calls that use the device they name (drivers/base/core.c, dd.c: each dereferences dev)
DEVICE_USES = frozenset({"get_device", "device_add", "device_del", "bind", "unbind", "device_lock",
                         "device_unlock"})


class Refcounts:
    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.krefs = {s.name: s for s in compiler.sym.of_kind("kref")}
        self.field_of: dict[str, str] = {}          # variable -> the kref whose object holds it
        for k, sym in self.krefs.items():
            for name in sym.decl.holds:
                var = compiler.sym.get(name)
                if var is None or var.kind != "var" or var.driver is not None or var.owner != sym.owner:
                    raise SpecError("E248", sym.span, f"kref {k} holds {name!r}, which is not a `var` of "
                                    f"{sym.owner}", f"declare `var {name} : TYPE;` in {sym.owner}, beside the kref")
                if name in self.field_of:
                    raise SpecError("E248", sym.span, f"{name!r} is held by both {self.field_of[name]} and {k}",
                                    "a variable belongs to one object: name it in one kref's `holds`")
                self.field_of[name] = k

    @property
    def tracks_devices(self) -> bool:
        """Devices are counted only in a spec that gets or puts one (the others keep their state small)."""
        return self.c.uses("get_device") or self.c.uses("put_device")

    def declare(self) -> None:
        for k, sym in self.krefs.items():
            self.c.ctx.var(f"{k}.refs", 0, REF_BOUND, 1, labels=LABELS, span=sym.span)
        if self.tracks_devices:
            for inst in self.c.driver_core.instances:
                self.c.ctx.var(f"{inst.name}.refs", 0, REF_BOUND, 1, labels=LABELS, span=inst.decl.span)

    def reset_assigns(self, module: str) -> list[tuple[str, Expr]]:
        """A reloaded module's static objects come back with their one reference (.data reloaded)."""
        return [(f"{k}.refs", Const(1)) for k, s in self.krefs.items() if s.owner == module]

    # -- primitives --
    def statements(self) -> dict:
        return {"kref_init": self.kref_init, "kref_get": self.kref_get, "kref_put": self.kref_put,
                "kref_get_unless_zero": self.kref_get_unless_zero,
                "get_device": self.get_device, "put_device": self.put_device}

    def queries(self) -> dict:
        return {"kref_read": self.q_kref_read}

    def _kref(self, call: ast.Call, n: int = 1) -> str:
        arity(call, n)
        return self.c.exprs.symbol_arg(call, 0, ("kref",), "a kref (kref NAME;)").name

    def _device(self, call: ast.Call, frame: Frame) -> str:
        return self.c.driver_core.device_arg(call, frame).name

    def q_kref_read(self, call, frame) -> Expr:
        """include/linux/kref.h kref_read: the count (0 once released)."""
        return Ref(f"{self._kref(call)}.refs")

    def kref_init(self, call, frame, at, nxt, target) -> None:
        """kref.h kref_init: refcount_set(1), a fresh object (allocated again if it was released)."""
        k = self._kref(call)
        frame.b.edge(at, nxt, f"kref_init({k})", call.span, assigns=((f"{k}.refs", Const(1)),))

    def kref_get(self, call, frame, at, nxt, target) -> None:
        self._get(self._kref(call), call, frame, at, nxt)

    def kref_get_unless_zero(self, call, frame, at, nxt, target) -> None:
        """kref.h kref_get_unless_zero -> refcount_inc_not_zero: 0 and untouched at 0 (the lookup
        lost the race with the last put), else +1 and non-zero. Not an access: it is the safe
        way to take a reference on an object that may be going away."""
        k = self._kref(call)
        refs = Ref(f"{k}.refs")
        room = self.c.ctx.check("value_in_range", Cmp("<", refs, Const(REF_BOUND)),
                                f"kref_get_unless_zero({k}): more than {REF_BOUND} references "
                                "(beyond the model's bound)")
        live = Cmp(">", refs, Const(0))
        ok = ((target, Const(1)),) if target else ()
        no = ((target, Const(0)),) if target else ()
        grow = Ite(Cmp("<", refs, Const(REF_BOUND)), Arith("+", refs, Const(1)), refs)
        frame.b.edge(at, nxt, f"kref_get_unless_zero({k}) = 1", call.span, guard=live, checks=(room,),
                     assigns=((f"{k}.refs", grow),) + ok)
        frame.b.edge(at, nxt, f"kref_get_unless_zero({k}) = 0: already released", call.span,
                     guard=neg(live), assigns=no)

    def get_device(self, call, frame, at, nxt, target) -> None:
        self._get(self._device(call, frame), call, frame, at, nxt)

    def _get(self, obj: str, call: ast.Call, frame: Frame, at: int, nxt: int) -> None:
        """refcount_inc: +1; on 0 the kernel warns (addition on 0) and the object stays freed,
        which use_after_release reports for the call (an access); past REF_BOUND, value_in_range."""
        refs = Ref(f"{obj}.refs")
        room = self.c.ctx.check("value_in_range", Cmp("<", refs, Const(REF_BOUND)),
                                f"{call.func}({obj}): more than {REF_BOUND} references (beyond the model's bound)")
        grows = conj(Cmp(">", refs, Const(0)), Cmp("<", refs, Const(REF_BOUND)))
        frame.b.edge(at, nxt, f"{call.func}({obj})", call.span, checks=(room,),
                     assigns=((f"{obj}.refs", Ite(grows, Arith("+", refs, Const(1)), refs)),))

    def kref_put(self, call, frame, at, nxt, target) -> None:
        """kref.h kref_put: refcount_dec_and_test, and at 0 release(kref), returning 1; else 0."""
        k = self._kref(call, 2)
        release = self._release_fn(call)
        released = self._put(k, f"kref_put({k}, {release.name})", call, frame, at, nxt, target,
                             f"{release.name}() releases it")
        inner = replace(frame, releasing=frame.releasing + (k,))
        self.c.stmts.inline_fn(release, ast.Call(release.name, (), call.span), inner, released, nxt)

    def put_device(self, call, frame, at, nxt, target) -> None:
        """drivers/base/core.c put_device -> kobject_put: at the last reference device_release
        frees the device (devres_release_all, then dev->release)."""
        dev = self._device(call, frame)
        released = self._put(dev, f"put_device({dev})", call, frame, at, nxt, target, "device_release frees it")
        frame.b.edge(released, nxt, "", None)

    def _put(self, obj: str, text: str, call: ast.Call, frame: Frame, at: int, nxt: int,
             target: Optional[str], why: str) -> int:
        """The decrement: 1 -> 0 goes to the returned location (the release); otherwise -1, and a
        put at 0 is refcount_underflow (the kernel saturates the count: nothing is released)."""
        refs = Ref(f"{obj}.refs")
        last = eq(f"{obj}.refs", 1)
        under = self.c.ctx.check(UNDERFLOW, Cmp(">", refs, Const(0)),
                                 f"{text} with no reference left "
                                 "(refcount_t: underflow; use-after-free)")
        yes = ((target, Const(1)),) if target else ()
        no = ((target, Const(0)),) if target else ()
        released = frame.b.new()
        frame.b.edge(at, released, f"{text}: the last reference, {why}", call.span,
                     guard=last, assigns=((f"{obj}.refs", Const(0)),) + yes)
        frame.b.edge(at, nxt, text, call.span, guard=neg(last), checks=(under,),
                     assigns=((f"{obj}.refs", Ite(Cmp(">", refs, Const(0)), Arith("-", refs, Const(1)), refs)),)
                     + no)
        return released

    def _release_fn(self, call: ast.Call) -> ast.FnDecl:
        arg = call.args[1]
        fn = self.c.sym.get(arg.id) if isinstance(arg, ast.Name) else None
        if fn is None or fn.kind != "fn" or fn.decl.param or fn.decl.result:
            raise SpecError("E247", arg.span, f"the release of {call.func}() must name a function "
                            "without parameters or result",
                            f"declare `fn release_{call.args[0].id if isinstance(call.args[0], ast.Name) else 'obj'} "
                            "{ ... }` and pass its name")
        return fn.decl

    # -- accesses --
    def access_checks(self, node, frame: Frame) -> tuple[Check, ...]:
        """The use_after_release checks of one statement: one per object its own expressions
        (not the blocks under it) access; none for an object whose release is running."""
        if not (self.field_of or self.tracks_devices):
            return ()
        seen: dict[str, str] = {}
        for obj, what in self._accesses(node, frame):
            if obj not in frame.releasing:
                seen.setdefault(obj, what)
        return tuple(self.c.ctx.check(USE, Cmp(">", Ref(f"{obj}.refs"), Const(0)),
                                      f"{what} after the last reference to {obj} was dropped")
                     for obj, what in seen.items())

    def _accesses(self, node, frame: Frame) -> Iterator[tuple[str, str]]:
        kind = type(node)
        if kind is ast.Assign:
            yield from self._name(node.target, frame)
            yield from self._expr(node.value, frame)
        elif kind in (ast.If, ast.Assert):
            yield from self._expr(node.cond, frame)
        elif kind is ast.Return and node.value is not None:
            yield from self._expr(node.value, frame)
        elif kind is ast.CallStmt:
            yield from self._expr(node.call, frame)

    def _expr(self, node, frame: Frame) -> Iterator[tuple[str, str]]:
        if isinstance(node, ast.Name):
            yield from self._name(node.id, frame)
        elif isinstance(node, ast.Call):
            first = node.args[0] if node.args else None
            if node.func in ("kref_get", "kref_read") and isinstance(first, ast.Name) and first.id in self.krefs:
                yield first.id, f"{node.func}({first.id})"
            elif self.tracks_devices and node.func in DEVICE_USES and isinstance(first, ast.Name):
                sym = self.c.sym.get(first.id)
                if sym is not None and sym.kind == "device":
                    yield self._device(node, frame), f"{node.func}({first.id})"
            for arg in node.args:
                yield from self._expr(arg, frame)
        elif isinstance(node, ast.Unary):
            yield from self._expr(node.arg, frame)
        elif isinstance(node, ast.Binary):
            yield from self._expr(node.left, frame)
            yield from self._expr(node.right, frame)

    def _name(self, name: str, frame: Frame) -> Iterator[tuple[str, str]]:
        if frame.lookup(name) is not None:
            return
        if name in self.field_of:
            yield self.field_of[name], f"{name} is used"
            return
        sym = self.c.sym.get(name)
        if (self.tracks_devices and sym is not None and sym.kind == "var" and sym.driver is not None
                and frame.device is not None):
            yield frame.device, f"{name} (data of {frame.device}) is used"
