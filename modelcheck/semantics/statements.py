"""Statements: each becomes one or more atomic steps of the thread being built."""
from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import TYPE_CHECKING, Callable, Optional

from ..errors import SpecError
from ..ir import FALSE, TRUE, Cmp, Const, Expr, Ite, Ref, conj, disj, eq, is_bool, neg, Property
from ..syntax import ast
from .atomic import might_sleep
from .context import Frame
from .iomem import IOMEM_RESULTS
from .modules import COMING, LIVE
from .signals import INTERRUPTIBLE, check_target

if TYPE_CHECKING:
    from .compile import Compiler

# Primitives whose true/false result can be assigned: `ok = claim(r, o);`
RESULT_PRIMITIVES = ({"queue_work", "schedule_work", "claim", "flush_work", "cancel_work_sync", "mutex_trylock",
                      "down_read_trylock", "wait_for_completion_timeout", "wait_event_timeout",
                      "queue_delayed_work", "schedule_delayed_work", "mod_delayed_work", "cancel_delayed_work",
                      "cancel_delayed_work_sync", "flush_delayed_work", "mod_timer", "timer_delete", "del_timer",
                      "timer_delete_sync", "del_timer_sync", "timer_shutdown_sync", "kref_put", "device_link_add",
                      "kref_get_unless_zero"}
                     | IOMEM_RESULTS)

# `if choose() { ... }`: a choice explored both ways, each time the `if` runs
CHOOSE = "choose"

# handler(call, frame, at, nxt, target_var): emits steps from `at` ending in `nxt`
Primitive = Callable[[ast.Call, Frame, int, int, Optional[str]], None]


class Statements:
    """Continuation style: lowering a statement emits steps from `at` that end in `nxt`,
    so branches rejoin without extra steps."""

    def __init__(self, compiler: "Compiler"):
        self.c = compiler
        self.inlined = 0          # function calls inlined so far (bounded by MAX_INLINED_CALLS)

    def block(self, block: ast.Block, frame: Frame, at: int, nxt: int) -> None:
        stmts = block.stmts
        if not stmts:
            frame.b.edge(at, nxt, "", None)
            return
        for i, stmt in enumerate(stmts):
            if type(stmt) is ast.Guard:   # the rest of the block is the guard's scope
                self.c.locks.guard(stmt, ast.Block(stmts[i + 1:], block.span), frame, at, nxt)
                return
            after = nxt if i == len(stmts) - 1 else frame.b.new()
            self.stmt(stmt, frame, at, after)
            at = after

    def stmt(self, node, frame: Frame, at: int, nxt: int) -> None:
        uses = self.c.refcounts.access_checks(node, frame)
        first = len(frame.b.edges[at])
        self._stmt(node, frame, at, nxt)
        if uses:   # the statement's first steps access a counted object: it must not be released
            frame.b.add_checks(at, first, uses)

    def _stmt(self, node, frame: Frame, at: int, nxt: int) -> None:
        kind = type(node)
        if kind is ast.Block:
            self.block(node, frame, at, nxt)
        elif kind is ast.Assign:
            self.assign(node, frame, at, nxt)
        elif kind is ast.If:
            self.if_(node, frame, at, nxt)
        elif kind is ast.For:
            self.for_(node, frame, at, nxt)
        elif kind is ast.Return:
            self.return_(node, frame, at)
        elif kind is ast.Continue:
            if frame.cont is None:
                raise SpecError("E212", node.span, "`continue` outside a `for` loop")
            frame.b.edge(at, frame.cont, "continue", node.span)
        elif kind is ast.CallStmt:
            self.call(node.call, frame, at, nxt, None)
        elif kind is ast.Assert:
            self.assert_(node, frame, at, nxt)
        else:
            raise AssertionError(f"unhandled statement node {kind.__name__}")

    def assign(self, node: ast.Assign, frame: Frame, at: int, nxt: int) -> None:
        sym = self.c.sym.require(node.target, ("var",), node.span, "a variable declared with `var`")
        fn = self.c.sym.get(node.value.func) if isinstance(node.value, ast.Call) else None
        if fn is not None and fn.kind == "fn" and node.value.func not in self.c.statements:
            self.c.results.call_into(node, sym, fn.decl, frame, at, nxt)
            return
        if isinstance(node.value, ast.Call) and node.value.func in INTERRUPTIBLE:
            check_target(node.value, sym.decl.type.kind, node.span)
            self.call(node.value, frame, at, nxt, self.c.devdata.key(sym, frame, node.span))
            return
        if isinstance(node.value, ast.Call) and node.value.func in self.c.statements:
            if node.value.func not in RESULT_PRIMITIVES:
                raise SpecError("E205", node.value.span, f"{node.value.func}() gives no result to assign",
                                f"call it as a statement: `{node.value.func}(...);`")
            if sym.decl.type.kind != "bool":
                raise SpecError("E205", node.span, f"{node.value.func}() gives true or false; "
                                f"{node.target!r} is not a bool")
            self.call(node.value, frame, at, nxt, self.c.devdata.key(sym, frame, node.span))
            return
        target = self.c.devdata.key(sym, frame, node.span)
        var = self.c.ctx.variables[target]
        expr = self.c.exprs.lower(node.value, frame)
        if sym.decl.type.kind == "bool":
            if not is_bool(expr):
                raise SpecError("E205", node.value.span,
                                f"{node.target!r} is a bool; assign true, false or a condition")
            expr = Ite(expr, Const(1), Const(0))
        elif is_bool(expr):
            raise SpecError("E205", node.value.span, f"{node.target!r} holds a number, not a condition")
        expr = self.c.fold(expr)
        checks = ()
        if not _always_in_range(expr, var.lo, var.hi) and sym.decl.type.kind != "bool":
            in_range = conj(Cmp(">=", expr, Const(var.lo)), Cmp("<=", expr, Const(var.hi)))
            checks = (self.c.ctx.check("value_in_range", in_range,
                                       f"{target} leaves its range {var.lo}..{var.hi}"),)
            expr = Ite(in_range, expr, Ref(target))   # keep the state inside the domain
        frame.b.edge(at, nxt, f"{target} = {_show(node.value)}", node.span,
                     assigns=((target, expr),), checks=checks)

    def if_(self, node: ast.If, frame: Frame, at: int, nxt: int) -> None:
        if isinstance(node.cond, ast.Call) and node.cond.func == CHOOSE:
            self.choose(node, frame, at, nxt)
            return
        if self.c.signals.is_branch(node.cond):
            self.c.signals.if_(node, frame, at, nxt)
            return
        if self.result_branch(node.cond):
            self.if_result(node, frame, at, nxt)
            return
        cond = self.c.fold(self.c.exprs.cond(node.cond, frame))
        if cond in (TRUE, FALSE):
            # Decided by fixed Kconfig values: the other branch is compiled out, as in C.
            chosen = node.then if cond == TRUE else node.other
            self.block(chosen or ast.Block((), node.span), frame, at, nxt)
            return
        self._branch(node, frame, at, nxt, cond, neg(cond))

    def _branch(self, node: ast.If, frame: Frame, at: int, nxt: int, taken: Expr, skipped: Expr,
                assigns: tuple = ()) -> None:
        """The two steps of an `if` from `at`, `if (COND): true` guarded by `taken` and `: false`
        by `skipped`, both with `assigns`, then each non-empty branch's block, joining at nxt."""
        text = _show(node.cond)
        then_at = frame.b.new() if node.then.stmts else nxt
        else_at = frame.b.new() if node.other is not None and node.other.stmts else nxt
        frame.b.edge(at, then_at, f"if ({text}): true", node.span, guard=taken, assigns=assigns)
        frame.b.edge(at, else_at, f"if ({text}): false", node.span, guard=skipped, assigns=assigns)
        if then_at != nxt:
            self.block(node.then, frame, then_at, nxt)
        if else_at != nxt:
            self.block(node.other, frame, else_at, nxt)

    @staticmethod
    def result_branch(cond: ast.ExprNode) -> bool:
        """Whether an `if` condition is a primitive that changes state and gives true or false
        (mutex_trylock, kref_get_unless_zero, queue_work, ...), alone or under `not`."""
        if isinstance(cond, ast.Unary) and cond.op == "not":
            cond = cond.arg
        return isinstance(cond, ast.Call) and cond.func in RESULT_PRIMITIVES

    def if_result(self, node: ast.If, frame: Frame, at: int, nxt: int) -> None:
        """`if f(x) { A } else { B }` for a primitive with a true/false result, as C's
        `if (mutex_trylock(&m))`: the call stores its result in a hidden local, the branch reads
        it and clears it (so the local adds no state after the branch)."""
        negated = isinstance(node.cond, ast.Unary)
        call = node.cond.arg if negated else node.cond
        result = self.c.ctx.local(f"if:{call.func}", 0, 1, ("false", "true"))
        decided = frame.b.new()
        self.call(call, frame, at, decided, result)
        taken = neg(eq(result, 1)) if negated else eq(result, 1)
        self._branch(node, frame, decided, nxt, taken, neg(taken), assigns=((result, Const(0)),))

    def choose(self, node: ast.If, frame: Frame, at: int, nxt: int) -> None:
        """`if choose() { A } else { B }`: both branches enabled, a fresh choice each time the
        statement runs (a condition of the C the spec does not model, over-approximated)."""
        if node.cond.args:
            raise SpecError("E204", node.cond.span, "choose() takes no arguments")
        self._branch(node, frame, at, nxt, TRUE, TRUE)

    def for_(self, node: ast.For, frame: Frame, at: int, nxt: int) -> None:
        items = self.c.resources.domain(node.domain, node.span)
        if not items:
            frame.b.edge(at, nxt, f"for {node.var} in {node.domain}: empty", node.span)
            return
        for i, item in enumerate(items):
            inner = frame.bind(node.var, ("extent", item))
            after = nxt if i == len(items) - 1 else frame.b.new()
            body_frame = replace(inner, cont=after)
            start = at
            if node.where is not None:
                cond = self.c.fold(self.c.exprs.cond(node.where, inner))
                start = frame.b.new() if node.body.stmts else after
                text = f"for {node.var} = {item}: {_show(node.where)}"
                frame.b.edge(at, start, text, node.span, guard=cond)
                frame.b.edge(at, after, f"{text}: false, skip", node.span, guard=neg(cond))
                if start != after:
                    self.block(node.body, body_frame, start, after)
            else:
                self.block(node.body, body_frame, start, after)
            at = after

    def return_(self, node: ast.Return, frame: Frame, at: int) -> None:
        if frame.ret is None:
            raise SpecError("E212", node.span, "`return` is not allowed here")
        assigns = ()
        label = "return"
        if frame.result is not None:
            self.c.results.return_value(node, frame, at)
            return
        if node.value is not None:
            if frame.rc is None:
                raise SpecError("E212", node.span, "this code returns no value",
                                "write `return;`: only init and probe return an error code")
            value = self.c.exprs.integer(node.value, frame)
            assigns = ((frame.rc, value),)
            label = f"return {_show(node.value)}"
        frame.b.edge(at, frame.ret, label, node.span, assigns=assigns)

    def assert_(self, node: ast.Assert, frame: Frame, at: int, nxt: int) -> None:
        cond = self.c.exprs.cond(node.cond, frame)
        if node.name not in self.c.ctx.properties:
            self.c.ctx.add_property(Property(node.name, "check", f"assert {_show(node.cond)}",
                                             span=node.span))
        check = self.c.ctx.check(node.name, cond, f"assertion {node.name} fails")
        frame.b.edge(at, nxt, f"assert {node.name}: {_show(node.cond)}", node.span, checks=(check,))

    def call(self, node: ast.Call, frame: Frame, at: int, nxt: int, target: Optional[str]) -> None:
        at = might_sleep(self.c, node, frame, at)
        handler = self.c.statements.get(node.func)
        if handler is not None:
            handler(node, frame, at, nxt, target)
            return
        fn = self.c.sym.get(node.func)
        if fn is not None and fn.kind == "fn":
            if target is not None:
                raise SpecError("E232", node.span, f"{node.func}() returns no value",
                                f"declare what it returns: `fn {node.func}(...) -> int`")
            self.inline_fn(fn.decl, node, frame, at, nxt, result="" if fn.decl.result else None)
            return
        if node.func in self.c.exprs.queries:
            raise SpecError("E212", node.span, f"{node.func}() only asks a question; use it in a condition",
                            f"e.g. `if {node.func}(...) {{ ... }}`")
        raise SpecError("E203", node.span, f"unknown primitive or function {node.func!r}")

    def inline_fn(self, fn: ast.FnDecl, call: ast.Call, frame: Frame, at: int, nxt: int,
                  result: Optional[str] = None) -> None:
        """Function bodies are inlined: `return` inside them continues after the call; with
        `result`, a `return VALUE` assigns that variable first ("" drops the value)."""
        if fn.name in frame.stack:
            raise SpecError("E208", call.span, f"{fn.name}() calls itself through {' -> '.join(frame.stack)}")
        if len(frame.stack) >= MAX_CALL_DEPTH:
            raise SpecError("E107", call.span, f"{fn.name}() would be call number {len(frame.stack) + 1} "
                            f"in a chain ({_chain(frame.stack)}); at most {MAX_CALL_DEPTH} may nest")
        self.inlined += 1
        # the calls beneath count now, so a huge call tree fails before it is unrolled
        if self.inlined + self.calls_under(fn.name) > MAX_INLINED_CALLS:
            raise SpecError("E108", call.span, f"more than {MAX_INLINED_CALLS:,} function calls to inline "
                            f"(this one: {fn.name}() in {_chain(frame.stack) or 'a thread'})")
        expected = 1 if fn.param else 0
        if len(call.args) != expected:
            raise SpecError("E204", call.span, f"{fn.name}() takes {expected} argument(s), not {len(call.args)}")
        inner = replace(frame, stack=frame.stack + (fn.name,), cont=None, rc=None, ret=nxt, result=result)
        if fn.param:
            inner = inner.bind(fn.param, ("extent", self.c.exprs.extent_arg(call, 0, frame)))
        at = self._enter_module_code(fn, call, frame, at, nxt)
        self.block(fn.body, inner, at, nxt)

    def calls_under(self, fn_name: str) -> int:
        """How many function calls inlining `fn_name` inlines beneath it (its call tree's size,
        capped just above MAX_INLINED_CALLS; a call back into a function being counted counts
        as one call, since E208 reports the cycle)."""
        cache = self.__dict__.setdefault("_calls_under", {})
        if fn_name in cache:
            return cache[fn_name] or 0     # None: being counted, a cycle
        cache[fn_name] = None
        total = 0
        for call in _calls_in(self.c.sym.get(fn_name).decl.body):
            callee = self.c.sym.get(call.func)
            if callee is not None and callee.kind == "fn":
                total = min(total + 1 + self.calls_under(call.func), MAX_INLINED_CALLS + 1)
        cache[fn_name] = total
        return total

    def _enter_module_code(self, fn: ast.FnDecl, call: ast.Call, frame: Frame, at: int, nxt: int) -> int:
        """A function that touches a loadable module's objects is that module's code: it can run
        only while the module is in memory and not going (try_module_get, kernel/module/main.c),
        as a symbol reference needs its provider. Called from elsewhere while the module is
        unloaded or going, the call does nothing. Returns where the body starts."""
        owners = [m for m in sorted(self.code_owners(fn.name)) if m != frame.module and m not in frame.loading]
        present = conj(*(self._code_present(m) for m in owners))
        present = self.c.fold(present)
        if present == TRUE:
            return at
        body = frame.b.new()
        frame.b.edge(at, body, "", None, guard=present)
        missing = ", ".join(owners)
        frame.b.edge(at, nxt, f"{fn.name}(): code of {missing}, which is not loaded: the call does nothing",
                     call.span, guard=neg(present))
        return body

    def _code_present(self, module: str):
        """Built in, or loaded and not going (MODULE_STATE_COMING or LIVE)."""
        m = self.c.modules.by_name[module]
        return disj(self.c.modules.builtin(m),
                    conj(self.c.modules.loadable(m),
                         disj(eq(f"{module}.state", COMING), eq(f"{module}.state", LIVE))))

    def code_owners(self, fn_name: str, seen: frozenset = frozenset()) -> frozenset:
        """The loadable modules whose objects fn touches, itself or through the functions it calls."""
        cache = self.__dict__.setdefault("_owners", {})
        if fn_name in cache:
            return cache[fn_name]
        sym = self.c.sym.get(fn_name)
        out: set[str] = set()
        for name in _names_in(sym.decl.body):
            other = self.c.sym.get(name)
            if other is None:
                continue
            if other.kind == "fn" and name not in seen and name != fn_name:
                out |= self.code_owners(name, seen | {fn_name})
            elif other.kind in ("var", "work", "wq", "driver", "device") and other.owner is not None:
                owner = self.c.modules.by_name[other.owner]
                if not owner.is_object and self.c.modules.builtin(owner) != TRUE:
                    out.add(other.owner)
        result = frozenset(out)
        if not seen:
            cache[fn_name] = result
        return result


def _names_in(node):
    """Every name and called function in an AST subtree."""
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Call):
        yield node.func
    if is_dataclass(node):
        for f in fields(node):
            yield from _names_in(getattr(node, f.name))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _names_in(item)


MAX_CALL_DEPTH = 64            # nested inlined calls; deeper chains are generated, not written
MAX_INLINED_CALLS = 20_000     # inlined call sites over the whole spec


def _chain(stack: tuple[str, ...], parens: bool = True) -> str:
    names = list(stack) if len(stack) <= 6 else list(stack[:3]) + ["..."] + list(stack[-2:])
    return " -> ".join(f"{n}()" if parens and n != "..." else n for n in names)


def reject_recursion(fns) -> None:
    """E208 for any cycle of calls among `fns` (ast.FnDecl), found without Python recursion, so
    a cycle through thousands of functions is an error message, not a RecursionError."""
    declared = {f.name: f for f in fns}
    calls = {f.name: [c for c in _calls_in(f.body) if c.func in declared] for f in fns}
    state: dict[str, int] = {}        # 1: on the current path, 2: finished
    for root in declared:
        if root in state:
            continue
        path, stack = [root], [iter(calls[root])]
        state[root] = 1
        while stack:
            call = next(stack[-1], None)
            if call is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(call.func) == 1:
                cycle = path[path.index(call.func):]
                raise SpecError("E208", call.span, f"{call.func}() calls itself through "
                                f"{_chain(tuple(cycle), parens=False)}")
            elif call.func not in state:
                state[call.func] = 1
                path.append(call.func)
                stack.append(iter(calls[call.func]))


def _calls_in(node) -> list[ast.Call]:
    """Every ast.Call under `node`, by an explicit-stack walk over the dataclass fields."""
    found, todo = [], [node]
    while todo:
        item = todo.pop()
        if isinstance(item, ast.Call):
            found.append(item)
        if isinstance(item, (tuple, list)):
            todo.extend(reversed(item))
        elif hasattr(item, "__dataclass_fields__"):
            todo.extend(getattr(item, name) for name in reversed(item.__dataclass_fields__))
    return found


def _always_in_range(expr, lo: int, hi: int) -> bool:
    return isinstance(expr, Const) and lo <= expr.value <= hi


def _show(node) -> str:
    """The expression as the spec writer would write it (for trace labels)."""
    kind = type(node)
    if kind is ast.Num:
        return str(node.value)
    if kind is ast.Errno:
        return f"-{node.name}"
    if kind is ast.BoolLit:
        return "true" if node.value else "false"
    if kind is ast.Name:
        return node.id
    if kind is ast.Call:
        return f"{node.func}({', '.join(_show(a) for a in node.args)})"
    if kind is ast.Unary:
        return f"!{_show(node.arg)}"
    if kind is ast.Binary:
        return f"{_show(node.left)} {node.op} {_show(node.right)}"
    if kind is ast.Quant:
        return f"{node.kind}({node.var} in {node.domain}: {_show(node.body)})"
    return "?"


show = _show
