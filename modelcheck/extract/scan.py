"""What the files declare at file scope: modules and their entry points, drivers, global objects,
functions. The first pass of `extract`; bodies are translated afterwards (body.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Optional

from . import primitives as P
from .cfile import CFile, call_args, call_name, macro_call, named, string_value, strip, walk


@dataclass
class Driver:
    name: str                 # the C variable (the spec driver's name)
    cfile: CFile
    node: object
    probe: Optional[str] = None
    remove: Optional[str] = None
    match_name: Optional[str] = None      # .driver.name / .name: devices created with it bind to it
    probe_type: Optional[str] = None


@dataclass
class Function:
    name: str                 # the C name
    spec_name: str            # the spec fn name (module-prefixed when two files define the name)
    cfile: CFile
    node: object
    static: bool


@dataclass
class Global:
    name: str
    kind: str                 # var | work | wq | mutex | rwsem | completion | waitqueue | struct
    cfile: CFile
    node: object
    init: Optional[str] = None            # var: true/false; work: its static function
    struct: Optional[str] = None          # the struct type of a struct global


@dataclass
class Unit:
    """One C file as a module (module_init/exit, module_*_driver) or a built-in object."""
    cfile: CFile
    module: str
    entries: dict = field(default_factory=dict)       # init/exit -> function name
    initcalls: list = field(default_factory=list)     # (level, function name, node)
    driver_macros: list = field(default_factory=list)  # (driver variable, node)
    softdeps: list = field(default_factory=list)      # (pre|post, module, node)
    entry_nodes: dict = field(default_factory=dict)   # init/exit -> the macro's node
    level: Optional[str] = None                       # the initcall level of a module's init, built in

    @property
    def loadable(self) -> bool:
        return bool(self.entries) or any(not m[0].startswith("builtin") for m in self.driver_macros)


def module_name(path: str) -> str:
    """drivers/dax/hmem/hmem.c -> hmem_hmem, drivers/cxl/acpi.c -> cxl_acpi: the directory and the
    file stem, which for most drivers is the module's name (dax_cxl, cxl_acpi)."""
    p = PurePath(path)
    parts = [p.parent.name, p.stem] if p.parent.name else [p.stem]
    return sanitize("_".join(parts))


def sanitize(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name) or "x"
    if name[0].isdigit():
        name = "x" + name
    return name + "_" if name in KEYWORDS else name


# Words of the spec language a C name may not be (probe.lark's keywords).
KEYWORDS = {"spec", "source", "case", "config", "require", "kconfig", "tree", "with", "platform",
            "dax_regions", "range", "window", "region", "module", "builtin", "fn", "userspace",
            "invariant", "final", "eventually", "always_eventually", "leads_to", "expect", "disable",
            "if", "else", "for", "in", "where", "return", "continue", "assert", "guard", "var", "work",
            "workqueue", "uses", "softdep", "async_probe", "manual", "level", "init", "exit", "initcall",
            "driver", "probe", "remove", "suspend", "resume", "shutdown", "device", "bool", "int", "enum",
            "not", "and", "or", "true", "false", "all", "any", "count", "models", "mutex", "rwsem",
            "completion", "waitqueue", "loadable", "present", "external", "ordered", "unordered",
            "parent", "need_parent_lock", "supplier"}


class Scan:
    """File-scope facts of every file given."""

    def __init__(self, files: list[CFile]):
        self.files = files
        self.units = [Unit(f, module_name(f.path)) for f in files]
        self.structs: dict[str, dict[str, str]] = {}      # struct -> {member: object kind}
        self.drivers: dict[str, Driver] = {}
        self.functions: dict[tuple[str, str], Function] = {}   # (file, name) -> Function
        self.globals: dict[str, Global] = {}
        self.declares: list = []                           # (kind, name, fn, cfile, node) of macros
        for unit in self.units:
            self._structs(unit.cfile)
        for unit in self.units:
            self._file_scope(unit)
            _initcall_as_init(unit)
        self._name_functions()

    # -- struct definitions --
    def _structs(self, f: CFile) -> None:
        for node in walk(f.tree.root_node):
            if node.type != "struct_specifier" or node.child_by_field_name("body") is None:
                continue
            name = node.child_by_field_name("name")
            if name is None:
                continue
            members = {}
            for decl in named(node.child_by_field_name("body")):
                if decl.type != "field_declaration":
                    continue
                kind = self._type_kind(f, decl.child_by_field_name("type"))
                if kind is None:
                    continue
                for d in decl.children_by_field_name("declarator"):
                    ident = _declared_name(f, d)
                    if ident:
                        members[ident] = kind
            self.structs[f.text(name)] = members

    @staticmethod
    def _type_kind(f: CFile, type_node) -> Optional[str]:
        if type_node is None:
            return None
        text = f.text(type_node)
        text = text.replace("struct ", "").strip()
        return P.STRUCT_KINDS.get(text)

    # -- file scope --
    def _file_scope(self, unit: Unit) -> None:
        f = unit.cfile
        for node in named(f.tree.root_node):
            if node.type == "function_definition":
                self._function(f, node)
                continue
            macro = macro_call(f.text(node)) if node.type in ("expression_statement", "declaration", "ERROR") else None
            if macro and self._macro(unit, node, *macro):
                continue
            if node.type == "declaration":
                self._declaration(f, node)

    def _macro(self, unit: Unit, node, name: str, args: list[str]) -> bool:
        f = unit.cfile
        if name in P.MODULE_INIT and args:
            unit.entries[P.MODULE_INIT[name]] = args[0]
            unit.entry_nodes[P.MODULE_INIT[name]] = node
        elif name.endswith("_initcall") or name.endswith("_initcall_sync"):
            level = name[: -len("_initcall_sync")] + "_sync" if name.endswith("_sync") else name[: -len("_initcall")]
            if level.replace("_sync", "") in P.INITCALL_LEVELS and args:
                unit.initcalls.append((level, args[0], node))
            else:
                return False
        elif name in P.DRIVER_MACROS and args:
            unit.driver_macros.append((args[0].lstrip("&"), name, node))
        elif name == "MODULE_SOFTDEP" and args:
            when = "pre"
            for word in args[0].strip('"').split():
                if word in ("pre:", "post:"):
                    when = word[:-1]
                else:
                    unit.softdeps.append((when, sanitize(word), node))
        elif name in P.DECLARE_MACROS and args:
            kind, i_name, i_fn = P.DECLARE_MACROS[name]
            fn = args[i_fn] if i_fn is not None and i_fn < len(args) else None
            self.globals[args[i_name]] = Global(args[i_name], kind, f, node, init=fn)
        else:
            return False
        return True

    def _function(self, f: CFile, node) -> None:
        decl = node.child_by_field_name("declarator")
        while decl is not None and decl.type != "function_declarator":
            decl = decl.child_by_field_name("declarator")
        if decl is None:
            return
        ident = decl.child_by_field_name("declarator")
        if ident is None or ident.type != "identifier":
            return
        static = any(c.type == "storage_class_specifier" and f.text(c) == "static" for c in node.children)
        name = f.text(ident)
        self.functions[(f.path, name)] = Function(name, name, f, node, static)

    def _declaration(self, f: CFile, node) -> None:
        type_node = node.child_by_field_name("type")
        type_text = f.text(type_node) if type_node is not None else ""
        struct = type_text.replace("struct ", "").strip() if type_node is not None else ""
        for d in node.children_by_field_name("declarator"):
            ident = _declared_name(f, d)
            if not ident:
                continue
            value = d.child_by_field_name("value") if d.type == "init_declarator" else None
            if struct in P.DRIVER_STRUCTS and value is not None and value.type == "initializer_list":
                self.drivers[ident] = self._driver(f, ident, value, struct)
            elif struct == "bool" or type_text == "bool":
                init = "true" if value is not None and f.text(value) in ("true", "1") else "false"
                self.globals[ident] = Global(ident, "var", f, node, init=init)
            elif struct in P.STRUCT_KINDS:
                fn = _initializer_fn(f, value) if value is not None else None
                self.globals[ident] = Global(ident, P.STRUCT_KINDS[struct], f, node, init=fn)
            elif struct in self.structs:
                fn = _initializer_fn(f, value) if value is not None else None
                self.globals[ident] = Global(ident, "struct", f, node, init=fn, struct=struct)

    def _driver(self, f: CFile, ident: str, init, struct: str) -> Driver:
        drv = Driver(ident, f, init)
        for node in walk(init):
            if node.type != "initializer_pair":
                continue
            field_name = f.text(node.child_by_field_name("designator")).lstrip(".")
            value = node.child_by_field_name("value")
            text = f.text(value)
            if field_name == "probe" and value.type == "identifier":
                drv.probe = text
            elif field_name == "remove" and value.type == "identifier":
                drv.remove = text
            elif field_name == "name" and drv.match_name is None:
                drv.match_name = string_value(f, value)
            elif field_name == "probe_type":
                drv.probe_type = P.PROBE_TYPES.get(text)
        return drv

    def _name_functions(self) -> None:
        """Two files may define functions of one name (a static one each): prefix all but the first."""
        seen: dict[str, str] = {}
        for (path, name), fn in self.functions.items():
            spec = sanitize(name)
            if spec in seen and seen[spec] != path:
                spec = sanitize(f"{module_name(path)}_{name}")
            seen.setdefault(spec, path)
            fn.spec_name = spec

    # -- look-ups --
    def function(self, cfile: CFile, name: str) -> Optional[Function]:
        """The function a call in `cfile` reaches: the file's own first, then a non-static one elsewhere."""
        own = self.functions.get((cfile.path, name))
        if own is not None:
            return own
        return next((fn for (_, n), fn in self.functions.items() if n == name and not fn.static), None)

    def unit_of(self, cfile: CFile) -> Unit:
        return next(u for u in self.units if u.cfile is cfile)

    def work_members(self, struct: str) -> list[str]:
        return [m for m, k in self.structs.get(struct, {}).items() if k == "work"]


def _initcall_as_init(unit: Unit) -> None:
    """In a module, `subsys_initcall(fn)` is `module_init(fn)` (include/linux/module.h defines
    each level's macro as module_init when MODULE is set); built in, fn runs at that level."""
    if unit.loadable and "init" not in unit.entries and unit.initcalls:
        level, name, node = unit.initcalls.pop(0)
        unit.entries["init"], unit.entry_nodes["init"] = name, node
        unit.level = None if level == "device" else level


def _declared_name(f: CFile, node) -> Optional[str]:
    while node is not None and node.type not in ("identifier", "field_identifier"):
        node = node.child_by_field_name("declarator")
    return f.text(node) if node is not None else None


def _initializer_fn(f: CFile, value) -> Optional[str]:
    """The function of a `__WORK_INITIALIZER(n, fn)` inside a static initializer."""
    for node in walk(value):
        if node.type == "call_expression" and call_name(f, node) in ("__WORK_INITIALIZER", "__INIT_WORK_INITIALIZER"):
            args = call_args(node)
            if len(args) >= 2 and strip(args[1]).type == "identifier":
                return f.text(strip(args[1]))
    return None
