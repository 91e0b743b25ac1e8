"""Row expressions: SQL text parsed by polars into expressions (never `eval`-ed)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

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


@lru_cache(maxsize=4096)
def parse(text: str) -> ParsedExpression:
    """Parse a SQL expression; report syntax errors as ExpressionError."""
    if not text.strip():
        raise ExpressionError("empty expression")
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
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExpressionError(f"invalid SQL expression: {detail}") from None


def offset_of(name: str, text: str) -> int:
    """Where a column name first appears in the expression text (0 when not found)."""
    match = re.search(r'(?<![A-Za-z0-9_"])"?' + re.escape(name) + r'"?(?![A-Za-z0-9_])', text)
    return match.start() if match else 0
