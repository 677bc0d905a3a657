"""What changed between two versions of a design: properties fixed, newly violated, newly vacuous."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..checker import ENGINE_NAMES, Outcome
from ..ir import Model
from ..result import EngineOptions, Verdict
from .common import ENGINE_HELP, add_run_options, apply_run_limits, cache_dir_of, check_paths, exit_codes_epilog
from .options import seconds


@dataclass(frozen=True)
class Change:
    prop: str
    kind: str        # fixed | newly violated | newly vacuous | no longer vacuous | changed | unchanged | added | removed
    old: Optional[str]
    new: Optional[str]


def _kind(old: Optional[Outcome], new: Optional[Outcome]) -> str:
    if old is None:
        return "newly violated" if new.result.verdict is Verdict.VIOLATED else "added"
    if new is None:
        return "removed"
    before, after = old.result.verdict, new.result.verdict
    if before == after:
        return "unchanged"
    if before is Verdict.VIOLATED and after is Verdict.PROVED:
        return "fixed"
    if after is Verdict.VIOLATED:
        return "newly violated"
    if after is Verdict.VACUOUS:
        return "newly vacuous"
    if before is Verdict.VACUOUS:
        return "no longer vacuous"
    return "changed"


def compare(old_model: Model, old: list[Outcome], new_model: Model, new: list[Outcome]) -> list[Change]:
    before = {o.result.prop: o for o in old}
    after = {o.result.prop: o for o in new}
    names = list(before) + [n for n in after if n not in before]
    return [Change(n, _kind(before.get(n), after.get(n)),
                   before[n].result.label if n in before else None,
                   after[n].result.label if n in after else None) for n in names]


ORDER = ("newly violated", "newly vacuous", "fixed", "no longer vacuous", "changed", "added", "removed",
         "unchanged")


@dataclass(frozen=True)
class OutcomeDiff:
    """Final states of both versions, projected on the variables they share."""
    observed: tuple[str, ...]
    only_old: tuple[tuple[int, ...], ...] = ()
    only_new: tuple[tuple[int, ...], ...] = ()
    skipped: str = ""           # why the sets were not compared, if they were not


def compare_outcomes(old_model: Model, new_model: Model, options) -> OutcomeDiff:
    from ..engines.explicit import SearchIncomplete, final_states
    shared = tuple(sorted({v.name for v in old_model.variables if v.role == "state"}
                          & {v.name for v in new_model.variables if v.role == "state"}))
    if not shared:
        return OutcomeDiff(shared, skipped="the two versions declare no `var` in common")
    try:
        old, new = (final_states(m, list(shared), options) for m in (old_model, new_model))
    except SearchIncomplete as exc:
        return OutcomeDiff(shared, skipped=f"a search was cut short ({exc})")
    return OutcomeDiff(shared, tuple(sorted(old - new)), tuple(sorted(new - old)))


def render_outcomes(diff: OutcomeDiff) -> list[str]:
    if diff.skipped:
        return [f"  final states: not compared: {diff.skipped}"]
    names = ", ".join(diff.observed)
    if not diff.only_old and not diff.only_new:
        return [f"  final states on ({names}): the same"]
    lines = [f"  final states on ({names}) that differ:"]
    lines += [f"    only before: {values}" for values in diff.only_old]
    lines += [f"    only after:  {values}" for values in diff.only_new]
    return lines


def render_diff(old_path: str, new_path: str, changes: list[Change]) -> str:
    lines = [f"modelcheck diff {old_path} -> {new_path}"]
    for kind in ORDER:
        group = [c for c in changes if c.kind == kind]
        if not group:
            continue
        lines.append(f"  {kind}:")
        for c in group:
            lines.append(f"    {c.prop:<28} {c.old or '-':>12} -> {c.new or '-'}")
    regressed = [c for c in changes if c.kind in ("newly violated", "newly vacuous")]
    lines.append("  nothing regressed" if not regressed else f"  {len(regressed)} regression(s)")
    return "\n".join(lines)


EXIT = {0: "nothing regressed",
        1: "a property became violated or vacuous",
        2: "a spec error or a checker error in either spec",
        3: "a spec reached the memory limit: nothing compared"}


def add_parser(sub) -> None:
    diff = sub.add_parser("diff", help="check two versions of a design and print what changed",
                          epilog=exit_codes_epilog(EXIT))
    diff.add_argument("old", help="the earlier spec")
    diff.add_argument("new", help="the later spec")
    diff.add_argument("--engine", choices=ENGINE_NAMES, default="explicit", help=ENGINE_HELP)
    diff.add_argument("--timeout", type=seconds, default=EngineOptions.timeout, help="time limit in seconds per spec (bmc: per property)")
    add_run_options(diff)       # --no-cache, --cache-dir, --jobs, --scheduler, --memory, as for check


def run(args) -> int:
    """Exit 0 when nothing regressed, 1 when a property became violated or vacuous, 2 on errors,
    3 when a spec reached the memory limit."""
    apply_run_limits(args)
    entries, errors = check_paths([args.old, args.new], args.engine, EngineOptions(timeout=args.timeout),
                                  jobs=args.jobs, scheduler=args.scheduler, cache_dir=cache_dir_of(args))
    if errors:
        return 3 if all(getattr(e, "code", 2) == 3 for e in errors) else 2
    (_, old_model, old), (_, new_model, new) = entries
    changes = compare(old_model, old, new_model, new)
    print(render_diff(args.old, args.new, changes))
    print("\n".join(render_outcomes(compare_outcomes(old_model, new_model, EngineOptions(timeout=args.timeout)))))
    return 1 if any(c.kind in ("newly violated", "newly vacuous") for c in changes) else 0
