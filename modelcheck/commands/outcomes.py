"""`modelcheck outcomes SPEC [--observe VAR ...]`: every distinct final state, like herd7.

A final state is a reachable state in which no step is enabled (every thread finished or
resting, or stuck). Each distinct projection on the observed variables (default: the
spec's own `var`s) is printed with one witness schedule (the sequence of threads that
moved) and the number of interleavings (distinct step sequences) that reach it. The set is
computed by the explicit search (explicit.outcomes). With --cross-check it is also computed
by a Z3 enumeration of terminal states (engines/enumerate.py), which is far slower; both
counts of distinct states are printed, and a difference is a checker error (exit 2). When the state graph has a cycle the
number of interleavings is unbounded: the states are printed without counts.
"""
from __future__ import annotations

import sys

from ..errors import SpecError
from ..frontend import load_file
from ..result import EngineOptions
from .common import MAX_DEPTH_HELP, read_source
from .options import at_least, seconds

EXIT = {0: "the final states are listed (with --cross-check: both enumerations found the same)",
        2: "a spec error, or with --cross-check the two enumerations disagree (a checker bug)",
        3: "inconclusive: a limit stopped an enumeration"}


def add_parser(sub) -> None:
    p = sub.add_parser("outcomes", help="list every distinct final state, with a witness schedule and "
                       "the number of interleavings reaching it",
                       epilog="exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT.items()))
    p.add_argument("spec", help="the spec file")
    p.add_argument("--observe", nargs="+", action="extend", metavar="VAR",
                   help="project on these variables (default: the spec's own vars)")
    p.add_argument("--max-depth", type=at_least(1), default=EngineOptions.max_depth, help=MAX_DEPTH_HELP)
    p.add_argument("--cross-check", action="store_true",
                   help="also enumerate the final states with Z3 and require the same set (slow: "
                   "seconds to minutes where the search takes milliseconds)")
    p.add_argument("--timeout", type=seconds, default=EngineOptions.timeout, help="seconds per enumeration")


def user_variables(model) -> list[str]:
    return [v.name for v in model.variables if v.role == "state"]


def schedule(model, trace) -> str:
    """The witness as thread runs: `init (boot) x3 ; udev: modprobe m0 x2`."""
    runs: list[list] = []
    for step in trace.steps:
        name = model.threads[step.thread].name
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    return " ; ".join(f"{n} x{k}" if k > 1 else n for n, k in runs) or "(no step)"


def open_choices(model, trace) -> str:
    """The open Kconfig and platform values the witness starts from, e.g. `[p0=1] `."""
    chosen = [f"{v.name}={v.show(value)}" for v, value in zip(model.variables, trace.initial)
              if v.init is None and v.role != "local"]
    return f"[{' '.join(chosen)}] " if chosen else ""


def _why_stopped(reason: str, timeout: float) -> str:
    """Z3's reason for giving up, in words: `canceled` is its time limit."""
    if reason in ("canceled", "timeout"):
        return f"its time limit of {timeout:g} s ran out"
    return reason


def show_state(model, observe, key) -> str:
    return " ".join(f"{name}={model.variable(name).show(value)};" for name, value in zip(observe, key))


def run(args, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    from ..engines import explicit
    from ..engines.enumerate import EnumerationIncomplete, terminal_states
    try:
        model, _ = load_file(args.spec)
    except SpecError as exc:
        print(exc.render(read_source(args.spec)), file=err)
        return 2
    observe = args.observe or user_variables(model)
    missing = [name for name in observe if name not in {v.name for v in model.variables}]
    if missing:
        print(f"modelcheck: {args.spec} has no variable(s) {', '.join(missing)}; its variables are "
              f"{', '.join(v.name for v in model.variables if v.role != 'local')}", file=err)
        return 2
    options = EngineOptions(max_depth=args.max_depth, timeout=args.timeout)
    cycle = None
    try:
        found = explicit.outcomes(model, observe, options)
    except explicit.SearchIncomplete as exc:
        print(f"modelcheck: the explicit search is incomplete: {exc}", file=err)
        return 3
    except ValueError as exc:          # a cycle: counts are undefined, the states are not
        cycle = str(exc)
        found = {key: (None, None) for key in explicit.terminal_projections(model, observe)}
    by_z3, z3_note = None, "not cross-checked (--cross-check compares with a Z3 enumeration)"
    if args.cross_check:
        try:
            by_z3 = terminal_states(model, observe, options)
        except EnumerationIncomplete as exc:
            z3_note = f"the Z3 enumeration did not finish ({_why_stopped(str(exc), args.timeout)})"
    title = f"{args.spec}: {model.title}" if model.title else args.spec
    print(title, file=out)
    print(f"Outcomes on {', '.join(observe) or '(nothing)'}", file=out)
    print(f"States {len(found)} (explicit search); "
          + (f"{len(by_z3)} (z3 enumeration)" if by_z3 is not None else z3_note), file=out)
    if cycle:
        print(f"the state graph has a cycle, so the number of interleavings is undefined: {cycle}",
              file=out)
    width = max((len(show_state(model, observe, k)) for k in found), default=0)
    for key, (trace, paths) in sorted(found.items()):
        line = show_state(model, observe, key).ljust(width)
        if trace is not None:
            line += (f"  {paths} interleaving{'s' if paths != 1 else ''}; witness: "
                     f"{open_choices(model, trace)}{schedule(model, trace)}")
        print("  " + line.rstrip(), file=out)
    if not args.cross_check:
        return 0
    if by_z3 is None:
        return 3
    if set(found) != by_z3:
        only_explicit = sorted(set(found) - by_z3)
        only_z3 = sorted(by_z3 - set(found))
        print("modelcheck: checker error: the explicit search and the z3 enumeration disagree: "
              f"only explicit {[show_state(model, observe, k) for k in only_explicit]}, "
              f"only z3 {[show_state(model, observe, k) for k in only_z3]}", file=err)
        return 2
    return 0
