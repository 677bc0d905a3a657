"""Argument types for limits: each refuses what would silently mean something else (nan, inf,
negative or zero limits) with argparse's usage error, exit 2."""
from __future__ import annotations

import argparse
import math
import re

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def seconds(text: str) -> float:
    """A time limit: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number of seconds above 0, e.g. 60")
    return value


def at_least(lowest: int):
    """An integer option that must be >= lowest."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least {lowest}")
        return value
    parse.__name__ = f"integer >= {lowest}"
    return parse


def memory_size(text: str) -> int:
    """A memory limit in bytes, from e.g. 4G, 512M, 2.5GiB or a plain byte count (>= 64M)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write e.g. 4G or 512M")
    value = int(float(match.group(1)) * _UNITS[(match.group(2) or "")[:1].upper()])
    if value < 64 << 20:
        raise argparse.ArgumentTypeError(f"{text!r}: a memory limit below 64M leaves no room to start")
    return value
