"""A verdict cache keyed on the compiled model and the options: an unchanged spec is not re-checked.

The key is the compiled IR (so comments and layout do not matter), the engine, the limits and
the checker's version. Cached violations are replayed again on load, like fresh ones.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from . import __version__
from .ir import Model
from .result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict

DEFAULT_DIR = ".modelcheck-cache"


def key(model: Model, engine: str, options: EngineOptions, props: list[str]) -> str:
    text = "\n".join([_code_digest(), engine, repr(options), ",".join(props), repr(model)])
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The checker's own source: a changed engine or lowering never reuses old verdicts."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")) + sorted(Path(__file__).parent.rglob("*.lark")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load(cache_dir: str, digest: str) -> Optional[dict[str, PropertyResult]]:
    path = Path(cache_dir) / f"{digest}.json"
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return {r["prop"]: _result(r) for r in records}
    except (OSError, ValueError, KeyError, TypeError):
        return None   # absent or unreadable: check again


def store(cache_dir: str, digest: str, results: dict[str, PropertyResult]) -> None:
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    target = Path(cache_dir) / f"{digest}.json"
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps([_record(r) for r in results.values()]), encoding="utf-8")
    os.replace(tmp, target)   # readers never see half a file


def _record(r: PropertyResult) -> dict:
    trace = None
    if r.trace is not None:
        trace = {"initial": list(r.trace.initial), "steps": [[s.thread, s.edge] for s in r.trace.steps],
                 "cycle": r.trace.cycle}
    return {"prop": r.prop, "verdict": r.verdict.value, "engine": r.engine, "seconds": r.seconds,
            "bound": r.bound, "argument": r.argument, "trace": trace, "invariant": r.invariant}


def _result(r: dict) -> PropertyResult:
    trace = None
    if r["trace"] is not None:
        trace = Trace(tuple(r["trace"]["initial"]), tuple(TraceStep(t, e) for t, e in r["trace"]["steps"]),
                      r["trace"].get("cycle"))
    engine = r["engine"] if r["engine"].startswith("cache:") else f"cache:{r['engine']}"
    return PropertyResult(r["prop"], Verdict(r["verdict"]), engine, 0.0, r["bound"], r["argument"], trace,
                          r.get("invariant"))
