"""Soak test: random specs through the explicit and foata engines, through the explicit engine
without partial-order reduction and without step fusion, and through two enumerations of their
terminal states; every disagreement is written down.

    python -m modelcheck.devtools.soak --specs 10000 [--minutes 15] [--seed 0] [--size 0] [--jobs N | --scheduler ADDRESS] [-o results/soundness.md]
    python -m modelcheck.devtools.soak --liveness --specs 300 --section soak-liveness
    python -m modelcheck.devtools.soak --against spin --size 1 --specs 1000 --section soak-spin

With --against spin the independent engine is SPIN on every property, safety and liveness
(promela.SpinBuild, promela_liveness.LivenessBuild), in place of foata and the Z3 enumeration:
about ten times faster per spec, so a soak of the whole language fits in a session.

With --liveness the specs come from specgen.generate_liveness (endless work items, retry loops,
user actions, eventually / always_eventually / leads_to), and every liveness verdict of the
explicit engine is compared with SPIN's (pan -a -f on never claims, modelcheck.promela_liveness);
the Z3 engines do not decide liveness, so foata is compared on the other properties only.

Without -o the figures are printed only; with it they replace one section of that file.

For each random spec (modelcheck.devtools.specgen): both engines decide every property (a VIOLATED
trace must replay: checker.check_model refuses one that does not); a BOUNDED or TIMEOUT
from foata is inconclusive and not compared. The explicit engine decides every property a second
time on the model compiled without step fusion, searching every interleaving (no partial-order
reduction): every reduction and every fusion is held to a search without it. Then the terminal states projected on the
spec's flags, from explicit.outcomes and from the Z3 enumeration (engines/enumerate.py),
must be the same set. The run stops after --specs specs or --minutes minutes, whichever
comes first, and says which.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from .. import parallel
from ..checker import CheckerError, check_model
from ..frontend import load_text
from ..ir import is_liveness
from ..report.results import write_section
from ..result import EngineOptions, Verdict

OPTIONS = EngineOptions(max_depth=80, timeout=120, solver_rlimit=20_000_000)
# the Z3 engines stop at a resource limit per query (about 5 s here), so what is inconclusive does
# not depend on the machine's load; the time limit is only a backstop
INCONCLUSIVE = (Verdict.BOUNDED, Verdict.TIMEOUT)

# what the random specs use, tallied per spec so a soak says how much of the language it covered:
# (label, text whose presence in a spec marks the feature)
FEATURES = (
    ("mutex", "mutex "), ("rwsem", "rwsem "), ("completion", "completion "), ("waitqueue", "waitqueue "),
    ("delayed_work", "delayed_work "), ("timer", "timer "), ("kthread", "kthread "), ("kref", "kref "),
    ("fn returning a value", "-> bool"), ("per-device data", "driver d0 { var"),
    ("device_link_add", "device_link_add("), ("fw_devlink supplier", "supplier "),
    ("deferred-probe timeout", "deferred_probe_timeout"), ("hotplug device", "hotplug device"),
    ("parent device", " parent "), ("several drivers", "device md0 :"), ("match block", "match {"),
    ("DEBUG_TEST_DRIVER_REMOVE", "DEBUG_TEST_DRIVER_REMOVE"), ("suspend()/reboot()", "suspend();"),
    ("mmio range", ": mmio"), ("instances", " instances "), ("platform_device_add", "platform_device_add("),
    ("device_is_registered", "device_is_registered("),
)


# --group keeps only the specs that use at least one feature of a group
GROUPS = {
    "primitives": ("mutex", "rwsem", "completion", "waitqueue", "delayed_work", "timer", "kthread",
                   "kref", "fn returning a value", "per-device data"),
    "device-model": ("device_link_add", "fw_devlink supplier", "deferred-probe timeout", "hotplug device",
                     "parent device", "several drivers", "match block", "DEBUG_TEST_DRIVER_REMOVE",
                     "suspend()/reboot()", "mmio range", "instances", "platform_device_add",
                     "device_is_registered"),
}


def features_of(text: str) -> list[str]:
    """The FEATURES labels whose marker text occurs in a spec's text."""
    return [label for label, marker in FEATURES if marker in text]


@dataclass
class Comparison:
    """What one spec showed."""
    text: str
    disagreements: list[str] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)   # foata properties, or 'outcomes'
    outcomes: int = 0                                        # distinct terminal projections
    verdicts: dict = field(default_factory=dict)            # property -> explicit verdict name

    @property
    def ok(self) -> bool:
        return not self.disagreements


def compare_spec(text: str, observe: list[str], options: EngineOptions = OPTIONS,
                 liveness: bool = False, against: str = "foata") -> Comparison:
    """Check one spec with both engines and both terminal-state enumerations; with `liveness`,
    its liveness verdicts against SPIN's. With against="spin" the other engine is SPIN on every
    property (safety and liveness) instead of foata and the Z3 enumeration."""
    from ..engines import enumerate as enum_engine
    from ..engines import explicit

    out = Comparison(text)
    model = load_text(text, file="random.probe")
    if against == "spin":
        return _compare_with_spin(model, out, SPIN_SIDE_OPTIONS if options is OPTIONS else options)
    answers = {}
    for engine in ("explicit", "foata"):
        try:
            answers[engine] = {o.prop.name: o.result.verdict for o in check_model(model, engine, options)}
        except CheckerError as exc:     # a VIOLATED trace that does not replay
            out.disagreements.append(f"{engine}: {exc}")
            return out
    mine, theirs = answers["explicit"], answers["foata"]
    out.verdicts = {name: v.name for name, v in mine.items()}
    live = [p.name for p in model.properties if is_liveness(p) and p.name in mine]
    out.disagreements += reduction_disagreements(text, mine, out.inconclusive)
    if out.disagreements:
        return out
    if liveness:
        out.disagreements += _against_spin(model, {name: mine[name] for name in live})
    for name, verdict in mine.items():
        if name in live:
            if verdict in INCONCLUSIVE:
                out.disagreements.append(f"explicit engine inconclusive on {name}: {verdict.name}")
            continue        # the Z3 engines do not search for cycles
        if verdict in INCONCLUSIVE:
            out.disagreements.append(f"explicit engine inconclusive on {name}: {verdict.name}")
        elif theirs[name] in INCONCLUSIVE:
            out.inconclusive.append(name)
        elif theirs[name] is not verdict:
            out.disagreements.append(f"{name}: explicit {verdict.name}, foata {theirs[name].name}")
    try:
        by_search = set(explicit.outcomes(model, observe, options))
    except ValueError:
        by_search = None                # a cycle: the outcome set is still defined, recompute below
    except explicit.SearchIncomplete:   # runs longer than max_depth: the set is not known, not compared
        out.inconclusive.append("outcomes")
        return out
    if by_search is None:
        by_search = explicit.terminal_projections(model, observe)
    out.outcomes = len(by_search)
    try:
        by_z3 = enum_engine.terminal_states(model, observe, options)
    except enum_engine.EnumerationIncomplete:
        out.inconclusive.append("outcomes")
        return out
    if by_search != by_z3:
        out.disagreements.append(
            f"terminal states on {', '.join(observe)}: explicit {sorted(by_search)}, "
            f"z3 enumeration {sorted(by_z3)}")
    return out


SPIN_SIDE_OPTIONS = EngineOptions(max_depth=1000, timeout=600, max_states=300_000)
# against SPIN no Z3 unrolling sets the depth: the explicit engine searches as `check` does, and a
# state limit rather than a time limit keeps its answer the same on a loaded machine


def _compare_with_spin(model, out: Comparison, options: EngineOptions) -> Comparison:
    """The explicit engine against the unreduced, unfused search and against SPIN on every
    property: safety from one exported pan (promela.SpinBuild.decide_all), liveness from pan -a -f
    on never claims. A property the explicit search leaves BOUNDED (its state limit) or a pan run
    that does not complete is inconclusive, not compared."""
    try:
        mine = {o.prop.name: o.result.verdict for o in check_model(model, "explicit", options)}
    except CheckerError as exc:     # a VIOLATED trace that does not replay
        out.disagreements.append(f"explicit: {exc}")
        return out
    out.verdicts = {name: v.name for name, v in mine.items()}
    out.disagreements += reduction_disagreements(out.text, mine, out.inconclusive)
    if out.disagreements:
        return out
    # the state limit keeps the answer independent of load; what it cuts is not compared
    undecided = [n for n, v in mine.items() if v in INCONCLUSIVE]
    out.inconclusive += [f"{n} (explicit {mine[n].name})" for n in undecided]
    decided = [n for n in mine if n not in undecided]
    for name, run in _spin_runs(model, decided).items():
        ours = "violated" if mine[name] is Verdict.VIOLATED else "holds"
        if not run.complete:
            out.inconclusive.append(name)
        elif run.verdict != ours:
            out.disagreements.append(f"{name}: explicit {mine[name].name}, SPIN {run.verdict}")
    return out


def _spin_runs(model, names: list[str]) -> dict:
    """SPIN's run on each property of `names`: the safety ones from one exported pan
    (promela.SpinBuild.decide_all), the liveness ones from pan -a -f on their never claims
    (promela_liveness.LivenessBuild)."""
    from ..promela import LIVENESS_KINDS, SpinBuild
    from ..promela_liveness import LivenessBuild
    live = [n for n in names if model.property(n).kind in LIVENESS_KINDS]
    safety = [n for n in names if n not in live]
    runs = {}
    if safety:
        with SpinBuild(model, safety, timeout=300) as build:
            runs.update(build.decide_all())
    if live:
        with LivenessBuild(model, live, timeout=300) as build:
            runs.update((n, build.run(n)) for n in live)
    return runs


def _against_spin(model, mine: dict) -> list[str]:
    """Disagreements between the explicit engine's liveness verdicts and SPIN's."""
    said = {Verdict.VIOLATED: "violated", Verdict.PROVED: "holds", Verdict.VACUOUS: "holds"}
    runs = _spin_runs(model, list(mine))
    return [f"{name}: explicit {verdict.name}, SPIN {runs[name].verdict}"
            for name, verdict in mine.items() if said.get(verdict) != runs[name].verdict]


PLAIN_OPTIONS = EngineOptions(max_depth=1000, timeout=3600, max_states=300_000, reduction=False, cone=False)
# the reference search: unfused steps make paths several times deeper, and a state limit rather
# than a time limit keeps its answer the same on a loaded machine


def reduction_disagreements(text: str, reduced: Optional[dict] = None,
                            inconclusive: Optional[list] = None) -> list[str]:
    """The explicit engine's verdicts with partial-order reduction on the fused model (`reduced`,
    computed when None) against an explicit search of every interleaving on the model compiled
    without step fusion (PLAIN_OPTIONS); one line per property where they differ. A property
    either search leaves BOUNDED or TIMEOUT is not compared: its name is appended to
    `inconclusive` when given."""
    if reduced is None:     # both sides under the same state limit: the answer does not move with load
        model = load_text(text, file="random.probe")
        reduced = {o.prop.name: o.result.verdict
                   for o in check_model(model, "explicit", replace(PLAIN_OPTIONS, reduction=True))}
    plain_model = load_text(text, file="random.probe", fuse_steps=False)
    try:
        plain = {o.prop.name: o.result.verdict for o in check_model(plain_model, "explicit", PLAIN_OPTIONS)}
    except CheckerError as exc:
        return [f"explicit without reduction or fusion: {exc}"]
    out = []
    for name, verdict in reduced.items():
        theirs = plain.get(name)
        if theirs in INCONCLUSIVE or verdict in INCONCLUSIVE:
            if inconclusive is not None:
                inconclusive.append(f"{name} (reduction check)")
        elif theirs is not verdict:
            shown = theirs.name if theirs is not None else "absent"
            out.append(f"{name}: explicit {verdict.name}, explicit without reduction or fusion {shown}")
    return out


# --- the soak run ----------------------------------------------------------------

def _compare_seed(job: tuple[int, int]):
    """One spec of the soak, by seed: (seed, Comparison) or (seed, crash text, spec text)."""
    from .specgen import generate, generate_liveness
    spec_seed, size, liveness, against = job
    generated = (generate_liveness if liveness else generate)(random.Random(spec_seed), size)
    try:
        return spec_seed, compare_spec(generated.text, generated.flags, liveness=liveness, against=against)
    except Exception as exc:   # a crash is a finding too: record it with the spec
        return spec_seed, f"{type(exc).__name__}: {exc}", generated.text


def _jobs(count: int, seed: int, size: int, liveness: bool, against: str, group: Optional[str]) -> list:
    """The soak's jobs (seed, size, liveness, against): the `count` seeds from `seed` on, or with
    `group` the first `count` of them whose spec uses a feature of GROUPS[group] (at most
    50 * count seeds are drawn)."""
    if group is None:
        return [(spec_seed, size, liveness, against) for spec_seed in range(seed, seed + count)]
    wanted = set(GROUPS[group])
    todo = []
    for spec_seed in range(seed, seed + 50 * count):
        if len(todo) == count:
            break
        if wanted & set(features_of(_spec_text((spec_seed, size, liveness, against)))):
            todo.append((spec_seed, size, liveness, against))
    return todo


def _results(count: int, seed: int, size: int, jobs: int, stop: float, liveness: bool = False,
             scheduler: Optional[str] = None, against: str = "foata", group: Optional[str] = None):
    """The specs' comparisons in seed order, until `stop`: in this process, on a local Dask
    cluster of `jobs` worker processes, or on the Dask scheduler at `scheduler`
    (modelcheck.parallel). A spec whose task could not finish counts as a crash."""
    todo = _jobs(count, seed, size, liveness, against, group)
    if not parallel.is_parallel(jobs, scheduler):
        for job in todo:
            if time.monotonic() >= stop:
                return
            yield _compare_seed(job)
        return
    answers = parallel.run_tasks(_compare_seed, todo, jobs, scheduler)
    try:
        for job, answer in zip(todo, answers):
            if time.monotonic() >= stop:
                return
            if isinstance(answer, parallel.Failed):
                answer = job[0], f"not compared: {answer.reason}", _spec_text(job)
            yield answer
    finally:
        answers.close()     # cancels the specs not yet compared


def _spec_text(job: tuple) -> str:
    """The text of the random spec of a soak job (seed, size, liveness, against)."""
    from .specgen import generate, generate_liveness
    spec_seed, size, liveness, _ = job
    return (generate_liveness if liveness else generate)(random.Random(spec_seed), size).text


def soak(count: int, minutes: float, seed: int, size: int, log=None, jobs: int = 1,
         liveness: bool = False, scheduler: Optional[str] = None, against: str = "foata",
         group: Optional[str] = None) -> dict:
    started = time.monotonic()
    stop = started + minutes * 60
    tried = inconclusive_specs = inconclusive_props = inconclusive_outcomes = compared_props = 0
    failures: list[tuple[int, Comparison]] = []
    errors: list[tuple[int, str, str]] = []
    outcome_sizes: dict[int, int] = {}
    verdict_counts: dict[str, int] = {}
    feature_counts: dict[str, int] = {label: 0 for label, _ in FEATURES}
    if scheduler:
        jobs = parallel.worker_count(scheduler)
    for answer in _results(count, seed, size, jobs, stop, liveness, scheduler, against, group):
        tried += 1
        for label in features_of(answer[2] if len(answer) == 3 else answer[1].text):
            feature_counts[label] += 1
        if len(answer) == 3:
            errors.append(answer)
            continue
        spec_seed, result = answer
        compared_props += len(result.verdicts)
        inconclusive_props += len([p for p in result.inconclusive if p != "outcomes"])
        if result.inconclusive:
            inconclusive_specs += 1
        if "outcomes" in result.inconclusive:
            inconclusive_outcomes += 1
        for v in result.verdicts.values():
            verdict_counts[v] = verdict_counts.get(v, 0) + 1
        outcome_sizes[result.outcomes] = outcome_sizes.get(result.outcomes, 0) + 1
        if not result.ok:
            failures.append((spec_seed, result))
        if log and tried % 25 == 0:
            print(f"soak: {tried} specs, {len(failures)} disagreements, {len(errors)} errors, "
                  f"{time.monotonic() - started:.0f}s", file=log, flush=True)
    return dict(asked=count, tried=tried, seconds=time.monotonic() - started, minutes=minutes,
                seed=seed, size=size, failures=failures, errors=errors,
                inconclusive_specs=inconclusive_specs, inconclusive_props=inconclusive_props,
                inconclusive_outcomes=inconclusive_outcomes,
                compared_props=compared_props, outcome_sizes=outcome_sizes,
                verdict_counts=verdict_counts, feature_counts=feature_counts, stopped_by_time=tried < count, jobs=jobs,
                liveness=liveness, scheduler=scheduler, against=against, group=group)


def render(summary: dict) -> str:
    s = summary
    uname = platform.uname()
    spin = s.get("against") == "spin"
    other = "SPIN" if spin else "foata"
    lines = [
        f"# Soundness: differential soak of the explicit engine and {other}",
        "",
        f"Generated by `python -m modelcheck.devtools.soak --specs {s['asked']} --minutes {s['minutes']:g} "
        f"--seed {s['seed']} --size {s['size']} {_where(s)}{' --liveness' if s.get('liveness') else ''}"
        f"{' --against spin' if spin else ''}{' --group ' + s['group'] if s.get('group') else ''}` "
        "(random specs from `modelcheck/devtools/specgen.py`).",
        *([f"With --group {s['group']}: only the specs that use at least one of "
           + ", ".join(GROUPS[s['group']]) + "; the seeds whose spec uses none were passed over.", ""]
          if s.get("group") else []),
        "",
        *(["With --liveness: specs from `specgen.generate_liveness`, and every liveness verdict of "
           "the explicit engine compared with SPIN's (`pan -a -f` on never claims).", ""]
          if s.get("liveness") and not spin else []),
        *_method(spin),
        "",
        "| | |",
        "|---|---|",
        f"| specs asked for | {s['asked']} |",
        f"| specs tried | {s['tried']} |",
        f"| disagreements | {len(s['failures'])} |",
        f"| crashes | {len(s['errors'])} |",
        f"| properties checked | {s['compared_props']} |",
        f"| properties compared (checked, less the inconclusive) | {s['compared_props'] - s['inconclusive_props']} |",
        f"| {'properties left inconclusive (explicit or unreduced search at its state limit, or SPIN incomplete)' if spin else 'foata verdicts inconclusive (properties)'} | {s['inconclusive_props']} |",
        *([] if spin else
          [f"| z3 outcome enumerations inconclusive (specs, not compared) | {s['inconclusive_outcomes']} |"]),
        f"| specs with something inconclusive | {s['inconclusive_specs']} |",
        f"| wall time | {s['seconds']:.0f} s ({s['seconds'] / max(1, s['tried']):.2f} s per spec, "
        f"{s['jobs']} worker process{'es' if s['jobs'] > 1 else ''}"
        f"{' of a Dask scheduler' if s.get('scheduler') else ''}) |",
        f"| code | {_commit()} |",
        f"| machine | {uname.system} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} ({platform.processor() or 'processor unknown'}) |",
        "",
    ]
    if s["stopped_by_time"]:
        lines += [f"**Only {s['tried']} of the {s['asked']} specs asked for ran**: the run was stopped by "
                  f"its time budget of {s['minutes']:g} minutes. It took about "
                  f"{s['seconds'] / max(1, s['tried']):.1f} s per spec here, so {s['asked']} specs "
                  f"would take about {s['seconds'] / max(1, s['tried']) * s['asked'] / 3600:.1f} hours.", ""]
    lines += ["Explicit verdicts over all checked properties (a BOUNDED one is inconclusive): "
              + ", ".join(f"{k} {v}" for k, v in sorted(s["verdict_counts"].items())) + ".", "",
              *([] if spin else
                ["Distinct terminal states per spec (on the flags): "
                 + ", ".join(f"{k}: {v} specs" for k, v in sorted(s["outcome_sizes"].items())) + ".", ""])]
    if s.get("feature_counts"):
        lines += ["Specs tried that use each feature (a spec may use several): "
                  + ", ".join(f"{k} {v}" for k, v in s["feature_counts"].items()) + ".", ""]
    lines += ["## Disagreements", ""]
    if not s["failures"]:
        lines += ["None.", ""]
    for seed, result in s["failures"]:
        lines += [f"### spec seed {seed}", ""] + [f"- {d}" for d in result.disagreements]
        lines += ["", "```probe", result.text.rstrip(), "```", ""]
    lines += ["## Crashes", ""]
    if not s["errors"]:
        lines += ["None.", ""]
    for seed, error, text in s["errors"]:
        lines += [f"### spec seed {seed}", "", f"- {error}", "", "```probe", text.rstrip(), "```", ""]
    return "\n".join(lines)


def _method(spin: bool) -> list[str]:
    """The paragraph that says what a soak compared."""
    unreduced = ("the explicit engine's verdicts (partial-order reduced, on the fused model, each safety "
                 "property on its cone of influence) must equal those of an explicit search of every "
                 "interleaving on the whole model without step fusion; "
                 "every VIOLATED trace is replayed on the model; ")
    if spin:
        return ["For every random spec: the explicit engine decides every property "
                f"(max_depth={SPIN_SIDE_OPTIONS.max_depth}, timeout={SPIN_SIDE_OPTIONS.timeout:g}s, "
                f"max_states={SPIN_SIDE_OPTIONS.max_states} per search); " + unreduced
                + "then SPIN decides every property on the exported model (safety: one pan, "
                "`promela.SpinBuild.decide_all`; liveness: `pan -a -f` on never claims, "
                "`promela_liveness.LivenessBuild`) and must give the same verdict (VIOLATED against "
                "violated; PROVED or VACUOUS against holds). A property the explicit search or the unreduced "
                f"search leaves BOUNDED (their state limits, max_states={PLAIN_OPTIONS.max_states}, keep the "
                "answer the same on a loaded machine), or a pan run that does not complete, is counted as "
                "inconclusive and not compared."]
    return ["For every random spec: the explicit and foata engines decide every property "
            f"(max_depth={OPTIONS.max_depth}, timeout={OPTIONS.timeout:g}s per search, "
            f"solver_rlimit={OPTIONS.solver_rlimit} Z3 resource units per query) and must agree; " + unreduced
            + "the terminal states projected on the spec's flags, "
            "from `explicit.outcomes` and from the Z3 enumeration `modelcheck/engines/enumerate.py`, must be "
            "the same set. A BOUNDED or TIMEOUT from foata, or a property the unreduced search leaves BOUNDED "
            f"(its state limit, max_states={PLAIN_OPTIONS.max_states}), is counted as inconclusive and not compared."]


def _where(summary: dict) -> str:
    """The option that said where the specs ran."""
    if summary.get("scheduler"):
        return f"--scheduler {summary['scheduler']}"
    return f"--jobs {summary['jobs']}"


def _commit() -> str:
    """The commit the soak ran on, when it ran in a git checkout."""
    import subprocess
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"commit {out.stdout.strip()}" if out.returncode == 0 else "unknown"


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m modelcheck.devtools.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--specs", type=int, default=10000, help="how many random specs (default 10000)")
    ap.add_argument("--minutes", type=float, default=15.0, help="wall-time budget (default 15)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first spec")
    ap.add_argument("--size", type=int, default=0, choices=(0, 1, 2), help="spec size profile")
    parallel.add_options(ap)
    ap.add_argument("-o", "--output",
                    help="also write the figures as a section of this markdown file (e.g. "
                    "results/soundness.md); without it nothing is written")
    ap.add_argument("--section", default="soak",
                    help="the section of the output file to replace (a second run keeps the first's)")
    ap.add_argument("--liveness", action="store_true",
                    help="specs with liveness properties; their verdicts are compared with SPIN's")
    ap.add_argument("--against", choices=("foata", "spin"), default="foata",
                    help="the independent engine: foata and the Z3 terminal-state enumeration "
                    "(default), or SPIN on every property (safety and liveness), which is "
                    "about ten times faster per spec")
    ap.add_argument("--group", choices=sorted(GROUPS),
                    help="only the random specs that use a feature of this group (the seeds whose "
                    "spec uses none are passed over)")
    args = ap.parse_args(argv)
    try:
        summary = soak(args.specs, args.minutes, args.seed, args.size, log=sys.stderr, jobs=args.jobs,
                       liveness=args.liveness, scheduler=args.scheduler, against=args.against,
                       group=args.group)
    except parallel.SchedulerError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    text = render(summary)
    if args.output:
        write_section(args.output, args.section, text)
    else:
        print(text)
    print(f"soak: {summary['tried']} specs, {len(summary['failures'])} disagreements, "
          f"{len(summary['errors'])} crashes, {summary['seconds']:.0f}s"
          + (f"; wrote the {args.section} section of {args.output}" if args.output else ""))
    return 1 if summary["failures"] or summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
