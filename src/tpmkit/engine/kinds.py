"""Computation kinds: each turns a compute spec into a (value, n) aggregation pair.

All aggregations run inside one `group_by(period, *groups).agg(...)` per dataset and time
column, so every metric of a dataset is computed in a single pass over its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tpmkit.spec import expressions
from tpmkit.spec.fields import Params, resolve, statistic_quantile, window_seconds
from tpmkit.spec.models import (
    CountCompute,
    DeviationCompute,
    FormulaCompute,
    MeanCompute,
    MedianCompute,
    NoRepeatCompute,
    OpenAtEndCompute,
    PercentileCompute,
    RatioCompute,
    RatioOfSumsCompute,
    StatisticCompute,
    SumCompute,
)


@dataclass(frozen=True)
class Aggregation:
    value: pl.Expr
    n: pl.Expr


def row_expr(text: str, params: Params) -> pl.Expr:
    """A row expression (SQL text with `{parameter}` placeholders) as polars."""
    return expressions.to_polars(expressions.substitute(text, params))


def prepared(metric_id: str, name: str) -> str:
    """The column a metric's prepare step adds to its dataset."""
    return f"{metric_id}\x00{name}"


def prepare(metric_id: str, compute: object, params: Params, time_column: str) -> list[pl.Expr]:
    """Columns a kind needs computed over the whole dataset before rows are cut into
    periods: the next later row of the same key, or a group's mean and size."""
    if isinstance(compute, NoRepeatCompute):
        t = pl.col(time_column)
        following = t.shift(-1).over(compute.key, order_by=time_column)
        later = pl.when(following > t).then(following)  # the same instant is no repeat
        return [
            later.alias(prepared(metric_id, "later")),
            t.max().alias(prepared(metric_id, "horizon")),
        ]
    if isinstance(compute, DeviationCompute):
        values = pl.when(_mask(compute.where, params)).then(
            row_expr(compute.expr, params).cast(pl.Float64)
        )
        group = pl.col(compute.group)
        return [
            (values - values.mean().over(group)).abs().alias(prepared(metric_id, "deviation")),
            values.count().over(group).alias(prepared(metric_id, "size")),
        ]
    return []


def prepare_after(
    metric_id: str, compute: object, params: Params, time_column: str
) -> list[pl.Expr]:
    """Second prepare step (needs the first one's columns)."""
    if isinstance(compute, NoRepeatCompute):
        # ties: the last row of a run of equal instants holds the next later instant
        later = pl.col(prepared(metric_id, "later"))
        return [
            later.backward_fill()
            .over(compute.key, order_by=time_column)
            .alias(prepared(metric_id, "later"))
        ]
    return []


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


def aggregation(
    compute: object, params: Params, metric_id: str = "", time_column: str = ""
) -> Aggregation:
    """The (value, n) aggregation of a row-level compute spec."""
    if isinstance(compute, FormulaCompute | OpenAtEndCompute):
        raise TypeError(f"{type(compute).__name__} is not a row aggregation")
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
    if isinstance(compute, NoRepeatCompute):
        t = pl.col(time_column)
        window = pl.duration(seconds=window_seconds(compute, params))
        # the follow-up window must end by the latest time in the whole dataset
        observable = pl.col(prepared(metric_id, "horizon")) >= t + window
        population = where & pl.col(compute.key).is_not_null() & observable
        later = pl.col(prepared(metric_id, "later"))
        repeated = later.is_not_null() & (later <= t + window)
        return Aggregation(
            _safe_div(_count(population & ~repeated), _count(population), compute.scale),
            _count(population),
        )
    if isinstance(compute, DeviationCompute):
        usable = (
            where
            & pl.col(compute.group).is_not_null()
            & (pl.col(prepared(metric_id, "size")) >= compute.min_group_size)
        )
        values = pl.col(prepared(metric_id, "deviation")).filter(usable).drop_nulls()
        return Aggregation(values.mean().cast(pl.Float64), values.count().cast(pl.Int64))
    assert isinstance(compute, MeanCompute | MedianCompute | PercentileCompute | StatisticCompute)
    values = row_expr(compute.expr, params).cast(pl.Float64).filter(where).drop_nulls()
    if isinstance(compute, MeanCompute):
        quantile: float | None = None
    elif isinstance(compute, MedianCompute):
        quantile = 0.5
    elif isinstance(compute, PercentileCompute):
        quantile = compute.p / 100.0
    else:
        quantile = statistic_quantile(str(resolve(compute.statistic, params)))
    value = values.mean() if quantile is None else values.quantile(quantile, "linear")
    return Aggregation(value.cast(pl.Float64), values.count().cast(pl.Int64))
