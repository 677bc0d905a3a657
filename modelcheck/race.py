"""The race behind a violation, named and verified.

For a counterexample, find the pairs of steps of different threads whose order decides the
outcome, and check each claim by re-checking the model with the opposite order enforced:

- a relevant step `b` read or overwrote what a relevant step `a` of another thread wrote
  before it, or overwrote what `a` read ("a ran before b"), and nothing ordered them (b did
  not wait for a, directly or through other steps); the re-check makes `a` wait until `b`
  has run;
- the violating step `v` read a variable that a step `w` of another thread, which had not run
  yet, would have written ("v ran before w"); the re-check makes `v` wait until `w` has run.

Enforcing an order adds one flag to the model: the later step's edge sets it, the earlier
step's edge waits for it. The re-check decides only the violated property, with the explicit
engine and a time limit; its verdict is reported as it is ("holds", "still violated by
another interleaving", or inconclusive). Nothing here prints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Optional

from .interp import Interpreter, State
from .ir import Const, Edge, Location, Model, Thread, Variable, conj, eq, is_liveness
from .reduce import edge_reads, edge_writes, variables_of
from .replay import Replay
from .result import EngineOptions, Verdict
from .slicing import failing_step, reachable_locations, relevant_in_replay

MAX_CLAIMS = 2
RECHECK_SECONDS = 600.0     # a safety net only: the state limit below keeps re-checks deterministic
RECHECK_STATES = 100_000
FLAG = "order_enforced"


@dataclass(frozen=True)
class Place:
    """One step, as a reader finds it: thread, action and spec line."""
    thread: int
    location: int
    edge: int
    thread_name: str
    label: str
    line: str               # "file:line" or ""

    def __str__(self) -> str:
        where = f" ({self.line})" if self.line else ""
        return f"{self.thread_name}'s \"{self.label.split(' ; ')[0]}\"{where}"


@dataclass(frozen=True)
class RaceClaim:
    """`first` ran before `second` (or before `second` could run), and nothing orders them."""
    first: Place
    second: Place
    happened: bool          # False: `second` had not run when the violation happened
    recheck: str            # holds | violated | inconclusive
    detail: str             # what the re-check found, in words
    waiting: str = ""       # why `second`'s thread had not got there, when it had not started

    @property
    def text(self) -> str:
        unstarted = f" ({self.waiting})" if self.waiting else ""
        second = str(self.second) + ("" if self.happened else ", which had not run yet" + unstarted)
        return f"{self.first} ran before {second}; nothing orders them"


def name_races(model: Model, replayed: Replay, prop: str, options: EngineOptions = EngineOptions(),
               limit: int = MAX_CLAIMS) -> list[RaceClaim]:
    """At most `limit` verified claims, the ones nearest the violation first."""
    claims = []
    for first, second, happened in _candidates(model, replayed, prop):
        if len(claims) >= limit:
            break
        enforced = enforce_order(model, before=second, after=first)
        verdict, detail = _recheck(enforced, prop, options)
        waiting = "" if happened else _not_started(model, replayed, prop, second)
        claims.append(RaceClaim(first, second, happened, verdict, detail, waiting))
    return sorted(claims, key=lambda c: c.recheck != "holds")   # a verified cause first


def enforce_order(model: Model, before: Place, after: Place) -> Model:
    """The model in which the edge of `after` cannot be taken until the edge of `before` has
    been taken once: `before` sets a fresh flag, `after` waits for it."""
    flag = FLAG
    while any(v.name == flag for v in model.variables):
        flag += "_"
    threads = list(model.threads)
    threads[before.thread] = _patched(threads[before.thread], before, lambda e: replace(
        e, assigns=e.assigns + ((flag, Const(1)),)))
    threads[after.thread] = _patched(threads[after.thread], after, lambda e: replace(
        e, guard=conj(e.guard, eq(flag, 1))))
    variables = model.variables + (Variable(flag, 0, 1, 0, role="kernel"),)
    return replace(model, variables=variables, threads=tuple(threads))


def claim_lines(claims: list[RaceClaim]) -> list[str]:
    """The claims as text: each race, then what the re-check found. When some order is verified
    to decide the violation, the unordered pairs whose opposite order still fails are left out:
    they are true, and not the cause."""
    if not claims:
        return ["race: none found: no two steps of different threads, unordered, decide this violation"]
    if any(c.recheck == "holds" for c in claims):
        claims = [c for c in claims if c.recheck != "violated"]
    lines = []
    for claim in claims:
        lines.append(f"race: {claim.text}")
        lines.append(f"  {claim.detail}")
    return lines


def claims_json(claims: list[RaceClaim]) -> list[dict]:
    return [{"first": _place_json(c.first), "second": _place_json(c.second), "second_ran": c.happened,
             "claim": c.text, "recheck": c.recheck, "recheck_detail": c.detail} for c in claims]


# --- the parts ------------------------------------------------------------------------

def _place_json(place: Place) -> dict:
    return {"thread": place.thread_name, "action": place.label, "line": place.line or None}


def _place(model: Model, thread: int, location: int, edge_index: int) -> Place:
    edge = model.threads[thread].locations[location].edges[edge_index]
    line = f"{os.path.basename(edge.span.file)}:{edge.span.line}" if edge.span else ""
    return Place(thread, location, edge_index, model.threads[thread].name, edge.label, line)


def _step_place(model: Model, step) -> Place:
    t = next(i for i, th in enumerate(model.threads) if th.name == step.thread)
    location = step.before.pcs[t]
    edges = model.threads[t].locations[location].edges
    return _place(model, t, location, next(i for i, e in enumerate(edges) if e is step.edge))


def _candidates(model: Model, replayed: Replay, prop: str):
    """(first, second, second_ran) pairs, the nearest the violation first, without repeats."""
    steps = replayed.steps
    relevant = relevant_in_replay(model, replayed, prop)
    seen = set()
    out = []
    v = failing_step(replayed, prop)
    if v is not None:   # the violating step against writes of other threads that had not run yet
        vt = _step_place(model, v)
        checks = [c for c in v.edge.checks if c.prop == prop]
        interp = Interpreter(model)
        for t, thread in enumerate(model.threads):
            if t == vt.thread:
                continue
            writer = next(((loc, e) for loc in reachable_locations(thread, v.before.pcs[t])
                           for e, edge in enumerate(thread.locations[loc].edges)
                           if _would_pass(interp, v.before, edge, checks)), None)
            if writer is not None:
                out.append((vt, _place(model, t, *writer), False))
    ordered = [s for s in steps if s.index in relevant]
    orders = _orders(model, steps)
    for b in reversed(ordered):   # conflicting relevant steps of two threads, latest first
        touched = edge_reads(b.edge) | edge_writes(b.edge)
        for a in reversed([s for s in ordered if s.index < b.index and s.thread != b.thread]):
            conflict = edge_writes(a.edge) & touched or edge_reads(a.edge) & edge_writes(b.edge)
            if conflict and not _ordered(a, b, orders):
                first, second = _step_place(model, a), _step_place(model, b)
                key = (first, second)
                if key not in seen:
                    seen.add(key)
                    out.append((first, second, True))
                break
    return out


def _not_started(model: Model, replayed: Replay, prop: str, writer: Place) -> str:
    """For a writer whose thread took no step before the violation: whether it could have
    started then (only the scheduler kept it back) or was still waiting for something."""
    failing = failing_step(replayed, prop)
    if failing is None or any(s.thread == writer.thread_name for s in replayed.steps[:failing.index - 1]):
        return ""
    state = failing.before
    interp = Interpreter(model)
    first_steps = model.threads[writer.thread].locations[state.pcs[writer.thread]].edges
    if any(interp.eval(e.guard, state.values) for e in first_steps):
        return "its thread was runnable, not yet scheduled"
    return "nothing had let its thread start"


def _would_pass(interp: Interpreter, state: State, edge: Edge, checks) -> bool:
    """Whether taking `edge` just before the violating step would have made its checks pass."""
    if not edge_writes(edge) & {v for c in checks for v in variables_of(c.ok)}:
        return False
    values = list(state.values)
    for var, expr in edge.assigns:
        values[interp.index[var]] = interp.eval(expr, state.values)
    return all(interp.eval(c.ok, tuple(values)) for c in checks)


def _ordered(a, b, orders) -> bool:
    """Whether something other than the pair itself orders a before b: a is before b's previous
    step in its thread, or before another step b read from, or b could not have moved at all
    without a (it waited for a: see _waited)."""
    hb, direct, previous = orders
    p = previous.get(b.index)
    if p is not None and (a.index == p or a.index in hb[p]):
        return True
    for c, waited in direct[b.index].items():
        if c == a.index:
            if waited:
                return True
        elif a.index in hb[c]:
            return True
    return False


def _orders(model: Model, steps):
    """(hb, direct, previous): hb[b] the closure of program order and reads-from; direct[b]
    {a: whether b waited for a} over the steps b read from; previous[b] b's step before it in
    its thread."""
    interp = Interpreter(model)
    initial = steps[0].before.values if steps else ()
    hb: dict[int, set[int]] = {}
    direct: dict[int, dict[int, bool]] = {}
    previous: dict[int, int] = {}
    last: dict[str, int] = {}
    for b in steps:
        preds = set()
        if b.thread in last:
            previous[b.index] = last[b.thread]
            preds |= {last[b.thread]} | hb[last[b.thread]]
        direct[b.index] = {}
        for a in steps[:b.index - 1]:
            if a.thread != b.thread and _reads_from(interp, a, b, initial):
                direct[b.index][a.index] = _waited(model, interp, a, b, initial)
                preds |= {a.index} | hb[a.index]
        hb[b.index] = preds
        last[b.thread] = b.index
    return hb, direct, previous


def _undone(interp: Interpreter, a, b, source) -> tuple:
    values = list(b.before.values)
    for var in edge_writes(a.edge):
        values[interp.index[var]] = source[interp.index[var]]
    return tuple(values)


def _reads_from(interp: Interpreter, a, b, initial: tuple) -> bool:
    """Whether b's own step needed what a wrote: its guard is false with a's writes undone and
    with what a wrote at its value in the initial state (a lock a released that was free at the
    start was not needed from a)."""
    return not any(interp.eval(b.edge.guard, _undone(interp, a, b, source)) for source in (a.before.values, initial))


def _waited(model: Model, interp: Interpreter, a, b, initial: tuple) -> bool:
    """Whether b's thread could take no step at all where it stood without a's writes: it waited
    for a (a work item queued, a completion completed). When another step would have been
    taken instead (b tested what a wrote: `already bound, -EBUSY` against the probe), the
    order of a and b chose the branch: a race."""
    t = next(i for i, th in enumerate(model.threads) if th.name == b.thread)
    edges = model.threads[t].locations[b.before.pcs[t]].edges
    return not any(interp.eval(e.guard, _undone(interp, a, b, source))
                   for source in (a.before.values, initial) for e in edges)


def _patched(thread: Thread, place: Place, change) -> Thread:
    locations = list(thread.locations)
    loc = locations[place.location]
    edges = list(loc.edges)
    edges[place.edge] = change(edges[place.edge])
    locations[place.location] = Location(tuple(edges), loc.rest)
    return replace(thread, locations=tuple(locations))


def _recheck(model: Model, prop: str, options: EngineOptions) -> tuple[str, str]:
    from .checker import CheckerError, check_model
    limits = replace(options, timeout=RECHECK_SECONDS, max_states=min(options.max_states, RECHECK_STATES))
    try:
        [outcome] = check_model(model, "explicit", limits, only=[prop])
    except CheckerError as exc:
        return "inconclusive", f"the re-check with the opposite order enforced failed: {exc}"
    verdict = outcome.result.verdict
    if verdict is Verdict.PROVED:
        return "holds", "re-checked with the opposite order enforced: the property holds"
    if verdict is Verdict.VACUOUS:
        return "holds", ("re-checked with the opposite order enforced: the property holds (the violating step "
                         "can no longer be reached)")
    if verdict is Verdict.VIOLATED:
        other = _describe(model, outcome.replay)
        return "violated", f"re-checked with the opposite order enforced: still violated by another interleaving{other}"
    return "inconclusive", (f"re-checked with the opposite order enforced: inconclusive ({outcome.result.label}: "
                            f"{outcome.result.argument})")


def _describe(model: Model, replayed: Optional[Replay]) -> str:
    """The other interleaving, briefly: its length and its last step."""
    if replayed is None or not replayed.steps:
        return ""
    last = replayed.steps[-1]
    where = f" ({os.path.basename(last.edge.span.file)}:{last.edge.span.line})" if last.edge.span else ""
    return (f" ({len(replayed.steps)} steps, ending with {last.thread}'s "
            f"\"{last.edge.label.split(' ; ')[0]}\"{where})")


_EXPLAINED: dict[int, tuple[object, list[RaceClaim]]] = {}


def races_of(model: Model, outcome) -> list[RaceClaim]:
    """name_races for a checker Outcome, computed once per outcome however many formats
    draw it (the re-checks are searches of their own)."""
    if is_liveness(model.property(outcome.result.prop)):
        return []       # a lasso's cause is its cycle, said after it; no single pair of steps decides it
    key = id(outcome)
    if key not in _EXPLAINED or _EXPLAINED[key][0] is not outcome:
        _EXPLAINED[key] = (outcome, name_races(model, outcome.replay, outcome.result.prop))
    return _EXPLAINED[key][1]
