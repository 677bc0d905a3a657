"""The one way the Z3 engines ask a question: time-limited, and never reading unknown as an answer."""
from __future__ import annotations

import time

import z3


def ask(solver, deadline: float, limit: float, *extra):
    """('sat', model) | ('unsat', None) | ('unknown', reason), for the solver's assertions plus
    `extra`, within what is left until `deadline` (monotonic seconds; `limit` names it)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return "unknown", f"time limit of {limit:g}s reached"
    solver.set("timeout", max(1, int(remaining * 1000)))
    solver.push()
    try:
        solver.add(*extra)
        answer = solver.check()
        if answer == z3.sat:
            return "sat", solver.model()
        if answer == z3.unsat:
            return "unsat", None
        return "unknown", solver.reason_unknown() or "solver returned unknown"
    finally:
        solver.pop()
