"""The abstract syntax tree of a .probe spec: one frozen dataclass per construct, each with its span."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ..ir import Span


# --- expressions ---

@dataclass(frozen=True)
class Num:
    value: int
    span: Span


@dataclass(frozen=True)
class Errno:
    """A negative error code such as -EPROBE_DEFER."""
    name: str
    span: Span


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["ExprNode", ...]
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str          # 'not'
    arg: "ExprNode"
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str          # and or -> == != < <= > >= + - | (| only joins DL_FLAG_* names)
    left: "ExprNode"
    right: "ExprNode"
    span: Span


@dataclass(frozen=True)
class Quant:
    """all(r in KIND: body), any(...), count(...) over a declared set, unrolled."""
    kind: str
    var: str
    domain: str
    body: "ExprNode"
    span: Span


ExprNode = Union[Num, Errno, BoolLit, Name, Call, Unary, Binary, Quant]


# --- statements ---

@dataclass(frozen=True)
class Assign:
    target: str
    value: ExprNode
    span: Span


@dataclass(frozen=True)
class If:
    cond: ExprNode
    then: "Block"
    other: Optional["Block"]
    span: Span


@dataclass(frozen=True)
class For:
    var: str
    domain: str
    where: Optional[ExprNode]
    body: "Block"
    span: Span


@dataclass(frozen=True)
class Return:
    value: Optional[ExprNode]
    span: Span


@dataclass(frozen=True)
class Continue:
    span: Span


@dataclass(frozen=True)
class CallStmt:
    call: Call
    span: Span


@dataclass(frozen=True)
class Assert:
    name: str
    cond: ExprNode
    span: Span


@dataclass(frozen=True)
class Block:
    stmts: tuple["StmtNode", ...]
    span: Span


@dataclass(frozen=True)
class Guard:
    """`guard(CLASS)(NAME);` (include/linux/cleanup.h): held until the enclosing block is left."""
    lock_class: str
    lock: str
    span: Span


StmtNode = Union[Assign, If, For, Return, Continue, CallStmt, Assert, Block, Guard]


# --- declarations ---

@dataclass(frozen=True)
class TypeSpec:
    kind: str                     # bool | int | enum
    lo: int = 0
    hi: int = 1
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigDecl:
    name: str
    kind: str                     # bool | tristate
    value: Optional[str]          # y | m | n, or None when left open
    span: Span
    external: bool = False        # defined outside the Kconfig files the spec reads


@dataclass(frozen=True)
class Require:
    cond: ExprNode
    span: Span


@dataclass(frozen=True)
class KconfigFile:
    """`kconfig "path" [tree "DIR"] [with VAR = "value", ...];`: the configurations a Kconfig
    tree allows for the declared configs. path is relative to the tree, or to the spec's
    directory without a tree; variables are the preprocessor's $(VAR) values (SRCARCH...)."""
    path: str
    span: Span
    tree: Optional[str] = None
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PlatformDecl:
    name: str
    type: TypeSpec
    span: Span


@dataclass(frozen=True)
class ExtentDecl:
    """A Soft Reserved range, a register range (mmio, ioport), a CXL window or a CXL region,
    with its address span."""
    kind: str                     # soft_reserved | mmio | ioport | window | region
    name: str
    start: int
    end: int
    span: Span


@dataclass(frozen=True)
class VarDecl:
    name: str
    type: TypeSpec
    init: Optional[ExprNode]
    span: Span


@dataclass(frozen=True)
class WorkDecl:
    name: str
    func: Optional[str]           # static initializer (DECLARE_WORK), or None: func is NULL
    span: Span


@dataclass(frozen=True)
class SyncDecl:
    """`mutex NAME;`, `rwsem NAME;`, `completion NAME;`, `waitqueue NAME;` or
    `kref NAME holds VAR, ...;`."""
    kind: str                     # mutex | rwsem | completion | waitqueue | kref
    name: str
    span: Span
    holds: tuple[str, ...] = ()   # a kref's object: the variables freed with it


@dataclass(frozen=True)
class TimerDecl:
    name: str
    func: Optional[str]           # `timer t = fn;` (DEFINE_TIMER), or None until timer_setup
    span: Span


@dataclass(frozen=True)
class KthreadDecl:
    name: str
    func: str                     # the thread function kthread_run starts
    span: Span


@dataclass(frozen=True)
class WqDecl:
    name: str
    ordered: bool
    span: Span


@dataclass(frozen=True)
class Probe:
    param: Optional[str]          # bound to the device's index for device arrays
    body: Block
    span: Span


@dataclass(frozen=True)
class DriverDecl:
    name: str
    probe_type: str               # default | prefer_async | force_sync
    probe: Optional[Probe]
    remove: Optional[Block]
    span: Span
    suspend: Optional[Block] = None     # dev_pm_ops.suspend, run by dpm_suspend
    resume: Optional[Block] = None      # dev_pm_ops.resume, run by dpm_resume
    shutdown: Optional[Block] = None    # driver.shutdown, run by device_shutdown
    vars: tuple[VarDecl, ...] = ()     # per-device data: one copy for each bound device
    works: tuple[WorkDecl, ...] = ()
    delayed_works: tuple[WorkDecl, ...] = ()
    timers: tuple["TimerDecl", ...] = ()
    kthreads: tuple["KthreadDecl", ...] = ()
    match: Optional[Block] = None       # the bus's match for this driver: return 1, 0 or -EPROBE_DEFER


@dataclass(frozen=True)
class DeviceDecl:
    name: str
    index_var: Optional[str]      # device hmem[r in soft_reserved] : hmem;
    index_domain: Optional[str]
    driver: str                   # the first driver named (the only one in most specs)
    present: bool                 # added at boot, before any initcall
    span: Span
    parent: Optional[str] = None  # device c0 : cd parent p0;  (dev->parent)
    need_parent_lock: bool = False   # ... parent p0 need_parent_lock;  (bus->need_parent_lock)
    parent_span: Optional[Span] = None
    instances: int = 1            # `instances N`: struct devices platform_device_add can allocate
    hotplug: bool = False         # `hotplug device ...`: the platform adds (removes) it after boot
    drivers: tuple[str, ...] = ()  # device d0 : a, b;  every driver named, in the spec's order

    @property
    def all_drivers(self) -> tuple[str, ...]:
        return self.drivers or (self.driver,)


@dataclass(frozen=True)
class InitcallBlock:
    level: str
    body: Block
    span: Span


@dataclass(frozen=True)
class ModuleDecl:
    """A module (mode: config NAME, builtin or loadable) or a built-in object (is_object)."""
    name: str
    mode: str                     # config | builtin | loadable
    config: Optional[str]
    is_object: bool
    vars: tuple[VarDecl, ...]
    works: tuple[WorkDecl, ...]
    wqs: tuple[WqDecl, ...]
    drivers: tuple[DriverDecl, ...]
    devices: tuple[DeviceDecl, ...]
    init: Optional[Block]
    exit: Optional[Block]
    initcalls: tuple[InitcallBlock, ...]
    uses: tuple[str, ...]
    softdeps: tuple[str, ...]
    async_probe: Optional[ExprNode]
    manual: bool
    level: Optional[str]
    span: Span
    syncs: tuple[SyncDecl, ...] = ()    # mutexes, rw-semaphores, completions, wait queues
    post_softdeps: tuple[str, ...] = ()      # MODULE_SOFTDEP("post: ..."): loaded after the module
    models: tuple[str, ...] = ()             # the C files this module models (`modelcheck drift`)
    delayed_works: tuple[WorkDecl, ...] = ()
    timers: tuple[TimerDecl, ...] = ()
    kthreads: tuple["KthreadDecl", ...] = ()
    suppliers: tuple["SupplierDecl", ...] = ()


@dataclass(frozen=True)
class SupplierDecl:
    """`supplier S -> C;`: a firmware-described dependency, turned into a device link by fw_devlink."""
    supplier: str
    consumer: str
    span: Span


@dataclass(frozen=True)
class FnDecl:
    name: str
    param: Optional[str]
    body: Block
    span: Span
    result: Optional[str] = None  # int | bool when declared `fn f(r) -> int`, else None


@dataclass(frozen=True)
class Userspace:
    name: str
    body: Block
    span: Span


@dataclass(frozen=True)
class PropertyDecl:
    name: str
    kind: str                     # invariant | final | eventually | always_eventually | leads_to
    cond: ExprNode                # leads_to: the right-hand side B of A ~> B
    span: Span
    trigger: Optional[ExprNode] = None   # leads_to: the left-hand side A


@dataclass(frozen=True)
class Expect:
    verdict: str                  # violation | holds
    prop: str
    span: Span


@dataclass(frozen=True)
class Disable:
    prop: str
    span: Span


@dataclass(frozen=True)
class Spec:
    file: str
    title: str
    source: str
    configs: tuple[ConfigDecl, ...] = ()
    requires: tuple[Require, ...] = ()
    kconfigs: tuple[KconfigFile, ...] = ()
    platforms: tuple[PlatformDecl, ...] = ()
    exclusive_dax_regions: bool = False
    deferred_probe_timeout: Optional[int] = None     # seconds; None: the kernel's default
    cases: tuple[str, ...] = ()           # review-case ids this spec decides (shared/domain/review-cases.md)
    extents: tuple[ExtentDecl, ...] = ()
    modules: tuple[ModuleDecl, ...] = ()
    fns: tuple[FnDecl, ...] = ()
    userspaces: tuple[Userspace, ...] = ()
    properties: tuple[PropertyDecl, ...] = ()
    expects: tuple[Expect, ...] = ()
    disables: tuple[Disable, ...] = ()
    models: tuple[str, ...] = ()          # the C files the whole spec models (`modelcheck drift`)
    suppliers: tuple[SupplierDecl, ...] = ()   # top-level `supplier S -> C;`


def leaf_statements(node):
    """The statements of a block that are not blocks, `if`s or `for`s, in order, through
    both branches of every `if` and the body of every `for`."""
    if isinstance(node, Block):
        for s in node.stmts:
            yield from leaf_statements(s)
    elif isinstance(node, If):
        yield from leaf_statements(node.then)
        if node.other is not None:
            yield from leaf_statements(node.other)
    elif isinstance(node, For):
        yield from leaf_statements(node.body)
    else:
        yield node
