"""Text to AST: lark parses with positions, then a separate pass builds the frozen AST."""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from ..errors import SpecError
from ..ir import Span
from . import ast
from .builder import AstBuilder


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("probe.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse(text: str, file: str = "<spec>") -> ast.Spec:
    """Parse spec text; raise SpecError (never a lark exception) on bad input."""
    try:
        tree = _parser().parse(text)
    except UnexpectedEOF as exc:
        raise _eof_error(text, file, exc) from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise _eof_error(text, file, exc) from None
        raise _token_error(file, exc, text) from None
    except UnexpectedCharacters as exc:
        span = Span(file, exc.line, exc.column, exc.line, exc.column + 1)
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        raise SpecError("E101", span, f"unexpected character {char!r}", *_char_help(text, exc.pos_in_stream)) from None
    _check_nesting(tree, file)
    return AstBuilder(file).spec(tree)


def _char_help(text: str, pos: int) -> tuple[str, ...]:
    """A help line for a character that reads as something else: `dev.field` is the checker's
    name of a state variable (shown in traces), not an expression."""
    word = re.search(r"[A-Za-z_]\w*$", text[:pos])
    if text[pos:pos + 1] != "." or word is None:
        return ()
    name = word.group(0)
    return (f"{name}.<field> is how traces name the checker's state, not an expression: ask with a query "
            f"(bound({name}), device_is_registered({name}), registered(DRIVER), loaded(MODULE), "
            "work_pending(WORK), ...; docs/language.md lists them)",)


MAX_NESTING = 100   # real specs nest about 10 deep; the passes after parsing recurse once per level


def _check_nesting(tree: Tree, file: str) -> None:
    """Refuse trees deep enough to overflow Python's stack in the builder, compiler or engines."""
    stack = [(item, 2, item) for item in tree.children if isinstance(item, Tree)]
    while stack:
        node, depth, item = stack.pop()
        if depth > MAX_NESTING:   # point at the declaration: the innermost node is no help
            raise SpecError("E103", AstBuilder(file).span(item), f"this {item.data.replace('_decl', '')} "
                            f"nests more than {MAX_NESTING} levels deep")
        children = [c for c in node.children if isinstance(c, Tree)]
        # the builder folds a chain of n `and`/`or` operands into n-1 nested nodes
        step = max(1, len(children) - 1) if node.data in ("and_expr", "or_expr") else 1
        stack += [(c, depth + step, item) for c in children]


def _token_error(file: str, exc: UnexpectedToken, text: str = "") -> SpecError:
    token = exc.token
    span = Span(file, token.line, token.column, token.end_line or token.line,
                token.end_column or token.column + len(str(token)))
    if text[:token.start_pos or 0].rstrip(" \t").endswith('\\"'):   # "a \"b\" c": strings have no escapes
        return SpecError("E100", span, f"unexpected {str(token)!r} after a string ending in \\\"",
                         "strings have no escapes: a \" always ends the string; write ' for a quote inside it")
    expected = _describe_expected(exc.accepts or exc.expected)
    return SpecError("E100", span, f"unexpected {str(token)!r}",
                     f"expected {expected}" if expected else None)


def _eof_error(text: str, file: str, exc) -> SpecError:
    lines = text.rstrip().split("\n")   # as lark counts lines: splitlines() also splits on \f, \x1c, ...
    span = Span(file, len(lines), len(lines[-1]) + 1)
    return SpecError("E102", span, "the spec ends in the middle of a construct")


_TERMINAL_TEXT = {
    "SEMICOLON": "';'", "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'",
    "COLON": "':'", "EQUAL": "'='", "COMMA": "','", "NAME": "a name", "NUMBER": "a number",
    "STRING": 'a "string"', "SIGNED_NUMBER": "a number", "CMP_OP": "a comparison",
    "ERRNO": "an error code like EPROBE_DEFER", "AT": "'@'", "LSQB": "'['", "RSQB": "']'",
    "MINUS": "'-'", "PLUS": "'+'", "$END": "end of file",
}


@lru_cache(maxsize=1)
def _terminal_names() -> frozenset[str]:
    # lark's expected sets may name pseudo-terminals ($END) that get_terminal does not know
    return frozenset(t.name for t in _parser().terminals)


def _describe_expected(names) -> str:
    shown = []
    for name in sorted(names):
        if name in _TERMINAL_TEXT:
            shown.append(_TERMINAL_TEXT[name])
        elif name.isupper() and not name.startswith("__") and name in _terminal_names():
            pattern = _parser().get_terminal(name).pattern
            words = re.fullmatch(r"\(\?:([a-z_|]+)\)", pattern.value) if pattern.type == "re" else None
            if pattern.type == "str":
                shown.append(repr(pattern.value))
            elif words:      # a keyword class such as SYNC_KIND: its keywords, not the grammar's name
                shown += [repr(w) for w in words.group(1).split("|")]
            else:
                shown.append(name.lower())
    shown = sorted(set(shown), key=lambda s: (s.startswith("'"), s))   # a name, a number, ... before keywords
    if len(shown) > 30:      # every keyword of a block fits; the whole grammar does not help
        shown = shown[:30] + ["..."]
    return ", ".join(shown)
