"""Hypothesis strategy for random well-formed .probe specs (the generator is modelcheck.devtools.specgen,
shared with `python -m modelcheck.devtools.soak`)."""
from __future__ import annotations

import random

from hypothesis import strategies as st

from modelcheck.devtools.specgen import GeneratedSpec, generate


@st.composite
def specs(draw, size: int = 0) -> GeneratedSpec:
    """A random spec and its user variables (the flags), from a seed hypothesis draws. The
    generator gets a plain random.Random: hypothesis's own randoms lean towards the first
    choice of every draw, which piles every feature into one spec and makes the specs several
    times larger than the generator's sizes promise (and CI's time with them)."""
    return generate(random.Random(draw(st.integers(0, 2**32 - 1))), size)
