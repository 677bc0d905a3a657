"""Plain-text swimlanes: one column per thread, time downwards, ready to paste into a mail.

Shaped like the hand-drawn diagrams of the review thread (seed 003): who did what, in which
order, with the spec line of each step. Fits in `width` columns; long actions wrap inside
their lane, and traces with too many threads for the width fall back to one lane per line.
"""
from __future__ import annotations

import os
import textwrap

from .lasso import cycle_label, cycle_start, prefix_label
from ..checker import Outcome
from ..ir import Model
from ..minimize import fold_lines, fold_summary
from ..wording import count
from ..race import claim_lines, races_of
from .blocking import ending_lines
from .text import FOLD_NOTE, choices, shown_steps, step_changes

STEP_COL = 5      # "  12 "
LAST_LANE = 34    # room the rightmost lane keeps for its text
MIN_PITCH = 8
MAX_PITCH = 24     # lanes closer together leave more room for text


def _short(thread: str) -> str:
    """Lane titles: 'udev: modprobe dax_cxl' reads as 'modprobe dax_cxl'."""
    return thread.replace("udev: ", "").replace("userspace:", "user:").replace("kworker:", "kw:")


def _where(step) -> str:
    return f"[{step.edge.span.line}]" if step.edge.span else ""


def _fold_text(run) -> str:
    lines = fold_lines(run)
    return fold_summary(run) + (f" [{lines}]" if lines else "")


def timeline(model: Model, outcome: Outcome, width: int = 100, changes: bool = False,
             full: bool = False) -> str:
    """Each step's text starts in its thread's lane and runs to the right edge, as in the
    hand-drawn diagrams: the lanes to the right are empty on that row. Runs of one thread's
    steps that do not affect the violation fold into one unnumbered row unless `full`."""
    replay = outcome.replay
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, replay.initial.values)
    spec = os.path.basename(model.file)
    items = shown_steps(model, outcome, full)
    head = [f"{prop.name}: VIOLATED in {count(len(replay.steps), 'step')} -- {prop.description}",
            f"config: {config}", f"platform: {platform}", f"[N] = line N of {spec}", ""]
    if any(isinstance(item, list) for item in items):
        head[-1:] = [f"({FOLD_NOTE})", ""]
    head = [w for line in head for w in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]
    lanes = list(dict.fromkeys(s.thread for s in replay.steps))
    pitch = min(MAX_PITCH, (width - STEP_COL - LAST_LANE) // max(1, len(lanes) - 1))
    if pitch < MIN_PITCH:
        return "\n".join(head + _single_lane(model, outcome, items, width, changes))
    starts = [STEP_COL + i * pitch for i in range(len(lanes))]
    rows = [_titles(lanes, starts, pitch, width)]
    for step in items:
        first = step[0] if isinstance(step, list) else step
        if first.index == 1 and prefix_label(outcome):
            rows.append(f"  -- {prefix_label(outcome)} --")
        if first.index == cycle_start(outcome):
            rows.append(f"  -- {cycle_label(outcome)} --")
        if isinstance(step, list):
            col = starts[lanes.index(step[0].thread)]
            rows += [" " * col + line for line in textwrap.wrap(_fold_text(step), width - col)]
            continue
        col = starts[lanes.index(step.thread)]
        text = f"{step.edge.label or '(internal step)'} {_where(step)}".rstrip()
        body = textwrap.wrap(text, width - col, break_on_hyphens=False)
        rows.append(f"{step.index:>4} " + " " * (col - STEP_COL) + body[0])
        rows += [" " * col + line for line in body[1:]]
        if changes:
            rows += [" " * (col + 2) + c for ch in step_changes(model, step.before, step.after)
                     for c in textwrap.wrap(ch, width - col - 2)]
        rows += _failures(step, prop.name, width)
    ending = ending_lines(model, outcome)
    if ending:
        rows.append(f"  => {ending[0]}")
    for line in ending[1:] + claim_lines(races_of(model, outcome)):
        indent = "     " + " " * (len(line) - len(line.lstrip()))
        rows += textwrap.wrap(line.lstrip(), width, initial_indent=indent, subsequent_indent=indent + "    ",
                              break_on_hyphens=False)
    return "\n".join(head + [r.rstrip() for r in rows])


def _titles(lanes: list[str], starts: list[int], pitch: int, width: int) -> str:
    """Lane names above the lanes. When a name does not fit before the next lane starts, the
    names go on two staggered rows (every other lane per row), so each gets two pitches."""
    names = [_short(name) for name in lanes]
    fits = all(len(n) <= pitch - 1 for n in names[:-1]) and len(names[-1]) <= width - starts[-1]
    rows = [range(len(lanes))] if fits else [range(0, len(lanes), 2), range(1, len(lanes), 2)]
    step = 1 if fits else 2
    out = []
    for lanes_here in rows:
        row = [" "] * width
        for i in lanes_here:
            room = (step * pitch - 1) if i + step < len(lanes) else width - starts[i]
            for k, ch in enumerate(names[i][:room]):
                row[starts[i] + k] = ch
        out.append("".join(row).rstrip())
    bars = "".join("|" if i in starts else " " for i in range(max(len(r) for r in out))).rstrip()
    return "\n".join(out + [bars])


def _failures(step, prop: str, width: int) -> list[str]:
    out = []
    for check in step.edge.checks:
        if check.prop == prop and prop in step.failed:
            out += textwrap.wrap(f"!! {check.message}", width, initial_indent="     ",
                                 subsequent_indent="        ")
    return out


def _single_lane(model: Model, outcome: Outcome, items: list, width: int, changes: bool) -> list[str]:
    rows = []
    for step in items:
        if isinstance(step, list):
            rows += textwrap.wrap(f"[{_short(step[0].thread)}] {_fold_text(step)}", width - 5,
                                  initial_indent="     ", subsequent_indent="       ")
            continue
        text = f"[{_short(step.thread)}] {step.edge.label} {_where(step)}".rstrip()
        rows += textwrap.wrap(text, width - 5, initial_indent=f"{step.index:>4} ",
                              subsequent_indent="       ")
        if changes:
            rows += ["       " + c for c in step_changes(model, step.before, step.after)]
        rows += _failures(step, outcome.result.prop, width)
    return rows
