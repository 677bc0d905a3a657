"""Run an engine over every property of a model, and refuse any trace that does not replay."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Optional

from .ir import Model, Property, is_liveness
from .replay import Replay, ReplayError, confirm_violation
from .result import EngineOptions, ProgressCallback, PropertyResult, Verdict

ENGINE_NAMES = ("explicit", "foata", "bmc", "chc")
SHORTEST_TRACES = ("explicit",)
LIVENESS_ENGINES = ("explicit",)  # the engines that search for fair cycles   # breadth-first: nothing to drop from their traces


EXIT_CODES = {
    0: "every verdict is as expected",
    1: "a property is violated unexpectedly, or an expected violation was not found",
    2: "a spec error or a checker error: nothing trustworthy was decided",
    3: "inconclusive: a bound or time limit was reached before a verdict",
    4: "vacuous: a property with an expectation can never be triggered",
}


def exit_code(statuses: list[str]) -> int:
    for status, code in (("unexpected", 1), ("inconclusive", 3), ("vacuous", 4)):
        if status in statuses:
            return code
    return 0


class CheckerError(Exception):
    """The checker itself went wrong (e.g. a trace that does not replay): never a verdict."""


@dataclass(frozen=True)
class Outcome:
    """One property's result, judged against the spec's `expect` line."""
    prop: Property
    result: PropertyResult
    replay: Optional[Replay] = None

    @property
    def expect(self) -> Optional[str]:
        return self.prop.expect

    @property
    def status(self) -> str:
        """ok | unexpected | inconclusive | vacuous (see EXIT_CODES)."""
        v = self.result.verdict
        if v in (Verdict.BOUNDED, Verdict.TIMEOUT):
            return "inconclusive"
        if v is Verdict.VACUOUS and (self.expect is not None or not self.prop.builtin):
            return "vacuous"   # a property someone relies on says nothing
        if self.expect == "violation":
            return "ok" if v is Verdict.VIOLATED else "unexpected"
        if v is Verdict.VIOLATED:
            return "unexpected"
        return "ok"


def run_engine(name: str, model: Model, props: list[str], options: EngineOptions,
               progress: Optional[ProgressCallback] = None) -> dict:
    """Every property's result; the explicit and foata engines decide them all in one search.
    `progress` receives the explicit search's Progress reports (the others give none)."""
    if name == "explicit":
        from .engines import explicit
        results = explicit.check_all(model, props, options, progress)
        if options.certify:
            from .engines import certify
            results = certify.attach(model, results, options)
        return results
    if name in ("bmc", "chc"):
        from .engines import liveness
        safety, live = liveness.split(model, props)
        results = liveness.not_searched(model, live, name)
    if name == "bmc":
        from .engines import bmc
        return {p: results.get(p) or bmc.check(model, p, options) for p in props}
    if name == "foata":
        from .engines import foata
        return foata.check_all(model, props, options)
    if name == "chc":
        from .engines import chc
        return {p: results.get(p) or chc.check(model, p, options) for p in props}
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


# Beyond this many initial configurations the explicit engine would spend its time at depth 0:
# the configuration space is left to the foata engine's solver instead.
EXPLICIT_CONFIGURATIONS = 20_000


def _run_for_configurations(engine: str, model: Model, props: list[str], options: EngineOptions,
                            progress: Optional[ProgressCallback] = None) -> dict:
    """run_engine, except that a model with too many open configurations for explicit
    enumeration goes to the symbolic foata engine; each result says so."""
    from .cone import more_configurations_than
    if engine != "explicit" or not more_configurations_than(model, EXPLICIT_CONFIGURATIONS):
        return run_engine(engine, model, props, options, progress)
    from .engines.termination import finite_argument
    # No loop in any thread's code decides livelock and hung_task without a search.
    structural = [p for p in props if model.property(p).kind in ("livelock", "hung_task")]
    results = run_engine("explicit", model, structural, options) if structural and finite_argument(model) else {}
    note = (f"more than {EXPLICIT_CONFIGURATIONS:,} initial configurations: decided by the foata engine, "
            "which keeps them symbolic")
    rest = [p for p in props if p not in results]
    if rest:
        results.update({p: replace(r, argument=f"{note}; {r.argument}" if r.argument else note)
                        for p, r in run_engine("foata", model, rest, options).items()})
    return results


def _run_on_cones(engine: str, model: Model, props: list[str], options: EngineOptions,
                  progress: Optional[ProgressCallback] = None) -> dict:
    """Every property's result, each safety property searched on its cone of influence
    (property_cone.py); a violation found there is lifted to the whole model, or the property
    is searched on the whole model when it cannot be. All searches share one time limit."""
    from . import property_cone
    from .minimize import drop_steps
    pieces, no_search = property_cone.slices(model, props) if options.cone else ([], [])
    if not options.cone or (len(pieces) == 1 and pieces[0].whole and not no_search):
        return _run_for_configurations(engine, model, props, options, progress)
    options = replace(options, deadline=options.deadline_from(time.monotonic()))
    results = {p: PropertyResult(p, Verdict.PROVED, engine, 0.0, argument=property_cone.NO_BLOCKING_ARGUMENT)
               for p in no_search}
    searched: dict[str, list[PropertyResult]] = {}
    whole_again: list[str] = []
    for piece in pieces:
        wanted = [p for p in piece.props if p not in whole_again
                  and not any(r.verdict is Verdict.VIOLATED for r in searched.get(p, []))]
        if not wanted:
            continue
        if time.monotonic() >= options.deadline:
            found = {p: PropertyResult(p, Verdict.TIMEOUT, engine, 0.0, argument=(
                f"the time limit ({options.timeout:g} s) ran out in the searches of other properties "
                "before this one's started; no conclusion")) for p in wanted}
            for name, result in found.items():
                searched.setdefault(name, []).append(result)
            continue
        found = _run_for_configurations(engine, piece.model, wanted, options, progress)
        for name, result in found.items():
            if piece.whole:
                searched.setdefault(name, []).append(result)
                continue
            where = piece.describe(model)
            result = replace(result, argument=f"{where}: {result.argument}" if result.argument else where)
            if result.verdict is Verdict.VIOLATED:
                try:
                    lifted = property_cone.lift_trace(model, piece, result.trace, name)
                    # shortest on the cone, not on the whole model: shortened like the Z3 engines' traces
                    result = replace(result, trace=drop_steps(model, lifted, name))
                except (property_cone.LiftError, ReplayError):
                    whole_again.append(name)
                    continue
            searched.setdefault(name, []).append(result)
    if whole_again:
        found = _run_for_configurations(engine, model, whole_again, options, progress)
        searched.update({name: [result] for name, result in found.items()})
    for name, parts in searched.items():
        results[name] = _all_must_hold(parts)
    return results


# Most to least decisive when a property is searched on several cones (deadlock: one per
# thread that can block): one violation decides; otherwise the weakest answer stands.
_DECISIVE = (Verdict.VIOLATED, Verdict.TIMEOUT, Verdict.BOUNDED, Verdict.VACUOUS, Verdict.PROVED)


def _all_must_hold(parts: list[PropertyResult]) -> PropertyResult:
    """One result from the searches of the cones a property was split into."""
    if len(parts) == 1:
        return parts[0]
    worst = min(parts, key=lambda r: (_DECISIVE.index(r.verdict), -r.seconds))
    seconds = sum(r.seconds for r in parts)
    if worst.verdict is Verdict.VIOLATED:
        return replace(worst, seconds=seconds)
    bounds = [r.bound for r in parts if r.bound is not None]
    which = ("all hold; the longest search was" if worst.verdict is Verdict.PROVED
             else f"{sum(r.verdict is worst.verdict for r in parts)} undecided; the longest search was")
    return replace(worst, seconds=seconds, bound=max(bounds) if bounds else None,
                   argument=f"searched as {len(parts)} cones of influence, one per thread that can block; "
                            f"{which} {worst.argument}")


def check_model(model: Model, engine: str = "explicit", options: EngineOptions = EngineOptions(),
                only: Optional[list[str]] = None, cache_dir: Optional[str] = None,
                progress: Optional[ProgressCallback] = None) -> list[Outcome]:
    props = [p for p in model.properties if not only or p.name in only]
    if engine not in LIVENESS_ENGINES and not only:
        # The built-in livelock and hung_task apply to every spec; an engine that cannot
        # search for cycles leaves them out rather than call every spec inconclusive.
        props = [p for p in props if not (p.builtin and is_liveness(p))]
    names = [p.name for p in props]
    if cache_dir:
        from . import cache
        digest = cache.key(model, engine, options, names)
        results = cache.load(cache_dir, digest)
        if results is not None and set(results) == set(names):
            try:
                return _judge(model, engine, props, results)
            except CheckerError:
                pass   # a stored trace that does not replay: the entry is worthless, search again
    results = _run_on_cones(engine, model, names, options, progress)
    # Limits met on this run would not be met the same way on the next: never cache them.
    if cache_dir and all(r.verdict not in (Verdict.TIMEOUT, Verdict.BOUNDED) for r in results.values()):
        problem = cache.store(cache_dir, digest, results)
        if problem:
            _warn_once(f"modelcheck: verdicts not cached: {problem}")
    return _judge(model, engine, props, results)


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    import sys
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)


def _judge(model: Model, engine: str, props: list[Property], results: dict) -> list[Outcome]:
    """Each property's outcome; every violation's trace is replayed (CheckerError if it fails)."""
    outcomes = []
    for prop in props:
        result = results[prop.name]
        replayed = None
        if result.verdict is Verdict.VIOLATED:
            try:
                if result.engine.removeprefix("cache:") not in SHORTEST_TRACES:
                    from .minimize import drop_steps
                    result = replace(result, trace=drop_steps(model, result.trace, prop.name))
                replayed = confirm_violation(model, result.trace, prop.name)
            except (ReplayError, IndexError, ValueError, TypeError) as exc:
                raise CheckerError(f"{model.file}: the {engine} engine's trace for {prop.name} "
                                   f"does not replay: {exc}") from None
        outcomes.append(Outcome(prop, result, replayed))
    return outcomes
