"""Spec file to IR model: read, parse, compile. Every failure is a SpecError."""
from __future__ import annotations

import os
import stat

from .errors import SpecError
from .ir import Model, Span
from .cone import drop_unread_configs
from .reduce import fuse
from .semantics.compile import compile_spec
from .syntax.parser import parse


def load_text(text: str, file: str = "<spec>", fuse_steps: bool = True) -> Model:
    """The compiled model of a spec text; `fuse_steps=False` skips step fusion (reduce.fuse),
    so a search of the unfused model can check what fusion kept. Raises SpecError."""
    try:
        model = compile_spec(parse(text, file))
        return drop_unread_configs(fuse(model) if fuse_steps else model)
    except SpecError as exc:
        if exc.span is None:   # every error must print file:line:col; the file's start is the fallback
            exc.span = Span(file, 1, 1)
        raise


MAX_SPEC_BYTES = 1 << 20     # 1 MiB: the largest bundled spec is about 10 KB


def load_file(path: str) -> tuple[Model, str]:
    """The compiled model and the source text (for error rendering and traces)."""
    text = read_spec(path)
    return load_text(text, path), text


def read_spec(path: str) -> str:
    """A spec's text, read only from a regular file of at most MAX_SPEC_BYTES (E104, E105; E300
    when unreadable); a FIFO or device is refused without a blocking open or read."""
    span = Span(path, 1, 1)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise SpecError("E300", span, f"cannot read {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError("E300", span, f"cannot read {path}: it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise SpecError("E104", span, f"{path} is not a regular file ({_kind(info.st_mode)})")
        if info.st_size > MAX_SPEC_BYTES:
            raise SpecError("E105", span, f"{path} has {info.st_size:,} bytes; a spec may have at most "
                            f"{MAX_SPEC_BYTES:,}")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
        if len(data) > MAX_SPEC_BYTES:
            raise SpecError("E105", span, f"{path} grew past {MAX_SPEC_BYTES:,} bytes while being read")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)   # OSError's str repeats the path
        raise SpecError("E300", span, f"cannot read {path}: {reason}") from None
    finally:
        os.close(fd)
    return text


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"
