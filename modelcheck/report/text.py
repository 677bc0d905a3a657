"""Plain-text verdicts and traces, for terminals and mail."""
from __future__ import annotations

import os

from .lasso import cycle_label, cycle_start, prefix_label
from ..checker import Outcome
from ..interp import State
from ..ir import Model
from ..minimize import fold_file, fold_lines, fold_runs, fold_summary, relevant_in_replay
from ..replay import Replay
from ..race import claim_lines, races_of
from .blocking import ending_lines
from ..result import Verdict
from ..wording import count


def verdict_line(outcome: Outcome, width: int = 28) -> str:
    r = outcome.result
    expect = {"violation": "expected violation", "holds": "expected to hold"}.get(outcome.expect or "", "")
    mark = {"ok": "", "unexpected": "  << UNEXPECTED", "inconclusive": "  << INCONCLUSIVE",
            "vacuous": "  << VACUOUS"}[outcome.status]
    note = f"  [{expect}]" if expect else ""
    cached = " (cached)" if r.engine.startswith("cache:") else ""
    return f"  {r.prop:<{width}} {r.label:<13} {r.seconds:6.2f}s{cached}{note}{mark}"


def argument_line(outcome: Outcome) -> str:
    return f"      {outcome.result.argument}" if outcome.result.argument else ""


def choices(model: Model, values: tuple[int, ...]) -> tuple[str, str]:
    """The Kconfig and platform choices of a trace's initial state, as NAME=value lists."""
    config, platform = [], []
    for var, value in zip(model.variables, values):
        if var.role == "config":
            config.append(f"{var.name}={var.show(value)}")
        elif var.role == "platform":
            platform.append(f"{var.name}={var.show(value)}")
    return " ".join(config) or "(none)", " ".join(platform) or "(none)"


FOLD_NOTE = "steps that do not affect the violation are folded; --full-trace shows every step"


def shown_steps(model: Model, outcome: Outcome, full: bool = False) -> list:
    """The replayed steps, with runs of one thread's steps that do not affect the violation
    folded into lists (see modelcheck.minimize), unless `full`."""
    steps = list(outcome.replay.steps)
    if full:
        return steps
    return fold_runs(steps, relevant_in_replay(model, outcome.replay, outcome.result.prop))


def step_changes(model: Model, before: State, after: State) -> list[str]:
    out = []
    for var, old, new in zip(model.variables, before.values, after.values):
        if old != new and var.role != "local":
            out.append(f"{var.name}: {var.show(old)} -> {var.show(new)}")
    return out


def trace_text(model: Model, outcome: Outcome, full: bool = False) -> str:
    """The counterexample: header with config and platform choices, then numbered steps;
    runs of steps that do not affect the violation fold into one line unless `full`."""
    replay: Replay = outcome.replay
    prop = model.property(outcome.result.prop)
    config, platform = choices(model, replay.initial.values)
    lines = [f"  {prop.name}: VIOLATED in {count(len(replay.steps), 'step')} -- {prop.description}",
             f"    config:   {config}", f"    platform: {platform}", ""]
    items = shown_steps(model, outcome, full)
    if any(isinstance(item, list) for item in items):
        lines[-1:] = [f"    ({FOLD_NOTE})", ""]
    thread_width = max((len(s.thread) for s in replay.steps), default=6)
    for step in items:
        first = step[0] if isinstance(step, list) else step
        if first.index == 1 and prefix_label(outcome):
            lines.append(f"    -- {prefix_label(outcome)} --")
        if first.index == cycle_start(outcome):
            lines.append(f"    -- {cycle_label(outcome)} --")
        if isinstance(step, list):
            where = f"{fold_file(step)}:{fold_lines(step)}" if fold_lines(step) else ""
            lines.append(f"         {step[0].thread:<{thread_width}}  {fold_summary(step)}"
                         + (f"   [{where}]" if where else ""))
            continue
        where = f"{os.path.basename(step.edge.span.file)}:{step.edge.span.line}" if step.edge.span else ""
        first, *rest = (step.edge.label or "(internal step)").split(" ; ")
        lines.append(f"    {step.index:3d}  {step.thread:<{thread_width}}  {first}"
                     + (f"   [{where}]" if where else ""))
        for part in rest:   # fused thread-local steps, shown in their order
            lines.append(f"         {'':<{thread_width}}  then {part}")
        for change in step_changes(model, step.before, step.after):
            lines.append(f"         {'':<{thread_width}}    {change}")
        for failed in step.failed:
            if failed == prop.name:
                message = next(c.message for c in step.edge.checks if c.prop == failed)
                lines.append(f"         {'':<{thread_width}}    !! {message}")
    lines += [f"    {line}" for line in ending_lines(model, outcome)]
    lines += [f"    {line}" for line in claim_lines(races_of(model, outcome))]
    return "\n".join(lines)


def invariant_block(outcome: Outcome) -> list[str]:
    """The inductive invariant behind a verdict, one conjunct per line, under its argument."""
    return ["      inductive invariant:"] + [f"        {line}" for line in outcome.result.invariant.splitlines()]
