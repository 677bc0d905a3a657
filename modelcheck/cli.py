"""The `modelcheck` command: wires the stages together; no stage imports this module."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cache import DEFAULT_DIR as DEFAULT_CACHE
from .checker import ENGINE_NAMES, EXIT_CODES, CheckerError, check_model, exit_code
from .errors import SpecError
from .frontend import load_file
from .report.formats import FORMATTERS
from .report.results import write_file_atomically
from .report.text import spec_report
from .report.traceformats import TRACE_RENDERERS
from .result import EngineOptions


def spec_paths(args: list[str]) -> list[str]:
    """Files as given; directories searched recursively for *.probe, in sorted order."""
    out = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*.probe"))
        else:
            out.append(arg)
    return out


def add_run_options(parser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help=f"check again even if {DEFAULT_CACHE}/ holds a verdict for the same model")
    parser.add_argument("--jobs", type=int, default=1, help="check this many specs in parallel")


FULL_TRACE_HELP = "print every step; by default runs of steps that do not affect the violation are folded"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelcheck", description="Model checker for Linux kernel probe ordering.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="decide every property of the given specs",
                           epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()))
    check.add_argument("paths", nargs="+", help="spec files or directories of *.probe files")
    check.add_argument("--engine", choices=ENGINE_NAMES, default="explicit",
                       help="explicit: breadth-first state enumeration (default); foata: Z3, bounded "
                       "model checking over partial-order (Foata) frames; bmc: Z3, one step per frame")
    check.add_argument("--property", action="append", dest="properties", help="check only this property")
    check.add_argument("--max-depth", type=int, default=EngineOptions.max_depth)
    check.add_argument("--timeout", type=float, default=EngineOptions.timeout, help="time limit in seconds per spec (bmc: per property)")
    check.add_argument("--no-trace", action="store_true", help="verdicts only")
    check.add_argument("--no-reduction", action="store_true",
                       help="explicit: search every interleaving, without partial-order reduction")
    check.add_argument("--show-invariant", action="store_true",
                       help="print the inductive invariant under each verdict proved by one (--engine chc)")
    check.add_argument("--format", choices=("text",) + tuple(FORMATTERS), default="text",
                       help="text for people; json (schema modelcheck-result/1), sarif 2.1.0, junit "
                       "XML, or email (72 columns, for a reply on the list)")
    check.add_argument("-o", "--output", help="write the formatted result to this file (atomically)")
    add_run_options(check)
    check.add_argument("--trace-format", choices=("text", "timeline") + tuple(TRACE_RENDERERS), default="text",
                       help="how counterexamples are drawn in text output")
    check.add_argument("--full-trace", action="store_true", help=FULL_TRACE_HELP)
    trace = sub.add_parser("trace", help="print the counterexample of one property")
    trace.add_argument("spec")
    trace.add_argument("--property", required=True, help="the property whose counterexample to print")
    trace.add_argument("--format", choices=TRACE_FORMATS, default="timeline")
    trace.add_argument("--engine", choices=ENGINE_NAMES, default="explicit")
    trace.add_argument("--timeout", type=float, default=EngineOptions.timeout, help="seconds")
    trace.add_argument("--width", type=int, default=100, help="columns of the timeline")
    trace.add_argument("-o", "--output", help="write the trace to this file (atomically)")
    trace.add_argument("--full-trace", action="store_true", help=FULL_TRACE_HELP)
    diff = sub.add_parser("diff", help="check two versions of a design and print what changed")
    diff.add_argument("old", help="the earlier spec")
    diff.add_argument("new", help="the later spec")
    diff.add_argument("--engine", choices=ENGINE_NAMES, default="explicit")
    diff.add_argument("--timeout", type=float, default=EngineOptions.timeout, help="time limit in seconds per spec (bmc: per property)")
    report = sub.add_parser("report", help="check specs and write the results directory")
    report.add_argument("paths", nargs="+", help="spec files or directories of *.probe files")
    report.add_argument("-o", "--output", default="results", help="results directory (default: results)")
    report.add_argument("--engine", choices=ENGINE_NAMES, default="explicit")
    report.add_argument("--timeout", type=float, default=600.0, help="time limit in seconds per spec (bmc: per property)")
    add_run_options(report)
    from .tracecmds import add_parsers
    add_parsers(sub)   # replay, simulate
    from .promela import add_export_parser
    add_export_parser(sub)   # export --promela
    from .outcomes import add_outcomes_parser
    add_outcomes_parser(sub)   # outcomes
    from .mutate import add_mutate_parser
    add_mutate_parser(sub)   # mutate
    return parser


def check_one(path: str, engine: str, options: EngineOptions, only, cache_dir):
    """(entry, None) or (None, error message): one spec, in this process or a worker."""
    try:
        model, _ = load_file(path)
        return (path, model, check_model(model, engine, options, only, cache_dir)), None
    except SpecError as exc:
        return None, exc.render(_source(path))
    except CheckerError as exc:
        return None, f"modelcheck: checker error: {exc}"


def check_paths(paths: list[str], engine: str, options: EngineOptions, only=None, on_done=None,
                jobs: int = 1, cache_dir=None):
    """(entries, errors): each spec's model and outcomes, and the rendered error messages, in
    the order of `paths` whatever the number of jobs."""
    if jobs > 1 and len(paths) > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            done = list(pool.map(check_one, paths, *([x] * len(paths) for x in (engine, options, only, cache_dir))))
    else:
        done = (check_one(p, engine, options, only, cache_dir) for p in paths)
    entries, errors = [], []
    for entry, error in done:
        if error is not None:
            errors.append(error)
            print(error, file=sys.stderr)
            continue
        entries.append(entry)
        if on_done:
            on_done(*entry)
    return entries, errors


def cache_dir_of(args):
    return None if args.no_cache else DEFAULT_CACHE


def run_report(args) -> int:
    from .report.results import render, write_atomically
    paths = spec_paths(args.paths)
    entries, errors = check_paths(paths, args.engine, EngineOptions(timeout=args.timeout),
                                  jobs=args.jobs, cache_dir=cache_dir_of(args))
    if errors or not paths:
        print("modelcheck: results not written: fix the errors above first", file=sys.stderr)
        return 2
    write_atomically(render(entries, args.engine), args.output)
    statuses = [o.status for _, _, outcomes in entries for o in outcomes]
    code = exit_code(statuses)
    print(f"modelcheck: wrote {os.path.join(args.output, 'README.md')} for {len(entries)} specs")
    print(_summary(statuses, 0, code))
    return code


TRACE_FORMATS = ("timeline", "text", "json") + tuple(TRACE_RENDERERS)   # itf mermaid html markdown


def run_trace(args) -> int:
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
    import json as _json
    from .report.results import trace_json
    from .report.text import trace_text
    from .report.timeline import timeline
    if fmt == "timeline":
        return timeline(model, outcome, width, full=full) + "\n"
    if fmt == "text":
        return trace_text(model, outcome, full) + "\n"
    if fmt in TRACE_RENDERERS:
        return TRACE_RENDERERS[fmt](model, outcome, full)
    return _json.dumps(trace_json(model, outcome), indent=2) + "\n"


def run_diff(args) -> int:
    """Exit 0 when nothing regressed, 1 when a property became violated or vacuous, 2 on errors."""
    from .diff import compare, compare_outcomes, render_diff, render_outcomes
    entries, errors = check_paths([args.old, args.new], args.engine, EngineOptions(timeout=args.timeout))
    if errors:
        return 2
    (_, old_model, old), (_, new_model, new) = entries
    changes = compare(old_model, old, new_model, new)
    print(render_diff(args.old, args.new, changes))
    print("\n".join(render_outcomes(compare_outcomes(old_model, new_model, EngineOptions(timeout=args.timeout)))))
    return 1 if any(c.kind in ("newly violated", "newly vacuous") for c in changes) else 0


def run_check(args) -> int:
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
                            reduction=not args.no_reduction)
    entries, errors = check_paths(paths, args.engine, options, args.properties, show,
                                  jobs=args.jobs, cache_dir=cache_dir_of(args))
    statuses = [o.status for _, _, outcomes in entries for o in outcomes]
    code = 2 if errors else exit_code(statuses)
    if args.format != "text" or args.output:
        rendered = FORMATTERS[args.format](entries, errors, code) if args.format != "text" else \
            "\n\n".join(spec_report(m, o, show_traces=not args.no_trace, style=args.trace_format,
                                    full=args.full_trace, invariants=args.show_invariant)
                       for _, m, o in entries) + "\n"
        if args.output:
            write_file_atomically(args.output, rendered)
        else:
            sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    print(_summary(statuses, len(errors), code), file=sys.stdout if text else sys.stderr)
    return code


def _summary(statuses: list[str], errors: int, code: int) -> str:
    counts = {s: statuses.count(s) for s in ("ok", "unexpected", "inconclusive", "vacuous")}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    if errors:
        parts.append(f"{errors} spec error{'s' if errors > 1 else ''}")
    return f"modelcheck: {', '.join(parts) or 'nothing checked'} (exit {code}: {EXIT_CODES[code]})"


def _source(path: str):
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "trace":
            return run_trace(args)
        if args.command == "diff":
            return run_diff(args)
        if args.command == "report":
            return run_report(args)
        if args.command == "export":
            from .promela import run_export
            return run_export(args)
        if args.command == "outcomes":
            from .outcomes import run_outcomes
            return run_outcomes(args)
        if args.command == "mutate":
            from .mutate import run_mutate
            return run_mutate(args)
        if args.command in ("replay", "simulate"):
            from . import tracecmds
            return getattr(tracecmds, f"run_{args.command}")(args)
    except KeyboardInterrupt:
        print("modelcheck: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
