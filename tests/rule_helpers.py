"""Helpers for tests/test_kernel_rules.py: check a tiny spec with every engine, compare verdicts."""
from __future__ import annotations

from textwrap import dedent
from typing import Optional

from modelcheck.checker import check_model
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Verdict

ENGINES = ("explicit", "foata")          # explicit first: it is fast, so a wrong verdict fails early
OPTIONS = EngineOptions(max_depth=60, timeout=60)
VIOLATED = Verdict.VIOLATED
PROVED = Verdict.PROVED


def spec(title: str, body: str) -> str:
    """A spec text: the title line, then the (dedented) body."""
    return f'spec "{title}"\n' + dedent(body)


def verdicts(text: str, engine: str, only: Optional[list[str]] = None,
             options: EngineOptions = OPTIONS) -> dict[str, Verdict]:
    """{property name: verdict} from one engine; every VIOLATED must come with a replayed trace."""
    model = load_text(text, file="rule.probe")
    out = {}
    for o in check_model(model, engine, options, only=only):
        if o.result.verdict is Verdict.VIOLATED:
            assert o.replay is not None, f"{engine}: {o.result.prop} is VIOLATED without a replay"
        out[o.result.prop] = o.result.verdict
    return out


def expect(text: str, timeout: int = OPTIONS.timeout, **wanted: Verdict) -> dict[str, Verdict]:
    """Check the named properties of `text` with every engine: each engine must give the
    wanted verdicts, and the engines must agree with each other. timeout: seconds per engine,
    for the few specs whose complete foata search takes longer than the default."""
    options = EngineOptions(max_depth=OPTIONS.max_depth, timeout=timeout)
    seen = {}
    for engine in ENGINES:
        got = verdicts(text, engine, only=list(wanted), options=options)
        missing = set(wanted) - set(got)
        assert not missing, f"{engine}: no propert(ies) {sorted(missing)} in the model; have {sorted(got)}"
        wrong = {p: (wanted[p].name, got[p].name) for p in wanted if got[p] is not wanted[p]}
        assert not wrong, f"{engine}: {{property: (expected, got)}} = {wrong}"
        seen[engine] = got
    first = seen[ENGINES[0]]
    assert all(v == first for v in seen.values()), f"engines disagree: {seen}"
    return first
