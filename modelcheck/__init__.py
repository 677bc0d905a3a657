"""modelcheck: a model checker for Linux kernel probe ordering."""

__version__ = "0.1.0"
