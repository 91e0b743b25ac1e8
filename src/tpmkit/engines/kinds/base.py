"""What every kind's Ibis plan shares: the rows of one pass on the backend and the
aggregates it computes, named as the polars plan names them (`Parts`), so that the value,
n and components are then computed on the client by the kind's own polars plan."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir

from tpmkit.engines.dialect import Dialect
from tpmkit.engines.translate import to_ibis
from tpmkit.spec import expressions
from tpmkit.spec.fields import Params

EPOCH = "__e"  # the row's instant (its time column) as epoch microseconds


@dataclass
class Rows:
    """The table of one pass and how to read its expressions."""

    table: ir.Table
    dialect: Dialect
    time_column: str
    timezone: str = "UTC"  # the project's: `date_part` reads local fields
    # the pass's latest instant (epoch µs) over its rows as they came in: a subquery on
    # DuckDB (`Dialect.horizon`), queried on first use elsewhere
    latest: Callable[[], Any] | None = None

    def expr(self, text: str, params: Params) -> ir.Value:
        """A row expression (with `{parameter}` placeholders) over the table."""
        text = expressions.substitute(text, params)
        return to_ibis(text, self.table, self.dialect, self.timezone)

    def mask(self, where: str | None, params: Params) -> ir.BooleanValue | None:
        """The row filter (an unknown condition does not select the row); None: all."""
        return self.expr(where, params).fill_null(False) if where else None

    def epoch(self) -> ir.IntegerValue:
        """The time column as epoch microseconds."""
        return self.table[EPOCH]


def only(where: ir.BooleanValue | None, values: ir.Value) -> ir.Value:
    """`values` on the rows `where` selects, null elsewhere."""
    return values if where is None else ibis.ifelse(where, values, ibis.null())


@dataclass
class Reductions:
    """Aggregates per cell, keyed by the polars plan's column names (`metric\\x00agg_…`)."""

    metric_id: str
    aggs: dict[str, ir.Scalar] = field(default_factory=dict)

    def agg(self, name: str, expr: Any) -> Reductions:
        """An aggregate per cell."""
        self.aggs[f"{self.metric_id}\x00agg_{name}"] = expr
        return self

    def count(self, name: str, where: ir.BooleanValue | None, table: ir.Table) -> Reductions:
        """How many rows `where` selects (all rows when None)."""
        if where is None:
            return self.agg(name, table.count())
        return self.agg(name, ibis.ifelse(where, 1, 0).sum())

    def total(self, name: str, where: ir.BooleanValue | None, values: ir.Value) -> Reductions:
        """The sum of `values` over the rows `where` selects (0 when there are none)."""
        return self.agg(name, only(where, values).sum().fill_null(0.0))


class IbisKind(Protocol):
    """A kind's Ibis plan (plan "rows"): whole-table preparation, then reductions."""

    def prepare(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> ir.Table:
        """Columns computed over the whole table before rows are cut into periods."""
        ...

    def reductions(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> Reductions:
        """The aggregates per cell the polars plan's value, n and components read."""
        ...


class RowKind:
    """A kind whose Ibis plan needs no preparation."""

    def prepare(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> ir.Table:
        """Nothing to prepare."""
        return rows.table


def prepared(metric_id: str, name: str) -> str:
    """A SQL-safe name for a column a metric's preparation adds."""
    digest = hashlib.sha1(metric_id.encode()).hexdigest()[:12]
    return f"__m{digest}_{name}"
