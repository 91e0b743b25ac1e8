"""Computation kinds: each turns a compute spec into a (value, n) aggregation.

All aggregations run inside one `group_by(period, *groups).agg(...)` per dataset and time
column, so every metric of a dataset is computed in a single pass over its rows. A kind is
written in three layers so that the grouping uses only polars' fast plain aggregations
(sum, mean, count, quantile of a column): row columns (a filter becomes a null or a
false), plain aggregations of those columns, and the value and n from the aggregates.
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
    """`rows` are added to the dataset, `aggs` computed per cell from them, and `value`
    and `n` computed from the aggregates (all columns named `metric\\x00part`)."""

    rows: dict[str, pl.Expr]
    aggs: dict[str, pl.Expr]
    value: pl.Expr
    n: pl.Expr
    sd: pl.Expr | None = None  # sample standard deviation of the values, for a mean


def row_expr(text: str, params: Params) -> pl.Expr:
    """A row expression (SQL text with `{parameter}` placeholders) as polars."""
    return expressions.to_polars(expressions.substitute(text, params))


def prepared(metric_id: str, name: str) -> str:
    """The column a metric's prepare step adds to its dataset."""
    return f"{metric_id}\x00{name}"


def prepare(
    frame: pl.LazyFrame,
    metric_id: str,
    compute: object,
    params: Params,
    time_column: str,
    *,
    exact: bool = False,
) -> pl.LazyFrame:
    """Add the columns a kind needs computed over the whole dataset before rows are cut
    into periods: the next later row of the same key, or a group's mean and size.
    `exact`: see `_with_next_later`."""
    if isinstance(compute, NoRepeatCompute):
        return _with_next_later(frame, metric_id, compute.key, time_column, exact)
    if isinstance(compute, DeviationCompute):
        values = _only(
            _mask(compute.where, params), row_expr(compute.expr, params).cast(pl.Float64)
        )
        group = pl.col(compute.group)
        return frame.with_columns(
            (values - values.mean().over(group)).abs().alias(prepared(metric_id, "deviation")),
            values.count().over(group).alias(prepared(metric_id, "size")),
        )
    return frame


def needs_whole_dataset(compute: object) -> bool:
    """True when a kind looks beyond the rows of one period: a repeat window, a group of
    rows across periods, a stock, or a horizon taken over the whole dataset."""
    return (
        isinstance(compute, NoRepeatCompute | DeviationCompute | OpenAtEndCompute)
        or getattr(compute, "censor", None) is not None
    )


def reorders(compute: object) -> bool:
    """True when the kind's preparation sorts the whole dataset: such a metric gets a pass
    of its own (reading only the columns it needs), which runs beside the other passes."""
    return isinstance(compute, NoRepeatCompute)


def recheck(metric_id: str, compute: object) -> pl.Expr | None:
    """Per cell: true when the fast preparation could not be trusted and the dataset must be
    prepared again with `exact=True` (a hash collision between two keys; see below)."""
    if isinstance(compute, NoRepeatCompute):
        return pl.col(prepared(metric_id, "collision")).any()
    return None


_NO_LATER = 2**63 - 1  # stands for "no later row of this key" while filling


def key_hashes(key: str) -> tuple[pl.Expr, pl.Expr]:
    """Two independent 64-bit hashes of a key: rows are grouped by the first; a pair of
    neighbours with equal first and different second hash reveals a collision."""
    return pl.col(key).hash(seed=20260817), pl.col(key).hash(seed=7)


def _with_next_later(
    frame: pl.LazyFrame, metric_id: str, key: str, time_column: str, exact: bool
) -> pl.LazyFrame:
    """Per row, the first strictly later instant of a row with the same key (`later`, epoch
    µs, or null) and the latest instant of the dataset (`horizon`).

    In the order of key and time a row's successor is its next contact; the rows of a run of equal
    instants all take the instant after the run (a contact at the identical instant is no
    repeat), filled back from the run's end; the last row of a key has none.

    Sorting by (text key, time) is slow on millions of rows, so by default the rows are
    sorted by time and then, stably, by a 64-bit hash of the key: two single-column sorts.
    Two keys with the same hash would interleave: neighbours with the same hash whose
    second, independent hash differs flag it in `collision`, and the caller prepares again
    with `exact=True`, sorting by the key itself. (Both hashes equal for different keys:
    about 1 in 10^26 for ten million keys.) Only the two hashes and the times are put in
    that order, and the result is put back in the rows' own order: moving text is slow."""
    t = pl.col(time_column)
    order, group, check, times, later = (
        prepared(metric_id, n) for n in ("order", "group", "check", "times", "later")
    )
    first, second = key_hashes(key)
    if exact:
        frame = frame.with_columns(pl.arg_sort_by(pl.col(key), t).alias(order)).with_columns(
            pl.col(key).gather(pl.col(order)).alias(group), pl.lit(0).alias(check)
        )
    else:  # each step is its own column so that no step is computed twice
        frame = (
            frame.with_columns(t.arg_sort().alias(order))
            .with_columns(first.gather(pl.col(order)).alias(group))
            .with_columns(pl.col(order).sort_by(group, maintain_order=True).alias(order))
            .with_columns(
                first.gather(pl.col(order)).alias(group),
                second.gather(pl.col(order)).alias(check),
            )
        )
    at = pl.col(times)
    same_key = (pl.col(group).shift(-1) == pl.col(group)).fill_null(False)
    following = (
        pl.when(~same_key)
        .then(pl.lit(_NO_LATER, dtype=pl.Int64))
        .when(at.shift(-1) == at)
        .then(pl.lit(None, dtype=pl.Int64))
        .otherwise(at.shift(-1))
        .backward_fill()
    )
    collision = (same_key & (pl.col(check) != pl.col(check).shift(-1))).any()
    return (
        frame.with_columns(t.dt.epoch("us").gather(pl.col(order)).alias(times))
        .with_columns(following.alias(later), collision.alias(prepared(metric_id, "collision")))
        .with_columns(
            pl.when(pl.col(later) == _NO_LATER)
            .then(None)
            .otherwise(pl.col(later))
            .gather(pl.col(order).arg_sort())  # back to the rows' own order
            .alias(later),
            t.max().alias(prepared(metric_id, "horizon")),
        )
        .drop(order, group, check, times)
    )


def _mask(where: str | None, params: Params) -> pl.Expr | None:
    """The row filter; None keeps every row. A condition that is null (unknown) does not
    select the row."""
    return row_expr(where, params).fill_null(False) if where else None


def _only(where: pl.Expr | None, values: pl.Expr) -> pl.Expr:
    """`values` on the rows `where` selects, null elsewhere."""
    return values if where is None else pl.when(where).then(values)


def _safe_div(numerator: pl.Expr, denominator: pl.Expr, scale: float) -> pl.Expr:
    """numerator / denominator, null when the denominator is 0 or null (never inf/NaN)."""
    return (
        pl.when(denominator.is_null() | (denominator == 0))
        .then(pl.lit(None, dtype=pl.Float64))
        .otherwise(numerator.cast(pl.Float64) * scale / denominator.cast(pl.Float64))
    )


class _Parts:
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

    def count(self, name: str, mask: pl.Expr | None) -> pl.Expr:
        """How many rows of the cell `mask` selects (all rows when None)."""
        if mask is None:
            return self.agg(name, pl.len().cast(pl.Int64))
        return self.agg(name, self.row(name, mask).sum().cast(pl.Int64))

    def total(self, name: str, mask: pl.Expr | None, values: pl.Expr) -> pl.Expr:
        """The sum of `values` over the rows `mask` selects (0 when there are none)."""
        return self.agg(name, self.row(name, _only(mask, values)).sum())

    def done(self, value: pl.Expr, n: pl.Expr, sd: pl.Expr | None = None) -> Aggregation:
        return Aggregation(
            self.rows,
            self.aggs,
            value.cast(pl.Float64),
            n.cast(pl.Int64),
            None if sd is None else sd.cast(pl.Float64),
        )


def aggregation(
    compute: object, params: Params, metric_id: str = "", time_column: str = ""
) -> Aggregation:
    """The (value, n) aggregation of a row-level compute spec."""
    if isinstance(compute, FormulaCompute | OpenAtEndCompute):
        raise TypeError(f"{type(compute).__name__} is not a row aggregation")
    where = _mask(getattr(compute, "where", None), params)
    parts = _Parts(metric_id)
    if isinstance(compute, CountCompute):
        count = parts.count("count", where)
        return parts.done(count, count)
    if isinstance(compute, SumCompute):
        values = row_expr(compute.expr, params).cast(pl.Float64)
        return parts.done(parts.total("sum", where, values), parts.count("rows", where))
    if isinstance(compute, RatioCompute):
        condition = row_expr(compute.numerator, params)
        population = condition.is_not_null()  # a null flag leaves the denominator
        population = population if where is None else where & population
        hits = parts.count("hits", population & condition.fill_null(False))
        size = parts.count("size", population)
        return parts.done(_safe_div(hits, size, compute.scale), size)
    if isinstance(compute, RatioOfSumsCompute):
        top = parts.total("top", where, row_expr(compute.numerator, params).cast(pl.Float64))
        bottom = parts.total(
            "bottom", where, row_expr(compute.denominator, params).cast(pl.Float64)
        )
        return parts.done(_safe_div(top, bottom, compute.scale), parts.count("rows", where))
    if isinstance(compute, NoRepeatCompute):
        t = pl.col(time_column)
        window = pl.duration(seconds=window_seconds(compute, params))
        # the follow-up window must end by the latest time in the whole dataset
        observable = pl.col(prepared(metric_id, "horizon")) >= t + window
        population = pl.col(compute.key).is_not_null() & observable
        population = population if where is None else where & population
        later = pl.col(prepared(metric_id, "later"))  # epoch µs
        repeated = later.is_not_null() & (later <= (t + window).dt.epoch("us"))
        size = parts.count("size", population)
        kept = parts.count("kept", population & ~repeated)
        return parts.done(_safe_div(kept, size, compute.scale), size)
    if isinstance(compute, DeviationCompute):
        usable = pl.col(compute.group).is_not_null() & (
            pl.col(prepared(metric_id, "size")) >= compute.min_group_size
        )
        usable = usable if where is None else where & usable
        deviations = parts.row("deviation", _only(usable, pl.col(prepared(metric_id, "deviation"))))
        return parts.done(
            parts.agg("mean", deviations.mean()), parts.agg("count", deviations.count())
        )
    assert isinstance(compute, MeanCompute | MedianCompute | PercentileCompute | StatisticCompute)
    values = parts.row("values", _only(where, row_expr(compute.expr, params).cast(pl.Float64)))
    if isinstance(compute, MeanCompute):
        quantile: float | None = None
    elif isinstance(compute, MedianCompute):
        quantile = 0.5
    elif isinstance(compute, PercentileCompute):
        quantile = compute.p / 100.0
    else:
        quantile = statistic_quantile(str(resolve(compute.statistic, params)))
    value = values.mean() if quantile is None else values.quantile(quantile, "linear")
    sd = parts.agg("sd", values.std()) if quantile is None else None
    return parts.done(parts.agg("value", value), parts.agg("count", values.count()), sd)
