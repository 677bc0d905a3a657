"""Liveness properties as Promela never claims, and SPIN's verdict on them (pan -a -f).

Each liveness property becomes one named never claim (a Büchi automaton for its negation);
pan searches for acceptance cycles under weak fairness (-f), which is the checker's fairness
once the model is instrumented (promela.to_promela(liveness=True): threads not scheduled
eventually may stop for good). Every claim first waits for `started` (init's free choices are
made), so a condition is never judged on the values before them. pan extends a finished run by
stuttering its last state, which is the checker's quiescent end; livelock and hung_task need a
real cycle, so they also ask for `tick` (flipped by every step) to change infinitely often.

    eventually P         never: G !P
    always_eventually P  never: F G !P
    leads_to A ~> B      never: F (A && !B && G !B)
    livelock             never: GF tick && GF !tick
    hung_task            never: OR over (thread, blocking location):
                                FG at && GF blocked && GF tick && GF !tick
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from typing import Optional

from .ir import LIVENESS_KINDS, Model, Property, disj
from .promela import SpinRun, _run, parse_pan, to_promela


def claim_name(prop: Property) -> str:
    return "c_" + re.sub(r"[^A-Za-z0-9_]", "_", prop.name)


def liveness_promela(model: Model, props: Optional[list[str]] = None) -> str:
    """The instrumented model with one never claim per liveness property in `props`."""
    chosen = [model.property(p) for p in props] if props is not None else \
        [p for p in model.properties if p.kind in LIVENESS_KINDS]

    def claims(ex, proc) -> list[str]:
        out = []
        for prop in chosen:
            out += _claim(model, prop, ex, proc)
        return out

    return to_promela(model, [], liveness=True, claims=claims)


def _claim(model: Model, prop: Property, ex, proc) -> list[str]:
    name = claim_name(prop)
    head = [f"never {name} {{   /* {prop.kind} {prop.name} */",
            "T_boot:", "  do :: (!started) -> goto T_boot :: (started) -> goto T0_init od;"]
    if prop.kind == "eventually":
        body = ["T0_init:", "accept_all:", f"  do :: (!({ex(prop.expr)})) od;"]
    elif prop.kind == "always_eventually":
        bad = f"(!({ex(prop.expr)}))"
        body = ["T0_init:", f"  do :: {bad} -> goto accept_S1 :: (1) -> goto T0_init od;",
                "accept_S1:", f"  do :: {bad} -> goto accept_S1 od;"]
    elif prop.kind == "leads_to":
        a, not_b = f"({ex(prop.trigger)})", f"(!({ex(prop.expr)}))"
        body = ["T0_init:", f"  do :: ({a} && {not_b}) -> goto accept_S1 :: (1) -> goto T0_init od;",
                "accept_S1:", f"  do :: {not_b} -> goto accept_S1 od;"]
    elif prop.kind == "livelock":
        body = ["T0_init:", "  do :: (tick == 1) -> goto W1 :: (tick == 0) -> goto T0_init od;",
                "W1:", "  do :: (tick == 0) -> goto accept_A :: (tick == 1) -> goto W1 od;",
                "accept_A:", "  do :: (tick == 1) -> goto W1 :: (tick == 0) -> goto T0_init od;"]
    elif prop.kind == "hung_task":
        body = _hung_claim(model, ex, proc)
    else:
        raise ValueError(f"{prop.name} is not a liveness property")
    return head + body + ["}", ""]


def _hung_claim(model: Model, ex, proc) -> list[str]:
    """Guess a thread and a location it waits at forever; then see it blocked, tick and untick
    again and again."""
    pairs = []
    for t, thread in enumerate(model.threads):
        for k, loc in enumerate(thread.locations):
            if loc.rest or not loc.edges:
                continue
            can_move = ex(disj(*(e.guard for e in loc.edges)))
            if can_move == "true":
                continue     # never blocked here
            label = f"L{k}"
            pairs.append((f"({proc[t]}[{t + 1}]@{label})", f"(!({can_move}))"))
    if not pairs:
        return ["T0_init:", "  do :: (0) od;"]
    guesses = " ".join(f":: {at} -> goto H{i}_0" for i, (at, _) in enumerate(pairs))
    out = ["T0_init:", f"  do :: (1) -> goto T0_init {guesses} od;"]
    for i, (at, blocked) in enumerate(pairs):
        out += [f"H{i}_0:", f"  do :: ({at} && {blocked}) -> goto H{i}_1 :: ({at} && !{blocked}) -> goto H{i}_0 od;",
                f"H{i}_1:", f"  do :: ({at} && tick == 1) -> goto H{i}_2 :: ({at} && tick == 0) -> goto H{i}_1 od;",
                f"H{i}_2:", f"  do :: ({at} && tick == 0) -> goto accept_H{i} :: ({at} && tick == 1) -> goto H{i}_2 od;",
                f"accept_H{i}:", f"  do :: ({at} && {blocked}) -> goto H{i}_1 :: ({at} && !{blocked}) -> goto H{i}_0 od;"]
    return out


class LivenessBuild:
    """One instrumented model with every liveness claim, compiled once; run once per claim."""

    def __init__(self, model: Model, props: Optional[list[str]] = None, timeout: float = 600.0):
        self.model = model
        self.props = props if props is not None else [p.name for p in model.properties
                                                      if p.kind in LIVENESS_KINDS]
        self.timeout = timeout
        self.workdir = tempfile.mkdtemp(prefix="mc-spin-live-")
        with open(os.path.join(self.workdir, "model.pml"), "w", encoding="utf-8") as f:
            f.write(liveness_promela(model, self.props))
        t0 = time.perf_counter()
        _run(["spin", "-a", "model.pml"], self.workdir, timeout)
        t1 = time.perf_counter()
        vectorsz = max(1024, 8 * (len(model.variables) + 2 * len(model.threads)) + 256)
        nfair = 2 + (len(model.threads) + 2) // 4     # pan -f: its fairness counters cover 4 * NFAIR - 2 processes
        _run(["gcc", "-O0", "-w", "-DNOREDUCE", f"-DNFAIR={nfair}", "-DMEMLIM=2048", f"-DVECTORSZ={vectorsz}",
              "-o", "pan", "pan.c"], self.workdir, timeout)
        self.spin_seconds, self.gcc_seconds = t1 - t0, time.perf_counter() - t1

    def run(self, prop: str, max_depth: int = 1_000_000, hash_bits: int = 22) -> SpinRun:
        """pan -a -f with the property's claim: violated iff a fair acceptance cycle exists."""
        import subprocess
        args = ["./pan", "-a", "-f", f"-m{max_depth}", f"-w{hash_bits}",
                "-N", claim_name(self.model.property(prop))]
        t0 = time.perf_counter()
        result = subprocess.run(args, cwd=self.workdir, capture_output=True, text=True,
                                timeout=self.timeout)
        return parse_pan(result.stdout + result.stderr, self.spin_seconds, self.gcc_seconds,
                         time.perf_counter() - t0)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
