"""What changed between two versions of a design: properties fixed, newly violated, newly vacuous."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .checker import Outcome
from .ir import Model
from .result import Verdict


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
