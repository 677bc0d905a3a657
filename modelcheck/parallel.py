"""Where independent tasks run: in this process, on a local Dask cluster of N worker
processes (`--jobs N`), or on a Dask distributed scheduler at an address (`--scheduler`, or
the MODELCHECK_SCHEDULER environment variable). Every way yields the answers in the order of
the tasks, so a run's output does not depend on where it ran.

A task is a picklable top-level function applied to plain data (spec text, seeds, options);
it returns plain data. A task whose worker dies is tried again by the scheduler; one that
still cannot finish yields a `Failed` in its place, never nothing."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

SCHEDULER_ENV = "MODELCHECK_SCHEDULER"
RETRIES = 1             # a task that raised is run once more before it counts as failed
ALLOWED_FAILURES = 2    # workers a task may take down with it before the scheduler gives up on it


class SchedulerError(Exception):
    """The scheduler at the address given cannot be reached, or the address is not one."""


@dataclass(frozen=True)
class Failed:
    """A task that could not finish: its workers died, or it raised on every try."""
    reason: str


def add_options(parser) -> None:
    """--jobs and --scheduler, shared by every command that runs many independent tasks."""
    from .commands.options import at_least     # --jobs 0 or -1 is a usage error, not one process
    parser.add_argument("--jobs", type=at_least(1), default=1,
                        help="run on a local Dask cluster of this many worker processes (default 1: "
                        "in this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=os.environ.get(SCHEDULER_ENV) or None,
                        help="run on the Dask distributed scheduler at ADDRESS (e.g. tcp://host:8786; "
                        f"default: ${SCHEDULER_ENV}); overrides --jobs")


def is_parallel(jobs: int, scheduler: Optional[str]) -> bool:
    """Whether tasks leave this process."""
    return bool(scheduler) or jobs > 1


def run_tasks(task: Callable[[Any], Any], items: Iterable[Any], jobs: int = 1,
              scheduler: Optional[str] = None,
              on_finished: Optional[Callable[[int, int], None]] = None) -> Iterator[Any]:
    """task(item) for each item, yielded in the order of `items`.

    jobs <= 1 and no scheduler: in this process, one after the other (the task need not be
    picklable). Otherwise on Dask: a LocalCluster of `jobs` worker processes with one thread
    each, or the scheduler at address `scheduler`; a task that cannot finish yields Failed.
    `on_finished(done, total)` is called as tasks finish, in any order (for a progress count).
    Closing the generator early, or Ctrl-C while waiting, cancels the tasks not yet finished."""
    if not is_parallel(jobs, scheduler):
        yield from map(task, items)
        return
    from distributed import Client, as_completed
    items = list(items)
    if scheduler:
        client, cluster = connect(scheduler), None
    else:
        cluster = _local_cluster(jobs)
        client = Client(cluster)
    pending = {}
    try:
        # pure=False: equal items are still separate tasks (a rerun must run again)
        futures = client.map(task, items, pure=False, retries=RETRIES)
        pending = {f.key: f for f in futures}
        index = {f.key: i for i, f in enumerate(futures)}
        ready: dict[int, Any] = {}
        following = 0
        for done, future in enumerate(as_completed(futures), start=1):
            ready[index[future.key]] = _answer(future)
            del pending[future.key]
            future.release()    # the answer is here: the cluster may forget it
            if on_finished is not None:
                on_finished(done, len(futures))
            while following in ready:
                yield ready.pop(following)
                following += 1
    finally:
        client.cancel(list(pending.values()))
        client.close()
        if cluster is not None:
            cluster.close()


def connect(scheduler: str, timeout: str = "30s"):
    """A distributed.Client of the scheduler at address `scheduler`; SchedulerError when it
    cannot be reached within `timeout`, or the address is malformed."""
    from distributed import Client
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, ValueError) as exc:
        raise SchedulerError(f"cannot use the Dask scheduler at {scheduler}: {exc}; start one with "
                             "`dask scheduler` and workers with `dask worker ADDRESS`") from None


def worker_count(scheduler: str) -> int:
    """How many worker processes the scheduler at `scheduler` has now."""
    with connect(scheduler) as client:
        return len(client.scheduler_info()["workers"])


def _answer(future) -> Any:
    """The task's result, or Failed naming why it has none."""
    if future.status == "finished":
        return future.result()
    try:
        error = future.exception()
    except Exception as exc:          # cancelled, or the scheduler went away
        error = exc
    if type(error).__name__ == "KilledWorker":
        # how many tries the scheduler allows is its own setting (allowed-failures)
        return Failed("its worker died on every try the scheduler allowed (out of memory, or killed)")
    return Failed(f"{type(error).__name__}: {error}" + (f" (tried {RETRIES + 1} times)"
                                                         if future.status == "error" else ""))


def _local_cluster(jobs: int):
    """A LocalCluster of `jobs` single-threaded worker processes, quiet, its dashboard on any free port."""
    import dask
    from distributed import LocalCluster
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        return LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                            dashboard_address=":0", silence_logs=logging.ERROR)
