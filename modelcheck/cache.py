"""A verdict cache keyed on the compiled model and the options: an unchanged spec is not re-checked.

The key is the compiled IR (so comments and layout do not matter), the engine, the limits that
can change a conclusive verdict (not the time or memory limit: inconclusive results are never
stored) and the checker's version. A cached verdict saves time, it never creates trust: every
entry carries an HMAC-SHA256 over its content under a key kept outside the cache directory
(`$XDG_CONFIG_HOME/modelcheck/cache-key`), and an entry that is not a regular file, too large,
malformed or unsigned is treated as absent and replaced. Cached violations are replayed again
on load, like fresh ones.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Optional

from . import __version__
from .ir import Model
from .result import EngineOptions, PropertyResult, Trace, TraceStep, Verdict

ENV_DIR = "MODELCHECK_CACHE_DIR"
MAX_ENTRY_BYTES = 64 * 1024 * 1024     # larger files are not read: an entry is a few KB
CACHED = "cache:"                       # engine-name prefix of a result read back from the cache


def default_dir() -> str:
    """$MODELCHECK_CACHE_DIR, else $XDG_CACHE_HOME/modelcheck, else ~/.cache/modelcheck."""
    if os.environ.get(ENV_DIR):
        return os.environ[ENV_DIR]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modelcheck")


def key_path() -> Path:
    """The signing key's file: $XDG_CONFIG_HOME/modelcheck/cache-key (else ~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "modelcheck" / "cache-key"


def key(model: Model, engine: str, options: EngineOptions, props: list[str]) -> str:
    """The entry name: sha256 over the checker's code, engine, verdict-relevant options, model."""
    relevant = replace(options, timeout=0.0, deadline=None)
    text = "\n".join([_code_digest(), engine, repr(relevant), ",".join(props), repr(model)])
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The checker's own source: a changed engine or lowering never reuses old verdicts."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")) + sorted(Path(__file__).parent.rglob("*.lark")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _signing_key(create: bool) -> Optional[bytes]:
    """The HMAC key (32 random bytes, mode 0600), made on first store; None if unavailable."""
    path = key_path()
    try:
        data = _read_regular(path, 4096)
        if data is not None and len(data) == 64:
            return bytes.fromhex(data.decode("ascii"))
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
        return _signing_key(create=False)
    except (OSError, ValueError):
        return None


def _read_regular(path: Path, limit: int) -> Optional[bytes]:
    """The bytes of a regular file of at most `limit` bytes, or None (absent, FIFO, device,
    directory, symlink to one of those, too large). Opens without blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)[:limit]
    except OSError:
        return None
    finally:
        os.close(fd)


def _mac(signing_key: bytes, body: bytes) -> str:
    return hmac.new(signing_key, body, hashlib.sha256).hexdigest()


def load(cache_dir: str, digest: str) -> Optional[dict[str, PropertyResult]]:
    """The stored results, or None when the entry is absent or fails any check (check again)."""
    signing_key = _signing_key(create=False)
    if signing_key is None:
        return None
    data = _read_regular(Path(cache_dir) / f"{digest}.json", MAX_ENTRY_BYTES)
    if data is None:
        return None
    try:
        entry = json.loads(data.decode("utf-8"))
        body = json.dumps(entry["records"], sort_keys=True).encode()
        if not hmac.compare_digest(str(entry["mac"]), _mac(signing_key, digest.encode() + body)):
            return None
        return {r["prop"]: _result(r) for r in entry["records"]}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, UnicodeDecodeError, RecursionError,
            OverflowError):
        return None


def store(cache_dir: str, digest: str, results: dict[str, PropertyResult]) -> Optional[str]:
    """Write the entry atomically; on failure (cache directory unusable) return why, never raise."""
    signing_key = _signing_key(create=True)
    if signing_key is None:
        return f"no signing key at {key_path()}"
    records = [_record(r) for r in results.values()]
    body = json.dumps(records, sort_keys=True).encode()
    entry = {"records": records, "mac": _mac(signing_key, digest.encode() + body)}
    target = Path(cache_dir) / f"{digest}.json"
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        if target.is_dir() and not target.is_symlink():
            return f"{target} is a directory"
        os.replace(tmp, target)   # readers never see half a file; a FIFO or bad entry is replaced
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        return f"{cache_dir}: {exc.strerror or exc}"
    return None


def _record(r: PropertyResult) -> dict:
    trace = None
    if r.trace is not None:
        trace = {"initial": list(r.trace.initial), "steps": [[s.thread, s.edge] for s in r.trace.steps],
                 "cycle": r.trace.cycle}
    engine = r.engine[len(CACHED):] if r.engine.startswith(CACHED) else r.engine
    return {"prop": r.prop, "verdict": r.verdict.value, "engine": engine, "seconds": r.seconds,
            "bound": r.bound, "argument": r.argument, "trace": trace, "invariant": r.invariant}


def _result(r: dict) -> PropertyResult:
    trace = None
    if r["trace"] is not None:
        cycle = r["trace"].get("cycle")
        trace = Trace(tuple(int(x) for x in r["trace"]["initial"]),
                      tuple(TraceStep(int(t), int(e)) for t, e in r["trace"]["steps"]),
                      None if cycle is None else int(cycle))
    verdict = Verdict(r["verdict"])
    if verdict in (Verdict.TIMEOUT, Verdict.BOUNDED) or (verdict is Verdict.VIOLATED) != (trace is not None):
        raise ValueError("not a storable result")
    return PropertyResult(str(r["prop"]), verdict, CACHED + str(r["engine"]), float(r["seconds"]),
                          r["bound"], str(r["argument"]), trace, r.get("invariant"))


def is_cached(result: PropertyResult) -> bool:
    """True for a result read back from the cache rather than searched on this run."""
    return result.engine.startswith(CACHED)
