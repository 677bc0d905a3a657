"""Promela export of the IR, and running SPIN on it.

The exported model means what `modelcheck.interp` means:

- every variable is a global byte/short/int holding its boot value; the free ones
  (Kconfig options, platform facts) are chosen by the init process, one if/::/fi per
  variable over its domain, inside one atomic step, and the thread processes are only
  started when model.constraints hold (otherwise init ends and nothing runs);
- one proctype per thread, a label per location, each edge one
  `:: atomic { guard -> assert(checks); assigns; goto Lk }`. The checks are asserted in the
  pre-state, the assignments are simultaneous (a hidden temporary holds each value that a
  later assignment still needs to read);
- rest locations are labelled `end_...`, so a thread blocked there is a valid end state and
  SPIN's invalid end states are exactly the IR's deadlocks;
- invariants are asserted in the initial state and after every step (inside the step);
- 'final' properties are asserted by a monitor that can only move on `timeout` (no thread
  can move), and only when every thread is finished or resting (a bit per thread).

`pan` is compiled with -DSAFETY; -E (ignore invalid end states) unless deadlock is checked.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

from .ir import (LIVENESS_KINDS, Arith, BoolConst, BoolOp, Cmp, Const, Expr, Ite, Model, Not, Ref)

_KEYWORDS = {
    "active", "assert", "atomic", "bit", "bool", "break", "byte", "chan", "d_step", "D_proctype",
    "do", "else", "empty", "enabled", "eval", "false", "fi", "full", "goto", "hidden", "if", "init",
    "inline", "int", "len", "local", "mtype", "nempty", "never", "nfull", "od", "of", "pc_value",
    "printf", "printm", "priority", "proctype", "provided", "run", "short", "skip", "timeout",
    "true", "typedef", "unless", "unsigned", "xr", "xs", "c_code", "c_expr", "c_decl", "c_track",
    "c_state", "select", "for", "in", "np_", "pid", "ltl", "trace", "notrace", "show",
}


def _ident(name: str, prefix: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


class _Names:
    """Unique Promela identifiers for IR names."""

    def __init__(self):
        self.used: set[str] = set()
        self.map: dict[tuple[str, str], str] = {}

    def get(self, name: str, prefix: str) -> str:
        key = (prefix, name)
        if key not in self.map:
            base = _ident(name, prefix)
            out, n = base, 1
            while out in self.used or out in _KEYWORDS:
                n += 1
                out = f"{base}_{n}"
            self.used.add(out)
            self.map[key] = out
        return self.map[key]


def _type_of(lo: int, hi: int) -> str:
    if lo >= 0 and hi <= 1:
        return "bit"
    if lo >= 0 and hi <= 255:
        return "byte"
    if lo >= -32768 and hi <= 32767:
        return "short"
    return "int"


def _refs(expr: Expr, out: set[str]) -> set[str]:
    kind = type(expr)
    if kind is Ref:
        out.add(expr.var)
    elif kind is Not:
        _refs(expr.arg, out)
    elif kind is BoolOp:
        for a in expr.args:
            _refs(a, out)
    elif kind in (Cmp, Arith):
        _refs(expr.left, out)
        _refs(expr.right, out)
    elif kind is Ite:
        _refs(expr.cond, out)
        _refs(expr.then, out)
        _refs(expr.other, out)
    return out


def property_names(model: Model) -> list[str]:
    """The properties checked by assertions and end states (liveness has never claims)."""
    return [p.name for p in model.properties if p.kind not in LIVENESS_KINDS]


def to_promela(model: Model, props: Optional[list[str]] = None, runtime_select: bool = False,
               liveness: bool = False, claims=None) -> str:
    """The Promela text checking `props` (default: every safety property of the model).

    liveness: the model is instrumented for never claims (modelcheck.promela_liveness): a bit
    `started` set when the threads start, a bit `tick` flipped by every step (so a claim can
    tell a real cycle from pan's stuttering at an end state), and a thread that may never
    start (Thread.fairness "optional_start") may, where it could start, stop for good instead
    (`goto L_halt`), which is what pan's weak fairness (-f) then leaves it free to do.
    claims: called as claims(ex, proc) with the expression translator and the proctype names
    (thread i runs as pid i + 1); the lines it returns (never claims) end the text.

    runtime_select: every property's assertions are compiled in, but each is only made when
    the environment variable MC_PROPS of the `pan` run lists the property's index in `props`
    (comma-separated), so one compiled pan checks any subset; deadlock is chosen by pan's -E.
    Each assertion then names its property: a failure prints `|| mc_p<index>`.
    """
    selected = [model.property(p) for p in (props if props is not None else property_names(model))]
    selected = [p for p in selected if p.kind not in LIVENESS_KINDS]    # never claims: promela_liveness
    index = {p.name: i for i, p in enumerate(selected)}

    def guarded(prop: str, statement: str) -> str:
        if not runtime_select:
            return statement
        tagged = statement.replace("assert(", "assert((", 1).replace(");", f") || mc_p{index[prop]});", 1)
        return f"if :: c_expr {{ mc_on[{index[prop]}] }} -> {tagged} :: else -> skip fi;"
    checks = {p.name for p in selected if p.kind == "check"}
    invariants = [p for p in selected if p.kind == "invariant"]
    finals = [p for p in selected if p.kind == "final"]
    unknown = [p.name for p in selected if p.kind not in ("check", "invariant", "final", "deadlock")]
    if unknown:
        raise ValueError(f"cannot export properties of unknown kind: {', '.join(unknown)}")
    names = _Names()
    var = {v.name: names.get(v.name, "v_") for v in model.variables}
    proc = [names.get(t.name, "T_") for t in model.threads]

    def ex(e: Expr) -> str:
        kind = type(e)
        if kind is Const:
            return str(e.value)
        if kind is BoolConst:
            return "true" if e.value else "false"
        if kind is Ref:
            return var[e.var]
        if kind is Not:
            return f"!({ex(e.arg)})"
        if kind is BoolOp:
            op = " && " if e.op == "and" else " || "
            return "(" + op.join(ex(a) for a in e.args) + ")"
        if kind is Cmp:
            return f"({ex(e.left)} {e.op} {ex(e.right)})"
        if kind is Arith:
            return f"({ex(e.left)} {e.op} {ex(e.right)})"
        if kind is Ite:
            return f"({ex(e.cond)} -> {ex(e.then)} : {ex(e.other)})"
        raise TypeError(f"unknown expression kind {kind.__name__}")

    out: list[str] = [
        f"/* {model.title or model.name}: exported by modelcheck from {model.file} */",
        f"/* properties: {', '.join(p.name + ' (' + p.kind + ')' for p in selected) or 'none'} */",
        "/* run: spin -a FILE && gcc -O0 -DSAFETY -o pan pan.c && ./pan -m1000000"
        + (" (deadlock: SPIN's invalid end states) */" if any(p.kind == "deadlock" for p in selected)
           else " -E (no deadlock property: ignore invalid end states) */"),
        "",
    ]
    for v in model.variables:
        init = v.init if v.init is not None else v.lo
        note = "  /* free: chosen by init */" if v.init is None else ""
        out.append(f"{_type_of(v.lo, v.hi)} {var[v.name]} = {init};{note}")
    # Temporaries for simultaneous assignment: hidden, so not part of the state vector.
    temps_needed = 0
    for t in model.threads:
        for loc in t.locations:
            for edge in loc.edges:
                temps_needed = max(temps_needed, len(_needs_temp(edge.assigns)))
    for i in range(temps_needed):
        out.append(f"hidden int tmp_{i};")
    if finals:
        out.append(f"bit settled[{max(1, len(model.threads))}];")
    if liveness:
        out += ["bit started = 0;", "bit tick = 0;"]
    out.append("")

    inv_asserts = [guarded(p.name, f"assert({ex(p.expr)}); /* invariant {p.name} */")
                   for p in invariants]

    for t_index, (thread, pname) in enumerate(zip(model.threads, proc)):
        n = len(thread.locations)
        out.append(f"/* thread {thread.name} ({thread.kind}) */")
        out.append(f"proctype {pname}() {{")

        def label(k: int) -> str:
            if k >= n:
                return "L_done"
            return f"end_L{k}" if thread.locations[k].rest else f"L{k}"

        def settled(k: int) -> bool:
            return k >= n or thread.locations[k].rest

        for k, loc in enumerate(thread.locations):
            out.append(f"{label(k)}:")
            if not loc.edges:
                out.append("  false;")
                continue
            out.append("  if")
            for edge in loc.edges:
                body = [ex(edge.guard) + " ->"]
                for c in edge.checks:
                    if c.prop in checks:
                        body.append(guarded(c.prop, f"assert({ex(c.ok)}); /* {c.prop} */"))
                body += _assigns(edge.assigns, var, ex)
                if finals and settled(edge.target) != settled(k):
                    body.append(f"settled[{t_index}] = {1 if settled(edge.target) else 0};")
                if edge.assigns:
                    body += inv_asserts
                if liveness:
                    body.append("tick = 1 - tick;")
                body.append(f"goto {label(edge.target)}")
                comment = edge.label.replace("*/", "* /").replace("\n", " ")
                out.append(f"  :: atomic {{ /* {comment} */")
                out += ["       " + line for line in body]
                out.append("     }")
            if liveness and k == 0 and thread.fairness != "weak":
                can_move = " || ".join(f"({ex(e.guard)})" for e in loc.edges)
                out.append(f"  :: ({can_move}) -> goto L_halt   /* it never starts */")
            out.append("  fi;")
        out.append("L_done:")
        out.append("  skip;")
        if liveness and thread.fairness != "weak":
            out += ["  goto L_end;", "L_halt:", "  false;", "L_end:", "  skip"]
        else:
            out[-1] = "  skip"
        out.append("}")
        out.append("")

    if finals:
        out.append("proctype final_monitor() {")
        all_settled = " && ".join(f"settled[{i}]" for i in range(len(model.threads))) or "true"
        out.append("end_wait:")
        out.append("  atomic { timeout ->")
        for p in finals:
            out.append("    " + guarded(p.name, f"assert(!({all_settled}) || {ex(p.expr)}); /* final {p.name} */"))
        out.append("  }")
        out.append("}")
        out.append("")

    if runtime_select:
        out.insert(3, f'c_decl {{ int mc_on[{max(1, len(selected))}]; }}')
        out[4:4] = [f"hidden byte mc_p{i} = 0;" for i in range(len(selected))]
    out.append("init {")
    if runtime_select:
        out.append('  c_code { char *s = getenv("MC_PROPS"); while (s && *s) { int k = atoi(s); '
                   f'if (k >= 0 && k < {max(1, len(selected))}) mc_on[k] = 1; s = strchr(s, \',\'); if (s) s++; }} }};')
    out.append("  atomic {")
    for v in model.variables:
        if v.init is None:
            options = " ".join(f":: {var[v.name]} = {x};" for x in range(v.lo, v.hi + 1))
            out.append(f"    if {options} fi;")
    constraint = " && ".join(ex(c) for c in model.constraints) or "true"
    out.append("    if")
    out.append(f"    :: ({constraint}) ->")
    for a in inv_asserts:
        out.append(f"      {a}")
    if finals:
        for i, thread in enumerate(model.threads):
            if not thread.locations or thread.locations[0].rest:
                out.append(f"      settled[{i}] = 1;")
    for pname in proc:
        out.append(f"      run {pname}();")
    if finals:
        out.append("      run final_monitor();")
    if liveness:
        out.append("      started = 1;")
    out.append("    :: else -> skip  /* no initial state with this choice */")
    out.append("    fi")
    out.append("  }")
    out.append("}")
    if claims is not None:
        out += [""] + claims(ex, proc)
    return "\n".join(out) + "\n"


def _needs_temp(assigns) -> list[int]:
    """Indices of assignments whose target a later assignment still reads."""
    need = []
    for i, (target, _) in enumerate(assigns):
        if any(target in _refs(e, set()) for _, e in assigns[i + 1:]):
            need.append(i)
    return need


def _assigns(assigns, var, ex) -> list[str]:
    need = _needs_temp(assigns)
    lines = [f"tmp_{j} = {ex(assigns[i][1])};" for j, i in enumerate(need)]
    temp_of = {i: j for j, i in enumerate(need)}
    for i, (target, e) in enumerate(assigns):
        if i in temp_of:
            continue
        lines.append(f"{var[target]} = {ex(e)};")
    for i, j in temp_of.items():
        lines.append(f"{var[assigns[i][0]]} = tmp_{j};")
    return lines


# --- running SPIN ----------------------------------------------------------------

@dataclass(frozen=True)
class SpinRun:
    """What one SPIN verification said, and what it cost."""
    violated: bool
    complete: bool               # the search was exhaustive (no depth/memory truncation)
    errors: int
    states: int                  # states stored
    transitions: int
    memory_mb: float             # total actual memory usage reported by pan
    spin_seconds: float          # spin -a
    gcc_seconds: float           # gcc pan.c
    pan_seconds: float           # ./pan, wall clock
    output: str

    @property
    def total_seconds(self) -> float:
        return self.spin_seconds + self.gcc_seconds + self.pan_seconds

    @property
    def verdict(self) -> str:
        if self.violated:
            return "violated"
        return "holds" if self.complete else "inconclusive"


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


class SpinBuild:
    """One exported model compiled into one pan, run once per property.

    With several properties the model is exported with runtime_select, so the same pan
    checks each of them (MC_PROP picks the property, -E unless it is the deadlock one).
    """

    def __init__(self, model: Model, props: Optional[list[str]] = None, workdir: Optional[str] = None,
                 opt: str = "-O0", memlim_mb: int = 2048, timeout: float = 600.0):
        self.model = model
        self.props = list(props if props is not None else property_names(model))
        live = [p for p in self.props if model.property(p).kind in LIVENESS_KINDS]
        if live:
            raise ValueError(f"liveness properties have never claims: use "
                             f"promela_liveness.LivenessBuild for {', '.join(live)}")
        self.timeout = timeout
        self.own = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="mc-spin-")
        select = len(self.props) > 1
        text = to_promela(model, self.props, runtime_select=select)
        with open(os.path.join(self.workdir, "model.pml"), "w", encoding="utf-8") as f:
            f.write(text)
        t0 = time.perf_counter()
        _run(["spin", "-a", "model.pml"], self.workdir, timeout)
        t1 = time.perf_counter()
        vectorsz = max(1024, 8 * (len(model.variables) + 2 * len(model.threads)) + 256)
        _run(["gcc", opt, "-w", "-DSAFETY", "-DNOFAIR", f"-DMEMLIM={memlim_mb}",
              f"-DVECTORSZ={vectorsz}", "-o", "pan", "pan.c"], self.workdir, timeout)
        t2 = time.perf_counter()
        self.spin_seconds, self.gcc_seconds = t1 - t0, t2 - t1

    def run(self, prop: str, max_depth: int = 1_000_000, hash_bits: int = 20) -> SpinRun:
        kind = self.model.property(prop).kind
        args = ["./pan", f"-m{max_depth}", f"-w{hash_bits}"]
        if kind != "deadlock":
            args.append("-E")
        return self._pan([prop] if kind != "deadlock" else [], args)

    def decide_all(self, max_depth: int = 1_000_000, hash_bits: int = 20) -> dict[str, SpinRun]:
        """Every property with few pan runs: all assertion properties at once; each failure
        names its property, which is then left out of the next run; deadlock alone."""
        args = ["./pan", f"-m{max_depth}", f"-w{hash_bits}"]
        results: dict[str, SpinRun] = {}
        pending = [p for p in self.props if self.model.property(p).kind != "deadlock"]
        while pending:
            run = self._pan(pending, args + ["-E"])
            if not run.violated:
                results.update((p, run) for p in pending)
                break
            m = re.search(r"assertion violated.*\bmc_p(\d+)\b", run.output)
            which = self.props[int(m.group(1))] if m else None
            if which not in pending:     # cannot tell which: decide the rest one by one
                results.update((p, self.run(p, max_depth, hash_bits)) for p in pending)
                break
            results[which] = run
            pending.remove(which)
        for p in self.props:
            if p not in results:
                results[p] = self.run(p, max_depth, hash_bits)
        return results

    def _pan(self, props: list[str], args: list[str]) -> SpinRun:
        env = dict(os.environ, MC_PROPS=",".join(str(self.props.index(p)) for p in props))
        t0 = time.perf_counter()
        result = subprocess.run(args, cwd=self.workdir, capture_output=True, text=True,
                                timeout=self.timeout, env=env)
        pan_seconds = time.perf_counter() - t0
        return parse_pan(result.stdout + result.stderr, self.spin_seconds, self.gcc_seconds,
                         pan_seconds)

    def close(self) -> None:
        if self.own:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_spin(model: Model, prop: str, workdir: Optional[str] = None, opt: str = "-O0",
             timeout: float = 600.0, **run_options) -> SpinRun:
    """SPIN's whole pipeline for one property: export it alone, spin -a, gcc, pan."""
    with SpinBuild(model, [prop], workdir, opt, timeout=timeout) as build:
        return build.run(prop, **run_options)


def _run(args, cwd, timeout, check=True):
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _number(pattern: str, text: str, cast=int, default=0):
    m = re.search(pattern, text)
    return cast(m.group(1)) if m else default


def parse_pan(output: str, spin_s: float = 0.0, gcc_s: float = 0.0, pan_s: float = 0.0) -> SpinRun:
    """pan exits 0 even when it finds errors: the verdict is its 'errors: N' line."""
    m = re.search(r"errors:\s*(\d+)", output)
    if m is None:
        raise RuntimeError(f"pan did not report a result:\n{output[-3000:]}")
    errors = int(m.group(1))
    # pan stops at the first error and then says "Search not completed": that is a verdict.
    truncated = ("max search depth too small" in output or "out of memory" in output
                 or "search not completed" in output.lower())
    return SpinRun(
        violated=errors > 0, complete=errors > 0 or not truncated, errors=errors,
        states=_number(r"(\d+) states, stored", output),
        transitions=_number(r"(\d+) transitions \(= stored\+matched\)", output),
        memory_mb=_number(r"([\d.]+)\s+total actual memory usage", output, float, 0.0),
        spin_seconds=spin_s, gcc_seconds=gcc_s, pan_seconds=pan_s, output=output)
