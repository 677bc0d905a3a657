"""`modelcheck report`: check specs and write the results directory."""
from __future__ import annotations

import os
import sys
import time

from ..checker import ENGINE_NAMES, exit_code
from ..report.results import render, write_atomically
from ..result import EngineOptions
from .progress import progress_line
from .common import ENGINE_HELP, add_run_options, apply_run_limits, cache_dir_of, check_paths, spec_paths, summary
from .options import seconds


def add_parser(sub) -> None:
    report = sub.add_parser("report", help="check specs and write the results directory")
    report.add_argument("paths", nargs="+", help="spec files or directories of *.probe files")
    report.add_argument("-o", "--output", default="results", help="results directory (default: results)")
    report.add_argument("--engine", choices=ENGINE_NAMES, default="explicit", help=ENGINE_HELP)
    report.add_argument("--timeout", type=seconds, default=600.0, help="time limit in seconds per spec (bmc: per property)")
    add_run_options(report)


def run(args) -> int:
    started = time.monotonic()
    apply_run_limits(args)
    paths = spec_paths(args.paths)
    entries, errors = check_paths(paths, args.engine, EngineOptions(timeout=args.timeout),
                                  jobs=args.jobs, cache_dir=cache_dir_of(args), progress=progress_line(args),
                                  scheduler=args.scheduler)
    if errors or not paths:
        print("modelcheck: results not written: fix the errors above first", file=sys.stderr)
        return 2
    write_atomically(render(entries, args.engine), args.output)
    statuses = [o.status for _, _, outcomes in entries for o in outcomes]
    code = exit_code(statuses)
    print(f"modelcheck: wrote {os.path.join(args.output, 'README.md')} for {len(entries)} specs")
    print(summary(statuses, 0, code, time.monotonic() - started))
    return code
