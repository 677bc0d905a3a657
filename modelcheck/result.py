"""What an engine returns: a verdict per property, with a trace for violations."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Optional


class Verdict(enum.Enum):
    """The closed set of answers, from most to least conclusive."""
    VIOLATED = "VIOLATED"   # a trace reaches the bad state, and it replays on the IR
    PROVED = "PROVED"       # no execution of any length, under any allowed config, reaches it
    VACUOUS = "VACUOUS"     # the property's trigger can never happen, so it says nothing
    BOUNDED = "BOUNDED"     # no violation within `bound` steps; longer executions unchecked
    TIMEOUT = "TIMEOUT"     # the time limit or the solver gave up before any conclusion


@dataclass(frozen=True)
class TraceStep:
    """One step: which thread moved and which edge of its current location it took."""
    thread: int
    edge: int


@dataclass(frozen=True)
class Trace:
    """A concrete execution: the initial values of every variable, then the steps.

    cycle (liveness violations only): steps[cycle:] is a cycle, repeated forever: the state
    after steps[:cycle] is the state after all the steps. None: the execution ends where it
    stops (for a liveness violation, in a quiescent state, see ir.Property).
    """
    initial: tuple[int, ...]          # in Model.variables order
    steps: tuple[TraceStep, ...]
    cycle: Optional[int] = None


@dataclass(frozen=True)
class PropertyResult:
    prop: str
    verdict: Verdict
    engine: str
    seconds: float
    bound: Optional[int] = None       # depth searched (BOUNDED), or the completeness threshold (PROVED)
    argument: str = ""                # why PROVED is complete, or why the search stopped
    trace: Optional[Trace] = None     # VIOLATED only
    invariant: Optional[str] = None   # PROVED by an inductive invariant: the invariant, one conjunct per line

    @property
    def label(self) -> str:
        if self.verdict is Verdict.BOUNDED:
            return f"BOUNDED({self.bound})"
        return self.verdict.value


@dataclass(frozen=True)
class EngineOptions:
    """Limits shared by every engine."""
    max_depth: int = 200              # deepest unrolling / search depth
    timeout: float = 300.0            # seconds per search of all properties (bmc: per property)
    max_states: int = 2_000_000       # explicit engine: give up beyond this many states
    reduction: bool = True            # explicit engine: decide on a partial-order-reduced search
    cone: bool = True                 # every engine: search each safety property on its cone of
    #                                   influence (property_cone.py), not on the whole model
    certify: bool = False             # explicit engine: back each PROVED safety verdict with an
    #                                   inductive invariant a separate Z3 solver checks (engines/certify.py)
    solver_rlimit: Optional[int] = None  # Z3 engines: resource units per solver query, a limit
    #                                   that does not move with the machine's load (tests, soaks)
    deadline: Optional[float] = None  # time.monotonic() by which to stop (the time limit started
    #                                   before compilation); None: `timeout` from the search's start

    def deadline_from(self, started: float) -> float:
        """When a search started at `started` (monotonic seconds) must stop."""
        return self.deadline if self.deadline is not None else started + self.timeout


@dataclass(frozen=True)
class Progress:
    """How far a running search has got. Engines never print: they hand these to a callback
    the command layer gives them (a progress line on a terminal)."""
    states: int                        # states stored so far
    depth: int                         # the breadth-first layer being explored (steps from the start)
    seconds: float                     # since the search started


ProgressCallback = Callable[[Progress], None]
