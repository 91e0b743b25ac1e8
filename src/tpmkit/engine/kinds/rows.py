"""The three layers of a row aggregation, shared by the kinds that aggregate rows.

All aggregations run inside one `group_by(period, *groups).agg(...)` per dataset and time
column, so every metric of a dataset is computed in a single pass over its rows. A kind is
written in three layers so that the grouping uses only polars' fast plain aggregations
(sum, mean, count, quantile of a column): row columns (a filter becomes a null or a
false), plain aggregations of those columns, and the value, n and components from the
aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tpmkit.spec import expressions
from tpmkit.spec.fields import Params


@dataclass(frozen=True)
class Aggregation:
    """`rows` are added to the dataset, `aggs` computed per cell from them, and `value`,
    `n` and the components computed from the aggregates (columns named `metric\\x00part`).
    value = numerator / denominator × scale; a component left None is null."""

    rows: dict[str, pl.Expr]
    aggs: dict[str, pl.Expr]
    value: pl.Expr
    n: pl.Expr
    sd: pl.Expr | None = None  # sample standard deviation of the values, for a mean
    numerator: pl.Expr | None = None
    denominator: pl.Expr | None = None
    scale: float | None = None


def row_expr(text: str, params: Params) -> pl.Expr:
    """A row expression (SQL text with `{parameter}` placeholders) as polars."""
    return expressions.to_polars(expressions.substitute(text, params))


def prepared(metric_id: str, name: str) -> str:
    """The column a metric's prepare step adds to its dataset."""
    return f"{metric_id}\x00{name}"


def mask(where: str | None, params: Params) -> pl.Expr | None:
    """The row filter; None keeps every row. A condition that is null (unknown) does not
    select the row."""
    return row_expr(where, params).fill_null(False) if where else None


def only(where: pl.Expr | None, values: pl.Expr) -> pl.Expr:
    """`values` on the rows `where` selects, null elsewhere."""
    return values if where is None else pl.when(where).then(values)


def safe_div(numerator: pl.Expr, denominator: pl.Expr, scale: float) -> pl.Expr:
    """numerator / denominator, null when the denominator is 0 or null (never inf/NaN)."""
    return (
        pl.when(denominator.is_null() | (denominator == 0))
        .then(pl.lit(None, dtype=pl.Float64))
        .otherwise(numerator.cast(pl.Float64) * scale / denominator.cast(pl.Float64))
    )


class Parts:
    """Names the row and aggregate columns of one metric."""

    def __init__(self, metric_id: str) -> None:
        self.metric_id = metric_id
        self.rows: dict[str, pl.Expr] = {}
        self.aggs: dict[str, pl.Expr] = {}

    def row(self, name: str, expr: pl.Expr) -> pl.Expr:
        """A row column; returns a reference to it."""
        column = f"{self.metric_id}\x00row_{name}"
        self.rows[column] = expr
        return pl.col(column)

    def agg(self, name: str, expr: pl.Expr) -> pl.Expr:
        """An aggregate per cell; returns a reference to it."""
        column = f"{self.metric_id}\x00agg_{name}"
        self.aggs[column] = expr
        return pl.col(column)

    def count(self, name: str, where: pl.Expr | None) -> pl.Expr:
        """How many rows of the cell `where` selects (all rows when None)."""
        if where is None:
            return self.agg(name, pl.len().cast(pl.Int64))
        return self.agg(name, self.row(name, where).sum().cast(pl.Int64))

    def total(self, name: str, where: pl.Expr | None, values: pl.Expr) -> pl.Expr:
        """The sum of `values` over the rows `where` selects (0 when there are none)."""
        return self.agg(name, self.row(name, only(where, values)).sum())

    def done(
        self,
        value: pl.Expr,
        n: pl.Expr,
        sd: pl.Expr | None = None,
        *,
        components: tuple[pl.Expr, pl.Expr | None, float] | None = None,
    ) -> Aggregation:
        """The aggregation; `components` are (numerator, denominator or None, scale)."""
        numerator, denominator, scale = components or (None, None, None)
        return Aggregation(
            self.rows,
            self.aggs,
            value.cast(pl.Float64),
            n.cast(pl.Int64),
            None if sd is None else sd.cast(pl.Float64),
            None if numerator is None else numerator.cast(pl.Float64),
            None if denominator is None else denominator.cast(pl.Float64),
            scale,
        )


Part = pl.Expr | float | None


def component_columns(parts: tuple[Part, Part, Part], value: pl.Expr) -> list[pl.Expr]:
    """The `numerator`, `denominator` and `scale` columns of cells: each part a per-cell
    expression, a number (a scale such as 100) or None (the kind has no such part); all
    null where the value is (no data)."""
    known = value.is_not_null()
    columns = []
    for name, part in zip(("numerator", "denominator", "scale"), parts, strict=True):
        if part is None:
            columns.append(pl.lit(None, dtype=pl.Float64).alias(name))
            continue
        column = part if isinstance(part, pl.Expr) else pl.lit(float(part), dtype=pl.Float64)
        columns.append(pl.when(known).then(column.cast(pl.Float64)).alias(name))
    return columns
