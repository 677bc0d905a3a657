"""Kernel C files parsed with tree-sitter, and the small helpers the extractor reads them with.

Kernel annotations that are not C (`__init`, `__exit`, ...) are blanked to spaces before parsing,
so lines and columns stay those of the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import tree_sitter
import tree_sitter_c

from ..errors import SpecError
from ..ir import Span

_ANNOTATIONS = re.compile(r"\b(__init|__exit|__initdata|__exitdata|__refdata|__maybe_unused|__read_mostly"
                          r"|__ro_after_init|__always_unused|__must_check|__cold|__devinit|__devexit)\b")
_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


@dataclass
class CFile:
    """One C file: its display path (what `# FILE:LINE` notes say), source bytes and syntax tree."""
    path: str
    src: bytes
    tree: tree_sitter.Tree

    def text(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def line(self, node) -> int:
        return node.start_point[0] + 1

    def loc(self, node) -> str:
        return f"{self.path}:{self.line(node)}"


def parse_c(text: str, path: str) -> CFile:
    """Parse C source; tree-sitter recovers from what it cannot parse (macros), so this never fails."""
    cleaned = _ANNOTATIONS.sub(lambda m: " " * len(m.group(0)), text)
    src = cleaned.encode("utf-8")
    return CFile(path, src, _PARSER.parse(src))


def read_c(path: str, display: Optional[str] = None) -> CFile:
    """Read and parse a C file; an unreadable file is E500 (exit 2)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SpecError("E500", Span(path, 1, 1), f"cannot read C file {path}: {exc.strerror or exc}") from None
    return parse_c(text, display or path)


def walk(node) -> Iterator:
    """Every node below `node` (pre-order), itself included."""
    yield node
    for child in node.children:
        yield from walk(child)


def named(node) -> list:
    """Named children, comments left out."""
    return [c for c in node.named_children if c.type != "comment"]


def strip(node):
    """The object an argument designates: `&x`, `(x)`, `(void *)x`, `*x` all designate x."""
    while node is not None:
        if node.type in ("parenthesized_expression",) and named(node):
            node = named(node)[0]
        elif node.type == "cast_expression":
            node = node.child_by_field_name("value")
        elif node.type == "pointer_expression":
            node = node.child_by_field_name("argument")
        else:
            return node
    return node


def call_name(cfile: CFile, call) -> Optional[str]:
    """The called identifier of a call_expression, or None for calls through expressions."""
    fn = call.child_by_field_name("function")
    return cfile.text(fn) if fn is not None and fn.type == "identifier" else None


def call_args(call) -> list:
    args = call.child_by_field_name("arguments")
    return named(args) if args is not None else []


def string_value(cfile: CFile, node) -> Optional[str]:
    """The text of a string literal (concatenated pieces joined), or None."""
    node = strip(node)
    if node is None:
        return None
    if node.type == "string_literal":
        return "".join(cfile.text(c) for c in node.named_children if c.type == "string_content")
    if node.type == "concatenated_string":
        parts = [string_value(cfile, c) for c in node.named_children]
        return "".join(p for p in parts if p is not None)
    return None


_MACRO = re.compile(r"^\s*(?:static\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*;?\s*$", re.S)


def macro_call(text: str) -> Optional[tuple[str, list[str]]]:
    """A file-scope macro invocation `[static] NAME(a, b);` as (NAME, [a, b]); None otherwise.
    tree-sitter cannot know macros, so these are read from the node's text."""
    m = _MACRO.match(text)
    if not m:
        return None
    return m.group(1), split_args(m.group(2))


def split_args(text: str) -> list[str]:
    """Split a macro's argument text at top-level commas."""
    out, depth, cur, quote = [], 0, "", False
    for ch in text:
        if ch == '"':
            quote = not quote
        if not quote:
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out
