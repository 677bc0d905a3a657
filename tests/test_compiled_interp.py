"""The search interpreter computes exactly what the reference interpreter computes."""
import random
from pathlib import Path

import pytest

from modelcheck.compiled import CompiledInterpreter
from modelcheck.frontend import load_file
from modelcheck.interp import Interpreter

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(ROOT.glob("specs/**/*.probe")) + sorted(ROOT.glob("docs/examples/*.probe"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_compiled_interpreter_agrees_with_reference_on_random_walks(path):
    model, _ = load_file(str(path))
    ref, fast = Interpreter(model), CompiledInterpreter(model)
    rng = random.Random(7)
    for start in list(ref.initial_states())[:8]:
        state = start
        for _ in range(200):
            slow = [(t, e) for t, e, _ in ref.enabled(state)]
            assert slow == [(t, e) for t, e, _ in fast.enabled(state)]
            if not slow:
                break
            t, e = rng.choice(slow)
            edge = model.threads[t].locations[state.pcs[t]].edges[e]
            assert ref.failed_checks(state, edge) == fast.failed_checks(state, edge)
            after = ref.step(state, t, edge)
            assert after == fast.step(state, t, edge)
            state = after
