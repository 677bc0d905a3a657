"""Semantic analysis: names, kernel rules, lowering to the IR."""
