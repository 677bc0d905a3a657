"""Why a run ends blocked: the waits-for picture of a deadlock, for every trace format.

For each thread that cannot move at the end and has not finished its job: the statement it is
blocked in (its label and spec line), what it waits for (the edge's ir.Wait annotation, set by
the lowering modules; without one, the edge's label and the variables of its guard), which of
those variables keep it blocked, the step that gave each its value (the holder), and which
threads could still change it. A thread waits for another when only that one could still
unblock it; a cycle among blocked threads is the deadlock's cause, and a wait that nothing
left can end is a missing event.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from ..interp import Interpreter
from ..ir import BoolOp, Model, Not, is_liveness
from ..lasso import hung_threads, states_of
from ..reduce import edge_writes, variables_of
from ..replay import Replay
from ..slicing import failing_step, pending_writer_guards, violation_reads, writes_from


@dataclass(frozen=True)
class Holder:
    """A variable that keeps a wait blocked: its value now and who set it."""
    var: str
    value: str
    step: int               # the step that set it; 0: it has had this value since boot
    thread: str             # that step's thread ("" for boot)
    action: str             # that step's label
    could_change: tuple[str, ...]   # threads that could still change it


@dataclass(frozen=True)
class BlockedThread:
    thread: str
    statement: str          # the label of the step it cannot take
    where: str              # spec file:line, or ""
    waits_for: str          # the object waited for
    until: str              # what must become true
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class WaitsFor:
    blocked: tuple[BlockedThread, ...]
    cycle: tuple[str, ...]          # thread names, the first repeated at the end; () if none
    missing: tuple[str, ...]        # waits nothing left can end, as "thread: object"


def why_blocked(model: Model, replay: Replay) -> Optional[WaitsFor]:
    """The waits-for picture of the trace's last state, or None when some step is still
    enabled there or no thread is blocked mid-way."""
    interp = Interpreter(model)
    final = replay.final
    if next(iter(interp.enabled(final)), None) is not None:
        return None
    stuck = [t for t, (th, pc) in enumerate(zip(model.threads, final.pcs)) if not interp.is_settled(th, pc)]
    if not stuck:
        return None
    blocked, waits = [], {}
    for t in stuck:
        entry, others = _blocked_thread(model, interp, replay, t)
        blocked.append(entry)
        waits[model.threads[t].name] = others
    names = {model.threads[t].name for t in stuck}
    cycle = _cycle({k: [u for u in v if u in names] for k, v in waits.items()})
    missing = tuple(f"{b.thread}: {b.waits_for}" for b in blocked
                    if b.holders and not any(h.could_change for h in b.holders))
    return WaitsFor(tuple(blocked), cycle, missing)


def hung_picture(model: Model, outcome) -> Optional[WaitsFor]:
    """The waits-for picture of the threads a hung_task lasso shows blocked for good (what each
    waits for, in the state where the cycle starts and ends), or None for other traces."""
    trace = outcome.result.trace
    if model.property(outcome.result.prop).kind != "hung_task" or trace is None or trace.cycle is None:
        return None
    replay = outcome.replay
    hung = set(hung_threads(model, trace, states_of(replay)))
    interp = Interpreter(model)
    blocked = tuple(_blocked_thread(model, interp, replay, t)[0]
                    for t, th in enumerate(model.threads) if th.name in hung)
    if not blocked:
        return None
    missing = tuple(f"{b.thread}: {b.waits_for}" for b in blocked
                    if b.holders and not any(h.could_change for h in b.holders))
    return WaitsFor(blocked, (), missing)


def deadlock_picture(model: Model, outcome) -> Optional[WaitsFor]:
    """The waits-for picture of a deadlock's end state, or of the threads a hung_task lasso
    shows blocked for good; None for other properties."""
    if model.property(outcome.result.prop).kind == "deadlock":
        return why_blocked(model, outcome.replay)
    return hung_picture(model, outcome)


def ending_lines(model: Model, outcome) -> list[str]:
    """How the trace ends: which state violates the property and, for a deadlock or a hung
    task, why each blocked thread blocks; for a liveness property, what the lasso (or the
    execution that stops) shows. Empty for check properties (the failing step says it)."""
    from .lasso import end_note
    prop = model.property(outcome.result.prop)
    replay = outcome.replay
    if is_liveness(prop):
        picture = hung_picture(model, outcome)
        return [end_note(model, outcome)] + (waits_for_lines(picture) if picture else [])
    if prop.kind == "check":
        return meanwhile_lines(model, replay, prop.name)
    if prop.kind == "invariant":
        n = len(replay.steps)
        return [f"the state after step {n} violates {prop.name}" if n else f"the initial state violates {prop.name}"] \
            + meanwhile_lines(model, replay, prop.name)
    if prop.kind == "final":
        return [f"the end state (every thread finished or idle, nothing can move) violates {prop.name}"]
    picture = why_blocked(model, replay)
    if picture is None:
        return [f"the end state violates {prop.name}"]
    return [f"the end state violates {prop.name}: nothing can move and "
            f"{len(picture.blocked)} thread{'s are' if len(picture.blocked) > 1 else ' is'} blocked"] \
        + waits_for_lines(picture)


def meanwhile_lines(model: Model, replay: Replay, prop: str) -> list[str]:
    """For a safety violation: the threads, other than the one whose step failed, that had
    started and stand blocked in a wait that bears on it when it happens (what they wait for
    is what the violation reads, or what a thread that would have written it waits for: a
    modprobe still in async_synchronize_full while the async probe has not run). Runnable
    threads are left out: only the scheduler kept them back, and the race lines cover them."""
    interp = Interpreter(model)
    final = replay.final
    failing = failing_step(replay, prop)
    violator = failing.thread if failing else None
    reads = violation_reads(model, replay, prop)[0]
    bearing = reads | pending_writer_guards(model, replay, prop, reads)
    started = {s.thread for s in replay.steps}
    lines = []
    for t, thread in enumerate(model.threads):
        pc = final.pcs[t]
        if thread.name == violator or thread.name not in started or interp.is_settled(thread, pc):
            continue
        edges = thread.locations[pc].edges
        if not any(e.waits for e in edges) or any(interp.eval(e.guard, final.values) for e in edges):
            continue
        entry, _ = _blocked_thread(model, interp, replay, t)
        if not {h.var for h in entry.holders} & bearing:
            continue
        where = f"   [{entry.where}]" if entry.where else ""
        lines.append(f"meanwhile: {entry.thread} is blocked in \"{entry.statement}\"{where}")
        lines.append(f"  it waits for {entry.waits_for}, until {entry.until}")
    return lines


def waits_for_lines(picture: WaitsFor) -> list[str]:
    """The picture as text lines; indented continuation lines start with spaces."""
    lines = ["why it blocks:"]
    for b in picture.blocked:
        lines.append(f"  {b.thread} is blocked before \"{b.statement}\"" + (f"   [{b.where}]" if b.where else ""))
        lines.append(f"    it waits for {b.waits_for}, until {b.until}")
        for h in b.holders:
            by = "this thread itself" if h.thread == b.thread else h.thread
            since = f"set at step {h.step} by {by}" if h.step else "its value since boot"
            lines.append(f"    {h.var} = {h.value}, {since}")
            if h.could_change:
                lines.append(f"    only {', '.join(h.could_change)} could still change it")
            else:
                lines.append("    no thread could still change it")
    if picture.cycle:
        lines.append("cycle: " + " -> ".join(picture.cycle))
    for m in picture.missing:
        lines.append(f"missing event: nothing left can end the wait of {m}")
    return lines


def waits_for_json(picture: Optional[WaitsFor]) -> Optional[dict]:
    """The picture as plain data (JSON, ITF), or None."""
    if picture is None:
        return None
    return {
        "blocked": [{"thread": b.thread, "statement": b.statement, "where": b.where or None,
                     "waits_for": b.waits_for, "until": b.until,
                     "holders": [{"var": h.var, "value": h.value, "set_at_step": h.step or None,
                                  "set_by": h.thread or None, "action": h.action or None,
                                  "could_change": list(h.could_change)} for h in b.holders]}
                    for b in picture.blocked],
        "cycle": list(picture.cycle),
        "missing": list(picture.missing),
    }


# --- the parts ------------------------------------------------------------------------

def _blocked_thread(model: Model, interp: Interpreter, replay: Replay, t: int):
    thread = model.threads[t]
    final = replay.final
    edges = thread.locations[final.pcs[t]].edges
    shown = next((e for e in edges if e.waits), None) or next((e for e in edges if e.span), None) \
        or (edges[0] if edges else None)
    blocking = set()
    for edge in edges:
        blocking |= _false_vars(interp, edge.guard, final.values)
    annotated = [e.waits for e in edges if e.waits]
    if annotated:
        on = {v for w in annotated for v in w.on}
        blocking = (blocking & on) or blocking
        waits_for, until = annotated[0].obj, annotated[0].until
    else:
        waits_for = shown.label.split(" ; ")[0] if shown is not None else "a step of its own"
        until = "that step can run"
    holders = []
    for var in sorted(blocking, key=lambda v: interp.index[v]):
        step = _last_writer(replay, var)
        changers = tuple(model.threads[u].name for u in range(len(model.threads))
                         if u != t and var in writes_from(model.threads[u], final.pcs[u]))
        holders.append(Holder(var, model.variable(var).show(interp.value(final, var)),
                              step.index if step else 0, step.thread if step else "",
                              (step.edge.label if step else ""), changers))
    statement = shown.label.split(" ; ")[0] if shown is not None else "(no step)"   # a fused step: its first part
    where = f"{os.path.basename(shown.span.file)}:{shown.span.line}" if shown is not None and shown.span else ""
    others = sorted({u for h in holders for u in h.could_change})
    return BlockedThread(thread.name, statement, where, waits_for, until, tuple(holders)), others


def _false_vars(interp: Interpreter, expr, values) -> set[str]:
    """The variables of the parts of a false guard that make it false: the false conjuncts of
    a conjunction, every disjunct of a disjunction."""
    if interp.eval(expr, values):
        return set()
    if isinstance(expr, BoolOp):
        out = set()
        for arg in expr.args:
            out |= _false_vars(interp, arg, values)
        return out
    if isinstance(expr, Not) and isinstance(expr.arg, BoolOp) and expr.arg.op == "or":
        return _false_vars(interp, BoolOp("and", tuple(Not(a) for a in expr.arg.args)), values)
    return variables_of(expr)


def _last_writer(replay: Replay, var: str):
    for step in reversed(replay.steps):
        if var in edge_writes(step.edge):
            return step
    return None


def _cycle(graph: dict[str, list[str]]) -> tuple[str, ...]:
    """A cycle of the waits-for graph (thread -> threads it waits for), the first found in the
    order of the threads; () if there is none."""
    for start in graph:
        path, seen = [start], {start}

        def visit(node):
            for nxt in graph.get(node, []):
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    path.append(nxt)
                    found = visit(nxt)
                    if found:
                        return found
                    path.pop()
            return None
        found = visit(start)
        if found:
            return tuple(found)
    return ()
