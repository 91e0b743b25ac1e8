"""Computation kinds: each turns a compute spec into a (value, n) aggregation pair.

All aggregations run inside one `group_by(period, *groups).agg(...)` per dataset and time
column, so every metric of a dataset is computed in a single pass over its rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from tpmkit.spec import expressions
from tpmkit.spec.models import (
    CountCompute,
    FormulaCompute,
    MeanCompute,
    MedianCompute,
    PercentileCompute,
    RatioCompute,
    RatioOfSumsCompute,
    SumCompute,
)

Params = Mapping[str, str | int | float | bool]


@dataclass(frozen=True)
class Aggregation:
    value: pl.Expr
    n: pl.Expr


def row_expr(text: str, params: Params) -> pl.Expr:
    """A row expression (SQL text with `{parameter}` placeholders) as polars."""
    return expressions.to_polars(expressions.substitute(text, params))


def _mask(where: str | None, params: Params) -> pl.Expr:
    # a condition that is null (unknown) does not select the row
    if where:
        return row_expr(where, params).fill_null(False)
    return pl.int_range(pl.len()) >= 0  # every row (a bare literal would not broadcast in agg)


def _safe_div(numerator: pl.Expr, denominator: pl.Expr, scale: float) -> pl.Expr:
    """numerator / denominator, null when the denominator is 0 or null (never inf/NaN)."""
    return (
        pl.when(denominator.is_null() | (denominator == 0))
        .then(pl.lit(None, dtype=pl.Float64))
        .otherwise(numerator.cast(pl.Float64) * scale / denominator.cast(pl.Float64))
    )


def _count(mask: pl.Expr) -> pl.Expr:
    return mask.cast(pl.Int64).sum()


def aggregation(compute: object, params: Params) -> Aggregation:
    """The (value, n) aggregation of a non-formula compute spec."""
    if isinstance(compute, FormulaCompute):
        raise TypeError("formula metrics are combined after aggregation")
    where = _mask(getattr(compute, "where", None), params)
    if isinstance(compute, CountCompute):
        count = _count(where)
        return Aggregation(count.cast(pl.Float64), count)
    if isinstance(compute, SumCompute):
        values = row_expr(compute.expr, params).cast(pl.Float64)
        return Aggregation(values.filter(where).fill_null(0.0).sum(), _count(where))
    if isinstance(compute, RatioCompute):
        condition = row_expr(compute.numerator, params)
        population = where & condition.is_not_null()  # a null flag leaves the denominator
        hits = _count(population & condition.fill_null(False))
        size = _count(population)
        return Aggregation(_safe_div(hits, size, compute.scale), size)
    if isinstance(compute, RatioOfSumsCompute):
        top = (
            row_expr(compute.numerator, params).cast(pl.Float64).filter(where).fill_null(0.0).sum()
        )
        bottom = (
            row_expr(compute.denominator, params)
            .cast(pl.Float64)
            .filter(where)
            .fill_null(0.0)
            .sum()
        )
        return Aggregation(_safe_div(top, bottom, compute.scale), _count(where))
    assert isinstance(compute, MeanCompute | MedianCompute | PercentileCompute)
    values = row_expr(compute.expr, params).cast(pl.Float64).filter(where).drop_nulls()
    if isinstance(compute, MeanCompute):
        value = values.mean()
    elif isinstance(compute, MedianCompute):
        value = values.median()
    else:
        value = values.quantile(compute.p / 100.0, interpolation="linear")
    return Aggregation(value.cast(pl.Float64), values.count().cast(pl.Int64))


def columns_used(compute: object, params: Params) -> set[str]:
    """Dataset columns a compute spec reads."""
    used: set[str] = set()
    for field in ("expr", "where", "numerator", "denominator"):
        text = getattr(compute, field, None)
        if text and not isinstance(compute, FormulaCompute):
            used.update(expressions.parse(expressions.substitute(text, params)).columns)
    return used
