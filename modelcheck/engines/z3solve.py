"""The one way the Z3 engines ask a question: time-limited (and, when asked, limited in Z3's
resource units), and never reading unknown as an answer."""
from __future__ import annotations

import time
from typing import Optional

import z3


def ask(solver, deadline: float, limit: float, *extra, rlimit: Optional[int] = None):
    """('sat', model) | ('unsat', None) | ('unknown', reason), for the solver's assertions plus
    `extra`, within what is left until `deadline` (monotonic seconds; `limit` names it) and,
    when `rlimit` is given, within that many of Z3's resource units for this query: a limit
    that gives the same answer however loaded the machine is (EngineOptions.solver_rlimit)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return "unknown", f"time limit of {limit:g}s reached"
    solver.set("timeout", max(1, int(remaining * 1000)))
    solver.set("rlimit", rlimit or 0)           # 0: no resource limit
    solver.push()
    try:
        solver.add(*extra)
        answer = solver.check()
        if answer == z3.sat:
            return "sat", solver.model()
        if answer == z3.unsat:
            return "unsat", None
        reason = solver.reason_unknown() or "solver returned unknown"
        if rlimit and "resource limit" in reason:
            reason = f"the solver's resource limit ({rlimit} units per query) was reached"
        return "unknown", reason
    finally:
        solver.pop()
