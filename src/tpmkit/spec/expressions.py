"""Row expressions: SQL text parsed by polars into expressions (never `eval`-ed).

Before polars sees the text, a lexer checks it against an allow-list: column names (bare
or "quoted"), numbers, 'strings', operators, parentheses, commas, the keywords of
conditions and CASE, and a fixed set of functions. Anything else — a statement keyword
such as SELECT, a comment, a semicolon, an unknown function — is a validation error with
its position, so a metric file can only ever describe arithmetic and conditions on rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from tpmkit.errors import first_line

if TYPE_CHECKING:
    import polars as pl

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ExpressionError(ValueError):
    """An expression that cannot be used, with the character offset of the problem."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class ParsedExpression:
    text: str
    columns: tuple[str, ...]


def placeholders(text: str) -> list[tuple[str, int]]:
    """`{name}` parameter placeholders with their offsets."""
    return [(m.group(1), m.start()) for m in _PLACEHOLDER.finditer(text)]


def _literal(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def substitute(text: str, parameters: Mapping[str, str | int | float | bool]) -> str:
    """Replace `{name}` placeholders with SQL literals of the metric's parameters."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            raise ExpressionError(f"unknown parameter `{name}`", match.start())
        return _literal(parameters[name])

    return _PLACEHOLDER.sub(repl, text)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KEYWORDS = _words(
    "and or not is null in like ilike between case when then else end true false as distinct"
)
FUNCTIONS = _words(
    "coalesce nullif abs round floor ceil ceiling sqrt ln log log10 exp power pow sign "
    "least greatest lower upper length char_length trim ltrim rtrim substr substring "
    "replace concat starts_with ends_with strpos left right date_part extract cast if"
)
STATEMENTS = _words(
    "select from where union join with insert update delete drop create limit order group having"
)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")+")
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator><=|>=|<>|!=|\|\||[-+*/%<>=(),])
    """,
    re.VERBOSE,
)


def check_allowed(text: str) -> None:
    """Raise ExpressionError at the first token the allow-list does not admit."""
    position = 0
    last_word: tuple[str, int] | None = None  # the word just before, if the last token was one
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(f"`{text[position]}` is not allowed in an expression", position)
        kind, token = match.lastgroup, match.group()
        if kind == "word" and token.lower() in STATEMENTS:
            raise ExpressionError(
                f"`{token}` is not allowed: an expression is not a query", position
            )
        if kind == "operator" and text[position : position + 2] in ("--", "/*"):
            raise ExpressionError("comments are not allowed in an expression", position)
        if kind == "operator" and token == "(" and last_word is not None:
            name, at = last_word
            if name.lower() not in FUNCTIONS and name.lower() not in KEYWORDS:
                raise ExpressionError(f"function `{name}` is not allowed", at)
        if kind != "space":
            last_word = (token, position) if kind == "word" else None
        position = match.end()


@lru_cache(maxsize=4096)
def parse(text: str) -> ParsedExpression:
    """Parse a SQL expression; report syntax errors as ExpressionError."""
    if not text.strip():
        raise ExpressionError("empty expression")
    check_allowed(text)
    expr = to_polars(text)
    try:
        names = tuple(dict.fromkeys(expr.meta.root_names()))
    except Exception as exc:  # polars raises several types for odd trees
        raise ExpressionError(f"cannot analyse expression: {exc}") from None
    return ParsedExpression(text, names)


def to_polars(text: str) -> pl.Expr:
    """The polars expression for SQL text."""
    import polars as pl

    try:
        return pl.sql_expr(text)
    except Exception as exc:  # SQLInterfaceError, SQLSyntaxError, ComputeError ...
        raise ExpressionError(f"invalid SQL expression: {first_line(exc)}") from None


def offset_of(name: str, text: str) -> int:
    """Where a column name first appears in the expression text (0 when not found)."""
    match = re.search(r'(?<![A-Za-z0-9_"])"?' + re.escape(name) + r'"?(?![A-Za-z0-9_])', text)
    return match.start() if match else 0


@dataclass(frozen=True)
class Quotient:
    """An expression of the form `numerator / denominator × scale` over two names."""

    numerator: str
    denominator: str
    scale: float


class _NotAProduct(Exception):
    """The expression is not a product and quotient of names and numbers."""


def quotient(text: str) -> Quotient | None:
    """`a / b` of two names, each side possibly multiplied or divided by numbers (e.g.
    `3600 * handled / logged_in`): the two names and the constant factor; None for any
    other shape (a sum, a function, one name only). Read from the tokens, never evaluated."""
    tokens: list[tuple[str | None, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None  # a character the lexer does not know
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    position = 0

    def peek() -> str | None:
        return tokens[position][1] if position < len(tokens) else None

    def take() -> tuple[str | None, str]:
        nonlocal position
        if position >= len(tokens):
            raise _NotAProduct
        position += 1
        return tokens[position - 1]

    def factor() -> tuple[float, list[str], list[str]]:
        kind, token = take()
        if token == "-":
            scale, top, bottom = factor()
            return -scale, top, bottom
        if token == "(":
            inner = term()
            if take()[1] != ")":
                raise _NotAProduct
            return inner
        if kind == "number":
            return float(token), [], []
        if kind == "quoted":
            return 1.0, [token[1:-1].replace('""', '"')], []
        if kind == "word" and token.lower() not in KEYWORDS and peek() != "(":
            return 1.0, [token], []
        raise _NotAProduct

    def term() -> tuple[float, list[str], list[str]]:
        scale, top, bottom = factor()
        while peek() in ("*", "/"):
            operator = take()[1]
            other_scale, other_top, other_bottom = factor()
            if operator == "*":
                scale, top, bottom = scale * other_scale, top + other_top, bottom + other_bottom
            elif other_scale == 0:
                raise _NotAProduct
            else:
                scale, top, bottom = scale / other_scale, top + other_bottom, bottom + other_top
        return scale, top, bottom

    try:
        scale, top, bottom = term()
    except _NotAProduct:
        return None
    if position != len(tokens) or len(top) != 1 or len(bottom) != 1:
        return None
    return Quotient(top[0], bottom[0], scale)
