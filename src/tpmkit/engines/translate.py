"""Row expressions (the allow-listed SQL text of metric files) as Ibis expressions.

The text is parsed by sqlglot (Ibis' own SQL parser) and each node is rebuilt with Ibis
operations, so that one expression compiles to every backend. Differences of time are
plain seconds (a float), compared from epoch microseconds computed by the backend's own
function (`Dialect.epoch_us`): subtracting timestamps in SQL depends on the session time
zone on some backends and shifts gaps that cross a DST change by an hour. An interval
literal (`INTERVAL '48 hours'`) is its length in seconds, so `a - b <= INTERVAL '48
hours'` and `(a - b) / INTERVAL '1 hour'` read as in the polars engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import expressions as exp

from tpmkit.engines.dialect import Dialect
from tpmkit.errors import first_line
from tpmkit.spec.expressions import ExpressionError

__all__ = ["to_ibis"]

_SECONDS = {
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 604800.0,
}


class _Duration:
    """A length of time in seconds (a difference of two instants, or an interval)."""

    def __init__(self, seconds: ir.Value) -> None:
        self.seconds = seconds


_LOG10 = re.compile(r"\blog10\s*\(", re.IGNORECASE)


def to_ibis(text: str, table: ir.Table, dialect: Dialect, timezone: str = "UTC") -> ir.Value:
    """The Ibis expression for a row expression over `table` (`timezone`: the project's,
    in which `date_part` reads a time's fields, as the polars engine does)."""
    # sqlglot reads log10(x) as log(10, x), which polars reads as log of 10 to base x
    text = _LOG10.sub("__log10(", text)
    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.ParseError as exc:
        raise ExpressionError(f"invalid SQL expression: {first_line(exc)}") from None
    value = _Builder(table, dialect, timezone).build(tree)
    return value.seconds if isinstance(value, _Duration) else value


_BINARY: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Mul: lambda a, b: a * b,
    exp.Mod: lambda a, b: a % b,
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.And: lambda a, b: a & b,
    exp.Or: lambda a, b: a | b,
}
_UNARY: dict[type[exp.Expression], Callable[[Any], Any]] = {
    exp.Abs: lambda a: a.abs(),
    exp.Floor: lambda a: a.floor(),
    exp.Ceil: lambda a: a.ceil(),
    exp.Sqrt: lambda a: a.sqrt(),
    exp.Ln: lambda a: a.ln(),
    exp.Exp: lambda a: a.exp(),
    exp.Sign: lambda a: a.sign(),
    exp.Lower: lambda a: a.lower(),
    exp.Upper: lambda a: a.upper(),
    exp.Length: lambda a: a.length(),
    # `NOT x` as `x = false` (the same under three-valued logic): sqlglot prints
    # `NOT (x) IS NOT NULL`, which DuckDB reads as NOT (x IS NOT NULL)
    exp.Not: lambda a: a == ibis.literal(False),
    exp.Neg: lambda a: -a,
}
_CASTS = {"INT": "int64", "BIGINT": "int64", "DOUBLE": "float64", "FLOAT": "float64"}


_PARTS = ("year", "quarter", "month", "day", "hour", "minute")


class _Builder:
    def __init__(self, table: ir.Table, dialect: Dialect, timezone: str) -> None:
        self.table = table
        self.dialect = dialect
        self.timezone = timezone

    def value(self, node: exp.Expression) -> ir.Value:
        built = self.build(node)
        return built.seconds if isinstance(built, _Duration) else built

    def build(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Paren):
            return self.build(node.this)
        if isinstance(node, exp.Column):
            return self.table[node.name]
        if isinstance(node, exp.Literal):
            if node.is_string:
                return ibis.literal(node.this, type="string")
            number = float(node.this)
            if number.is_integer() and "." not in node.this and "e" not in node.this.lower():
                return ibis.literal(int(number), type="int64")
            return self.dialect.number(number)
        if isinstance(node, exp.Boolean):
            return ibis.literal(bool(node.this), type="boolean")
        if isinstance(node, exp.Null):
            return ibis.null()
        if isinstance(node, exp.Interval):
            return _Duration(ibis.literal(_interval_seconds(node), type="float64"))
        if isinstance(node, exp.Sub):
            return self._minus(self.build(node.this), self.build(node.expression))
        if isinstance(node, exp.Add):
            return self.value(node.this) + self.value(node.expression)
        if isinstance(node, exp.Div):
            top, bottom = self.build(node.this), self.build(node.expression)
            if isinstance(top, _Duration) and isinstance(bottom, _Duration):
                return top.seconds / bottom.seconds
            return _plain(top).cast("float64") / _plain(bottom).cast("float64")
        if type(node) in _BINARY:
            left, right = self.build(node.this), self.build(node.expression)
            if isinstance(left, _Duration) or isinstance(right, _Duration):
                return _BINARY[type(node)](_seconds(left), _seconds(right))
            return _BINARY[type(node)](left, right)
        if type(node) in _UNARY:
            return _UNARY[type(node)](self.value(node.this))
        if isinstance(node, exp.Is):
            inner = self.value(node.this)
            return inner.isnull()
        if isinstance(node, exp.In):
            return self.value(node.this).isin([self.value(e) for e in node.expressions])
        if isinstance(node, exp.Between):
            inner = self.value(node.this)
            return inner.between(self.value(node.args["low"]), self.value(node.args["high"]))
        if isinstance(node, exp.Like):
            return self.value(node.this).like(self.value(node.expression))
        if isinstance(node, exp.ILike):
            return self.value(node.this).ilike(self.value(node.expression))
        if isinstance(node, exp.Case):
            return self._case(node)
        if isinstance(node, exp.If):
            false = node.args.get("false")
            return ibis.ifelse(
                self.value(node.this),
                self.value(node.args["true"]),
                self.value(false) if false is not None else ibis.null(),
            )
        if isinstance(node, exp.Coalesce):
            return ibis.coalesce(self.value(node.this), *(self.value(e) for e in node.expressions))
        if isinstance(node, exp.Nullif):
            return self.value(node.this).nullif(self.value(node.expression))
        if isinstance(node, exp.Greatest):
            return ibis.greatest(self.value(node.this), *(self.value(e) for e in node.expressions))
        if isinstance(node, exp.Least):
            return ibis.least(self.value(node.this), *(self.value(e) for e in node.expressions))
        if isinstance(node, exp.Round):
            digits = node.args.get("decimals")
            return self.value(node.this).round(int(digits.this) if digits is not None else 0)
        if isinstance(node, exp.Pow):
            return self.value(node.this) ** self.value(node.expression)
        if isinstance(node, exp.Trim):
            side = str(node.args.get("position") or "").upper()
            text = self.value(node.this)
            return text.lstrip() if side == "LEADING" else text.rstrip() if side else text.strip()
        if isinstance(node, exp.StartsWith):
            return self.value(node.this).startswith(self.value(node.expression))
        if isinstance(node, exp.EndsWith):
            return self.value(node.this).endswith(self.value(node.expression))
        if isinstance(node, exp.Left):
            return self.value(node.this).left(self.value(node.expression))
        if isinstance(node, exp.Right):
            return self.value(node.this).right(self.value(node.expression))
        if isinstance(node, exp.Substring):  # 1-based in SQL, 0-based in Ibis
            start = self.value(node.args["start"]) - 1
            length = node.args.get("length")
            return self.value(node.this).substr(start, self.value(length) if length else None)
        if isinstance(node, exp.StrPosition):  # 1-based, 0 when absent
            return self.value(node.this).find(self.value(node.args["substr"])) + 1
        if isinstance(node, exp.Replace):
            return self.value(node.this).replace(
                self.value(node.expression), self.value(node.args["replacement"])
            )
        if isinstance(node, exp.Log) and node.expression is not None:
            # polars reads log(x, b) as the logarithm of x to the base b
            return self.value(node.this).log(self.value(node.expression))
        if isinstance(node, exp.Anonymous):
            return self._function(node)
        if isinstance(node, exp.DPipe | exp.Concat):
            parts = (
                [node.this, node.expression] if isinstance(node, exp.DPipe) else node.expressions
            )
            values = [self.value(p).cast("string") for p in parts]
            out = values[0]
            for v in values[1:]:
                out = out + v
            return out
        if isinstance(node, exp.Cast):
            target = node.to.this.name if node.to.this else ""
            if target in _CASTS:
                return self.value(node.this).cast(_CASTS[target])
            if target in ("VARCHAR", "TEXT"):
                return self.value(node.this).cast("string")
        raise ExpressionError(
            f"`{node.sql()}` is not yet available on the Ibis engines; "
            "use the polars engine for this metric"
        )

    def _function(self, node: exp.Anonymous) -> Any:
        name = str(node.this).lower()
        args = node.expressions
        if name == "__log10" and len(args) == 1:
            return self.value(args[0]).log10()
        if name == "date_part" and len(args) == 2 and isinstance(args[0], exp.Literal):
            part = args[0].this.lower()
            if part in _PARTS:
                local = self.dialect.local(self.value(args[1]), self.timezone)
                return getattr(local, part)()
        raise ExpressionError(
            f"`{node.sql()}` is not yet available on the Ibis engines; "
            "use the polars engine for this metric"
        )

    def _minus(self, left: Any, right: Any) -> Any:
        if isinstance(left, ir.TimestampValue) and isinstance(right, ir.TimestampValue):
            difference = self.dialect.epoch_us(left) - self.dialect.epoch_us(right)
            return _Duration(difference.cast("float64") / 1e6)
        if isinstance(left, _Duration) or isinstance(right, _Duration):
            return _Duration(_seconds(left) - _seconds(right))
        return left - right

    def _case(self, node: exp.Case) -> ir.Value:
        subject = node.this
        branches = node.args.get("ifs") or []
        default = node.args.get("default")
        cases = []
        for branch in branches:
            condition = self.value(branch.this)
            if subject is not None:
                condition = self.value(subject) == condition
            cases.append((condition, self.value(branch.args["true"])))
        else_ = self.value(default) if default is not None else None
        return ibis.cases(*cases, else_=else_)


def _seconds(value: Any) -> ir.Value:
    return value.seconds if isinstance(value, _Duration) else value


def _plain(value: Any) -> ir.Value:
    return value.seconds if isinstance(value, _Duration) else value


def _interval_seconds(node: exp.Interval) -> float:
    text = node.this.name if node.this is not None else ""
    unit = node.args.get("unit")
    words = text.split()
    if unit is not None:
        words = [*words, unit.name]
    if len(words) != 2:
        raise ExpressionError(f"cannot read the interval `{node.sql()}`")
    amount, name = words
    name = name.lower().rstrip("s")
    if name not in _SECONDS:
        raise ExpressionError(f"interval unit `{words[1]}` is not fixed in length on Ibis engines")
    return float(amount) * _SECONDS[name]
