"""`modelcheck replay SPEC TRACE.json` and `modelcheck simulate SPEC --seed N`.

replay: a trace saved by `modelcheck trace --format json` names, for each step, the thread
that moved, its action label and spec line. On the (possibly edited) spec each step is matched
to an enabled edge of the same thread with the same label, else with the same spec line (in a
file of the same name: a renamed copy of a spec is a different design). The
initial state takes the saved values of the variables the spec leaves open (`initial`, or the
`config`/`platform` strings of older files); open variables the file does not name are tried
in every allowed combination, and the one that replays furthest is reported.

simulate: random runs of the reference interpreter, one random initial state and one random
enabled step at a time, printed like the text trace; the same seed gives the same runs.
"""
from __future__ import annotations

import itertools
import json
import os
import random
from typing import Optional

from .interp import Interpreter, State, state_violates
from .ir import Edge, Model
from .replay import ReplayedStep

MAX_INITIAL = 4096      # open-variable combinations tried when the trace file does not fix them


def add_parsers(sub) -> None:
    replay = sub.add_parser("replay", help="replay a saved JSON trace on a (possibly edited) spec",
                            description="exit 0 when the saved trace reproduces its violation, 1 when "
                            "it diverges or no longer violates the property, 2 on errors")
    replay.add_argument("spec")
    replay.add_argument("trace", help="a trace written by `modelcheck trace SPEC --property P --format json`")
    simulate = sub.add_parser("simulate", help="random runs of the spec, printed like the text trace",
                              description="exit 0 when no run violates a property unexpectedly, 1 otherwise")
    simulate.add_argument("spec")
    simulate.add_argument("--seed", type=int, required=True, help="the same seed gives the same runs")
    simulate.add_argument("--runs", type=int, default=1)
    simulate.add_argument("--steps", type=int, default=200, help="at most this many steps per run")


def _load(path: str):
    from .errors import SpecError
    from .frontend import load_file
    try:
        return load_file(path)[0]
    except SpecError as exc:
        try:
            source = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            source = None
        print(exc.render(source))
        return None


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


def _where(edge: Edge) -> str:
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
                enabled = "; ".join(f"{e.label}" + (f" [{_where(e)}]" if _where(e) else "") for e in options)
            else:
                others = [f"{model.threads[tt].name}: {e.label}" for tt, _, e in interp.enabled(state)]
                enabled = f"nothing for {name}" + (f" (other threads: {'; '.join(others)})" if others
                                                   else " (no thread can move)")
            return steps, None, (f"diverges at step {n}: thread {name} cannot take {action}{where} here; "
                                 f"enabled: {enabled}"), by_line
        if edge.label != action:
            by_line.append(f"step {n} ({name}) matched by spec line {_where(edge)} only: "
                           f"saved {action!r}, now {edge.label!r}")
        after = interp.step(state, t, edge)
        failed = tuple(interp.failed_checks(state, edge))
        steps.append(ReplayedStep(n, name, edge, state, after, failed))
        state = after
        if _violated(interp, prop, after, failed):
            return steps, n, None, by_line
    return steps, None, None, by_line


def run_replay(args) -> int:
    model = _load(args.spec)
    if model is None:
        return 2
    try:
        with open(args.trace, encoding="utf-8") as f:
            doc = json.load(f)
        prop_name = doc["property"]
        saved_steps = doc["steps"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"modelcheck: {args.trace} is not a trace saved by `modelcheck trace --format json`: {exc}")
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
    elif message is None:
        message = (f"does not reproduce: all {len(saved_steps)} steps replay but {prop_name} "
                   f"is not violated")
    print(message)
    for note in by_line:
        print(f"  {note}")
    return 0 if bad is not None else 1


# --- simulate ---------------------------------------------------------------------

def _random_initial(model: Model, rng: random.Random) -> Optional[State]:
    interp = Interpreter(model)
    pcs = tuple(0 for _ in model.threads)
    for _ in range(1000):
        values = tuple(v.init if v.init is not None else rng.randint(v.lo, v.hi) for v in model.variables)
        if all(interp.eval(c, values) for c in model.constraints):
            return State(values, pcs)
    states = list(itertools.islice(interp.initial_states(), MAX_INITIAL))
    return rng.choice(states) if states else None


def simulate_run(model: Model, rng: random.Random, max_steps: int):
    """(initial state, replayed steps, how the run ended, violated property names in order)."""
    interp = Interpreter(model)
    state = _random_initial(model, rng)
    if state is None:
        return None, [], "no allowed initial state", []
    initial, steps, violated = state, [], []
    invariants = [p for p in model.properties if p.kind == "invariant"]
    for p in invariants:
        if not interp.eval(p.expr, state.values):
            violated.append((p.name, 0))
    for n in range(1, max_steps + 1):
        enabled = list(interp.enabled(state))
        if not enabled:
            break
        t, _, edge = rng.choice(enabled)
        after = interp.step(state, t, edge)
        failed = tuple(interp.failed_checks(state, edge))
        steps.append(ReplayedStep(n, model.threads[t].name, edge, state, after, failed))
        violated += [(p, n) for p in failed]
        violated += [(p.name, n) for p in invariants if not interp.eval(p.expr, after.values)]
        state = after
    if next(iter(interp.enabled(state)), None) is not None:
        end = f"stopped after {len(steps)} steps (--steps)"
    else:
        stuck = interp.stuck_threads(state)
        if stuck:
            end = f"deadlock after {len(steps)} steps: blocked threads: {', '.join(stuck)}"
            violated += [(p.name, len(steps)) for p in model.properties if p.kind == "deadlock"]
        else:
            end = f"every thread finished or resting after {len(steps)} steps"
            violated += [(p.name, len(steps)) for p in model.properties
                         if p.kind == "final" and not interp.eval(p.expr, state.values)]
    return initial, steps, end, violated


def run_text(model: Model, run: int, seed: int, initial: State, steps, end: str, violated) -> str:
    from .report.text import choices, step_changes
    config, platform = choices(model, initial.values)
    lines = [f"  run {run} (seed {seed}): {len(steps)} steps",
             f"    config:   {config}", f"    platform: {platform}", ""]
    width = max((len(s.thread) for s in steps), default=6)
    for step in steps:
        where = _where(step.edge)
        first, *rest = (step.edge.label or "(internal step)").split(" ; ")
        lines.append(f"    {step.index:3d}  {step.thread:<{width}}  {first}" + (f"   [{where}]" if where else ""))
        for part in rest:
            lines.append(f"         {'':<{width}}  then {part}")
        for change in step_changes(model, step.before, step.after):
            lines.append(f"         {'':<{width}}    {change}")
        for check in step.edge.checks:
            if check.prop in step.failed:
                lines.append(f"         {'':<{width}}    !! {check.prop}: {check.message}")
    lines.append(f"    {end}")
    for name, at in violated:
        lines.append(f"    violates {name}" + (f" at step {at}" if at else " in the initial state"))
    return "\n".join(lines)


def run_simulate(args) -> int:
    model = _load(args.spec)
    if model is None:
        return 2
    if args.runs < 1 or args.steps < 0:
        print("modelcheck: --runs must be at least 1 and --steps at least 0")
        return 2
    rng = random.Random(args.seed)
    print(f"{model.file}: {model.title}")
    unexpected = set()
    for run in range(1, args.runs + 1):
        initial, steps, end, violated = simulate_run(model, rng, args.steps)
        if initial is None:
            print(f"  run {run}: {end}")
            return 2
        print()
        print(run_text(model, run, args.seed, initial, steps, end, violated))
        unexpected |= {name for name, _ in violated if model.property(name).expect != "violation"}
    print()
    if unexpected:
        print(f"modelcheck: {args.runs} runs; unexpected violations: {', '.join(sorted(unexpected))}")
        return 1
    print(f"modelcheck: {args.runs} runs, no unexpected violation")
    return 0
