"""Parsing .probe text into the AST."""
