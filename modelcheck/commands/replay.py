"""`modelcheck replay SPEC TRACE.json`: whether a saved trace still reproduces on a spec.

A trace saved by `modelcheck trace --format json` names, for each step, the thread
that moved, its action label and spec line. On the (possibly edited) spec each step is matched
to an enabled edge of the same thread with the same label, else with the same spec line (in a
file of the same name: a renamed copy of a spec is a different design). The
initial state takes the saved values of the variables the spec leaves open (`initial`, or the
`config`/`platform` strings of older files); open variables the file does not name are tried
in every allowed combination, and the one that replays furthest is reported.
"""
from __future__ import annotations

import itertools
import json
import os
from typing import Optional

from ..interp import Interpreter, State, state_violates
from ..ir import Edge, Model, is_liveness
from ..lasso import LassoError, check_lasso
from ..replay import Replay, ReplayedStep
from ..result import Trace, TraceStep
from .common import load_or_report

MAX_INITIAL = 4096      # open-variable combinations tried when the trace file does not fix them


def add_parser(sub) -> None:
    replay = sub.add_parser("replay", help="replay a saved JSON trace on a (possibly edited) spec",
                            description="exit 0 when the saved trace reproduces its violation, 1 when "
                            "it diverges or no longer violates the property, 2 on errors")
    replay.add_argument("spec")
    replay.add_argument("trace", help="a trace written by `modelcheck trace SPEC --property P --format json`")


# --- replay -----------------------------------------------------------------------

def _parse_value(model: Model, name: str, shown) -> Optional[int]:
    var = model.variable(name)
    text = str(shown)
    if var.labels and text in var.labels:
        return var.lo + var.labels.index(text)
    try:
        value = int(text)
    except ValueError:
        return None
    return value if var.lo <= value <= var.hi else None


def saved_initial(doc: dict) -> dict[str, str]:
    if isinstance(doc.get("initial"), dict):
        return {str(k): str(v) for k, v in doc["initial"].items()}
    out = {}
    for key in ("config", "platform"):
        for item in str(doc.get(key) or "").split():
            if "=" in item:
                name, value = item.split("=", 1)
                out[name] = value
    return out


def initial_states(model: Model, saved: dict[str, str]) -> tuple[list[State], list[str]]:
    """Allowed initial states agreeing with the saved values, and notes on values not used."""
    interp = Interpreter(model)
    names = {v.name for v in model.variables}
    notes, fixed = [], {}
    for name, shown in saved.items():
        if name not in names:
            notes.append(f"{name} is not in the spec any more; ignored")
            continue
        value = _parse_value(model, name, shown)
        var = model.variable(name)
        if value is None:
            notes.append(f"{name}={shown} is not a value of {name} any more; every value tried")
        elif var.init is not None and var.init != value:
            notes.append(f"{name} is fixed to {var.show(var.init)} in the spec (the trace had {shown})")
        else:
            fixed[name] = value
    domains = [(v.init,) if v.init is not None else
               (fixed[v.name],) if v.name in fixed else range(v.lo, v.hi + 1) for v in model.variables]
    pcs = tuple(0 for _ in model.threads)
    states = []
    for values in itertools.islice(itertools.product(*domains), MAX_INITIAL * 16):
        if all(interp.eval(c, values) for c in model.constraints):
            states.append(State(tuple(values), pcs))
            if len(states) >= MAX_INITIAL:
                break
    return states, notes


def spec_place(edge: Edge) -> str:
    return f"{os.path.basename(edge.span.file)}:{edge.span.line}" if edge.span else ""


def _same_line(edge: Edge, saved: dict) -> bool:
    line, file = saved.get("line"), saved.get("file")
    return (edge.span is not None and line is not None and edge.span.line == line
            and (file is None or os.path.basename(edge.span.file) == os.path.basename(file)))


def _violated(interp: Interpreter, prop, state: State, failed) -> bool:
    if prop.kind == "check":
        return prop.name in failed
    return state_violates(interp, prop.name, state)


def replay_saved(model: Model, doc: dict, initial: State):
    """(steps replayed, index of the violating step or None, divergence message or None, notes
    on steps matched by spec line only)."""
    interp = Interpreter(model)
    prop = model.property(doc["property"])
    threads = {t.name: i for i, t in enumerate(model.threads)}
    state, steps, by_line = initial, [], []
    if prop.kind == "invariant" and _violated(interp, prop, state, ()):
        return steps, 0, None, by_line
    for n, saved in enumerate(doc.get("steps", []), start=1):
        name, action = saved.get("thread"), saved.get("action")
        if name not in threads:
            return steps, None, (f"diverges at step {n}: there is no thread {name} in the spec; "
                                 f"threads: {', '.join(threads)}"), by_line
        t = threads[name]
        options = [e for tt, _, e in interp.enabled(state) if tt == t]
        edge = next((e for e in options if e.label == action), None) \
            or next((e for e in options if _same_line(e, saved)), None)
        if edge is None:
            where = f" [{os.path.basename(saved['file'])}:{saved['line']}]" if saved.get("line") else ""
            if options:
                enabled = "; ".join(f"{e.label}" + (f" [{spec_place(e)}]" if spec_place(e) else "") for e in options)
            else:
                others = [f"{model.threads[tt].name}: {e.label}" for tt, _, e in interp.enabled(state)]
                enabled = f"nothing for {name}" + (f" (other threads: {'; '.join(others)})" if others
                                                   else " (no thread can move)")
            return steps, None, (f"diverges at step {n}: thread {name} cannot take {action}{where} here; "
                                 f"enabled: {enabled}"), by_line
        if edge.label != action:
            by_line.append(f"step {n} ({name}) matched by spec line {spec_place(edge)} only: "
                           f"saved {action!r}, now {edge.label!r}")
        after = interp.step(state, t, edge)
        failed = tuple(interp.failed_checks(state, edge))
        steps.append(ReplayedStep(n, name, edge, state, after, failed))
        state = after
        if not is_liveness(prop) and _violated(interp, prop, after, failed):
            return steps, n, None, by_line
    if is_liveness(prop) and steps:
        return steps, _lasso_holds(model, doc, initial, steps, prop), None, by_line
    return steps, None, None, by_line


def _lasso_holds(model: Model, doc: dict, initial: State, steps: list, prop) -> Optional[int]:
    """The last step's index when the replayed steps, with the saved cycle (`cycle_start`,
    1-based) or a quiescent end, are a fair execution violating the liveness property `prop`
    (modelcheck/lasso.check_lasso); None otherwise."""
    threads = {t.name: i for i, t in enumerate(model.threads)}
    trace_steps = []
    for step in steps:
        t = threads[step.thread]
        edges = model.threads[t].locations[step.before.pcs[t]].edges
        trace_steps.append(TraceStep(t, edges.index(step.edge)))
    start = doc.get("cycle_start")
    trace = Trace(tuple(initial.values), tuple(trace_steps), None if start is None else start - 1)
    try:
        check_lasso(model, trace, Replay(initial, tuple(steps)), prop)
    except LassoError:
        return None
    return len(steps)


class _ReportWithTraces(Exception):
    """A `check --format json` report whose traces are not exactly one."""


def _one_trace(doc):
    """The trace document itself, or the only trace a `check --format json` report holds;
    _ReportWithTraces when the report holds none or several."""
    if not (isinstance(doc, dict) and isinstance(doc.get("specs"), list)):
        return doc
    traces = [(p.get("name"), p["trace"]) for spec in doc["specs"] if isinstance(spec, dict)
              for p in spec.get("properties", []) if isinstance(p, dict) and isinstance(p.get("trace"), dict)]
    if len(traces) == 1:
        return traces[0][1]
    names = ", ".join(str(name) for name, _ in traces)
    raise _ReportWithTraces(f"{len(traces)} traces ({names})" if traces else "no trace")


def run(args) -> int:
    model = load_or_report(args.spec)
    if model is None:
        return 2
    try:
        with open(args.trace, encoding="utf-8") as f:
            doc = _one_trace(json.load(f))
        prop_name = doc["property"]
        saved_steps = doc["steps"]
    except _ReportWithTraces as exc:
        print(f"modelcheck: {args.trace} is a `check --format json` report with {exc}; save one "
              f"with `modelcheck trace SPEC --property NAME --format json -o FILE` and replay that")
        return 2
    except (OSError, ValueError, KeyError, TypeError) as exc:
        missing = f"it has no {exc} field" if isinstance(exc, KeyError) else str(exc)
        print(f"modelcheck: {args.trace} is not a trace saved by `modelcheck trace --format json`: {missing}")
        return 2
    try:
        model.property(prop_name)
    except KeyError:
        print(f"modelcheck: {args.spec} has no property {prop_name!r} (the trace's property)")
        return 2
    candidates, notes = initial_states(model, saved_initial(doc))
    for note in notes:
        print(f"note: {note}")
    if not candidates:
        print(f"diverges at step 0: no allowed initial state of {args.spec} has the saved values "
              f"{doc.get('config')} {doc.get('platform')}")
        return 1
    best = None
    for initial in candidates:
        steps, bad, message, by_line = replay_saved(model, doc, initial)
        key = (bad is not None, len(steps))
        if best is None or key > best[0]:
            best = (key, steps, bad, message, by_line)
        if bad is not None:
            break
    _, steps, bad, message, by_line = best
    if bad is not None:
        extra = "" if bad == len(saved_steps) else f" (the saved trace has {len(saved_steps)} steps)"
        message = f"reproduces: {prop_name} violated at step {bad}{extra}"
        if doc.get("cycle_start") is not None:
            message += (f"; the cycle from step {doc['cycle_start']} returns to its first state and "
                        f"is fair, so it repeats forever")
    elif message is None:
        message = (f"does not reproduce: all {len(saved_steps)} steps replay but {prop_name} "
                   f"is not violated")
    print(message)
    for note in by_line:
        print(f"  {note}")
    return 0 if bad is not None else 1
