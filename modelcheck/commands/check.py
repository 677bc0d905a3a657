"""`modelcheck check`: decide every property of the given specs."""
from __future__ import annotations

import sys
import time

from ..checker import ENGINE_NAMES, EXIT_CODES
from ..report.formats import FORMATTERS
from ..report.results import write_file_atomically
from ..report.summary import spec_report
from ..report.traceformats import TRACE_RENDERERS
from ..result import EngineOptions
from .progress import progress_line
from .common import (ENGINE_HELP, FULL_TRACE_HELP, MAX_DEPTH_HELP, add_run_options, apply_run_limits, cache_dir_of,
                     check_paths, failures_code, spec_paths, summary, tally)
from .options import at_least, seconds


def add_parser(sub) -> None:
    check = sub.add_parser("check", help="decide every property of the given specs",
                           epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()))
    check.add_argument("paths", nargs="+", help="spec files or directories of *.probe files")
    check.add_argument("--engine", choices=ENGINE_NAMES, default="explicit", help=ENGINE_HELP)
    check.add_argument("--property", action="append", dest="properties", help="check only this property")
    check.add_argument("--max-depth", type=at_least(1), default=EngineOptions.max_depth, help=MAX_DEPTH_HELP)
    check.add_argument("--timeout", type=seconds, default=EngineOptions.timeout, help="time limit in seconds per spec (bmc: per property)")
    check.add_argument("--no-trace", action="store_true", help="verdicts only")
    check.add_argument("--no-reduction", action="store_true",
                       help="explicit: search every interleaving, without partial-order reduction")
    check.add_argument("--no-cone", action="store_true",
                       help="search every property on the whole model, not on its cone of influence "
                       "(the threads and steps that can affect what it reads)")
    check.add_argument("--show-invariant", action="store_true",
                       help="print the inductive invariant under each verdict proved by one (--engine chc, "
                       "or --certify)")
    check.add_argument("--certify", action="store_true",
                       help="explicit: back each PROVED safety verdict with an inductive invariant mined "
                       "from the reachable states and checked by a separate Z3 solver, or say why not")
    check.add_argument("--format", choices=("text",) + tuple(FORMATTERS), default="text",
                       help="text for people; json (schema modelcheck-result/1), sarif 2.1.0, junit "
                       "XML, or email (72 columns, for a reply on the list)")
    check.add_argument("-o", "--output", help="write the formatted result to this file (atomically)")
    add_run_options(check)
    check.add_argument("--trace-format", choices=("text", "timeline") + tuple(TRACE_RENDERERS), default="text",
                       help="how counterexamples are drawn in text output")
    check.add_argument("--full-trace", action="store_true", help=FULL_TRACE_HELP)


def run(args) -> int:
    started = time.monotonic()
    apply_run_limits(args)
    paths = spec_paths(args.paths)
    if not paths:
        print("modelcheck: no .probe files found", file=sys.stderr)
        return 2
    text = args.format == "text" and not args.output

    def show(path, model, outcomes):
        if text:
            print(spec_report(model, outcomes, show_traces=not args.no_trace, style=args.trace_format,
                              full=args.full_trace, invariants=args.show_invariant))
            print()
    options = EngineOptions(max_depth=args.max_depth, timeout=args.timeout,
                            reduction=not args.no_reduction, certify=args.certify,
                            cone=not args.no_cone)
    entries, errors = check_paths(paths, args.engine, options, args.properties, show,
                                  jobs=args.jobs, cache_dir=cache_dir_of(args), progress=progress_line(args),
                                  scheduler=args.scheduler)
    statuses = [o.status for _, _, outcomes in entries for o in outcomes]
    code = failures_code(errors, statuses)
    # a spec with no model (an error, or the limit ran out compiling it) may declare the name
    unknown = _unknown_properties(args.properties, entries) if not errors else []
    if unknown:
        print(f"modelcheck: no spec checked has a property named {', '.join(map(repr, unknown))}; "
              "`modelcheck check SPEC` lists each spec's properties", file=sys.stderr)
        code = 2
    if args.format != "text" or args.output:
        rendered = FORMATTERS[args.format](entries, errors, code) if args.format != "text" else \
            "\n\n".join(spec_report(m, o, show_traces=not args.no_trace, style=args.trace_format,
                                    full=args.full_trace, invariants=args.show_invariant)
                       for _, m, o in entries) + "\n"
        if args.output:
            write_file_atomically(args.output, rendered)
        else:
            sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    print(summary(*tally(errors, statuses), code, time.monotonic() - started),
          file=sys.stdout if text else sys.stderr)
    return code


def _unknown_properties(wanted, entries) -> list[str]:
    """The --property names that no checked spec declares (like `trace`, that is exit 2)."""
    if not wanted:
        return []
    known = {p.name for _, model, _ in entries if model is not None for p in model.properties}
    return [name for name in wanted if name not in known]
