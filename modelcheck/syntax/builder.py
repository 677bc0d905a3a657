"""Build the frozen AST from lark's parse tree (one method per grammar rule)."""
from __future__ import annotations

from typing import Optional

from lark import Token, Tree

from ..errors import SpecError
from ..ir import Span
from . import ast


class AstBuilder:
    def __init__(self, file: str):
        self.file = file

    # -- helpers --
    def device_decl(self, mc, span: Span, hotplug: bool = False) -> ast.DeviceDecl:
        """`device NAME[[r in SET]] : DRV, ... [present] [instances N] [parent P [need_parent_lock]];`
        from its children mc (the grammar's device_decl), plain or under `hotplug`."""
        names = tuple(str(n) for n in mc[3].children)
        par = mc[6]
        return ast.DeviceDecl(
            str(mc[0]), _opt(mc[1]), _opt(mc[2]), names[0], mc[4] is not None, span,
            str(par.children[0]) if par is not None else None,
            par is not None and par.children[1] is not None,
            self.span(par.children[0]) if par is not None else None, drivers=names,
            instances=self.device_instances(mc[5]), hotplug=hotplug)

    def device_instances(self, node) -> int:
        """`instances N` of a device declaration: 1 without it; E236 outside 1..MAX_INSTANCES."""
        if node is None:
            return 1
        token = node.children[0]
        n = literal(token, self.span(token))
        if not 1 <= n <= MAX_INSTANCES:
            raise SpecError("E236", self.span(token), f"instances {n}: a device has 1 to {MAX_INSTANCES} instances",
                            "each instance is a whole device in the state; model the few the scenario adds")
        return n

    def span(self, node) -> Span:
        if isinstance(node, Token):
            return Span(self.file, node.line, node.column, node.end_line or node.line,
                        node.end_column or node.column + len(node))
        meta = node.meta
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def once(self, previous, node: Tree, message: str) -> None:
        # a second copy of a one-per-owner member would silently replace the first
        if previous is not None:
            raise SpecError("E201", self.span(node), message, "merge the two into one")

    # -- top level --
    def spec(self, tree: Tree) -> ast.Spec:
        fields: dict[str, list] = {k: [] for k in (
            "configs", "requires", "platforms", "extents", "modules", "fns",
            "userspaces", "properties", "expects", "disables", "kconfigs", "suppliers")}
        title = source = ""
        exclusive = False
        timeout = None
        cases: list[str] = []
        models: list[str] = []
        for item in tree.children:
            kind = item.data
            if kind == "title":
                title = _string(item.children[0])
            elif kind == "source":
                source = _string(item.children[0])
            elif kind == "case":
                cases.append(_string(item.children[0]))
            elif kind == "models":
                models.append(_string(item.children[0]))
            elif kind == "dax_regions":
                exclusive = str(item.children[0]) == "exclusive"
            elif kind == "deferred_probe_timeout":
                self.once(timeout, item, "deferred_probe_timeout is given twice")
                timeout = int(str(item.children[0]))
            else:
                bucket, node = self.item(item)
                fields[bucket].append(node)
        return ast.Spec(self.file, title, source, exclusive_dax_regions=exclusive, cases=tuple(cases),
                        models=tuple(models), deferred_probe_timeout=timeout,
                        **{k: tuple(v) for k, v in fields.items()})

    def item(self, item: Tree):
        kind, c = item.data, item.children
        sp = self.span(item)
        if kind == "config":
            return "configs", ast.ConfigDecl(str(c[0]), str(c[1]), str(c[2]) if c[2] else None, sp,
                                             external=c[3] is not None)
        if kind == "kconfig":
            variables = tuple((str(v.children[0]), _string(v.children[1])) for v in c[2:] if v is not None)
            return "kconfigs", ast.KconfigFile(_string(c[0]), sp, _string(c[1]) if c[1] else None, variables)
        if kind == "require":
            return "requires", ast.Require(self.expr(c[0]), sp)
        if kind == "platform":
            return "platforms", ast.PlatformDecl(str(c[0]), self.type(c[1]), sp)
        if kind in ("range_decl", "window_decl", "region_decl"):
            return "extents", self.extent(kind, c, sp)
        if kind in ("module", "builtin"):
            return "modules", self.module(item)
        if kind == "fn_decl":
            result = str(c[2].children[0]) if c[2] is not None else None
            return "fns", ast.FnDecl(str(c[0]), _opt(c[1]), self.block(c[3]), sp, result)
        if kind == "userspace":
            return "userspaces", ast.Userspace(str(c[0]), self.block(c[1]), sp)
        if kind == "supplier_decl":
            return "suppliers", ast.SupplierDecl(str(c[0]), str(c[1]), sp)
        if kind in ("invariant", "final", "eventually", "always_eventually"):
            return "properties", ast.PropertyDecl(str(c[0]), str(kind), self.expr(c[1]), sp)
        if kind == "leads_to":
            return "properties", self.leads_to(c, sp)
        if kind == "expect":
            return "expects", ast.Expect(str(c[0]), str(c[1]), self.span(c[1]))
        if kind == "disable":
            return "disables", ast.Disable(str(c[0]), self.span(c[0]))
        raise AssertionError(f"unhandled grammar rule {kind}")

    def leads_to(self, c, sp: Span) -> ast.PropertyDecl:
        """`leads_to NAME : A ~> B;`: whenever A holds, B holds then or later."""
        if c[2] is None:
            text = "an implication A -> B" if getattr(c[1], "data", None) == "implies" else "one condition"
            raise SpecError("E280", self.span(c[1]), f"leads_to {c[0]} has {text}, not A ~> B",
                            f"write `leads_to {c[0]} : A ~> B;` (whenever A holds, B holds then or later)")
        return ast.PropertyDecl(str(c[0]), "leads_to", self.expr(c[2]), sp, trigger=self.expr(c[1]))

    def extent(self, kind: str, c, sp: Span) -> ast.ExtentDecl:
        if kind == "range_decl":
            name, ext_kind, addr = str(c[0]), str(c[1]), c[2]
        else:
            name, ext_kind, addr = str(c[0]), kind[:-len("_decl")], c[1]
        start, end = (literal(t, self.span(t)) for t in addr.children)
        if end < start:
            raise SpecError("E206", sp, f"{name}: the end address is below the start",
                            "write the lower address first: @ START .. END")
        return ast.ExtentDecl(ext_kind, name, start, end, sp)

    def type(self, t: Tree) -> ast.TypeSpec:
        if t.data == "type_bool":
            return ast.TypeSpec("bool", 0, 1, ("false", "true"))
        if t.data == "type_int":
            lo, hi = (literal(c, self.span(c)) for c in t.children[:2])
            if hi < lo:
                raise SpecError("E206", self.span(t), f"empty range {lo}..{hi}",
                                "write the lower bound first: int LO..HI")
            return ast.TypeSpec("int", lo, hi)
        labels = tuple(str(n) for n in t.children[0].children)
        return ast.TypeSpec("enum", 0, len(labels) - 1, labels)

    def module(self, item: Tree) -> ast.ModuleDecl:
        c = item.children
        name = str(c[0])
        if item.data == "builtin":
            mode, config, members = "builtin", None, c[1:]
        else:
            mode_tree = c[1]
            mode = {"mode_config": "config", "mode_builtin": "builtin",
                    "mode_loadable": "loadable"}[mode_tree.data]
            config = str(mode_tree.children[0]) if mode_tree.children else None
            members = c[2:]
        parts: dict[str, list] = {k: [] for k in (
            "vars", "works", "wqs", "drivers", "devices", "initcalls", "uses", "softdeps", "syncs", "post_softdeps",
            "models", "delayed_works", "timers", "kthreads", "suppliers")}
        init = exit_ = async_probe = level = None
        manual = False
        for m in members:
            k, mc = m.data, m.children
            if k == "var_decl":
                parts["vars"].append(ast.VarDecl(str(mc[0]), self.type(mc[1]), self.opt_expr(mc[2]), self.span(m)))
            elif k == "work_decl":
                parts["works"].append(ast.WorkDecl(str(mc[0]), _opt(mc[1]), self.span(m)))
            elif k == "sync_decl":
                holds = tuple(str(n) for n in mc[2].children) if mc[2] is not None else ()
                if holds and str(mc[0]) != "kref":
                    raise SpecError("E246", self.span(m), f"a {mc[0]} holds no variables; only a kref's "
                                    "object does", f"write `{mc[0]} {mc[1]};`, or `kref NAME holds "
                                    f"{', '.join(holds)};` for a reference-counted object")
                parts["syncs"].append(ast.SyncDecl(str(mc[0]), str(mc[1]), self.span(m), holds))
            elif k in ("delayed_work_decl", "timer_decl", "kthread_decl"):
                key, node = self.async_item(m)
                parts[key].append(node)
            elif k == "wq_decl":
                parts["wqs"].append(ast.WqDecl(str(mc[0]), str(mc[1]) == "ordered", self.span(m)))
            elif k == "driver":
                parts["drivers"].append(self.driver(m))
            elif k == "device_decl":
                parts["devices"].append(self.device_decl(mc, self.span(m)))
            elif k == "hotplug_device_decl":
                parts["devices"].append(self.device_decl(mc[0].children, self.span(m), hotplug=True))
            elif k == "init_block":
                self.once(init, m, f"{name} has a second init block")
                init = self.block(mc[0])
            elif k == "exit_block":
                self.once(exit_, m, f"{name} has a second exit block")
                exit_ = self.block(mc[0])
            elif k == "initcall_block":
                parts["initcalls"].append(ast.InitcallBlock(str(mc[0]), self.block(mc[1]), self.span(mc[0])))
            elif k == "uses":
                parts["uses"].extend(str(n) for n in mc[0].children)
            elif k == "softdep":
                key = "post_softdeps" if mc[0] is not None and str(mc[0]) == "post:" else "softdeps"
                parts[key].extend(str(n) for n in mc[1].children)
            elif k == "async_param":
                self.once(async_probe, m, f"{name} sets async_probe twice")
                async_probe = self.expr(mc[0]) if mc[0] is not None else ast.BoolLit(True, self.span(m))
            elif k == "manual":
                manual = True
            elif k == "models":
                parts["models"].append(_string(mc[0]))
            elif k == "supplier_decl":
                parts["suppliers"].append(ast.SupplierDecl(str(mc[0]), str(mc[1]), self.span(m)))
            elif k == "initcall_level":
                self.once(level, m, f"{name} gives its initcall level twice")
                level = str(mc[0])
            else:
                raise AssertionError(f"unhandled module member {k}")
        if item.data == "builtin" and (init is not None or exit_ is not None):
            raise SpecError("E212", self.span(c[0]), f"built-in object {name} has an init or exit block, "
                            "which would never run", "write `initcall LEVEL { ... }` for code that runs at boot")
        return ast.ModuleDecl(
            name, mode, config, item.data == "builtin",
            tuple(parts["vars"]), tuple(parts["works"]), tuple(parts["wqs"]),
            tuple(parts["drivers"]), tuple(parts["devices"]), init, exit_,
            tuple(parts["initcalls"]), tuple(parts["uses"]), tuple(parts["softdeps"]),
            async_probe, manual, level, self.span(c[0]), tuple(parts["syncs"]), tuple(parts["post_softdeps"]),
            tuple(parts["models"]), tuple(parts["delayed_works"]), tuple(parts["timers"]), tuple(parts["kthreads"]),
            tuple(parts["suppliers"]))

    def async_item(self, m: Tree):
        """A delayed_work, timer or kthread declaration: (the ModuleDecl/DriverDecl field, the node)."""
        name, func = str(m.children[0]), _opt(m.children[1])
        if m.data == "kthread_decl":
            return "kthreads", ast.KthreadDecl(name, func, self.span(m))
        if m.data == "delayed_work_decl":
            return "delayed_works", ast.WorkDecl(name, func, self.span(m))
        return "timers", ast.TimerDecl(name, func, self.span(m))

    def driver(self, m: Tree) -> ast.DriverDecl:
        c = m.children
        probe = remove = match = None
        pm: dict[str, ast.Block] = {}
        data: dict[str, list] = {"vars": [], "works": [], "delayed_works": [], "timers": [], "kthreads": []}
        for member in c[2:]:
            if member.data in ("delayed_work_decl", "timer_decl", "kthread_decl"):
                key, node = self.async_item(member)
                data[key].append(node)
                continue
            if member.data == "var_decl":
                mc = member.children
                data["vars"].append(ast.VarDecl(str(mc[0]), self.type(mc[1]), self.opt_expr(mc[2]), self.span(member)))
            elif member.data == "work_decl":
                data["works"].append(ast.WorkDecl(str(member.children[0]), _opt(member.children[1]), self.span(member)))
            elif member.data == "match_block":
                self.once(match, member, f"driver {c[0]} has a second match block")
                match = self.block(member.children[0])
            elif member.data == "probe_block":
                self.once(probe, member, f"driver {c[0]} has a second probe block")
                probe = ast.Probe(_opt(member.children[0]), self.block(member.children[1]), self.span(member))
            elif member.data in ("suspend_block", "resume_block", "shutdown_block"):
                which = member.data[:-len("_block")]
                self.once(pm.get(which), member, f"driver {c[0]} has a second {which} block")
                pm[which] = self.block(member.children[0])
            else:
                self.once(remove, member, f"driver {c[0]} has a second remove block")
                remove = self.block(member.children[0])
        return ast.DriverDecl(str(c[0]), str(c[1]) if c[1] else "default", probe, remove, self.span(c[0]),
                              vars=tuple(data["vars"]), works=tuple(data["works"]),
                              delayed_works=tuple(data["delayed_works"]), timers=tuple(data["timers"]),
                              kthreads=tuple(data["kthreads"]), match=match, **pm)

    # -- statements --
    def block(self, t: Tree) -> ast.Block:
        return ast.Block(tuple(self.stmt(s) for s in t.children), self.span(t))

    def stmt(self, t: Tree):
        k, c, sp = t.data, t.children, self.span(t)
        if k == "assign":
            return ast.Assign(str(c[0]), self.expr(c[1]), sp)
        if k == "if_stmt":
            other = c[2]
            if other is not None and other.data == "if_stmt":
                other = ast.Block((self.stmt(other),), self.span(other))
            elif other is not None:
                other = self.block(other)
            return ast.If(self.expr(c[0]), self.block(c[1]), other, sp)
        if k == "for_stmt":
            return ast.For(str(c[0]), str(c[1]), self.opt_expr(c[2]), self.block(c[3]), sp)
        if k == "return_stmt":
            return ast.Return(self.opt_expr(c[0]), sp)
        if k == "continue_stmt":
            return ast.Continue(sp)
        if k == "call_stmt":
            return ast.CallStmt(self.expr(c[0]), sp)
        if k == "assert_stmt":
            return ast.Assert(str(c[0]), self.expr(c[1]), sp)
        if k == "block_stmt":
            return self.block(c[0])
        if k == "guard_stmt":
            return ast.Guard(str(c[0]), str(c[1]), sp)
        raise AssertionError(f"unhandled statement rule {k}")

    # -- expressions --
    def opt_expr(self, t) -> Optional[ast.ExprNode]:
        return None if t is None else self.expr(t)

    def expr(self, t) -> ast.ExprNode:
        if isinstance(t, Token):
            raise AssertionError(f"bare token {t!r} in expression position")
        k, c, sp = t.data, t.children, self.span(t)
        if k == "number":
            return ast.Num(literal(c[0], sp), sp)
        if k == "negative":
            return ast.Num(-literal(c[0], sp), sp)
        if k == "errno":
            return ast.Errno(str(c[0]), sp)
        if k in ("true", "false"):
            return ast.BoolLit(k == "true", sp)
        if k == "name":
            return ast.Name(str(c[0]), sp)
        if k == "call":
            return ast.Call(str(c[0]), tuple(self.expr(a) for a in c[1:] if a is not None), sp)
        if k == "not_":
            return ast.Unary("not", self.expr(c[-1]), sp)
        if k in ("q_all", "q_any", "q_count"):
            return ast.Quant(k[2:], str(c[0]), str(c[1]), self.expr(c[2]), sp)
        if k in ("add", "sub"):
            return ast.Binary("+" if k == "add" else "-", self.expr(c[0]), self.expr(c[1]), sp)
        if k == "bit_or":
            return ast.Binary("|", self.expr(c[0]), self.expr(c[1]), sp)
        if k == "comparison":
            return ast.Binary(str(c[1]), self.expr(c[0]), self.expr(c[2]), sp)
        if k == "implies":
            return ast.Binary("->", self.expr(c[0]), self.expr(c[1]), sp)
        if k in ("or_expr", "and_expr"):
            op = "or" if k == "or_expr" else "and"
            operands = [self.expr(x) for x in c if isinstance(x, Tree)]
            result = operands[0]
            for right in operands[1:]:
                result = ast.Binary(op, result, right, sp)
            return result
        raise AssertionError(f"unhandled expression rule {k}")


def _string(token: Token) -> str:
    return str(token)[1:-1]


def _opt(token) -> Optional[str]:
    return None if token is None else str(token)


MAX_INSTANCES = 4           # `instances N` on a device: each instance is a whole device in the state
MAX_LITERAL = 2 ** 64 - 1    # addresses and counts fit in 64 bits; larger literals are typos


def literal(token, span: Span) -> int:
    """The value of a NUMBER or SIGNED_NUMBER token: decimal or 0x hex, at most 2**64 - 1 in
    magnitude. Raises SpecError E106 (never Python's digit-conversion ValueError)."""
    text = str(token)
    digits = text.lstrip("-")
    hexadecimal = digits[:2].lower() == "0x"
    if len(digits) > 20:      # more digits than 2**64 has in decimal or hex: refuse before converting
        value = None
    else:
        value = int(digits[2:], 16) if hexadecimal else int(digits, 10)
    if value is None or value > MAX_LITERAL:
        shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]} ({len(digits)} digits)"
        raise SpecError("E106", span, f"integer literal {shown} is too large: literals are at most "
                        f"2**64 - 1 ({hex(MAX_LITERAL)})")
    return -value if text.startswith("-") else value
