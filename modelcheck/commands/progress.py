"""The progress line a terminal shows while a spec is checked: states stored, states per
second, search depth and time, drawn by tqdm on stderr; for a run on Dask workers, specs
done out of the total instead. Engines report Progress through a
callback; this module alone draws it, and only when both stdout and stderr are terminals and
the output is text (a machine format, a file or a pipe gets nothing)."""
from __future__ import annotations

import sys
import time
from typing import Optional

from ..result import Progress

MIN_INTERVAL = 0.2   # seconds between redraws


def wanted(args) -> bool:
    """Whether a progress line belongs on this run's terminal."""
    if getattr(args, "format", "text") not in ("text", "timeline") or getattr(args, "output", None):
        return False
    return sys.stdout.isatty() and sys.stderr.isatty()


class ProgressLine:
    """One transient line per spec, removed when its search ends."""

    def __init__(self):
        from tqdm import tqdm   # only a terminal needs it
        self._tqdm = tqdm
        self._bar = None
        self._drawn = 0.0

    def start(self, path: str) -> None:
        self.close()
        self._bar = self._tqdm(total=None, desc=path, bar_format="{desc}: {postfix}", leave=False,
                               file=sys.stderr, dynamic_ncols=True)
        self._drawn = 0.0

    def report(self, progress: Progress) -> None:
        now = time.monotonic()
        if self._bar is None or now - self._drawn < MIN_INTERVAL:
            return
        self._drawn = now
        rate = progress.states / progress.seconds if progress.seconds > 0 else 0.0
        self._bar.set_postfix_str(f"{progress.states:,} states, {rate:,.0f} states/s, depth "
                                  f"{progress.depth}, {progress.seconds:.1f}s")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class SpecCount:
    """Specs done out of the total, for a run whose searches happen on Dask workers (they
    cannot report their states back while they search); removed when the run ends."""

    def __init__(self):
        from tqdm import tqdm   # only a terminal needs it
        self._tqdm = tqdm
        self._bar = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            # one redraw per spec finished: few enough to draw each
            self._bar = self._tqdm(total=total, desc="specs checked", unit="spec", leave=False,
                                   mininterval=0, file=sys.stderr, dynamic_ncols=True)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_line(args):
    """A ProgressLine for a run in this process, a SpecCount for one on Dask workers, or None
    when the run should stay silent."""
    if not wanted(args):
        return None
    from ..parallel import is_parallel
    if is_parallel(getattr(args, "jobs", 1), getattr(args, "scheduler", None)):
        return SpecCount()
    return ProgressLine()
