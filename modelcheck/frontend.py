"""Spec file to IR model: read, parse, compile. Every failure is a SpecError."""
from __future__ import annotations

from pathlib import Path

from .errors import SpecError
from .ir import Model, Span
from .cone import drop_unread_configs
from .reduce import fuse
from .semantics.compile import compile_spec
from .syntax.parser import parse


def load_text(text: str, file: str = "<spec>") -> Model:
    try:
        return drop_unread_configs(fuse(compile_spec(parse(text, file))))
    except SpecError as exc:
        if exc.span is None:   # every error must print file:line:col; the file's start is the fallback
            exc.span = Span(file, 1, 1)
        raise


def load_file(path: str) -> tuple[Model, str]:
    """The compiled model and the source text (for error rendering and traces)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)   # OSError's str repeats the path
        raise SpecError("E300", Span(path, 1, 1), f"cannot read {path}: {reason}") from None
    return load_text(text, path), text
