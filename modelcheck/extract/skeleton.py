"""C files -> a spec skeleton in the shape of the C.

Every emitted line ends with `# FILE:LINE` of the C it came from. Modelled calls (primitives.py)
become spec primitives; calls into the files' own functions become `fn` calls; a condition the
language cannot evaluate becomes a `platform` choice (both branches explored); any other call
becomes a comment. `Skeleton.sites` lists each modelled primitive emitted (what `drift` compares).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..semantics.context import ERRNO
from . import primitives as P
from .cfile import CFile, call_args, call_name, named, string_value, strip, walk
from .scan import Driver, Function, Scan, module_name, sanitize

INDENT = "  "
_NOT_CALLS = {"guard", "typeof", "sizeof", "offsetof", "__alignof__", "ARRAY_SIZE"}   # operators, not calls
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\);")
SYNC_KINDS = ("mutex", "rwsem", "completion", "waitqueue")
UNRESOLVED = "skeleton_unresolved"    # the built-in object that holds objects no file declares


@dataclass(frozen=True)
class Site:
    """One modelled primitive: its spec name, the objects it names, where it is."""
    primitive: str
    objects: tuple
    function: str          # the enclosing C function ('' at file scope)
    file: str
    line: int

    @property
    def key(self) -> tuple:
        return (self.primitive, self.objects)


@dataclass
class Line:
    depth: int
    code: str
    loc: str
    note: str = ""

    def render(self) -> str:
        text = INDENT * self.depth + self.code
        if self.note:
            text += f"  # {self.note}"
        return f"{text}  # {self.loc}"


@dataclass
class Obj:
    kind: str
    name: str
    owner: str        # module or object that declares it
    loc: str
    decl: str         # the spec declaration
    note: str = ""


@dataclass
class Context:
    """Where a body is being translated."""
    cfile: CFile
    function: str             # C name
    kind: str                 # probe | remove | init | exit | initcall | fn
    module: str
    locals: dict = field(default_factory=dict)    # C local -> (kind, value): alias node / device name
    types: dict = field(default_factory=dict)     # C local or parameter -> struct type
    body: object = None                           # the function's top-level compound statement
    guards: list = field(default_factory=list)    # guards open in the enclosing blocks
    conds: list = field(default_factory=list)     # C texts of the enclosing if conditions
    inlining: tuple = ()                          # goto labels being inlined


class Skeleton:
    """Build with Skeleton(files); `text()` is the spec, `sites` the modelled primitives,
    `unmodelled` the calls left as comments, `choices` the conditions made nondeterministic."""

    def __init__(self, files: list[CFile], models: Optional[list[str]] = None):
        self.scan = Scan(files)
        self.files = files
        self.models = models or []
        self.objects: dict[tuple[str, str], Obj] = {}
        self.names: set[str] = set()
        self.configs: dict[str, str] = {}        # name -> loc
        self.platform: list[Line] = []
        self.choices: list[tuple[str, str]] = []      # (loc, why) of each nondeterministic choice
        self.vars: dict[str, list[Line]] = {}    # module -> var lines for result/field variables
        self.sites: list[Site] = []
        self.unmodelled: list[tuple[str, str]] = []   # (call name, loc)
        self.stub_modules: dict[str, str] = {}
        self.mappings: dict[str, str] = {}             # C pointer an ioremap() result went to -> range
        self.uses: dict[str, dict[str, str]] = {}      # module -> {provider module: loc}
        self.fn_bodies: dict[str, list[Line]] = {}
        self.blocks: dict[str, list] = {}              # module -> [(header lines, body lines, footer)]
        self.module_of_file = {u.cfile.path: u.module for u in self.scan.units}
        self.loadable = {u.module for u in self.scan.units if u.loadable}
        self._callbacks = self._callback_functions()
        self._translate()

    # ------------------------------------------------------------------ naming and declarations
    def _fresh(self, base: str) -> str:
        name, i = sanitize(base), 2
        while name in self.names:
            name = sanitize(f"{base}_{i}")
            i += 1
        self.names.add(name)
        return name

    def declare(self, kind: str, name: str, owner: str, loc: str, decl: str, note: str = "") -> str:
        key = (kind, name)
        if key not in self.objects:
            self.names.add(name)
            self.objects[key] = Obj(kind, name, owner, loc, decl, note)
            if kind in SYNC_KINDS:        # DEFINE_MUTEX and friends: declarations drift compares
                path, line = loc.rsplit(":", 1)
                self.sites.append(Site(kind, (name,), "", path, int(line)))
        return name

    def choice(self, ctx: Context, node, why: str) -> str:
        """`choose()`: both ways explored, afresh each time the statement runs."""
        self.choices.append((ctx.cfile.loc(node), why))
        return "choose()"

    def platform_choice(self, ctx: Context, node, why: str) -> str:
        """A choice inside an expression, where `choose()` cannot go: a platform fact, made once per run."""
        name = sanitize(f"c_{ctx.function}_{ctx.cfile.line(node)}")
        base, i = name, 2
        while name in self.names:
            name = f"{base}_{i}"
            i += 1
        self.names.add(name)
        self.choices.append((ctx.cfile.loc(node), why))
        self.platform.append(Line(0, f"platform {name} : bool;", ctx.cfile.loc(node), why))
        return name

    def site(self, ctx: Context, node, primitive: str, objects: tuple) -> None:
        self.sites.append(Site(primitive, objects, ctx.function, ctx.cfile.path, ctx.cfile.line(node)))

    # ------------------------------------------------------------------ translation driver
    def _callback_functions(self) -> set[tuple[str, str]]:
        """Functions that are only entry points (probe, remove, init, exit, initcalls): inlined."""
        out = set()
        for unit in self.scan.units:
            for name in unit.entries.values():
                out.add((unit.cfile.path, name))
            for _, name, _ in unit.initcalls:
                out.add((unit.cfile.path, name))
        for drv in self.scan.drivers.values():
            for name in (drv.probe, drv.remove):
                if name:
                    out.add((drv.cfile.path, name))
        return out

    def _translate(self) -> None:
        for fn in self.scan.functions.values():
            self.names.add(fn.spec_name)
        for unit in self.scan.units:
            self.names.add(unit.module)
        for drv in self.scan.drivers.values():
            self.names.add(sanitize(drv.name))
        for g in self.scan.globals.values():
            self._global(g)
        for unit in self.scan.units:
            self.blocks[unit.module] = []
            self._unit(unit)
        for (path, name), fn in self.scan.functions.items():
            if (path, name) in self._callbacks and not self._called_elsewhere(fn):
                continue
            ctx = self._context(fn, "fn")
            lines = self._body(ctx, fn.node.child_by_field_name("body"), 1)
            self.fn_bodies[fn.spec_name] = [Line(0, f"fn {fn.spec_name} {{", fn.cfile.loc(fn.node))] + lines + [
                Line(0, "}", _end_loc(fn.cfile, fn.node))]
        self._break_cycles()

    def _break_cycles(self) -> None:
        """Spec functions are inlined, so a C recursion (direct or through callbacks) is cut: the
        call that closes a cycle becomes a comment."""
        def calls(line: Line) -> list[str]:
            return [n for n in _CALL.findall(line.code) if n in self.fn_bodies]
        state: dict[str, int] = {}

        def visit(name: str) -> None:
            state[name] = 1
            for line in self.fn_bodies[name]:
                for callee in calls(line):
                    if state.get(callee) == 1:
                        line.note = f"{line.code} -- a recursive call, not followed"
                        line.code = "# recursion"
                        self.unmodelled.append((callee, line.loc))
                    elif callee not in state:
                        visit(callee)
            state[name] = 2
        for name in sorted(self.fn_bodies):
            if name not in state:
                visit(name)

    def _called_elsewhere(self, fn: Function) -> bool:
        for f in self.files:
            for node in walk(f.tree.root_node):
                if node.type == "identifier" and f.text(node) == fn.name:
                    parent = node.parent
                    if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == node:
                        return True
        return False

    def _global(self, g) -> None:
        module = self.module_of_file[g.cfile.path]
        loc = g.cfile.loc(g.node)
        if g.kind == "var":
            self.declare("var", sanitize(g.name), module, loc, f"var {sanitize(g.name)} : bool = {g.init};")
        elif g.kind == "work":
            self._declare_work(sanitize(g.name), module, loc, g.init, static=True, g=g)
        elif g.kind == "wq":
            pass   # declared when allocated or used (its kind comes from the alloc call)
        elif g.kind == "struct":
            members = self.scan.work_members(g.struct)
            for m in members:
                name = sanitize(g.name if len(members) == 1 else f"{g.name}_{m}")
                self._declare_work(name, module, loc, g.init, static=True, g=g)
        elif g.kind in ("mutex", "rwsem", "completion", "waitqueue"):
            self.declare(g.kind, sanitize(g.name), module, loc, f"{g.kind} {sanitize(g.name)};")

    def _declare_work(self, name: str, module: str, loc: str, fn: Optional[str], static: bool, g=None) -> None:
        if ("work", name) in self.objects:
            return
        spec_fn = None
        if fn:
            spec_fn = self._fn_ref(g.cfile if g is not None else None, fn, module, loc)
        decl = f"work {name} = {spec_fn};" if spec_fn else f"work {name};"
        note = "static initializer: func set" if spec_fn else ("static, zeroed: func NULL until INIT_WORK"
                                                               if static else "a work_struct member")
        self.declare("work", name, module, loc, decl, note)
        path, line = loc.rsplit(":", 1)
        objects = (name, spec_fn) if spec_fn else (name,)
        self.sites.append(Site("work", objects, "", path, int(line)))

    def _fn_ref(self, cfile: Optional[CFile], name: str, module: str, loc: str) -> str:
        """The spec fn for a C function name; a function no file defines gets an empty stub."""
        fn = self.scan.function(cfile, name) if cfile is not None else None
        if fn is None:
            fn = next((f for (_, n), f in self.scan.functions.items() if n == name), None)
        if fn is not None:
            return fn.spec_name
        stub = sanitize(name)
        if ("fn", stub) not in self.objects:
            self.declare("fn", stub, module, loc, f"fn {stub} {{ }}", "not among the files given: complete")
        return stub

    # ------------------------------------------------------------------ modules
    def _unit(self, unit) -> None:
        f, module = unit.cfile, unit.module
        if unit.level:
            node = unit.entry_nodes["init"]
            self.blocks[module].append(([Line(1, f"level {unit.level};", f.loc(node),
                                              f"{unit.level}_initcall: module_init when loadable")], [], []))
        for drv in [d for d in self.scan.drivers.values() if d.cfile is f]:
            self.blocks[module].append(self._driver(drv, module))
        for when, dep, node in unit.softdeps:
            self._module_ref(dep, f.loc(node))
            self.blocks[module].append(([Line(1, f"softdep {when}: {dep};", f.loc(node))], [], []))
            self.sites.append(Site("softdep", (dep,), "", f.path, f.line(node)))
        init_lines, exit_lines = [], []
        for var, macro, node in unit.driver_macros:
            drv = sanitize(var)
            self._driver_ref(drv, module, f.loc(node))
            init_lines.append(Line(2, f"register_driver({drv});", f.loc(node), macro))
            exit_lines.append(Line(2, f"unregister_driver({drv});", f.loc(node), macro))
            self.sites.append(Site("register_driver", (drv,), "", f.path, f.line(node)))
            self.sites.append(Site("unregister_driver", (drv,), "", f.path, f.line(node)))
        for block in ("init", "exit"):
            name = unit.entries.get(block)
            extra = init_lines if block == "init" else exit_lines
            if name is None and not extra:
                continue
            node = unit.entry_nodes.get(block)
            loc = f.loc(node) if node is not None else extra[0].loc
            body = list(extra)
            fn = self.scan.functions.get((f.path, name)) if name else None
            if fn is not None:
                body += self._body(self._context(fn, block, module), fn.node.child_by_field_name("body"), 2)
            elif name:
                body.append(Line(2, f"# {name}() is not among the files given", loc))
            if unit.loadable:
                self.blocks[module].append(([Line(1, f"{block} {{", loc, f"module_{block}({name or ''})")],
                                            body, [Line(1, "}", loc)]))
            else:
                self.blocks[module].append(([Line(1, "initcall device {", loc, f"built in: {block}")],
                                            body, [Line(1, "}", loc)]))
        for level, name, node in unit.initcalls:
            fn = self.scan.functions.get((f.path, name))
            body = self._body(self._context(fn, "initcall", module), fn.node.child_by_field_name("body"), 2) if fn else []
            self.blocks[module].append(([Line(1, f"initcall {level} {{", f.loc(node), f"{level}_initcall({name})")],
                                        body, [Line(1, "}", f.loc(node))]))

    def _driver(self, drv: Driver, module: str):
        f = drv.cfile
        name = sanitize(drv.name)
        self.declare("driver", name, module, f.loc(drv.node), "")
        ptype = f" : {drv.probe_type}" if drv.probe_type and drv.probe_type != "default" else ""
        head = [Line(1, f"driver {name}{ptype} {{", f.loc(drv.node))]
        body = []
        for block, fname in (("probe", drv.probe), ("remove", drv.remove)):
            if not fname:
                continue
            fn = self.scan.functions.get((f.path, fname))
            if fn is None:
                body.append(Line(2, f"# .{block} = {fname}: not among the files given", f.loc(drv.node)))
                continue
            body.append(Line(2, f"{block} {{", fn.cfile.loc(fn.node), f"{fname}()"))
            body += self._body(self._context(fn, block, module), fn.node.child_by_field_name("body"), 3)
            body.append(Line(2, "}", _end_loc(fn.cfile, fn.node)))
        return head, body, [Line(1, "}", _end_loc(f, drv.node))]

    def _module_ref(self, name: str, loc: str) -> str:
        name = sanitize(name)
        if name not in self.module_of_file.values() and name not in self.stub_modules:
            self.stub_modules[name] = loc
            self.names.add(name)
        return name

    def _driver_ref(self, name: str, module: str, loc: str) -> str:
        if name not in {sanitize(d) for d in self.scan.drivers} and ("driver", name) not in self.objects:
            self.declare("driver", name, UNRESOLVED, loc, f"driver {name} {{ }}",
                         "not among the files given: complete")
        return name

    def _context(self, fn: Function, kind: str, module: Optional[str] = None) -> Context:
        f = fn.cfile
        ctx = Context(f, fn.name, kind, module or self.module_of_file[f.path],
                      body=fn.node.child_by_field_name("body"))
        for node in walk(fn.node):
            if node.type in ("parameter_declaration", "declaration"):
                type_node = node.child_by_field_name("type")
                if type_node is None:
                    continue
                struct = f.text(type_node).replace("struct ", "").strip()
                for d in node.children_by_field_name("declarator"):
                    ident = _ident(f, d)
                    if ident:
                        ctx.types[ident] = struct
                        value = d.child_by_field_name("value") if d.type == "init_declarator" else None
                        if value is not None:
                            ctx.locals[ident] = ("alias", value)
        return ctx

    # ------------------------------------------------------------------ statements
    def _body(self, ctx: Context, node, depth: int) -> list[Line]:
        out: list[Line] = []
        if node is not None:
            self._block_items(ctx, named(node), depth, out)
        return out

    def _block_items(self, ctx: Context, items: list, depth: int, out: list[Line]) -> None:
        opened = 0
        skip_next = False
        for i, node in enumerate(items):
            if skip_next:
                skip_next = False
                continue
            call = _statement_call(node)
            if call is not None and self._guard(ctx, call, depth, out):
                opened += 1
                continue
            if call is not None and call_name(ctx.cfile, call) == "scoped_guard":
                body = items[i + 1] if i + 1 < len(items) and items[i + 1].type == "compound_statement" else None
                self._scoped_guard(ctx, call, body, depth, out)
                skip_next = body is not None
                continue
            self._stmt(ctx, node, depth, out)
            if node.type in ("return_statement", "goto_statement"):
                break       # what follows is reached only through a label, which its goto inlines
        for _ in range(opened):
            ctx.guards.pop()

    def _guard(self, ctx: Context, call, depth: int, out: list[Line]) -> bool:
        inner = call.child_by_field_name("function")
        if inner is None or inner.type != "call_expression" or call_name(ctx.cfile, inner) != "guard":
            return False
        cls = ctx.cfile.text(call_args(inner)[0]) if call_args(inner) else ""
        arg = call_args(call)[0] if call_args(call) else None
        loc = ctx.cfile.loc(call)
        if cls == "mutex" and arg is not None:
            m = self._object(ctx, "mutex", arg, call)
            out.append(Line(depth, f"guard(mutex)({m});", loc))
            self.site(ctx, call, "guard(mutex)", (m,))
            ctx.guards.append(None)
            return True
        if cls == "device" and arg is not None:
            dev = self._object(ctx, "device", arg, call)
            out.append(Line(depth, f"guard(device)({dev});", loc))
            self.site(ctx, call, "guard(device)", (dev,))
            ctx.guards.append(None)
            return True
        out.append(Line(depth, f"# guard({cls}) not modelled", loc))
        self.unmodelled.append((f"guard({cls})", loc))
        ctx.guards.append(None)
        return True

    def _scoped_guard(self, ctx: Context, call, body, depth: int, out: list[Line]) -> None:
        args = call_args(call)
        cls = ctx.cfile.text(args[0]) if args else ""
        loc = ctx.cfile.loc(call)
        out.append(Line(depth, "{", loc, f"scoped_guard({cls})"))
        if cls == "mutex" and len(args) > 1:
            m = self._object(ctx, "mutex", args[1], call)
            out.append(Line(depth + 1, f"guard(mutex)({m});", loc))
            self.site(ctx, call, "guard(mutex)", (m,))
            ctx.guards.append(None)
        elif cls == "device" and len(args) > 1:
            dev = self._object(ctx, "device", args[1], call)
            out.append(Line(depth + 1, f"guard(device)({dev});", loc))
            self.site(ctx, call, "guard(device)", (dev,))
            ctx.guards.append(None)
        else:
            out.append(Line(depth + 1, f"# scoped_guard({cls}) not modelled", loc))
            self.unmodelled.append((f"scoped_guard({cls})", loc))
            ctx.guards.append(None)
        if body is not None:
            self._block_items(ctx, named(body), depth + 1, out)
        ctx.guards.pop()
        out.append(Line(depth, "}", _end_loc(ctx.cfile, body if body is not None else call)))

    def _stmt(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        t = node.type
        f = ctx.cfile
        if t == "compound_statement":
            out.append(Line(depth, "{", f.loc(node)))
            self._block_items(ctx, named(node), depth + 1, out)
            out.append(Line(depth, "}", _end_loc(f, node)))
        elif t == "expression_statement":
            if named(node):
                self._effects(ctx, named(node)[0], depth, out)
        elif t == "declaration":
            for d in node.children_by_field_name("declarator"):
                value = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if value is not None:
                    ident = _ident(f, d)
                    if not self._device_alloc(ctx, ident, value):
                        self._effects(ctx, value, depth, out)
        elif t == "if_statement":
            self._if(ctx, node, depth, out)
        elif t in ("for_statement", "while_statement", "do_statement"):
            self._loop(ctx, node, depth, out)
        elif t == "return_statement":
            self._return(ctx, node, depth, out)
        elif t == "goto_statement":
            self._goto(ctx, node, depth, out)
        elif t == "labeled_statement":
            for child in named(node)[1:]:
                self._stmt(ctx, child, depth, out)
        elif t == "switch_statement":
            self._switch(ctx, node, depth, out)
        elif t in ("break_statement", "continue_statement"):
            out.append(Line(depth, f"# {f.text(node)} not modelled: the statements after it still run",
                            f.loc(node)))
        elif t in ("comment", "preproc_call", "type_definition", ";"):
            pass
        else:
            out.append(Line(depth, f"# {t.replace('_', ' ')} not modelled", f.loc(node)))

    def _if(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        cond_node = node.child_by_field_name("condition")
        pre: list[Line] = []
        cond = self.cond(ctx, cond_node, depth, pre)
        note = ""
        if cond is None:
            note = f"if ({' '.join(f.text(strip(cond_node)).split())[:60]}): not evaluable, both branches explored"
            cond = self.choice(ctx, node, note)
        out += pre
        out.append(Line(depth, f"if {cond} {{", f.loc(node), note))
        ctx.conds.append(f.text(strip(cond_node)))
        self._branch(ctx, node.child_by_field_name("consequence"), depth + 1, out)
        ctx.conds.pop()
        alt = node.child_by_field_name("alternative")
        if alt is not None:
            branch = named(alt)[0] if alt.type == "else_clause" and named(alt) else alt
            out.append(Line(depth, "} else {", f.loc(alt)))
            self._branch(ctx, branch, depth + 1, out)
        out.append(Line(depth, "}", _end_loc(f, node)))

    def _branch(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        if node is None:
            return
        if node.type == "compound_statement":
            self._block_items(ctx, named(node), depth, out)
        else:
            self._stmt(ctx, node, depth, out)

    def _loop(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        c = self.choice(ctx, node, f"{node.type.split('_')[0]} loop: its body explored once or not at all")
        out.append(Line(depth, f"if {c} {{", f.loc(node), "loop: later iterations are not explored"))
        self._branch(ctx, node.child_by_field_name("body"), depth + 1, out)
        out.append(Line(depth, "}", _end_loc(f, node)))

    def _switch(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        body = node.child_by_field_name("body")
        cases = [c for c in named(body)] if body is not None else []
        closes = 0
        for i, case in enumerate(cases):
            stmts = [s for s in named(case) if s.type not in ("number_literal", "identifier", "char_literal",
                                                              "unary_expression", "binary_expression")]
            if case.child_by_field_name("value") is None and i == len(cases) - 1:
                self._block_items(ctx, stmts, depth + closes, out)
                break
            c = self.choice(ctx, case, f"switch case {f.text(case).splitlines()[0][:40]}")
            out.append(Line(depth + closes, f"if {c} {{", f.loc(case), "switch case"))
            self._block_items(ctx, stmts, depth + closes + 1, out)
            out.append(Line(depth + closes, "} else {", f.loc(case)))
            closes += 1
        for k in range(closes, 0, -1):
            out.append(Line(depth + k - 1, "}", _end_loc(f, node)))

    def _return(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        value = named(node)[0] if named(node) else None
        loc = f.loc(node)
        if value is not None and not _is_errno_or_zero(f, value):
            self._effects(ctx, value, depth, out)
        if ctx.kind not in ("probe", "init") or value is None:
            note = f"returns {f.text(value)} to its caller" if value is not None and ctx.kind == "fn" else ""
            out.append(Line(depth, "return;", loc, note))
            return
        code = _errno(f, value)
        if code is not None:
            spec, note = code
            out.append(Line(depth, f"return {spec};", loc, note))
            return
        text = f.text(strip(value))
        if strip(value).type == "identifier" and ctx.conds and _tests(ctx.conds[-1], text):
            out.append(Line(depth, "return -EIO;", loc, f"return {text}: an error code here"))
            return
        c = self.choice(ctx, node, f"return {f.text(value)[:40]}: success or an error")
        out.append(Line(depth, f"if {c} {{ return -EIO; }}", loc, f"return {f.text(value)[:40]}: an error code, or 0"))
        out.append(Line(depth, "return 0;", loc))

    def _goto(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        label = f.text(node.child_by_field_name("label"))
        items = named(ctx.body) if ctx.body is not None else []
        idx = next((i for i, s in enumerate(items) if s.type == "labeled_statement"
                    and f.text(s.child_by_field_name("label")) == label), None)
        if idx is None or label in ctx.inlining or items[idx].start_byte < node.start_byte:
            out.append(Line(depth, f"# goto {label} not followed (a backward jump)", f.loc(node)))
            return
        out.append(Line(depth, "{", f.loc(node), f"goto {label}: the code from the label on, then return"))
        saved, ctx.inlining = ctx.inlining, ctx.inlining + (label,)
        saved_guards, ctx.guards = ctx.guards, list(ctx.guards)
        tail = items[idx:]
        self._block_items(ctx, tail, depth + 1, out)
        if not any(s.type == "return_statement" for s in (tail[-1:] or [])):
            out.append(Line(depth + 1, "return;" if ctx.kind not in ("probe", "init") else "return 0;",
                            _end_loc(f, ctx.body), "the end of the function"))
        ctx.inlining, ctx.guards = saved, saved_guards
        out.append(Line(depth, "}", f.loc(node)))

    # ------------------------------------------------------------------ expressions with effects
    def _effects(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        t = node.type
        if t == "assignment_expression":
            self._assign(ctx, node, depth, out)
        elif t == "call_expression":
            self._call(ctx, node, depth, out)
        elif t in ("comma_expression",):
            for child in named(node):
                self._effects(ctx, child, depth, out)
        else:
            for child in named(node):
                if child.type in ("call_expression", "assignment_expression", "parenthesized_expression",
                                  "cast_expression", "unary_expression", "binary_expression",
                                  "conditional_expression", "pointer_expression", "argument_list",
                                  "initializer_list", "initializer_pair", "compound_literal_expression",
                                  "field_expression"):
                    self._effects(ctx, child, depth, out)

    def _assign(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        loc = f.loc(node)
        target = self._tracked(ctx, left)
        if target is not None:
            value = self._value(ctx, right, depth, out)
            if value is None:
                self.choice(ctx, node, f"{f.text(right)[:40]}: not evaluable")
                out.append(Line(depth, f"if choose() {{ {target} = true; }} else {{ {target} = false; }}", loc,
                                f"{f.text(right)[:40]}: not evaluable, both values explored"))
            else:
                out.append(Line(depth, f"{target} = {value};", loc))
            return
        if left.type == "field_expression" and f.text(left.child_by_field_name("field")) == "func":
            work = self._object(ctx, "work", left.child_by_field_name("argument"), node)
            fn = self._fn_arg(ctx, right, node)
            if fn is not None:
                out.append(Line(depth, f"init_work({work}, {fn});", loc, "work.func assigned: INIT_WORK"))
                self.site(ctx, node, "init_work", (work, fn))
                return
        right_s = strip(right)
        if right_s is not None and right_s.type == "call_expression":
            name = call_name(f, right_s)
            if name in P.ALLOC_WORKQUEUE:
                wq = self._object(ctx, "wq", left, node, wq_kind=P.ALLOC_WORKQUEUE[name])
                out.append(Line(depth, f"alloc_workqueue({wq});", loc, f"{name}()"))
                self.site(ctx, node, "alloc_workqueue", (wq,))
                return
            if self._device_alloc(ctx, f.text(strip(left)), right_s):
                return
            if name == "ioremap" and call_args(right_s):
                self.mappings[f.text(strip(left))] = self._range(ctx, "mmio", call_args(right_s)[0], node)
        self._effects(ctx, right, depth, out)

    def _value(self, ctx: Context, node, depth: int, out: list[Line]) -> str:
        f = ctx.cfile
        s = strip(node)
        text = f.text(s) if s is not None else ""
        if text in ("true", "1"):
            return "true"
        if text in ("false", "0", "NULL"):
            return "false"
        if s is not None and s.type in ("identifier", "field_expression", "call_expression") and text not in self.names:
            if s.type == "call_expression":
                self._effects(ctx, s, depth, out)
            return "true" if _pointer_like(ctx, s) else self.cond(ctx, node, depth, out)
        return self.cond(ctx, node, depth, out)

    def _device_alloc(self, ctx: Context, ident: Optional[str], value) -> bool:
        """`pdev = platform_device_alloc("hmem", id)`: pdev is the device named "hmem" from now on."""
        f = ctx.cfile
        value = strip(value)
        if ident is None or value is None or value.type != "call_expression":
            return False
        name = call_name(f, value)
        if name not in P.DEVICE_ALLOC:
            return False
        args = call_args(value)
        i = P.DEVICE_ALLOC[name]
        label = string_value(f, args[i]) if len(args) > i else None
        if label is None:
            return False
        ctx.locals[ident] = ("device", self._device(ctx, label, value))
        return True

    def _call(self, ctx: Context, node, depth: int, out: list[Line]) -> None:
        f = ctx.cfile
        name = call_name(f, node)
        loc = f.loc(node)
        prim = P.CALLS.get(name) if name else None
        if prim is not None and not prim.query:
            if prim.spec in P.PROBE_ONLY and ctx.kind != "probe":
                out.append(Line(depth, f"# {name}(): devres is modelled in a probe body only",
                                loc, "move to the probe that reaches here"))
                self.unmodelled.append((name, loc))
                return
            args = self._prim_args(ctx, prim, node)
            if args is None:
                out.append(Line(depth, f"# {f.text(node)[:60]}: argument not resolved", loc))
                self.unmodelled.append((name, loc))
                return
            out.append(Line(depth, f"{prim.spec}({', '.join(args)});", loc,
                            "" if name == prim.spec else f"{name}()"))
            self.site(ctx, node, prim.spec, _site_objects(prim, args))
            return
        if name in P.ALLOC_WORKQUEUE:
            out.append(Line(depth, f"# {name}() result not stored in a workqueue variable", loc))
            self.unmodelled.append((name, loc))
            return
        for arg in call_args(node):
            self._effects(ctx, arg, depth, out)
        target = self.scan.function(f, name) if name else None
        if target is not None:
            if target.name == ctx.function:
                out.append(Line(depth, f"# {name}() calls itself: not followed", loc))
                return
            self._note_use(ctx, target)
            out.append(Line(depth, f"{target.spec_name}();", loc))
            return
        callbacks = [self.scan.function(f, f.text(a)) for a in call_args(node) if strip(a) is not None
                     and strip(a).type == "identifier" and self.scan.function(f, f.text(strip(a))) is not None]
        shown = f.text(node).split("(")[0]
        if callbacks:
            for cb in callbacks:
                if cb.name == ctx.function:
                    continue
                c = self.choice(ctx, node, f"{shown}() may call {cb.name}()")
                self._note_use(ctx, cb)
                out.append(Line(depth, f"if {c} {{ {cb.spec_name}(); }}", loc,
                                f"{shown}() calls back {cb.name}() (once here, or not)"))
            return
        if name is not None and P.CALLS.get(name) is None and name not in _NOT_CALLS:
            out.append(Line(depth, f"# {shown}() not modelled", loc))
            self.unmodelled.append((name, loc))

    def _note_use(self, ctx: Context, target: Function) -> None:
        """A call into another file's exported function is a symbol dependency (`uses`)."""
        provider = self.module_of_file[target.cfile.path]
        if provider != ctx.module and provider in self.loadable and ctx.module in self.loadable:
            self.uses.setdefault(ctx.module, {}).setdefault(provider, ctx.cfile.loc(ctx.body) if ctx.body else "")

    def _prim_args(self, ctx: Context, prim, node) -> Optional[list[str]]:
        args = call_args(node)
        out = []
        for role, i in prim.args:
            if i is None:
                out.append({"wq": "system_wq", "owner": ctx.module}[role])
                continue
            if i >= len(args):
                return None
            if role == "fn":
                fn = self._fn_arg(ctx, args[i], node)
                if fn is None:
                    return None
                out.append(fn)
            elif role == "module":
                label = string_value(ctx.cfile, args[i])
                if label is None:
                    return None
                out.append(self._module_ref(label, ctx.cfile.loc(node)))
            elif role == "cond":
                cond = self.cond(ctx, args[i], 0, [])
                out.append(cond if cond is not None else self.platform_choice(
                    ctx, args[i], f"{ctx.cfile.text(args[i])[:40]}: not evaluable, a fact chosen once per run"))
            elif role in ("mmio", "ioport"):
                out.append(self._range(ctx, role, args[i], node))
            elif role == "mapping":
                mapped = self.mappings.get(ctx.cfile.text(strip(args[i])))
                if mapped is None:
                    return None
                out.append(mapped)
            elif role == "driver":
                drv = sanitize(ctx.cfile.text(strip(args[i])))
                out.append(self._driver_ref(drv, ctx.module, ctx.cfile.loc(node)))
            else:
                out.append(self._object(ctx, role, args[i], node))
        return out

    def _range(self, ctx: Context, kind: str, node, at) -> str:
        """A register window or port range, named after the C expression of its start
        (`res->start` is `res_mmio`), declared once with placeholder addresses."""
        s = strip(node)
        if s is not None and s.type == "number_literal":
            name = sanitize(f"{kind}_{ctx.cfile.text(s)}")
        else:
            path = self._path(ctx, node)
            if len(path) > 1 and path[-1] in ("start", "base", "end"):
                path = path[:-1]
            name = sanitize("_".join(path + [kind]))
        if ("range", name) not in self.objects:
            k = sum(1 for o in self.objects.values() if o.kind == "range")
            start = (0x100000000 + k * 0x10000) if kind == "mmio" else (0x1000 + k * 0x10)
            end = start + (0xfff if kind == "mmio" else 0xf)
            self.declare("range", name, "", ctx.cfile.loc(at), f"range {name} : {kind} @ {start:#x} .. {end:#x};",
                         "placeholder addresses: write the real ones")
        return name

    def _fn_arg(self, ctx: Context, node, at) -> Optional[str]:
        s = strip(node)
        if s is None or s.type != "identifier":
            return None
        return self._fn_ref(ctx.cfile, ctx.cfile.text(s), ctx.module, ctx.cfile.loc(at))

    # ------------------------------------------------------------------ objects
    def _object(self, ctx: Context, kind: str, node, at, wq_kind: str = "unordered") -> str:
        """The spec object a C argument designates, declared if new."""
        f = ctx.cfile
        path = self._path(ctx, node)
        loc = f.loc(at)
        if kind == "device":
            if len(path) == 1 and path[0] in ctx.locals and ctx.locals[path[0]][0] == "device":
                return ctx.locals[path[0]][1]
            if path and path[-1] == "dev" and len(path) > 1:
                path = path[:-1]
            return self._device(ctx, "_".join(path), at, resolved=False)
        if kind == "wq" and len(path) == 1 and path[0] in P.SYSTEM_WORKQUEUES:
            return path[0]
        name = self._object_name(ctx, kind, path)
        owner = self._owner(path[0]) or ctx.module
        if kind == "work":
            self._declare_work(name, owner, loc, None, static=False)
        elif kind == "wq":
            self.declare("wq", name, owner, loc, f"workqueue {name} : {wq_kind};")
        else:
            self.declare(kind, name, owner, loc, f"{kind} {name};")
        return name

    def _object_name(self, ctx: Context, kind: str, path: list[str]) -> str:
        g = self.scan.globals.get(path[0])
        if g is not None:
            if g.kind == "struct" and kind == "work" and len(self.scan.work_members(g.struct)) == 1:
                return sanitize(path[0])
            return sanitize("_".join(path))
        if len(path) > 1 and path[0] in ctx.types:          # a member of a local or parameter: by struct type
            return sanitize("_".join([ctx.types[path[0]]] + path[1:]))
        return sanitize("_".join(path))

    def _owner(self, c_name: str) -> Optional[str]:
        g = self.scan.globals.get(c_name)
        return self.module_of_file[g.cfile.path] if g is not None else None

    def _path(self, ctx: Context, node, depth: int = 0) -> list[str]:
        """`&a->b.c` -> [a, b, c]; a local alias (`dev = &x->dev`) is followed."""
        s = strip(node)
        f = ctx.cfile
        if s is None:
            return ["x"]
        if s.type == "identifier":
            name = f.text(s)
            local = ctx.locals.get(name)
            if local is not None and local[0] == "alias" and depth < 4:
                inner = self._path(ctx, local[1], depth + 1)
                if inner and inner[0] != name and strip(local[1]).type in ("field_expression", "identifier"):
                    return inner
            return [name]
        if s.type == "field_expression":
            return self._path(ctx, s.child_by_field_name("argument"), depth) + [f.text(s.child_by_field_name("field"))]
        if s.type == "call_expression" and call_args(s):
            return self._path(ctx, call_args(s)[0], depth)
        return [sanitize(f.text(s))[:30]]

    def _device(self, ctx: Context, label: str, at, resolved: bool = True) -> str:
        name = sanitize(label)
        if ("device", name) in self.objects:
            return name
        drv = next((d for d in self.scan.drivers.values() if d.match_name == label), None)
        loc = ctx.cfile.loc(at)
        if drv is not None:
            driver, note = sanitize(drv.name), f'matched by name "{label}"'
        else:
            driver = self._driver_ref("skeleton_unknown_driver", ctx.module, loc)
            note = "its driver is not among the files given: complete"
        if name in self.names:
            name = self._fresh(name + "_dev")
        self.declare("device", name, ctx.module, loc, f"device {name} : {driver};", note)
        return name

    # ------------------------------------------------------------------ conditions
    def cond(self, ctx: Context, node, depth: int, pre: list[Line]) -> Optional[str]:
        """A C condition as a spec expression, or None when the language cannot evaluate some
        part of it (the caller makes it a choice)."""
        f = ctx.cfile
        if node is None:
            return "true"
        t = node.type
        if t == "parenthesized_expression" and named(node):
            return self.cond(ctx, named(node)[0], depth, pre)
        if t == "unary_expression" and f.text(node).startswith("!"):
            inner = self.cond(ctx, node.child_by_field_name("argument"), depth, pre)
            return None if inner is None else f"not {_paren(inner)}"
        if t == "binary_expression":
            op = f.text(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op in ("&&", "||"):
                a, b = self.cond(ctx, left, depth, pre), self.cond(ctx, right, depth, pre)
                if a is None or b is None:
                    return None
                return f"{_paren(a)} {'and' if op == '&&' else 'or'} {_paren(b)}"
            if op in ("==", "!=") and f.text(right) in ("NULL", "0"):
                inner = self.cond(ctx, left, depth, pre)
                if inner is None:
                    return None
                return inner if op == "!=" else f"not {_paren(inner)}"
        if t in ("true", "false"):
            return t
        if t == "number_literal":
            return "false" if f.text(node) == "0" else "true"
        if t == "call_expression":
            got = self._cond_call(ctx, node, depth, pre)
            if got is not None:
                return got
        return self._tracked(ctx, node)

    def _cond_call(self, ctx: Context, node, depth: int, pre: list[Line]) -> Optional[str]:
        f = ctx.cfile
        name = call_name(f, node)
        args = call_args(node)
        if name in ("IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE") and args:
            config = f.text(args[0]).removeprefix("CONFIG_")
            self.configs.setdefault(config, f.loc(node))
            return f"{'IS_ENABLED' if name == 'IS_REACHABLE' else name}({config})"
        prim = P.CALLS.get(name) if name else None
        if prim is not None and prim.query:
            objs = self._prim_args(ctx, prim, node)
            if objs is None:
                return None
            self.site(ctx, node, prim.spec, _site_objects(prim, objs))
            return f"{prim.spec}({', '.join(objs)})"
        if prim is not None and prim.result:
            objs = self._prim_args(ctx, prim, node)
            if objs is None:
                return None
            var = self._fresh(f"{prim.spec}_ok_{f.line(node)}")
            self.vars.setdefault(ctx.module, []).append(
                Line(1, f"var {var} : bool = false;", f.loc(node), f"what {name}() returned"))
            pre.append(Line(depth, f"{var} = {prim.spec}({', '.join(objs)});", f.loc(node),
                            "" if name == prim.spec else f"{name}()"))
            self.site(ctx, node, prim.spec, _site_objects(prim, objs))
            return var
        if prim is not None or (name and self.scan.function(f, name) is not None):
            self._call(ctx, node, depth, pre)     # its effects happen; its result is a choice
        return None

    def _tracked(self, ctx: Context, node) -> Optional[str]:
        """A global bool, or a pointer member of a global struct (true when not NULL), as a var."""
        s = strip(node)
        f = ctx.cfile
        if s is None:
            return None
        if s.type == "identifier":
            g = self.scan.globals.get(f.text(s))
            if g is not None and g.kind == "var" and f.text(s) not in ctx.types:
                return sanitize(g.name)
            return None
        if s.type == "field_expression":
            base = strip(s.child_by_field_name("argument"))
            if base is not None and base.type == "identifier":
                g = self.scan.globals.get(f.text(base))
                member = f.text(s.child_by_field_name("field"))
                if g is not None and g.kind == "struct" and member not in self.scan.structs.get(g.struct, {}):
                    name = sanitize(f"{g.name}_{member}")
                    owner = self.module_of_file[g.cfile.path]
                    self.declare("var", name, owner, g.cfile.loc(g.node),
                                 f"var {name} : bool = false;", f"{g.name}.{member} is set (not NULL)")
                    return name
        return None

    # ------------------------------------------------------------------ output
    def text(self) -> str:
        """The skeleton spec."""
        first = self.files[0].path if self.files else "<none>"
        out = [Line(0, f'spec "skeleton of {", ".join(f.path for f in self.files)}"', f"{first}:1",
                    "written by modelcheck extract: complete it, then check"),
               Line(0, 'source "modelcheck extract"', f"{first}:1")]
        for path in self.models:
            out.append(Line(0, f'models "{path}";', f"{path}:1"))
        for name, loc in sorted(self.configs.items()):
            out.append(Line(0, f"config {name} : tristate;", loc, "from IS_ENABLED(): every value explored"))
        out += [Line(0, o.decl, o.loc, o.note) for o in self.objects.values() if o.kind == "range"]
        out += self.platform
        for module, loc in sorted(self.stub_modules.items()):
            out.append(Line(0, f"module {module} loadable {{ }}", loc, "not among the files given: complete"))
        extra = sorted({o.owner for o in self.objects.values() if o.owner == UNRESOLVED})
        for unit in self.scan.units:
            out += self._module_lines(unit.module, unit.loadable, unit.cfile)
        for owner in extra:
            out += self._module_lines(owner, False, self.files[0] if self.files else None)
        for o in self.objects.values():
            if o.kind == "fn":
                out.append(Line(0, o.decl, o.loc, o.note))
        for name in sorted(self.fn_bodies):
            out += self.fn_bodies[name]
        return "\n".join(line.render() for line in out) + "\n"

    def _module_lines(self, module: str, loadable: bool, cfile: Optional[CFile]) -> list[Line]:
        loc = f"{cfile.path}:1" if cfile is not None else "<none>:1"
        head = f"module {module} loadable {{" if loadable else f"builtin {module} {{"
        lines = [Line(0, head, loc)]
        for provider, at in sorted(self.uses.get(module, {}).items()):
            lines.append(Line(1, f"uses {provider};", at, "calls a function it exports"))
        for o in self.objects.values():
            if o.owner == module and o.decl and o.kind not in ("fn", "range"):
                lines.append(Line(1, o.decl, o.loc, o.note))
        lines += self.vars.get(module, [])
        for head_lines, body, foot in self.blocks.get(module, []):
            lines += head_lines + body + foot
        lines.append(Line(0, "}", loc))
        return lines


# ---------------------------------------------------------------------- helpers
def _end_loc(f: CFile, node) -> str:
    return f"{f.path}:{node.end_point[0] + 1}"


def _ident(f: CFile, node) -> Optional[str]:
    while node is not None and node.type != "identifier":
        node = node.child_by_field_name("declarator")
    return f.text(node) if node is not None else None


def _statement_call(node):
    if node.type == "expression_statement" and named(node) and named(node)[0].type == "call_expression":
        return named(node)[0]
    return None


def _site_objects(prim, args) -> tuple:
    """The objects a primitive names (a wait_event condition is not one)."""
    return tuple(a for a, (role, _) in zip(args, prim.args) if role != "cond")


def _paren(expr: str) -> str:
    return f"({expr})" if " " in expr else expr


def _is_errno_or_zero(f: CFile, node) -> bool:
    return _errno(f, node) is not None


def _errno(f: CFile, node) -> Optional[tuple[str, str]]:
    """`0` or `-ENAME` as a spec return value; an errno the language lacks becomes -EIO."""
    s = strip(node)
    text = f.text(s).replace(" ", "")
    if text == "0":
        return "0", ""
    if text.startswith("-E") and text[1:].isupper() or (text.startswith("-E") and text[1:].replace("_", "").isalnum()):
        name = text[1:]
        if name in ERRNO:
            return f"-{name}", ""
        return "-EIO", f"{text}: a code the language does not name"
    return None


def _tests(cond_text: str, ident: str) -> bool:
    """`if (rc)`, `if (rc < 0)`: the condition that makes `return rc` an error return."""
    compact = cond_text.replace(" ", "")
    return compact in (ident, f"{ident}<0", f"{ident}!=0", f"IS_ERR({ident})")


def _pointer_like(ctx: Context, node) -> bool:
    """An address or pointer value (assigning it to a tracked member sets it to not NULL)."""
    return node.type in ("identifier", "field_expression", "call_expression")
