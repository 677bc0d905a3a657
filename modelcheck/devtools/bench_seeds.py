"""The seed specs (specs/cxl/*.probe), all properties each, measured side by side with SPIN.

For every spec: our explicit engine deciding every property in one call (default options,
partial-order reduction on), SPIN's whole pipeline (spin -a + gcc + pan over every property,
as tests/test_promela.py runs it) and pan alone (summed over its runs). Every property both
decide must get the same verdict; one that a checker leaves undecided is listed, never hidden.
Called by modelcheck.devtools.bench, which writes the section into results/bench.md.
"""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checker import run_engine
from ..engines import certify, liveness
from ..frontend import load_text
from ..promela import SpinBuild
from ..result import EngineOptions, Verdict

ROOT = Path(__file__).resolve().parents[2]
SEED_GLOB = "specs/cxl/*.probe"
HEADING = "## Seed specs (all properties)"
GOAL_SECONDS = 1.0
# Known to be slow under partial-order reduction: its unreduced time is reported beside it.
UNREDUCED_NOTES = ["seed002-dax-cxl-mode.probe"]
TIMEOUT = -1.0      # seconds field of a checker that ran out of time
NOT_RUN = -2.0      # seconds field of a measurement that was not made
DECIDED = ("holds", "violated")    # a checker's verdicts that are not a limit's
Z3_SECONDS = 60.0   # the time each spec's certificates get (the goal: every proof Z3-checked within it)
WHOLE_GRAPH = "the whole state graph, unreduced: the fair-cycle search of livelock/hung_task needs it"
REDUCED = "partial-order reduced"
UNREDUCED = "unreduced: the reduction gave itself up (it kept most steps)"
SEARCH_LABELS = {WHOLE_GRAPH: "whole graph", REDUCED: "reduced", UNREDUCED: "unreduced"}


@dataclass
class SeedRow:
    spec: str                    # file name under specs/cxl
    properties: int
    ours_seconds: float          # TIMEOUT when our search ran out of time
    ours_states: int             # states stored by our search; -1: not reported
    spin_total: float            # spin -a + gcc + every pan run; TIMEOUT when a step ran out of time
    pan_seconds: float           # pan alone, summed over its runs
    pan_states: int              # states stored by pan's largest run
    undecided: list[str] = field(default_factory=list)   # "checker: property (why)"
    plain_seconds: float = NOT_RUN   # ours without reduction
    proved: int = 0                  # safety properties our search proved
    certified: int = 0               # of those, backed by a Z3-checked invariant (check --certify)
    certify_seconds: float = NOT_RUN
    not_certified: list[str] = field(default_factory=list)   # "property (why)"
    search: str = ""                 # how our search ran: WHOLE_GRAPH, REDUCED or UNREDUCED


def seed_paths() -> list[Path]:
    return sorted(ROOT.glob(SEED_GLOB))


def _our_verdict(result) -> str:
    return {Verdict.VIOLATED: "violated", Verdict.PROVED: "holds",
            Verdict.VACUOUS: "holds"}.get(result.verdict, result.verdict.value.lower())


def _states_from(argument: str) -> int:
    m = re.search(r"all (\d+) reachable states|(\d+) states stored", argument)
    return int(m.group(1) or m.group(2)) if m else -1


def _time_ours(model, names: list[str], options: EngineOptions):
    t0 = time.perf_counter()
    results = run_engine("explicit", model, names, options)
    return results, time.perf_counter() - t0


def _time_spin(model, names: list[str], timeout: float):
    """SPIN's verdicts, pipeline seconds, pan seconds and largest pan state count; None on timeout.
    Safety properties from one exported pan (SpinBuild.decide_all); liveness ones (livelock,
    hung_task, ...) from pan -a -f on their never claims (promela_liveness.LivenessBuild)."""
    from ..promela_liveness import LivenessBuild
    safety, live = liveness.split(model, names)
    t0 = time.perf_counter()
    runs = {}
    try:
        if safety:
            with SpinBuild(model, safety, opt="-O0", timeout=timeout) as build:
                runs.update(build.decide_all())
        if live:
            with LivenessBuild(model, live, timeout=timeout) as build:
                runs.update((name, build.run(name)) for name in live)
    except subprocess.TimeoutExpired:
        return None
    total = time.perf_counter() - t0
    distinct = {id(run): run for run in runs.values()}.values()    # one pan run may decide several
    return ({name: run.verdict for name, run in runs.items()}, total,
            sum(run.pan_seconds for run in distinct), max(run.states for run in distinct))


def measure_seed(path: Path, timeout: float, unreduced: bool = False) -> SeedRow:
    """Raises SystemExit if the two checkers decide a property differently."""
    rel = path.relative_to(ROOT).as_posix()
    model = load_text(path.read_text(encoding="utf-8"), rel)
    names = [p.name for p in model.properties]
    results, ours_seconds = _time_ours(model, names, EngineOptions(timeout=timeout))
    ours = {name: _our_verdict(r) for name, r in results.items()}
    if any(r.verdict is Verdict.TIMEOUT for r in results.values()):
        ours_seconds = TIMEOUT
    row = SeedRow(path.name, len(names), ours_seconds,
                  max(_states_from(r.argument) for r in results.values()), TIMEOUT, TIMEOUT, -1,
                  search=_how_searched(model, results))
    row.undecided += [f"ours: {n} ({v})" for n, v in ours.items() if v not in DECIDED]
    spin = _time_spin(model, names, timeout)
    if spin is None:
        row.undecided.append("SPIN: every property (timeout)")
    else:
        verdicts, row.spin_total, row.pan_seconds, row.pan_states = spin
        row.undecided += [f"SPIN: {n} ({v})" for n, v in verdicts.items() if v not in DECIDED]
        differ = [n for n in names if {ours[n], verdicts[n]} <= set(DECIDED)
                  and ours[n] != verdicts[n]]
        if differ:
            raise SystemExit(f"modelcheck.devtools.bench: verdicts differ on {rel}: " + ", ".join(
                f"{n} ours {ours[n]}, SPIN {verdicts[n]}" for n in differ))
    _certify(model, results, row, min(timeout, Z3_SECONDS))
    if unreduced:
        plain, row.plain_seconds = _time_ours(model, names, EngineOptions(timeout=timeout, reduction=False))
        if any(r.verdict is Verdict.TIMEOUT for r in plain.values()):
            row.plain_seconds = TIMEOUT
        elif any(_our_verdict(r) != ours[n] for n, r in plain.items() if ours[n] in DECIDED):
            raise SystemExit(f"modelcheck.devtools.bench: reduced and unreduced verdicts differ on {rel}")
    return row


def _how_searched(model, results) -> str:
    """Which search decided the safety properties (engines/explicit.check_all)."""
    _, live = liveness.split(model, list(results))
    if live and liveness.needs_graph(model, live):
        return WHOLE_GRAPH
    if any("persistent sets" in (r.argument or "") for r in results.values()):
        return REDUCED
    return UNREDUCED


def _certify(model, results, row: SeedRow, timeout: float) -> None:
    """How many PROVED safety verdicts a Z3-checked invariant backs (engines/certify.py)."""
    proved = [p for p in model.properties if p.kind in certify.SAFETY_KINDS
              and results[p.name].verdict is Verdict.PROVED]
    row.proved = len(proved)
    if not proved:
        return
    t0 = time.perf_counter()
    certificates = certify.certify(model, proved, time.monotonic() + timeout)
    row.certify_seconds = time.perf_counter() - t0
    row.certified = sum(c.certified for c in certificates)
    row.not_certified = [f"{c.prop} ({c.reason})" for c in certificates if not c.certified]


def measure_all(timeout: float, log=print) -> list[SeedRow]:
    rows = []
    for path in seed_paths():
        row = measure_seed(path, timeout, unreduced=path.name in UNREDUCED_NOTES)
        log(f"seed {row.spec}: ours {_seconds(row.ours_seconds)}, SPIN pipeline "
            f"{_seconds(row.spin_total)} (pan {_seconds(row.pan_seconds)})")
        rows.append(row)
    return rows


# --- rendering: everything below is computed from the rows --------------------------

def _seconds(s: float) -> str:
    return "timeout" if s == TIMEOUT else f"{s:.3f}"


def _seconds_text(s: float) -> str:
    return "timeout" if s == TIMEOUT else f"{s:.3f} s"


def _ratio(ours: float, theirs: float) -> str:
    if ours == TIMEOUT or theirs == TIMEOUT:
        return "n/a"
    r = ours / theirs if theirs else float("inf")
    return f"{r:.2f}{' (slower)' if r > 1 else ''}"


def _under_goal(row: SeedRow) -> bool:
    return row.ours_seconds != TIMEOUT and row.ours_seconds < GOAL_SECONDS


def _faster(row: SeedRow, attr: str) -> bool:
    """We are ahead when we finished and SPIN did not, or finished first."""
    theirs = getattr(row, attr)
    if row.ours_seconds == TIMEOUT:
        return False
    return theirs == TIMEOUT or row.ours_seconds < theirs


def render_section(rows: list[SeedRow], started: str, load: str, timeout: float) -> list[str]:
    out = [HEADING, "",
           f"Run at {started} (load average at start {load}), timeout {timeout:g} s per checker "
           "(SPIN: per step). Every spec in `specs/cxl`, every property: ours is the explicit "
           "engine deciding all of them in one call (partial-order reduction on); the SPIN "
           "pipeline is spin -a + gcc -O0 + pan over every property as tests/test_promela.py "
           "runs it (one pan run decides every assertion property that holds; each violation "
           "costs one more run; deadlock has its own; each liveness property is one more build "
           "and pan -a -f run on its never claim); pan s is pan alone summed over those runs, "
           "pan states its largest run's. Every property both checkers decide has the same verdict. "
           "Z3 certificates: of the safety properties ours proved, how many `check --certify` backs "
           f"with an inductive invariant a separate Z3 solver checks, within {Z3_SECONDS:g} s per spec, "
           "and the time that took. `ours searched`: whole graph (the fair-cycle search of "
           "livelock/hung_task needs every state and step, and the safety properties are decided "
           "in the same unreduced pass), reduced (partial-order reduction), or unreduced (the "
           "reduction gave itself up).",
           "",
           "| spec | properties | ours s | ours states | SPIN pipeline s | pan s | pan states "
           "| ours/pipeline | ours/pan | ours under 1 s | Z3 certificates | undecided | ours searched |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.spec} | {r.properties} | {_seconds(r.ours_seconds)} | "
                   f"{r.ours_states if r.ours_states >= 0 else '(stopped early)'} | "
                   f"{_seconds(r.spin_total)} | {_seconds(r.pan_seconds)} | "
                   f"{r.pan_states if r.pan_states >= 0 else 'n/a'} | "
                   f"{_ratio(r.ours_seconds, r.spin_total)} | {_ratio(r.ours_seconds, r.pan_seconds)} | "
                   f"{'yes' if _under_goal(r) else 'no'} | {_certificates(r)} | {'; '.join(r.undecided) or '-'} | "
                   f"{SEARCH_LABELS.get(r.search, '-')} |")
    return out + [""] + summary(rows) + [""]


def _certificates(r: SeedRow) -> str:
    if not r.proved:
        return "none proved"
    return f"{r.certified} of {r.proved} in {_seconds_text(r.certify_seconds)}"


def summary(rows: list[SeedRow]) -> list[str]:
    under = [r for r in rows if _under_goal(r)]
    ahead_pipe = [r for r in rows if _faster(r, "spin_total")]
    ahead_pan = [r for r in rows if _faster(r, "pan_seconds")]
    lines = [f"Summary: ours decides {len(under)} of {len(rows)} seed specs in under "
             f"{GOAL_SECONDS:g} s (all properties); we are faster than SPIN's pipeline on "
             f"{len(ahead_pipe)} of {len(rows)} and than pan alone on {len(ahead_pan)} of {len(rows)}."]
    for name, attr, ahead in (("SPIN's pipeline", "spin_total", ahead_pipe),
                              ("pan alone", "pan_seconds", ahead_pan)):
        behind = [r for r in rows if r not in ahead]
        if behind:
            lines.append(f"Behind {name} on: " + ", ".join(
                f"{r.spec.removesuffix('.probe')} ({_times(r.ours_seconds, getattr(r, attr))})"
                for r in behind) + ".")
    proved, certified = sum(r.proved for r in rows), sum(r.certified for r in rows)
    lines.append(f"Z3 certificates: {certified} of {proved} PROVED safety verdicts backed by an inductive "
                 "invariant a separate solver checked" + (":" if certified < proved else "."))
    for r in rows:
        if r.not_certified:
            lines.append(f"- not certified in {r.spec.removesuffix('.probe')}: " + "; ".join(r.not_certified))
    slow = [r for r in rows if not _under_goal(r)]
    if slow:
        lines.append(f"Over {GOAL_SECONDS:g} s: " + ", ".join(
            f"{r.spec.removesuffix('.probe')} ({_seconds_text(r.ours_seconds)})" for r in slow) + ".")
    for r in rows:
        if r.spec in UNREDUCED_NOTES:
            lines.append(f"Note: on {r.spec}, {_seconds_text(r.ours_seconds)} by default, "
                         + _unreduced_text(r) + ".")
    return lines


def why_slow(r: SeedRow) -> str:
    """Why a spec misses the time goal, in the terms the row measured."""
    if r.ours_seconds == TIMEOUT:
        return "ours timed out"
    per_state = f", {1e6 * r.ours_seconds / r.ours_states:.0f} µs per state" if r.ours_states > 0 else ""
    return f"{_seconds_text(r.ours_seconds)}: {r.ours_states} states, {r.search or 'search not recorded'}{per_state}"


def _unreduced_text(r: SeedRow) -> str:
    if r.plain_seconds == NOT_RUN:
        return "`check --no-reduction` not run"
    ratio = _times(r.plain_seconds, r.spin_total)
    against = ratio if ratio.endswith("timed out") else f"{ratio} SPIN's pipeline"
    return f"{_seconds_text(r.plain_seconds)} with `check --no-reduction` in the same run ({against})"


def _times(ours: float, theirs: float) -> str:
    if ours == TIMEOUT:
        return "ours timed out"
    if theirs == TIMEOUT:
        return "SPIN timed out"
    return f"{ours / theirs:.3g}x" if theirs else "inf"


def section_end(lines: list[str], start: int) -> int:
    """Where the bench.md section whose heading is lines[start] ends: at the next heading, the
    plot, or the line saying there is no plot."""
    return next((i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "![", "No plot:"))),
                len(lines))


def merge_into(existing: str, section: list[str], heading: str = HEADING) -> str:
    """bench.md with the section under `heading` (the seed section by default) replaced, or
    added before the plot; the rest kept."""
    lines = existing.rstrip("\n").split("\n")
    if heading in lines:
        start = lines.index(heading)
        del lines[start:section_end(lines, start)]
    at = next((i for i, line in enumerate(lines) if line.startswith("![")), len(lines))
    return "\n".join(lines[:at] + section + lines[at:]) + "\n"


def plot_panel(ax, rows: list[SeedRow]) -> None:
    """Seconds per seed spec, log scale; a checker that timed out has no point (the table says so)."""
    xs = range(len(rows))
    for attr, marker, label in (("ours_seconds", "o", "ours"), ("spin_total", "s", "SPIN pipeline"),
                                ("pan_seconds", "^", "pan alone")):
        done = [(x, getattr(r, attr)) for x, r in zip(xs, rows) if getattr(r, attr) != TIMEOUT]
        ax.plot([x for x, _ in done], [max(s, 1e-3) for _, s in done], marker, label=label)
    ax.axhline(GOAL_SECONDS, color="grey", linestyle=":", label="1 s goal")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r.spec.removesuffix(".probe") for r in rows], rotation=70, ha="right", fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log), all properties")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
