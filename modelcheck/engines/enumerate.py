"""Every terminal state of a model, enumerated with Z3 over the foata engine's frames.

An independent check of `explicit.outcomes`: the same set of terminal states (no step
enabled: every thread finished or resting, or stuck), projected on some variables, found
by a different method. The Foata frames are unrolled one at a time; at every frame
boundary Z3 is asked, again and again, for a terminal state whose projection has not been
seen yet (each answer is blocked before the next question), until it says unsat. The
unrolling stops when it is complete, by the foata engine's two arguments: no execution with
one more frame exists, or no execution of that many frames visits only distinct states
(then every reachable state lies within the frames already searched). When a foata search
on the same model already proved such a height (Frames.complete_height), the enumeration
unrolls to it without asking the loop-free question again.
"""
from __future__ import annotations

import time

import z3

from ..ir import Model
from ..result import EngineOptions
from .bmc import any_of, make_solver
from .foata import Frames
from .z3solve import ask


class EnumerationIncomplete(RuntimeError):
    """The depth limit, the time limit or an unknown answer stopped the enumeration."""


def terminal_states(model: Model, observe: list[str], options: EngineOptions) -> set[tuple[int, ...]]:
    """The projections on `observe` of every reachable state in which no step is enabled."""
    names = {v.name for v in model.variables}
    unknown = [name for name in observe if name not in names]
    if unknown:
        raise ValueError(f"model {model.name} has no variable(s) {', '.join(unknown)}")
    return _Enumeration(model, observe, options).run()


class _Enumeration:
    def __init__(self, model: Model, observe: list[str], options: EngineOptions):
        self.frames = Frames.of(model)
        self.observe = observe
        self.options = options
        bounded = self.frames.bounds is not None
        self.solver = make_solver(bounded)
        self.loop_solver = make_solver(bounded)
        self.deadline = options.deadline_from(time.monotonic())
        self.found: set[tuple[int, ...]] = set()

    def ask(self, solver, *extra):
        """A solution, or None when there is none; an unknown answer ends the enumeration."""
        answer, found = ask(solver, self.deadline, self.options.timeout, *extra,
                            rlimit=self.options.solver_rlimit)
        if answer == "unknown":
            raise EnumerationIncomplete(found)
        return found if answer == "sat" else None

    def run(self) -> set[tuple[int, ...]]:
        f = self.frames
        self.solver.add(f.initial())
        self.loop_solver.add(f.initial())
        for depth in range(self.options.max_depth + 1):
            if depth > 0:
                step = f.frame(depth - 1)
                self.solver.add(step)          # for good: past an unsat answer the solver is not asked again
                if self.ask(self.solver) is None:
                    return self.found          # no execution has `depth` frames
                if f.complete_height is None:
                    self.loop_solver.add(step, f.distinct_from_earlier(depth))
            self.collect(depth)
            if f.complete_height is not None:
                if depth >= f.complete_height:
                    return self.found          # a foata search proved every reachable state is this close
                continue
            # The loop-free question costs O(depth^2) constraints: asked every 4th depth once deep.
            if 0 < depth and (depth <= 12 or depth % 4 == 0) and self.ask(self.loop_solver) is None:
                return self.found              # every reachable state is within depth - 1 frames
        raise EnumerationIncomplete(f"no complete answer within {self.options.max_depth} Foata frames")

    def collect(self, depth: int) -> None:
        """Every new terminal projection at frame boundary `depth`."""
        f = self.frames
        state = f.state(depth)
        terms = [state[name] for name in self.observe]
        blocks = [self.block(terms, key) for key in self.found]
        terminal = z3.Not(f.enabled(depth))
        while True:
            solution = self.ask(self.solver, terminal, *blocks)
            if solution is None:
                return
            key = tuple(solution.eval(t, model_completion=True).as_long() for t in terms)
            self.found.add(key)
            blocks.append(self.block(terms, key))

    @staticmethod
    def block(terms, key):
        if not terms:
            return z3.BoolVal(False)     # the empty projection: one outcome at most
        return any_of([t != value for t, value in zip(terms, key)])

