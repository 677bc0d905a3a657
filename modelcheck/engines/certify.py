"""Z3-checked certificates for the explicit engine's proofs (`check --certify`).

The explicit search proves a safety property by visiting every reachable state: the argument
rests on that one engine. A certificate is an inductive invariant that a separate Z3 solver
checks (chc.invariant_holds: it holds in every initial state, every edge preserves it, and it
excludes every state that violates the property), so the proof no longer rests on the search.

The candidates come from the reachable states the explicit engine found (Houdini, Flanagan and
Leino, FME 2001): the values each variable takes; and, at each location of each thread, the
values each variable and the locations each other thread take there. Candidates that some
step can break are dropped until the rest is inductive (one solver question per round over all
edges at once); the conjunction must then exclude the property's bad states. A property whose
proof needs a relation these candidates cannot state (three threads at once, two variables
together) stays "not certified": the verdict is still the search's, and it says so.

A graph of at most EXACT_LIMIT states is certified by the strongest invariant there is, the
set of reachable states itself (a disjunction, one conjunction per state over the variables
that vary): the solver then re-derives, on the Z3 encoding the other engines share, that no
step leaves the set the compiled interpreter enumerated and that no state in it is bad.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Optional

import z3

from ..ir import Model, Property
from ..result import EngineOptions, PropertyResult, Verdict
from .bmc import any_of
from .chc import Encoding, invariant_holds
from .invariant_text import invariant_lines
from .liveness import build_graph

SAFETY_KINDS = ("check", "invariant", "deadlock", "final")
EXACT_LIMIT = 5_000        # states: beyond this the disjunction of states is too large for the solver


@dataclass(frozen=True)
class Certificate:
    """The outcome for one property: an invariant checked by a separate solver, or why not."""
    prop: str
    certified: bool
    conjuncts: int            # in the invariant (certified) or in the candidates left (not)
    reason: str               # why not certified; "" when certified
    invariant: object = None  # z3 formula over chc.Encoding.state, when certified
    exact: bool = False       # the invariant is the set of reachable states itself


def attach(model: Model, results: dict[str, PropertyResult], options: EngineOptions) -> dict[str, PropertyResult]:
    """The explicit engine's results, each PROVED safety property with its certificate: the
    invariant (PropertyResult.invariant, as text) and a sentence added to the argument.
    A property not certified keeps its verdict; its argument says why it was not."""
    wanted = [p for p in model.properties if p.name in results and p.kind in SAFETY_KINDS
              and results[p.name].verdict is Verdict.PROVED]
    if not wanted:
        return results
    started = time.monotonic()
    certificates = certify(model, wanted, options.deadline_from(started))
    out = dict(results)
    for cert in certificates:
        r = out[cert.prop]
        if cert.certified and cert.exact:
            text = (f"the {cert.conjuncts} reachable states the search found, one conjunction each "
                    "(`modelcheck outcomes` lists the end states)")
            note = (f"certified: the set of its {cert.conjuncts} reachable states is inductive and excludes "
                    "every bad state, checked by a separate Z3 solver")
        elif cert.certified:
            text = "\n".join(invariant_lines(model, cert.invariant))
            note = (f"certified: an inductive invariant of {cert.conjuncts} conjuncts, mined from the "
                    "reachable states and checked by a separate Z3 solver")
        else:
            text, note = r.invariant, f"not certified: {cert.reason}"
        out[cert.prop] = replace(r, invariant=text, argument=f"{r.argument}; {note}" if r.argument else note)
    return out


def certify(model: Model, props: list[Property], deadline: float) -> list[Certificate]:
    """One Certificate per property; the reachable states are searched once, unreduced."""
    graph = build_graph(model, EngineOptions(), deadline)
    if not graph.complete:
        why = {"time": "the time limit ran out", "states": "the state limit was reached"}.get(graph.stop, graph.stop)
        return [Certificate(p.name, False, 0, f"no candidates: listing the reachable states stopped ({why})")
                for p in props]
    enc = Encoding(model)
    if len(graph.states) <= EXACT_LIMIT:
        return [_exact(enc, graph.states, p, deadline) for p in props]
    candidates = mine(enc, graph.states)
    kept, why = houdini(enc, candidates, deadline)
    out = []
    for p in props:
        if kept is None:
            out.append(Certificate(p.name, False, len(candidates), why))
            continue
        invariant = z3.And(*kept) if kept else z3.BoolVal(True)
        bad = enc.bad(p)
        if not _excludes(enc, invariant, bad, deadline):
            out.append(Certificate(p.name, False, len(kept), "the inductive part of the candidates "
                                   "does not exclude the property's bad states (it needs a relation "
                                   "among three or more variables or threads)"))
        elif not invariant_holds(enc, invariant, bad, deadline):
            out.append(Certificate(p.name, False, len(kept), "the separate solver's re-check did not "
                                   "finish in time" if time.monotonic() >= deadline else
                                   "the separate solver's re-check failed"))
        else:
            out.append(Certificate(p.name, True, len(kept), "", invariant))
    return out


def reachable_set(enc: Encoding, states):
    """The disjunction of the given states, over the state symbols whose value varies."""
    symbols = enc.state
    rows = [tuple(s.pcs) + tuple(s.values) for s in states]
    varying = [i for i in range(len(symbols)) if len({r[i] for r in rows}) > 1]
    fixed = [symbols[i] == rows[0][i] for i in range(len(symbols)) if i not in varying]
    return z3.And(*fixed, any_of([z3.And(*[symbols[i] == r[i] for i in varying]) for r in set(rows)]))


def _exact(enc: Encoding, states, prop: Property, deadline: float) -> Certificate:
    invariant = reachable_set(enc, states)
    if invariant_holds(enc, invariant, enc.bad(prop), deadline):
        return Certificate(prop.name, True, len(states), "", invariant, exact=True)
    why = ("the separate solver's check did not finish in time" if time.monotonic() >= deadline else
           "the separate solver found a step out of the reachable states, or a bad state in them: "
           "the search and the Z3 encoding disagree (please report it)")
    return Certificate(prop.name, False, len(states), why)


def mine(enc: Encoding, states) -> list:
    """Candidate invariants true in every given state, as z3 formulas over enc.state."""
    model = enc.model
    names = [v.name for v in model.variables]
    domain = {v.name: set(range(v.lo, v.hi + 1)) if v.hi - v.lo < 64 else None for v in model.variables}
    values = [set() for _ in names]
    pcs_seen = [set() for _ in model.threads]
    at_values = defaultdict(lambda: [set() for _ in names])           # (thread, pc) -> per variable
    at_pcs = defaultdict(lambda: [set() for _ in model.threads])      # (thread, pc) -> per thread
    for s in states:
        for i, x in enumerate(s.values):
            values[i].add(x)
        for t, pc in enumerate(s.pcs):
            pcs_seen[t].add(pc)
            seen_values, seen_pcs = at_values[(t, pc)], at_pcs[(t, pc)]
            for i, x in enumerate(s.values):
                seen_values[i].add(x)
            for u, other in enumerate(s.pcs):
                seen_pcs[u].add(other)
    out = []
    for i, name in enumerate(names):
        if domain[name] is None or values[i] != domain[name]:
            out.append(_one_of(enc.vars[name], values[i]))
    for t in range(len(model.threads)):
        out.append(_one_of(enc.pcs[t], pcs_seen[t]))
    for (t, pc), seen_values in at_values.items():
        here = enc.pcs[t] == pc
        for i, name in enumerate(names):
            if seen_values[i] != values[i]:
                out.append(z3.Implies(here, _one_of(enc.vars[name], seen_values[i])))
        for u, seen in enumerate(at_pcs[(t, pc)]):
            if u != t and seen != pcs_seen[u]:
                out.append(z3.Implies(here, _one_of(enc.pcs[u], seen)))
    return out


def houdini(enc: Encoding, candidates: list, deadline: float) -> tuple[Optional[list], str]:
    """The largest subset of `candidates` that is inductive relative to itself (with the value
    ranges), by dropping every candidate a counterexample step breaks; (None, why) when the
    time runs out or the solver gives up."""
    after = [z3.Int(f"{s}'") for s in enc.state]
    primed = list(zip(enc.state, after))
    kept = list(candidates)
    solver = z3.Solver()
    solver.add(enc.ranges(), enc.step(after))
    while kept:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "the time limit ran out while the candidates were made inductive"
        solver.set("timeout", max(1, int(remaining * 1000)))
        post = [z3.substitute(c, *primed) for c in kept]
        solver.push()
        solver.add(*kept)
        solver.add(z3.Not(z3.And(*post)))
        answer = solver.check()
        model = solver.model() if answer == z3.sat else None
        solver.pop()
        if answer == z3.unsat:
            return kept, ""
        if answer != z3.sat:
            return None, f"the solver gave up making the candidates inductive ({solver.reason_unknown()})"
        broken = {i for i, c in enumerate(post) if z3.is_false(model.eval(c, model_completion=True))}
        kept = [c for i, c in enumerate(kept) if i not in broken]
    return kept, ""


def _excludes(enc: Encoding, invariant, bad, deadline: float) -> bool:
    solver = z3.Solver()
    solver.set("timeout", max(1, int((deadline - time.monotonic()) * 1000)))
    solver.add(invariant, enc.ranges(), bad)
    return solver.check() == z3.unsat


def _one_of(x, values) -> object:
    return any_of([x == v for v in sorted(values)])
