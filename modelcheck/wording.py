"""Small helpers for the words of reports."""
from __future__ import annotations


def count(n: int, noun: str, plural: str = "") -> str:
    """`1 step`, `2 steps`; `plural` for nouns that do not just take an s."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
