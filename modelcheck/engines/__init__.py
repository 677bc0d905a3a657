"""Engines decide properties of an IR model. Only this package imports z3."""
