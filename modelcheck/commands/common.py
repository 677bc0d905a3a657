"""What every subcommand shares: finding spec files, checking them (in this process or on
Dask workers), reading a spec's source for error messages, the summary line."""
from __future__ import annotations

import os
import sys
from functools import partial
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

from .. import cache
from ..checker import EXIT_CODES, CheckerError, check_model, exit_code
from ..errors import SpecError
from ..frontend import load_file, load_text
from ..limits import (LimitReached, default_memory, memory_text, raise_on_sigterm, release_reserve,
                      set_memory_limit, time_limit)
from ..result import EngineOptions
from .. import parallel
from .options import memory_size


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
                        help="check again even if the cache holds a verdict for the same model")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help=f"where verdicts are cached (default: ${cache.ENV_DIR}, else "
                        "$XDG_CACHE_HOME/modelcheck, else ~/.cache/modelcheck)")
    parallel.add_options(parser)
    parser.add_argument("--memory", type=memory_size, default=None, metavar="SIZE",
                        help="memory limit per process, e.g. 4G or 512M (default: 3/4 of physical "
                        "memory); a spec that reaches it is inconclusive (exit 3)")


def apply_run_limits(args) -> None:
    """Install the memory limit and the SIGTERM handler for a checking command."""
    set_memory_limit(args.memory or default_memory())
    raise_on_sigterm()


def tally(errors: list[str], statuses: list[str]) -> tuple[list[str], int]:
    """(statuses, number of errors) for the summary line: a spec the limits stopped counts as
    inconclusive, not as an error."""
    limited = sum(1 for e in errors if getattr(e, "code", 2) == 3)
    return statuses + ["inconclusive"] * limited, len(errors) - limited


ENGINE_HELP = ("explicit: breadth-first state enumeration (default); foata: Z3, bounded model checking "
               "over partial-order (Foata) frames; bmc: Z3, one step per frame; chc: Z3's Spacer on "
               "constrained Horn clauses, proves with an inductive invariant")
MAX_DEPTH_HELP = (f"deepest search or unrolling, in steps (default {EngineOptions.max_depth}); a search "
                  "stopped by it says BOUNDED")


def exit_codes_epilog(codes: dict) -> str:
    """The `exit codes: 0 ...; 1 ...` line under a subcommand's help."""
    return "exit codes: " + "; ".join(f"{k} {v}" for k, v in codes.items())


FULL_TRACE_HELP = "print every step; by default runs of steps that do not affect the violation are folded"


class Failure(str):
    """A rendered message for a spec that got no verdicts; `code` is its exit code (2: error,
    3: the time or memory limit stopped it)."""
    code = 2


def _limit_failure(message: str) -> Failure:
    failure = Failure(message)
    failure.code = 3
    return failure


def failures_code(errors: list[str], statuses: list[str]) -> int:
    """The exit code of a run: 2 for any error, else 1/3/4 from the statuses, where a spec the
    limits stopped counts as inconclusive."""
    if any(getattr(e, "code", 2) == 2 for e in errors):
        return 2
    return exit_code(statuses + ["inconclusive"] * len(errors))


def check_one(path: str, engine: str, options: EngineOptions, only, cache_dir, progress=None,
              text: Optional[str] = None):
    """(entry, None) or (None, Failure): one spec, in this process or a worker. The time limit
    starts before compilation; hitting it or the memory limit is a Failure with code 3.
    `text` is the spec's source when the caller read it (a worker need not see the file);
    `progress` (a commands.progress.ProgressLine, this process only) shows the search."""
    deadline = options.deadline_from(time.monotonic())
    options = replace(options, deadline=deadline)
    try:
        with time_limit(deadline, "compiling the spec", options.timeout):
            model = load_text(text, path) if text is not None else load_file(path)[0]
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
        return None, Failure(exc.render(text if text is not None else read_source(path)))
    except CheckerError as exc:
        return None, Failure(f"modelcheck: checker error: {exc}")
    except LimitReached as exc:
        return None, _limit_failure(f"{path}: inconclusive: {exc}")
    except MemoryError:
        release_reserve()
        return None, _limit_failure(f"{path}: inconclusive: the memory limit ({memory_text()}) "
                                    "was reached")
    except RecursionError:
        return None, Failure(f"{path}: checker error: the spec nests too deeply for the checker")


def check_task(job: tuple, engine: str, options: EngineOptions, only, cache_dir):
    """check_one on (path, source text or None): the picklable task of a parallel run."""
    path, text = job
    return check_one(path, engine, options, only, cache_dir, text=text)


def check_paths(paths: list[str], engine: str, options: EngineOptions, only=None, on_done=None,
                jobs: int = 1, cache_dir=None, progress=None, scheduler: Optional[str] = None):
    """(entries, errors): each spec's model and outcomes, and the rendered error messages, in
    the order of `paths` wherever they ran (modelcheck.parallel: in this process, on `jobs`
    local worker processes, or on the Dask scheduler at `scheduler`). `progress` is a
    ProgressLine for a run in this process, a commands.progress.SpecCount for a parallel one."""
    if scheduler or (jobs > 1 and len(paths) > 1):   # one spec is not worth starting a cluster
        task = partial(check_task, engine=engine, options=options, only=only, cache_dir=cache_dir)
        jobs_of = [(path, read_source(path)) for path in paths]
        done = parallel.run_tasks(task, jobs_of, jobs, scheduler,
                                  on_finished=progress.update if progress is not None else None)
    else:
        progress = None if parallel.is_parallel(jobs, scheduler) else progress
        done = (check_one(p, engine, options, only, cache_dir, progress) for p in paths)
    entries, errors = [], []
    try:
        for path, answer in zip(paths, done):
            entry, error = _entry_or_error(path, answer)
            if error is not None:
                errors.append(error)
                print(error, file=sys.stderr)
                continue
            entries.append(entry)
            if on_done:
                on_done(*entry)
    finally:
        if progress is not None:
            progress.close()
    return entries, errors


def _entry_or_error(path: str, answer):
    """check_one's (entry, error), or a checker error naming the spec whose task failed."""
    if isinstance(answer, parallel.Failed):
        return None, Failure(f"modelcheck: checker error: {path}: not checked: {answer.reason}")
    return answer


def cache_dir_of(args):
    """The cache directory to use, or None with --no-cache."""
    return None if args.no_cache else (args.cache_dir or cache.default_dir())


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
    from ..frontend import read_spec
    try:
        return read_spec(path)
    except SpecError:
        return None


def load_or_report(path: str):
    """The compiled model of `path`, or None after printing the spec error (file:line:col)."""
    from ..errors import SpecError
    from ..frontend import load_file, load_text
    try:
        return load_file(path)[0]
    except SpecError as exc:
        print(exc.render(read_source(path)))
        return None
