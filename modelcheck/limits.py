"""Resource limits of one run: a time limit shared by compilation and search, a memory limit on
the address space, and termination by SIGTERM that takes worker processes along.

A run that hits the time or memory limit says which and is inconclusive (exit 3).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Optional


class LimitReached(BaseException):
    """The time or memory limit stopped a spec before any verdict; `kind` is 'time' or 'memory'.
    A BaseException: raised from a signal handler anywhere in compilation, it must not be
    caught and wrapped by library code's `except Exception` (lark's VisitError did)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Terminated(BaseException):
    """SIGTERM arrived: stop now (BaseException, so no `except Exception` swallows it)."""


def default_memory() -> int:
    """Three quarters of physical memory, in bytes: a runaway spec fails instead of swapping."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 3 // 4
    except (ValueError, OSError):
        return 8 << 30


def show_bytes(n: int) -> str:
    """1536 MiB -> '1.5G'; the way --memory is written."""
    for unit, size in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n}B"


_memory_limit: Optional[int] = None      # bytes of resident memory this process may use
_reserve: Optional[bytearray] = None     # freed on MemoryError, so the error can be reported


def set_memory_limit(limit: int) -> None:
    """Limit this process (and the worker processes it starts) to `limit` bytes of resident
    memory: searches poll memory_exceeded() and stop, naming the limit. As a backstop the
    address space is capped at twice the limit plus 1 GiB, so an allocation far beyond it
    raises MemoryError instead of waking the kernel's OOM killer."""
    global _memory_limit, _reserve
    import resource
    _memory_limit = limit
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = 2 * limit + (1 << 30)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    _reserve = bytearray(32 << 20)


def memory_limit() -> Optional[int]:
    """The limit set by set_memory_limit, in bytes (None: none set)."""
    return _memory_limit


def release_reserve() -> None:
    """Free the reserve: called first thing when a MemoryError is caught."""
    global _reserve
    _reserve = None


def memory_exceeded() -> bool:
    """True when this process's resident memory is above the limit (cheap: one /proc read)."""
    if _memory_limit is None:
        return False
    try:
        with open("/proc/self/statm", "rb") as f:
            resident = int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return False
    return resident > _memory_limit


def memory_text() -> str:
    """How the limit reads in messages: '--memory 4G'."""
    return f"--memory {show_bytes(_memory_limit)}" if _memory_limit else "the address-space limit"


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@contextlib.contextmanager
def time_limit(deadline: float, what: str, limit: float):
    """Raise LimitReached('time') if the block is still running at `deadline` (monotonic s).
    Uses SIGALRM, so only the main thread is interrupted; elsewhere the block runs unbounded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise LimitReached("time", f"the time limit ({limit:g} s) ran out while {what}")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise LimitReached("time", f"the time limit ({limit:g} s) ran out while {what}")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, remaining)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def raise_on_sigterm() -> None:
    """SIGTERM raises Terminated in the main thread, so `finally` blocks stop worker pools."""
    def terminate(signum, frame):
        raise Terminated()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)


def die_with_parent(parent: int) -> None:
    """In a worker process: be killed when the parent dies, however it dies (Linux prctl);
    SIGINT is left to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass   # not Linux: the parent's SIGTERM handler still stops the pool
    if os.getppid() != parent:
        os._exit(1)   # the parent died before prctl took effect
