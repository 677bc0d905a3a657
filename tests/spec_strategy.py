"""Hypothesis strategy for random well-formed .probe specs (the generator is modelcheck.devtools.specgen,
shared with `python -m modelcheck.devtools.soak`)."""
from __future__ import annotations

from hypothesis import strategies as st

from modelcheck.devtools.specgen import GeneratedSpec, generate


@st.composite
def specs(draw, size: int = 0) -> GeneratedSpec:
    """A random spec and its user variables (the flags); hypothesis drives every choice."""
    return generate(draw(st.randoms(use_true_random=False)), size)
