"""`modelcheck trace`: the counterexample of one property, in one of the trace formats."""
from __future__ import annotations

import json
import sys

from ..checker import ENGINE_NAMES, exit_code
from ..report.results import trace_json, write_file_atomically
from ..report.text import trace_text
from ..report.timeline import timeline
from ..report.traceformats import TRACE_RENDERERS
from ..result import EngineOptions
from .common import ENGINE_HELP, FULL_TRACE_HELP, check_paths, exit_codes_epilog
from .options import seconds

TRACE_FORMATS = ("timeline", "text", "json") + tuple(TRACE_RENDERERS)   # itf mermaid html markdown
EXIT = {0: "the counterexample is printed",
        1: "the property is not violated: there is no counterexample",
        2: "a spec error, a checker error, or no such property",
        3: "inconclusive: a bound or time limit was reached before a verdict",
        4: "vacuous: the property can never be triggered"}


def add_parser(sub) -> None:
    trace = sub.add_parser("trace", help="print the counterexample of one property",
                           epilog=exit_codes_epilog(EXIT))
    trace.add_argument("spec", help="the spec file")
    trace.add_argument("--property", required=True, help="the property whose counterexample to print")
    trace.add_argument("--format", choices=TRACE_FORMATS, default="timeline",
                       help="timeline: one column per thread (default); text: numbered steps with "
                       "state changes; json: every step, marked relevant or not; itf: the Informal "
                       "Trace Format of Apalache; mermaid, html, markdown: for pages and reviews")
    trace.add_argument("--engine", choices=ENGINE_NAMES, default="explicit", help=ENGINE_HELP)
    trace.add_argument("--timeout", type=seconds, default=EngineOptions.timeout, help="seconds")
    trace.add_argument("--width", type=int, default=100, help="columns of the timeline")
    trace.add_argument("-o", "--output", help="write the trace to this file (atomically)")
    trace.add_argument("--full-trace", action="store_true", help=FULL_TRACE_HELP)


def run(args) -> int:
    """Exit 0 with the trace printed; 1 when the property is not violated (nothing to print)."""
    entries, errors = check_paths([args.spec], args.engine, EngineOptions(timeout=args.timeout),
                                  [args.property])
    if errors:
        return 2
    [(path, model, outcomes)] = entries
    if not outcomes:
        print(f"modelcheck: {path} has no property {args.property!r}", file=sys.stderr)
        return 2
    [outcome] = outcomes
    if outcome.replay is None:
        print(f"{args.property}: {outcome.result.label}: no counterexample. {outcome.result.argument}")
        return exit_code([outcome.status]) or 1
    rendered = render_trace(args.format, model, outcome, args.width, args.full_trace)
    if args.output:
        write_file_atomically(args.output, rendered)
    else:
        print(rendered, end="")
    return 0


def render_trace(fmt: str, model, outcome, width: int = 100, full: bool = False) -> str:
    if fmt == "timeline":
        return timeline(model, outcome, width, full=full) + "\n"
    if fmt == "text":
        return trace_text(model, outcome, full) + "\n"
    if fmt in TRACE_RENDERERS:
        return TRACE_RENDERERS[fmt](model, outcome, full)
    return json.dumps(trace_json(model, outcome), indent=2) + "\n"
