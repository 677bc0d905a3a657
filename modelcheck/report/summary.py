"""A spec's verdicts as text: one line per property, the argument under it, and each
counterexample drawn in the chosen trace style."""
from __future__ import annotations

from typing import Iterable

from ..checker import Outcome
from ..ir import Model
from ..result import Verdict
from .text import argument_line, invariant_block, trace_text, verdict_line
from .timeline import timeline
from .traceformats import render


def spec_report(model: Model, outcomes: Iterable[Outcome], show_traces: bool = True,
                style: str = "text", full: bool = False, invariants: bool = False) -> str:
    outcomes = list(outcomes)
    width = max([len(o.result.prop) for o in outcomes] + [10])
    lines = [f"{model.file}: {model.title}"]
    for o in outcomes:
        lines.append(verdict_line(o, width))
        if o.result.verdict is not Verdict.VIOLATED and o.result.argument:
            lines.append(argument_line(o))
        if invariants and o.result.invariant:
            lines += invariant_block(o)
    if show_traces:
        for o in outcomes:
            if o.replay is not None:
                lines.append("")
                if style == "timeline":
                    lines.append(timeline(model, o, full=full))
                elif style != "text":
                    lines.append(render(style, model, o, full).rstrip("\n"))
                else:
                    lines.append(trace_text(model, o, full))
    return "\n".join(lines)
