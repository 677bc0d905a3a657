"""Renderers: verdicts and traces for people and for tools."""
