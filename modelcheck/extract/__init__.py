"""From kernel C to a spec: `extract` writes a skeleton in the shape of the C, `drift` compares a
spec with the C it models. primitives.py is the one table of C calls the language models."""
