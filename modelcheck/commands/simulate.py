"""`modelcheck simulate SPEC --seed N`: random runs of the reference interpreter, one random
initial state and one random enabled step at a time, printed like the text trace; the same
seed gives the same runs."""
from __future__ import annotations

import itertools
import random
from typing import Optional

from ..interp import Interpreter, State
from ..ir import Model
from ..replay import ReplayedStep
from ..wording import count
from .common import load_or_report
from .replay import MAX_INITIAL, spec_place


def add_parser(sub) -> None:
    simulate = sub.add_parser("simulate", help="random runs of the spec, printed like the text trace",
                              description="exit 0 when no run violates a property unexpectedly, 1 otherwise")
    simulate.add_argument("spec")
    simulate.add_argument("--seed", type=int, required=True, help="the same seed gives the same runs")
    simulate.add_argument("--runs", type=int, default=1)
    simulate.add_argument("--steps", type=int, default=200, help="at most this many steps per run")


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
        end = f"stopped after {count(len(steps), 'step')} (--steps)"
    else:
        stuck = interp.stuck_threads(state)
        if stuck:
            end = f"deadlock after {count(len(steps), 'step')}: blocked threads: {', '.join(stuck)}"
            violated += [(p.name, len(steps)) for p in model.properties if p.kind == "deadlock"]
        else:
            end = f"every thread finished or resting after {count(len(steps), 'step')}"
            violated += [(p.name, len(steps)) for p in model.properties
                         if p.kind == "final" and not interp.eval(p.expr, state.values)]
    return initial, steps, end, violated


def run_text(model: Model, run: int, seed: int, initial: State, steps, end: str, violated) -> str:
    from ..report.text import choices, step_changes
    config, platform = choices(model, initial.values)
    lines = [f"  run {run} (seed {seed}): {len(steps)} steps",
             f"    config:   {config}", f"    platform: {platform}", ""]
    width = max((len(s.thread) for s in steps), default=6)
    for step in steps:
        where = spec_place(step.edge)
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


def run(args) -> int:
    model = load_or_report(args.spec)
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
        print(f"modelcheck: {count(args.runs, 'run')}; unexpected violations: {', '.join(sorted(unexpected))}")
        return 1
    print(f"modelcheck: {count(args.runs, 'run')}, no unexpected violation")
    return 0
