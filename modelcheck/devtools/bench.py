"""Benchmark families grown from the real designs, measured side by side with SPIN.

    python -m modelcheck.devtools.bench [--quick] [--seed-specs-only] [-o results]

Each family member is .probe text: N Soft Reserved ranges with N CXL windows (the
window-order designs: cxl_acpi publishes the windows, dax_hmem claims every range), K hmem
platform devices and L modules in a `uses` chain after dax_cxl (the load order), with the
v7 6/7 bug (dax_hmem's work item has no static initializer, dax_cxl flushes it; seed 001,
docs/examples/tour.probe) or with the v8 fix (a static initializer). For every size it times
our explicit engine on flush_uninitialized_work (counterexample with the bug, proof without),
with partial-order reduction (the default) and, up to UNREDUCED_UP_TO, without it, SPIN's
whole pipeline (spin -a + gcc + pan) and pan alone, records states and memory, and refuses to
write the table unless every checker gives the same verdict.
Then every seed spec in specs/cxl, all properties (modelcheck.devtools.bench_seeds); --seed-specs-only
runs that part alone and replaces only its section of an existing bench.md.
Writes results/bench.md and results/bench.png (log-scale time against size, and per seed spec).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

from . import bench_configs, bench_jobs, bench_seeds
from ..checker import run_engine
from ..engines.certify import EXACT_LIMIT
from ..frontend import load_text
from ..promela import SpinBuild, spin_available
from ..result import EngineOptions, Verdict

PROP = "flush_uninitialized_work"
GIB = 0x40000000


def family_spec(n: int, k: int, l: int, bug: bool) -> str:
    """N ranges and windows, K hmem platform devices, L modules after dax_cxl."""
    base = 0x5d0000000
    out = [f'spec "bench: N={n} ranges/windows, K={k} hmem devices, L={l} modules, '
           f'{"v7 6/7 bug" if bug else "v8 fix"}"',
           'source "modelcheck.devtools.bench: grown from docs/examples/tour.probe (seed 001) and '
           'specs/cxl/window-order-srat-per-window.probe (seed 003)"', ""]
    for i in range(n):
        lo, hi = base + i * GIB, base + (i + 1) * GIB - 1
        out.append(f"range sr{i} : soft_reserved @ {lo:#x} .. {hi:#x};")
        out.append(f"window cfmws{i} @ {lo:#x} .. {hi:#x};")
    out += ["", "platform hmem_device_late : bool;   # hmem devices registered after boot (cxl_test), or at boot",
            "builtin device_hmem {"]
    out += [f"  device hmem_pdev{j} : hmem_platform;" for j in range(k)]
    out += ["  initcall device {",
            "    if not hmem_device_late { " + " ".join(f"device_add(hmem_pdev{j});" for j in range(k)) + " }",
            "  }", "}"]
    out += ["", "module cxl_acpi loadable {",
            "  driver cxl_acpi_driver {",
            "    probe { " + " ".join(f"publish_window(cfmws{i});" for i in range(n)) + " }",
            "  }",
            "  device ACPI0017 : cxl_acpi_driver present;",
            "  init { register_driver(cxl_acpi_driver); }",
            "}", "",
            "module dax_hmem loadable {",
            "  work defer_work;" if bug else "  work defer_work = process_defer_work;",
            "  var ok : bool = false;",
            "  driver hmem_platform {",
            "    probe {",
            "      init_work(defer_work, process_defer_work);" if bug else "",
            "      for r in soft_reserved { device_add(hmem, r); }",
            "    }",
            "  }",
            "  driver dax_hmem_driver {",
            "    probe(r) { ok = claim(r, dax_hmem); if not ok { return -ENOMEM; } }",
            "  }",
            "  device hmem[r in soft_reserved] : dax_hmem_driver;"]
    out += ["  init { register_driver(dax_hmem_driver); register_driver(hmem_platform); }",
            "}", "",
            "fn process_defer_work { }", "",
            "module dax_cxl loadable {",
            "  uses dax_hmem;",
            "  init { flush_work(defer_work); }",
            "}"]
    prev = "dax_cxl"
    for j in range(l):
        out += ["", f"module load{j} loadable {{", f"  uses {prev};", "  init { }", "}"]
        prev = f"load{j}"
    out += ["", f"expect {'violation' if bug else 'holds'} {PROP};", ""]
    return "\n".join(line for line in out if line != "")


@dataclass
class Row:
    family: str
    size: str
    bug: bool
    ours_verdict: str
    ours_seconds: float
    ours_states: int
    ours_mb: float
    spin_verdict: str
    spin_total: float
    spin_compile: float
    pan_seconds: float
    pan_states: int
    pan_mb: float
    plain_seconds: float = -1.0     # ours without partial-order reduction; -1: not run
    plain_states: int = -1

    @property
    def spin_ran(self) -> bool:
        return self.spin_total >= 0

    @property
    def decided(self) -> bool:
        """Ours reached a verdict (not a limit's BOUNDED or TIMEOUT)."""
        return self.ours_verdict in DECIDED


FAMILIES = {
    # name: (label of the growing parameter, sizes -> (n, k, l))
    "ranges": ("N ranges+windows (K=1, L=1)", lambda s: (s, 1, 1)),
    "devices": ("K hmem devices (N=1, L=1)", lambda s: (1, s, 1)),
    "modules": ("L modules in load order (N=1, K=1)", lambda s: (1, 1, s)),
}
SIZES = {"ranges": [1, 2, 4, 8, 16, 32], "devices": [1, 2, 4, 8, 16, 32],
         "modules": [1, 2, 3, 4, 5, 6, 7, 8]}
QUICK = {"ranges": [1, 2], "devices": [1, 2], "modules": [1, 2]}
# The unreduced search is measured up to these sizes (beyond them it takes minutes).
UNREDUCED_UP_TO = {"ranges": 8, "devices": 8, "modules": 3}
# SPIN up to these sizes: each module more multiplies pan's states by about 10 (189,039 at L=3).
SPIN_UP_TO = {"ranges": 32, "devices": 32, "modules": 4}
# Deep enough for the largest sizes (the ranges family's paths grow by about 6 steps per range).
MAX_DEPTH = 100_000
DECIDED = bench_seeds.DECIDED


def _child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(family: str, size: int, bug: bool, timeout: float) -> Row:
    n, k, l = FAMILIES[family][1](size)
    model = load_text(family_spec(n, k, l, bug), f"bench/{family}-{size}-{'bug' if bug else 'fix'}.probe")
    # Our engine in a child process, so its peak memory is its own.
    t0 = time.perf_counter()
    ours = run_engine("explicit", model, [PROP], EngineOptions(timeout=timeout, max_depth=MAX_DEPTH))[PROP]
    ours_seconds = time.perf_counter() - t0
    states = ours.argument
    ours_states = _states_from(states)
    ours_mb = _child_rss_mb()
    verdict = _verdict(ours)
    plain_seconds, plain_states = -1.0, -1
    if size <= UNREDUCED_UP_TO[family]:
        t0 = time.perf_counter()
        plain = run_engine("explicit", model, [PROP], EngineOptions(timeout=timeout, reduction=False,
                                                                    max_depth=MAX_DEPTH))[PROP]
        plain_seconds = time.perf_counter() - t0
        plain_states = _states_from(plain.argument)
        if verdict in DECIDED and _verdict(plain) in DECIDED and _verdict(plain) != verdict:
            raise SystemExit(f"modelcheck.devtools.bench: reduced and unreduced verdicts differ on {family} {size}")
    if size > SPIN_UP_TO[family]:
        return Row(family, f"{size}", bug, verdict, ours_seconds, ours_states, ours_mb,
                   "not run", -1.0, -1.0, -1.0, -1, -1.0, plain_seconds, plain_states)
    t1 = time.perf_counter()
    with SpinBuild(model, [PROP], opt="-O0", timeout=timeout) as build:
        run = build.run(PROP)
    spin_total = time.perf_counter() - t1
    return Row(family, f"{size}", bug, verdict, ours_seconds, ours_states, ours_mb,
               run.verdict, spin_total, build.spin_seconds + build.gcc_seconds,
               run.pan_seconds, run.states, run.memory_mb, plain_seconds, plain_states)


def _verdict(result) -> str:
    return {Verdict.VIOLATED: "violated", Verdict.PROVED: "holds",
            Verdict.VACUOUS: "holds"}.get(result.verdict, result.verdict.value)


def _states_from(argument: str) -> int:
    import re
    m = re.search(r"all (\d+) reachable states|(\d+) states stored", argument)
    return int(m.group(1) or m.group(2)) if m else -1


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _spin_version() -> str:
    try:
        return subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "spin not found"


def render(rows: list[Row], started: str, load: str) -> str:
    out = ["# Benchmarks: modelcheck against SPIN", "",
           "Generated by `python -m modelcheck.devtools.bench`; do not edit by hand.", "",
           f"- machine: {_cpu()}, {os.cpu_count()} cores (shared with other jobs; load average "
           f"at start {load}), {platform.system()} {platform.release()}, Python {platform.python_version()}",
           f"- SPIN: {_spin_version()}; pan built with `gcc -O0 -DSAFETY -DNOFAIR` (the fastest "
           "pipeline at these sizes: -O1 compiles of the larger pan.c files take tens of seconds "
           "here), run with `-E -m1000000 -w20`, default partial-order reduction",
           f"- run at {started}; property `{PROP}` (a `check` property: with the bug the time is "
           "to the first counterexample, without it the time to a complete proof)",
           "- ours: the explicit engine (pure Python, in process; its memory is not measured "
           "separately, pan's is its own report). `ours` decides on a partial-order-reduced search "
           "(stubborn sets) and traces a violation with the unreduced breadth-first search, so "
           "counterexamples stay shortest with fewest thread switches; `unreduced` is "
           "`check --no-reduction` (measured on the smaller sizes only). States are those stored.",
           "- SPIN pipeline = spin -a + gcc + pan; pan = pan alone. Ratios are ours / SPIN from "
           "the same run: above 1 means we are slower.", ""]
    for family, (label, _) in FAMILIES.items():
        fam_rows = [r for r in rows if r.family == family]
        if not fam_rows:
            continue
        out += [f"## {label}", "",
                "| size | design | verdict | ours s | ours states | unreduced s | unreduced states "
                "| SPIN pipeline s | pan s | pan states | pan MB | ours/pipeline | ours/pan |",
                "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in fam_rows:
            plain = (f"{r.plain_seconds:.3f} | {_states_text(r.plain_states)}" if r.plain_seconds >= 0
                     else "not run | not run")
            out.append(f"| {r.size} | {'bug' if r.bug else 'fix'} | {r.ours_verdict} | "
                       f"{r.ours_seconds:.3f} | {_states_text(r.ours_states)} | {plain} | "
                       + _spin_cells(r) + " |")
        out.append("")
    out += ["## Summary", ""] + _summary(rows)
    return "\n".join(out)


def _spin_cells(r: Row) -> str:
    """SPIN pipeline s | pan s | pan states | pan MB | ours/pipeline | ours/pan."""
    if not r.spin_ran:
        return " | ".join(["not run"] * 4 + ["n/a"] * 2)
    if not r.decided:
        return f"{r.spin_total:.3f} | {r.pan_seconds:.3f} | {r.pan_states} | {r.pan_mb:.1f} | n/a | n/a"
    ratio_pipe = r.ours_seconds / r.spin_total if r.spin_total else float("inf")
    ratio_pan = r.ours_seconds / r.pan_seconds if r.pan_seconds else float("inf")
    return (f"{r.spin_total:.3f} | {r.pan_seconds:.3f} | {r.pan_states} | {r.pan_mb:.1f} | "
            f"{ratio_pipe:.2f}{' (slower)' if ratio_pipe > 1 else ''} | "
            f"{ratio_pan:.1f}{' (slower)' if ratio_pan > 1 else ''}")


def _states_text(states: int) -> str:
    return str(states) if states >= 0 else "(stopped early)"


def _summary(rows: list[Row]) -> list[str]:
    """What the tables say, family by family, in words computed from them."""
    both = [r for r in rows if r.spin_ran and r.decided]
    undecided = [r for r in rows if not r.decided]
    slower_pan = [r for r in both if r.ours_seconds > r.pan_seconds]
    slower_pipe = [r for r in both if r.ours_seconds > r.spin_total]
    alone = len(rows) - len(both)
    lines = [f"Every checker gave the same verdict on all {len(both)} models both ran (and the unreduced "
             f"search on every model it ran)"
             + (f"; on {alone} more ours alone ran" if alone else "")
             + (" (undecided by ours: " + ", ".join(f"{_where(r)}: {r.ours_verdict}" for r in undecided) + ")"
                if undecided else "")
             + f". Against SPIN's whole pipeline, which pays "
             f"{min(r.spin_compile for r in both):.1f}-{max(r.spin_compile for r in both):.1f} s to "
             f"generate and compile pan, we are slower on {len(slower_pipe)} of {len(both)}"
             + (" (" + ", ".join(_where(r) for r in slower_pipe) + ")" if slower_pipe else "")
             + f"; against pan alone, compiled C, on {len(slower_pan)} of {len(both)}"
             + (" (" + ", ".join(_where(r) for r in slower_pan) + ")" if slower_pan else "") + ".", ""]
    for family, (label, _) in FAMILIES.items():
        proofs = [r for r in rows if r.family == family and not r.bug and r.decided]
        if len(proofs) < 2:
            continue
        first, last = proofs[0], proofs[-1]
        spin = [r for r in proofs if r.spin_ran]
        growth = (f"- {label}, proofs: from size {first.size} to {last.size} our stored states go "
                  f"{first.ours_states} -> {last.ours_states} ({_growth(first, last, 'ours_states')}) "
                  f"and our time {first.ours_seconds:.3f} s -> {last.ours_seconds:.3f} s "
                  f"({_growth(first, last, 'ours_seconds')})")
        if len(spin) >= 2:
            growth += (f", pan's states {spin[0].pan_states} -> {spin[-1].pan_states} "
                       f"({_growth(spin[0], spin[-1], 'pan_states')}, up to size {spin[-1].size})")
        plain = [r for r in proofs if r.plain_states >= 0]
        if len(plain) >= 2:
            growth += (f", our unreduced search's {plain[0].plain_states} -> {plain[-1].plain_states} "
                       f"(up to size {plain[-1].size})")
        if spin:
            growth += (f". Our time at size {spin[-1].size} is {_times(spin[-1].ours_seconds / spin[-1].spin_total)} "
                       f"SPIN's pipeline and {_times(spin[-1].ours_seconds / spin[-1].pan_seconds)} pan's.")
        lines.append(growth)
        for bug in (False, True):
            fam = [r for r in rows if r.family == family and r.bug == bug and r.spin_ran and r.decided]
            if fam:
                lines.append(f"  With the {'bug' if bug else 'fix'}: " + _crossover(fam))
    lines += ["", "With the bug, the time includes the unreduced search that finds the shortest "
              "counterexample; pan's depth-first search stops at its first one, of any length. "
              "pan's memory is mostly its fixed hash table (-w20) and depth-first stack (-m1000000).", ""]
    return lines


def _times(ratio: float) -> str:
    return f"{ratio:.2g}x"


def _where(r: Row) -> str:
    return f"{r.family} {r.size} {'bug' if r.bug else 'fix'}"


def _growth(first: Row, last: Row, field: str) -> str:
    a, b = getattr(first, field), getattr(last, field)
    if a <= 0 or b <= 0:
        return "not measured"
    return (f"x{b / a:.1f} for x{int(last.size) / int(first.size):g} in size, "
            f"about size^{growth_exponent(first, last, field):.2f}")


def growth_exponent(first: Row, last: Row, field: str) -> float:
    """k in value ~ size^k between two rows (log-log slope); 0 when the sizes are equal."""
    ratio = int(last.size) / int(first.size)
    return math.log(getattr(last, field) / getattr(first, field)) / math.log(ratio) if ratio > 1 else 0.0


def _crossover(fam: list[Row]) -> str:
    """Where we are ahead of SPIN's pipeline and of pan alone, and the crossover if there is one."""
    parts = []
    for name, attr in (("SPIN's pipeline", "spin_total"), ("pan alone", "pan_seconds")):
        ahead = [r.size for r in fam if r.ours_seconds < getattr(r, attr)]
        behind = [r.size for r in fam if r.ours_seconds >= getattr(r, attr)]
        if not behind:
            parts.append(f"ahead of {name} at every size")
        elif not ahead:
            parts.append(f"behind {name} at every size")
        elif fam[-len(ahead):] == [r for r in fam if r.size in ahead]:
            parts.append(f"behind {name} up to size {behind[-1]}, ahead from size {ahead[0]} on "
                         "(the crossover)")
        else:
            parts.append(f"ahead of {name} at size {', '.join(ahead)}, behind at size {', '.join(behind)}")
    last = fam[-1]
    return "; ".join(parts) + (f" (at size {last.size}: {last.ours_seconds:.3f} s against "
                               f"{last.spin_total:.3f} s and {last.pan_seconds:.3f} s)") + "."


GOALS_HEADING = "## Goals: where each is met and where not"
SPECS_SECONDS = 10.0        # `check specs/ --no-cache --no-trace`
JOBS_SPEEDUP = 1.8          # --jobs 2 against --jobs 1: "close to 2x"
POLYNOMIAL_SLACK = 0.5      # the growth exponent may rise this much from the smaller sizes to the larger


def goals(rows: list[Row], seeds: list[bench_seeds.SeedRow], jobs_section: list[str]) -> list[str]:
    """Each performance goal, met or not, with the figures above that decide it and, where
    missed, which spec misses it and why."""
    out = [GOALS_HEADING, ""]
    slow = [r for r in seeds if not bench_seeds._under_goal(r)]
    out.append(f"- Every seed spec decided (all properties) in under {bench_seeds.GOAL_SECONDS:g} s: "
               + ("met." if not slow else f"not met, {len(seeds) - len(slow)} of {len(seeds)}. Missed by: "
                  + "; ".join(f"{r.spec.removesuffix('.probe')} ({bench_seeds.why_slow(r)})" for r in slow) + "."))
    behind = [r for r in seeds if not bench_seeds._faster(r, "pan_seconds")]
    out.append("- Ahead of pan alone on every seed spec: " + ("met." if not behind else
               f"not met, {len(seeds) - len(behind)} of {len(seeds)}. Behind on: " + ", ".join(
                   f"{r.spec.removesuffix('.probe')} ({bench_seeds._times(r.ours_seconds, r.pan_seconds)})"
                   for r in behind) + "."))
    out.append("- " + _jobs_goal(jobs_section))
    proved = sum(r.proved for r in seeds)
    certified = sum(r.certified for r in seeds)
    out.append(f"- Every PROVED safety verdict of the seed specs backed by a Z3-checked certificate "
               f"within {bench_seeds.Z3_SECONDS:g} s: " + ("met." if certified == proved else
               f"not met, {certified} of {proved}; the rest are listed above with the reason "
               f"(beyond {EXACT_LIMIT:,} states the candidates are mined from the reachable states and made "
               "inductive by Houdini, whose solver questions over thousands of candidates do not "
               "finish in time on these designs). Violations are confirmed by replay on the "
               "reference interpreter, not by a Z3 engine; liveness properties by no Z3 engine at "
               "all (the Z3 engines search bounded executions, not cycles)."))
    out.append(f"- Growth polynomial in family size (proofs; the exponent k of states ~ size^k on "
               f"the smaller and on the larger half of the sizes; polynomial growth keeps k from "
               f"rising by more than {POLYNOMIAL_SLACK:g}): " + _growth_goal(rows))
    return out + [""]


def _jobs_goal(section: list[str]) -> str:
    runs = bench_jobs.rows_in_section(section)
    single = [r["seconds"] for r in runs if r["jobs"] == 1]
    parallel = [r["speedup"] for r in runs if r["jobs"] == 2 and r["speedup"] is not None]
    if not single or not parallel:
        return (f"`check specs/ --no-cache --no-trace` under {SPECS_SECONDS:g} s and `--jobs 2` "
                "close to 2x: not measured (python -m modelcheck.devtools.bench_jobs specs/).")
    single, speedup = min(single), max(parallel)
    return (f"`check specs/ --no-cache --no-trace` under {SPECS_SECONDS:g} s: "
            f"{'met' if single < SPECS_SECONDS else 'not met'} ({single:g} s with --jobs 1, the "
            f"Parallel runs section below); `--jobs 2` close to 2x (at least {JOBS_SPEEDUP:g}x): "
            f"{'met' if speedup >= JOBS_SPEEDUP else 'not met'} ({speedup:.2f}x at best: the "
            "specs are not the same size, so the slowest spec bounds the parallel run).")


def _growth_goal(rows: list[Row]) -> str:
    parts, met = [], True
    for family, (label, _) in FAMILIES.items():
        stopped = [r for r in rows if r.family == family and not r.decided]
        if stopped:
            met = False
            parts.append(f"{family}: undecided from size {stopped[0].size} on ({_where(stopped[0])}: "
                         f"{stopped[0].ours_verdict}, a limit stopped the search; the larger sizes "
                         "were not run)")
        proofs = [r for r in rows if r.family == family and not r.bug and r.decided and r.ours_states > 0]
        if len(proofs) < 3:
            continue
        mid = len(proofs) // 2
        low = growth_exponent(proofs[0], proofs[mid], "ours_states")
        high = growth_exponent(proofs[mid], proofs[-1], "ours_states")
        ok = high <= low + POLYNOMIAL_SLACK
        met = met and ok
        parts.append(f"{family}: k {low:.2f} from size {proofs[0].size} to {proofs[mid].size}, "
                     f"{high:.2f} from {proofs[mid].size} to {proofs[-1].size} "
                     f"({proofs[-1].ours_states} states, {proofs[-1].ours_seconds:.3f} s at size "
                     f"{proofs[-1].size}){'' if ok else ', rising'}")
    if not parts:
        return "not measured."
    return ("met" if met else "not met") + ": " + "; ".join(parts) + "."


def plot(rows: list[Row], seed_rows: list[bench_seeds.SeedRow], path: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    panels = len(FAMILIES) + (1 if seed_rows else 0)
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5), squeeze=False)
    if seed_rows:
        bench_seeds.plot_panel(axes[0][-1], seed_rows)
    for ax, (family, (label, _)) in zip(axes[0], FAMILIES.items()):
        for bug, style in ((True, "-"), (False, "--")):
            rs = [r for r in rows if r.family == family and r.bug == bug]
            if not rs:
                continue
            xs = [int(r.size) for r in rs]
            tag = "bug" if bug else "fix"
            ax.plot(xs, [r.ours_seconds for r in rs], "o" + style, label=f"ours ({tag})")
            plain = [r for r in rs if r.plain_seconds >= 0]
            ax.plot([int(r.size) for r in plain], [r.plain_seconds for r in plain], "x" + style,
                    label=f"ours unreduced ({tag})")
            spin = [r for r in rs if r.spin_ran]
            ax.plot([int(r.size) for r in spin], [r.spin_total for r in spin], "s" + style,
                    label=f"SPIN pipeline ({tag})")
            ax.plot([int(r.size) for r in spin], [r.pan_seconds for r in spin], "^" + style,
                    label=f"pan alone ({tag})")
        ax.set_yscale("log")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(label)
        ax.set_ylabel("seconds (log)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelcheck.devtools.bench", description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", default="results", help="directory for bench.md and bench.png")
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes of each family")
    parser.add_argument("--seed-specs-only", action="store_true",
                        help="only the specs/cxl section; the family tables of bench.md are kept")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per checker and model")
    parser.add_argument("--seed-timeout", type=float, default=300.0,
                        help="seconds per checker and seed spec (a timeout shows in the table)")
    args = parser.parse_args(argv)
    if not spin_available():
        print("modelcheck.devtools.bench: spin and gcc are needed (apt-get install -y spin)", file=sys.stderr)
        return 2
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = [] if args.seed_specs_only else measure_families(args)
    if rows is None:
        return 1
    seed_started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    seed_load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    seed_rows = bench_seeds.measure_all(args.seed_timeout, log=lambda line: print(line, flush=True))
    section = bench_seeds.render_section(seed_rows, seed_started, seed_load, args.seed_timeout)
    os.makedirs(args.output, exist_ok=True)
    md = os.path.join(args.output, "bench.md")
    if args.seed_specs_only:
        # The family tables and the plot stay those of the last full run.
        existing = "# Benchmarks: modelcheck against SPIN\n"
        if os.path.exists(md):
            with open(md, encoding="utf-8") as f:
                existing = f.read()
        text = bench_seeds.merge_into(existing, section)
    else:
        jobs = bench_configs.kept_section(md, bench_jobs.HEADING)
        kept = jobs + ([""] if jobs else []) + bench_configs.kept_section(md)
        text = (render(rows, started, load) + "\n" + "\n".join(section + goals(rows, seed_rows, jobs)
                                                                 + kept))
        if plot(rows, seed_rows, os.path.join(args.output, "bench.png")):
            text += "\n![time against size and per seed spec, log scale](bench.png)\n"
        else:
            text += "\nNo plot: matplotlib is not installed (`pip install matplotlib`).\n"
    with open(md, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"modelcheck.devtools.bench: wrote {md}")
    return 0


def measure_families(args) -> list[Row] | None:
    """Every family member, both designs; None if the checkers disagree."""
    rows = []
    for family in FAMILIES:
        stopped: set[bool] = set()      # designs a limit stopped: their larger sizes are not run
        for size in (QUICK if args.quick else SIZES)[family]:
            for bug in (True, False):
                if bug in stopped:
                    continue
                row = measure(family, size, bug, args.timeout)
                print(f"{family:8} {size:3} {'bug' if row.bug else 'fix'}: ours {row.ours_verdict} "
                      f"{row.ours_seconds:.2f}s, SPIN {row.spin_verdict} {row.spin_total:.2f}s "
                      f"(pan {row.pan_seconds:.2f}s, {row.pan_states} states)", flush=True)
                expected = "violated" if bug else "holds"
                if not row.decided:
                    stopped.add(bug)
                decided = ({row.ours_verdict} if row.decided else set()) | (
                    {row.spin_verdict} if row.spin_ran and row.spin_verdict in DECIDED else set())
                if decided - {expected}:
                    print(f"modelcheck.devtools.bench: verdicts differ on {family} {size}: ours "
                          f"{row.ours_verdict}, SPIN {row.spin_verdict}, expected {expected}",
                          file=sys.stderr)
                    return None
                rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit(main())
