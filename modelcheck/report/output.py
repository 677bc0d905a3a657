"""Writing an output file (`-o`): atomically for regular files, straight through for anything else.

A regular file (or a new path) is written to a temporary file beside it and renamed over it, so a
reader never sees half a file; the result has the mode a plain open() would give (the umask's, or
the replaced file's). A symlink is followed: its target is written, the link stays. A character
device, FIFO or socket (/dev/stdout, /dev/null, a pipe) is written through without renaming
anything over it. A directory, or a path that cannot be written, is an OutputError.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


class OutputError(Exception):
    """An output file could not be written; the message names the path and the reason."""


def write_output(path: str, content: str) -> str:
    """Write `content` (text, UTF-8) to `path`; returns how: 'replaced', 'created' or 'written
    through'. Raises OutputError (never a partial regular file)."""
    try:
        info = os.stat(path)               # follows symlinks, /dev/stdout's /proc links too
    except FileNotFoundError:
        info = None                        # a new file, or a dangling symlink: create its target
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory; name a file inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(path, content)
        return "written through"
    real = os.path.realpath(path)          # follow symlinks: replace the file they name
    _replace(path, real, content, None if info is None else stat.S_IMODE(info.st_mode))
    return "created" if info is None else "replaced"


def _write_through(path: str, content: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
    except OSError as exc:
        reason = "no process reads the FIFO" if exc.errno == errno.ENXIO else exc.strerror
        raise OutputError(f"cannot write {path}: {reason}") from None


def _replace(path: str, real: str, content: str, mode) -> None:
    target = Path(real)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content)
            out.flush()
            os.fchmod(out.fileno(), mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
