"""AST to IR: declarations become variables, code becomes threads, checks become properties."""
from __future__ import annotations

import dataclasses

from ..errors import SpecError
from ..ir import BoolConst, Const, Model, Property, eq, neg, simplify, substitute
from .program import ThreadBuilder
from ..syntax import ast
from .context import Context, Frame
from .atomic import may_sleep, msleep
from .completions import SLEEPS as COMPLETION_SLEEPS
from .locks import SLEEPS as LOCK_SLEEPS
from .delayedwork import DelayedWork
from .devdata import DeviceData
from .devlinks import DeviceLinks
from .parents import Parents
from .fwdevlink import FwDevlink
from .driver_core import DriverCore
from .matching import Matching
from .debug_remove import DebugRemove
from .kconfig_spec import kconfig_constraints
from .locks import Locks
from .completions import Completions
from .exprs import Expressions
from .fnresult import FunctionResults
from .hotplug import Hotplug
from .iomem import IoMem
from .modules import Modules
from .pm import PowerManagement
from .probe_timeout import ProbeTimeout
from .resources import Resources
from .refcounts import Refcounts
from .signals import Signals
from .statements import Statements, reject_recursion, show
from .symbols import TRISTATE_LITERALS, Symbols
from .kthreads import Kthreads
from .timers import Timers
from .workqueue import Workqueues

BUILTIN_PROPERTIES = {
    "flush_uninitialized_work": "flush_work/cancel_work_sync never runs on a work item whose func is NULL (§4.4)",
    "queue_uninitialized_work": "queue_work never queues a work item whose func is NULL (§4.2)",
    "reinit_busy_work": "INIT_WORK never re-initializes a pending or running work item (§4.1)",
    "queue_on_dead_workqueue": "no queue/flush/destroy on a NULL or destroyed workqueue (§4.2, §4.4)",
    "device_added_twice": "device_add never adds a device that is added already "
                          "(kobject_add: -EEXIST, drivers/base/core.c)",
    "device_instances": "platform_device_add always finds a free instance: the spec's `instances N` "
                        "bound is never reached (raise it if violated)",
    "module_unload_leaks": "a module is never freed while its work runs or its driver is registered (§2.2)",
    "work_outlives_owner": "nothing asynchronous held by device data or a module is pending or running when it is freed",
    "kthread_misuse": "kthread_run never replaces a thread that was not stopped, kthread_stop never stops no thread",
    "sleep_in_atomic": "no primitive that may sleep is called in atomic context (a timer callback)",
    "value_in_range": "every assignment stays inside the variable's declared range",
    "no_double_claim": "no memory range is held by two dax_regions at once (§6.5)",
    "no_shared_registers": "no register range (mmio or ioport) is requested or mapped by two owners at once",
    "lock_order_inversion": "no two locks are taken in both orders, as lockdep reports it "
                            "(kernel/locking/lockdep.c check_prev_add)",
    "lockdep_assert_held": "every lockdep_assert_held(l) runs in a thread that holds l "
                           "(include/linux/lockdep.h: WARN otherwise)",
    "unlock_not_owner": "no lock is released by a thread that does not hold it",
    "double_unlock": "no lock is released while nobody holds it",
    "use_after_release": "no counted object (a kref's, a device) is used after its last reference was dropped",
    "refcount_underflow": "no reference is dropped from a count that is already 0",
    "deadlock": "no reachable state where nothing can move and some thread is blocked mid-way",
    "livelock": "no fair execution goes on forever (repeating a cycle: no thread makes lasting progress)",
    "hung_task": "no thread waits forever at one blocked step while the other threads go on, under fairness",
}
LIVENESS_BUILTINS = ("livelock", "hung_task")

# When a built-in check that is not in every spec joins one, for E207's help
WHEN_BUILTIN = {
    "use_after_release": "`kref NAME holds VAR, ...;` or get_device/put_device on a device",
    "refcount_underflow": "a `kref` or get_device/put_device",
    "work_outlives_owner": "a work item, delayed work, timer or kthread owned by a module or a driver",
    "lock_order_inversion": "two locks (a mutex, an rwsem or device_lock)",
    "hung_task": "a liveness property (`eventually`, `always_eventually`, `leads_to`) or an "
                 "`expect` line on `hung_task` or `livelock`",
    "device_added_twice": "a `device_add` of a device declared without `present`",
    "device_instances": "`platform_device_add` of a name declared with `instances N`",
    "flush_uninitialized_work": "a flush_work or cancel_work_sync of a work item",
    "queue_uninitialized_work": "a queue_work or schedule_work of a work item",
    "reinit_busy_work": "an init_work (INIT_WORK) of a work item",
    "queue_on_dead_workqueue": "a queue_work, flush_workqueue or destroy_workqueue on a `workqueue NAME`",
    "module_unload_leaks": "an rmmod of a loadable module that has an `exit`",
    "kthread_misuse": "a kthread (kthread_run, kthread_stop)",
    "sleep_in_atomic": "a timer callback (atomic context) in which something could sleep",
    "no_double_claim": "a Soft Reserved range claimed by dax_regions",
    "no_shared_registers": "an mmio or ioport range that two owners request or map",
    "unlock_not_owner": "a lock (a mutex or an rwsem) released by some code",
    "double_unlock": "a lock (a mutex or an rwsem) released by some code",
    "value_in_range": "an assignment to an `int LO..HI` variable",
    "lockdep_assert_held": "a lockdep_assert_held, lockdep_assert_held_read or lockdep_assert_held_write",
}


class Compiler:
    def __init__(self, spec: ast.Spec):
        self.spec = spec
        self.sym = Symbols(spec)
        self.fixed = {c.name: TRISTATE_LITERALS[c.value] for c in spec.configs
                      if c.value in TRISTATE_LITERALS}
        self.ctx = Context(spec.file)
        self.exprs = Expressions(self)
        self.stmts = Statements(self)
        self.results = FunctionResults(self)
        self.resources = Resources(self)
        self.iomem = IoMem(self)
        self.devdata = DeviceData(self)
        self.workqueues = Workqueues(self)
        self.delayed = DelayedWork(self)
        self.timers = Timers(self)
        self.kthreads = Kthreads(self)
        self.driver_core = DriverCore(self)
        self.devlinks = DeviceLinks(self)
        self.matching = Matching(self)
        self.debug_remove = DebugRemove(self)
        self.parents = Parents(self)
        self.fwdevlink = FwDevlink(self)
        self.locks = Locks(self)
        self.completions = Completions(self)
        self.signals = Signals(self)
        self.refcounts = Refcounts(self)
        self.modules = Modules(self)
        self.pm = PowerManagement(self)
        self.probe_timeout = ProbeTimeout(self)
        self.hotplug = Hotplug(self)
        calls = list(_all_calls(spec))
        self.called = {c.func for c in calls}
        if self.hotplug.used:
            self.called |= {"device_add", "device_del"}     # the platform's hotplug events run both
        self.queried = _call_names(spec)     # calls inside conditions and properties too
        self.uses_request_module = "request_module" in self.called
        self.statements = {}
        may_sleep(*LOCK_SLEEPS, *COMPLETION_SLEEPS)   # lock and wait primitives are sleeping calls too
        self.statements["msleep"] = msleep
        for area in (self.workqueues, self.delayed, self.timers, self.kthreads, self.driver_core, self.devlinks,
                     self.matching, self.modules, self.resources, self.iomem, self.locks, self.completions,
                     self.signals, self.refcounts, self.pm, self.probe_timeout):
            self.statements.update(area.statements())
            self.exprs.register(area.queries())
        self.driver_core.devres_undo.update(self.iomem.devres())
        self.resources.prescan(calls)
        self.driver_core.prescan(calls)
        self.devlinks.prescan(calls)
        self.matching.prescan(calls)
        self.iomem.prescan(calls, _probe_calls(spec))
        self.workqueues.prescan(calls)
        self.delayed.prescan(calls)
        self.timers.prescan(calls)

    def uses(self, primitive: str) -> bool:
        return primitive in self.called

    def thread(self, name: str, kind: str) -> ThreadBuilder:
        return ThreadBuilder(name, kind, self.fixed)

    def fold(self, expr):
        """An expression with the spec's fixed Kconfig values filled in and constants folded."""
        return simplify(substitute(expr, self.fixed))

    def compile(self) -> Model:
        if not self.spec.title:
            raise SpecError("E215", None, "the spec has no title")
        reject_recursion(self.spec.fns)
        self.declare_configs()
        self.declare_state()
        self.devdata.declare()
        self.resources.declare()
        self.iomem.declare()
        self.workqueues.declare()
        self.timers.declare()
        self.kthreads.declare()
        self.driver_core.declare()
        self.matching.declare()
        self.debug_remove.declare()
        self.parents.declare()
        self.devlinks.declare()
        self.completions.declare()
        self.refcounts.declare()
        self.pm.declare()
        self.probe_timeout.declare()
        self.hotplug.declare()
        self.modules.declare()
        self.modules.build_boot()
        self.modules.build_userspace()
        self.hotplug.build_threads()
        self.workqueues.build_workers()
        self.timers.build_threads()
        self.kthreads.build_threads()
        self.driver_core.build_threads()
        self.probe_timeout.build_threads()
        self.workqueues.finish_workers()
        self.locks.finish()
        self.completions.finish()
        self.lint_unreached_code()
        self.add_properties()
        return Model(
            name=_stem(self.spec.file), file=self.spec.file,
            variables=tuple(self.ctx.variables.values()), threads=tuple(self.ctx.threads),
            constraints=tuple(self.ctx.constraints), properties=tuple(self.ctx.properties.values()),
            title=self.spec.title, source=self.spec.source, cases=self.spec.cases)

    # -- declarations --
    def declare_configs(self) -> None:
        for c in self.spec.configs:
            init = None
            if c.value is not None:
                allowed = ("y", "n") if c.kind == "bool" else ("y", "m", "n")
                if c.value not in allowed:
                    raise SpecError("E211", c.span, f"{c.name} is a {c.kind}; {c.value!r} is not one of its values")
                init = TRISTATE_LITERALS[c.value]
            self.ctx.var(c.name, 0, 2, init, "config", ("n", "m", "y"), c.span)
            if c.kind == "bool":
                self.ctx.constraints.append(neg(eq(c.name, 1)))   # a bool option is never m
        for p in self.spec.platforms:
            t = p.type
            self.ctx.var(p.name, t.lo, t.hi, None, "platform", t.labels, p.span)
        for r in self.spec.requires:
            self.ctx.constraints.append(self.exprs.cond(r.cond, Frame(None, "require")))
        if self.spec.kconfigs:
            self.ctx.constraints += [self.fold(c) for c in kconfig_constraints(self.spec)]

    def declare_state(self) -> None:
        for m in self.spec.modules:
            for v in m.vars:
                t = v.type
                init = t.lo
                if v.init is not None:
                    value = self.exprs.lower(v.init, Frame(None, "decl"))
                    if not isinstance(value, Const) and getattr(value, "value", None) is None:
                        raise SpecError("E206", v.init.span, "an initial value must be a constant")
                    init = int(value.value)
                if not t.lo <= init <= t.hi:
                    raise SpecError("E206", v.span, f"{v.name} starts at {init}, outside {t.lo}..{t.hi}")
                self.ctx.var(v.name, t.lo, t.hi, init, "state", t.labels, v.span)

    def lint_unreached_code(self) -> None:
        """Compile functions, exit blocks and the probe/remove bodies of drivers once more on a
        scratch thread, so an error in code that no thread runs is still reported; the scratch
        thread and its state are dropped. A body with a range parameter is tried with each
        range in turn: it is wrong only if no range makes it compile."""
        saved = (dict(self.ctx.variables), set(self.ctx.checked_props), dict(self.ctx.properties))
        ranges = [e.name for e in self.spec.extents]
        for fn in self.spec.fns:
            if fn.param and not ranges:
                continue
            self._lint_body(fn.body, fn.param, ranges,
                            lambda b, end: Frame(b, "fn", ret=end, stack=(fn.name,),
                                                 result="" if fn.result else None))
        for m in self.spec.modules:
            for d in m.drivers:
                for which in ("suspend", "resume", "shutdown"):
                    body = getattr(d, which)
                    if body is not None:
                        b = self.thread("lint", "lint")
                        end = b.new()
                        self.stmts.block(body, Frame(b, which, module=m.name, ret=end), 0, end)
            if m.async_probe is not None:
                self.exprs.cond(m.async_probe, Frame(None, "module"))
            if m.exit is not None:
                self._lint_body(m.exit, None, ranges, lambda b, end: Frame(b, "exit", module=m.name, ret=end))
            for d in m.drivers:
                if self.driver_core.of_driver(d.name):
                    continue          # compiled already, once per device
                if d.probe is not None and not (d.probe.param and not ranges):
                    rc = self.ctx.local("rc:lint", 0, 9)
                    self._lint_body(d.probe.body, d.probe.param, ranges,
                                    lambda b, end: Frame(b, "probe", module=m.name, ret=end, rc=rc))
                if d.remove is not None:
                    self._lint_body(d.remove, None, ranges, lambda b, end: Frame(b, "remove", module=m.name, ret=end))
        self.ctx.variables, self.ctx.checked_props, self.ctx.properties = saved

    def _lint_body(self, body, param, ranges, make_frame) -> None:
        """Lower one body on a scratch thread; with a parameter, the first range that compiles wins."""
        first_error = None
        for extent in (ranges if param else [None]):
            b = self.thread("lint", "lint")
            end = b.new()
            frame = make_frame(b, end)
            if param:
                frame = frame.bind(param, ("extent", extent))
            try:
                self.stmts.block(body, frame, 0, end)
                return
            except SpecError as e:
                first_error = first_error or e
        raise first_error

    # -- properties --
    def add_properties(self) -> None:
        disabled = set()
        for d in self.spec.disables:
            if d.prop not in BUILTIN_PROPERTIES:
                raise SpecError("E214", d.span, f"{d.prop!r} is not a built-in property")
            disabled.add(d.prop)
        for name, text in BUILTIN_PROPERTIES.items():
            taken = self.ctx.properties.get(name)
            if taken is not None and not taken.builtin:
                raise SpecError("E201", taken.span, f"{name!r} is the name of a built-in property",
                                "give the assert a name of its own")
            if name in self.ctx.checked_props and name not in self.ctx.properties:
                self.ctx.add_property(Property(name, "check", text, builtin=True))
        double = self.resources.double_claim_property()
        if double is not None:
            self.ctx.add_property(double)
        shared = self.iomem.shared_registers_property()
        if shared is not None:
            self.ctx.add_property(shared)
        self.ctx.add_property(Property("deadlock", "deadlock", BUILTIN_PROPERTIES["deadlock"], builtin=True))
        # livelock is on in every spec, like deadlock; hung_task joins a spec that asks about
        # liveness, since a thread blocked only now and then may starve under weak fairness
        self.ctx.add_property(Property("livelock", "livelock", BUILTIN_PROPERTIES["livelock"], builtin=True))
        if self.asks_about_liveness():
            self.ctx.add_property(Property("hung_task", "hung_task", BUILTIN_PROPERTIES["hung_task"], builtin=True))
        for p in self.spec.properties:
            self.ctx.add_property(self.declared_property(p))
        for name in disabled:
            self.ctx.properties.pop(name, None)
        self.attach_expectations(disabled)

    def asks_about_liveness(self) -> bool:
        """Whether the spec declares a liveness property or names a liveness built-in in an
        `expect` line: then hung_task joins it."""
        return (any(p.kind in ("eventually", "always_eventually", "leads_to") for p in self.spec.properties)
                or any(e.prop in LIVENESS_BUILTINS for e in self.spec.expects))

    def declared_property(self, p: ast.PropertyDecl) -> Property:
        """The IR property of an `invariant`, `final`, `eventually`, `always_eventually` or
        `leads_to` declaration; a liveness condition must depend on the state (E281)."""
        expr = self.exprs.cond(p.cond, Frame(None, p.kind))
        if p.trigger is None:
            self.require_variable(p, expr)
            return Property(p.name, p.kind, f"{p.kind} {show(p.cond)}", expr, span=p.span)
        trigger = self.exprs.cond(p.trigger, Frame(None, p.kind))
        self.require_variable(p, trigger)
        self.require_variable(p, expr)
        return Property(p.name, p.kind, f"leads_to {show(p.trigger)} ~> {show(p.cond)}", expr,
                        span=p.span, trigger=trigger)

    def require_variable(self, p: ast.PropertyDecl, expr) -> None:
        if p.kind in ("eventually", "always_eventually", "leads_to") and isinstance(self.fold(expr), BoolConst):
            raise SpecError("E281", p.span, f"{p.kind} {p.name}: the condition is always "
                            f"{str(self.fold(expr).value).lower()}, whatever the model does")

    def attach_expectations(self, disabled: set[str]) -> None:
        from dataclasses import replace
        for e in self.spec.expects:
            prop = self.ctx.properties.get(e.prop)
            if prop is None:
                known = ", ".join(sorted(self.ctx.properties))
                why = " (it is disabled)" if e.prop in disabled else ""
                if not why and e.prop in BUILTIN_PROPERTIES:
                    why = (" (a built-in check comes with what it checks, and this spec has none of it: "
                           + WHEN_BUILTIN.get(e.prop, "see its section in docs/language.md") + ")")
                fix = "remove this expect line (the check cannot fail here), or name one of" \
                    if e.prop in BUILTIN_PROPERTIES and e.prop not in disabled else "name one of"
                raise SpecError("E207", e.span, f"no property named {e.prop!r} in this spec{why}", f"{fix}: {known}")
            self.ctx.properties[e.prop] = replace(prop, expect=e.verdict, span=prop.span or e.span)


def compile_spec(spec: ast.Spec) -> Model:
    return Compiler(spec).compile()


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-len(".probe")] if name.endswith(".probe") else name


def _all_calls(spec: ast.Spec):
    """Every call anywhere in the spec, for the pre-scans that size the state."""
    blocks = [f.body for f in spec.fns] + [u.body for u in spec.userspaces]
    for m in spec.modules:
        blocks += [b for b in (m.init, m.exit) if b is not None]
        blocks += [i.body for i in m.initcalls]
        for d in m.drivers:
            blocks += [b for b in (d.probe.body if d.probe else None, d.remove, d.suspend, d.resume, d.shutdown)
                       if b is not None]
    for block in blocks:
        yield from _calls_in(block)


def _call_names(node) -> set[str]:
    """The name of every call anywhere under an AST node: statements, conditions and properties."""
    if isinstance(node, ast.Call):
        return {node.func} | _call_names(node.args)
    if isinstance(node, (tuple, list)):
        return set().union(*(_call_names(n) for n in node))
    if dataclasses.is_dataclass(node):
        return set().union(*(_call_names(getattr(node, f.name)) for f in dataclasses.fields(node)))
    return set()


def _probe_calls(spec: ast.Spec) -> dict[str, list[ast.Call]]:
    """Every driver's probe calls, for the devm_* pre-scans (a devm resource belongs to the driver)."""
    return {d.name: list(_calls_in(d.probe.body)) for m in spec.modules for d in m.drivers if d.probe}


def _calls_in(node):
    for s in ast.leaf_statements(node):
        if isinstance(s, ast.CallStmt):
            yield s.call
        elif isinstance(s, ast.Assign) and isinstance(s.value, ast.Call):
            yield s.value
