"""What every subcommand shares: finding spec files, checking them (in this process or in
workers), reading a spec's source for error messages, the summary line."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from ..cache import DEFAULT_DIR as DEFAULT_CACHE
from ..checker import EXIT_CODES, CheckerError, check_model
from ..errors import SpecError
from ..frontend import load_file
from ..result import EngineOptions


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


ENGINE_HELP = ("explicit: breadth-first state enumeration (default); foata: Z3, bounded model checking "
               "over partial-order (Foata) frames; bmc: Z3, one step per frame; chc: Z3's Spacer on "
               "constrained Horn clauses, proves with an inductive invariant")
MAX_DEPTH_HELP = (f"deepest search or unrolling, in steps (default {EngineOptions.max_depth}); a search "
                  "stopped by it says BOUNDED")


def exit_codes_epilog(codes: dict) -> str:
    """The `exit codes: 0 ...; 1 ...` line under a subcommand's help."""
    return "exit codes: " + "; ".join(f"{k} {v}" for k, v in codes.items())


FULL_TRACE_HELP = "print every step; by default runs of steps that do not affect the violation are folded"


def check_one(path: str, engine: str, options: EngineOptions, only, cache_dir, progress=None):
    """(entry, None) or (None, error message): one spec, in this process or a worker.
    `progress` (a commands.progress.ProgressLine, this process only) shows the search."""
    try:
        model, _ = load_file(path)
        if progress is not None:
            progress.start(path)
        try:
            outcomes = check_model(model, engine, options, only, cache_dir,
                                   progress.report if progress is not None else None)
        finally:
            if progress is not None:
                progress.close()
        return (path, model, outcomes), None
    except SpecError as exc:
        return None, exc.render(read_source(path))
    except CheckerError as exc:
        return None, f"modelcheck: checker error: {exc}"


def check_paths(paths: list[str], engine: str, options: EngineOptions, only=None, on_done=None,
                jobs: int = 1, cache_dir=None, progress=None):
    """(entries, errors): each spec's model and outcomes, and the rendered error messages, in
    the order of `paths` whatever the number of jobs. `progress` is used with one job only."""
    if jobs > 1 and len(paths) > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            done = list(pool.map(check_one, paths, *([x] * len(paths) for x in (engine, options, only, cache_dir))))
    else:
        done = (check_one(p, engine, options, only, cache_dir, progress) for p in paths)
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


def summary(statuses: list[str], errors: int, code: int, seconds: Optional[float] = None) -> str:
    """`modelcheck: 3 ok, 1 vacuous in 2.41s (exit 4: ...)`; the time is the whole run's."""
    counts = {s: statuses.count(s) for s in ("ok", "unexpected", "inconclusive", "vacuous")}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    if errors:
        parts.append(f"{errors} spec error{'s' if errors > 1 else ''}")
    took = f" in {seconds:.2f}s" if seconds is not None else ""
    return f"modelcheck: {', '.join(parts) or 'nothing checked'}{took} (exit {code}: {EXIT_CODES[code]})"


def read_source(path: str):
    """The text of a spec file, or None when it cannot be read (errors then show no source line)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def load_or_report(path: str):
    """The compiled model of `path`, or None after printing the spec error (file:line:col)."""
    from ..errors import SpecError
    from ..frontend import load_file
    try:
        return load_file(path)[0]
    except SpecError as exc:
        print(exc.render(read_source(path)))
        return None
