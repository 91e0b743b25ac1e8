"""Trend of each series: least-squares slope over its last N periods, in the metric's direction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.notes import EXCLUDED
from tpmkit.vocabulary import Trend

WINDOW = 6
MIN_POINTS = 3
# A slope smaller than 1 % of the series level per period is "stable".
TOLERANCE = 0.01


def _position(grain: str) -> pl.Expr:
    """A record's position in nominal periods; rounding absorbs DST (an hour is 1/168 of
    a week) and the zone offset, and hours stay distinct across a DST change."""
    days = pl.col("period_start").dt.epoch("us") / 86_400e6
    return (days / periods.NOMINAL_DAYS[grain]).round(0)


def origin(records: pl.DataFrame, grain: str) -> float | None:
    """The first position of `records` (see `add_slope`; None when there is none)."""
    if records.is_empty() or grain == "all":
        return None
    first = records.select(_position(grain).min()).item()
    return None if first is None else float(first)


def add_slope(
    records: pl.DataFrame,
    keys: list[str],
    grain: str,
    window: int = WINDOW,
    *,
    origin: float | None = None,
    order: str | None = None,
    context: pl.DataFrame | None = None,
    placing: Placing | None = None,
) -> pl.DataFrame:
    """Add `slope` (least squares over the last `window` records of each metric × group
    series), `__level` (their mean) and `__fit` (the fitted line at the record), for
    `trend()` and the projections of `signals`. The records come back ordered by
    series and period. A record marked `__excluded` (an annotation with `exclude`) keeps
    its place in the window but its value is left out of the fit. `order`: a column that
    sorts the records by series and period (engine/order.py), else they are sorted by
    `keys` and period. `context` (`keys`, `period_start`, `value`): records of the same
    series before all of these, finished elsewhere (an incremental run's), whose values
    count in the windows of the first records here exactly as if they were here; they
    are not returned. `placing`: see `Placing`."""
    if records.is_empty() or grain == "all":
        return records.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("slope"),
            pl.lit(None, dtype=pl.Float64).alias("__level"),
            pl.lit(None, dtype=pl.Float64).alias("__fit"),
            pl.lit(None, dtype=pl.Float64).alias("__points"),
        )
    x = _position(grain)
    if origin is None and context is not None and not context.is_empty():
        firsts = [records.select(x.min()).item(), context.select(x.min()).item()]
        origin = min((float(p) for p in firsts if p is not None), default=None)
    # small numbers: the sums below stay exact enough; `origin`, the first position of all
    # records finished in parts, gives every part the same positions
    x = x - (x.min() if origin is None else pl.lit(origin))
    counted = pl.col("value").is_not_null()
    if EXCLUDED in records.columns:
        counted = counted & ~pl.col(EXCLUDED)

    def terms(counted: pl.Expr) -> list[pl.Expr]:
        return [
            counted.cast(pl.Float64).alias("__p"),
            pl.when(counted).then(x).otherwise(0.0).alias("__x"),
            pl.when(counted).then(pl.col("value")).otherwise(0.0).alias("__y"),
        ]

    if order is not None:
        ordered = records.sort(order, multithreaded=False)
    else:
        ordered = records.sort([*keys, "period_start"], nulls_last=True)
    new_series = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    ordered = ordered.with_columns(terms(counted))
    if context is None or context.is_empty():
        work = _sums(ordered, new_series, window)
    else:  # the sums over the context's records and these, in series and period order
        made = terms(pl.col("value").is_not_null())
        if origin is None:  # positions from the context's own first: made before it is cut
            context, made, placing = context.with_columns(made), [], None
        both = seeded(ordered, keys, new_series, context, ["__p", "__x", "__y"], placing, made)
        both = _sums(both, pl.col(SERIES).ne_missing(pl.col(SERIES).shift(1)), window)
        sums = ["__s", "__sx", "__sy", "__sxy", "__sxx"]
        work = ordered.drop("__p", "__y").hstack(both.filter(pl.col(OWN)).select(sums))
    s, sx, sy = pl.col("__s"), pl.col("__sx"), pl.col("__sy")
    denominator = s * pl.col("__sxx") - sx * sx
    slope = (
        pl.when((s >= MIN_POINTS) & (denominator > 0) & pl.col("value").is_not_null())
        .then((s * pl.col("__sxy") - sx * sy) / denominator)
        .otherwise(None)
    )
    # the fitted line at this record's own position (for projections)
    fitted = sy / s + pl.col("slope") * (pl.col("__x") - sx / s)
    work = work.with_columns(slope.alias("slope"), (sy / s).alias("__level"))
    return work.with_columns(fitted.alias("__fit"), s.alias("__points")).drop(
        "__s", "__sx", "__sy", "__sxy", "__sxx", "__x"
    )


SERIES, OWN = "__series", "__own"  # of a `seeded` frame
_HOUR = 3_600_000_000  # µs: periods are whole hours apart at least


@dataclass
class Placing:
    """The context records of a table's series, each with its series' id (`SERIES`), found
    by the first `seeded` call and given to the next over a table in the same order (the
    trend's and the signals' in `compute.finish`: one join of the context, not two)."""

    found: pl.DataFrame | None = None
    series: int = 0  # how many series the table has


def seeded(
    table: pl.DataFrame,
    keys: list[str],
    new_series: pl.Expr,
    context: pl.DataFrame,
    columns: list[str],
    placing: Placing | None = None,
    made: Sequence[pl.Expr] = (),
) -> pl.DataFrame:
    """`table`'s rows (ordered by series and period; `new_series` true on a series' first)
    and the `context` records of their series (`keys`, `period_start`), all before them,
    as one frame ordered by series and period: `SERIES` (an id per series of `table`),
    `OWN` (true for `table`'s rows, which keep their order) and `columns` (both frames
    have them, or the context's are `made`, per row). Context of a series not in `table`
    is left out: it decides nothing here. `placing`: where the context's records found
    among the table's series are kept for, or taken from (see `Placing`)."""
    first = new_series | (pl.int_range(pl.len()) == 0)
    ids = table.select(first.cum_sum().cast(pl.Int64).alias(SERIES), *columns)
    if placing is not None and placing.found is not None:
        before, series = placing.found, placing.series
    else:
        heads = table.select(*keys, ids.get_column(SERIES)).filter(
            pl.col(SERIES).ne_missing(pl.col(SERIES).shift(1))
        )
        before = context.join(heads, on=keys, how="inner", nulls_equal=True)
        series = heads.height
        if placing is not None:
            placing.found, placing.series = before, series
    hours = pl.col("period_start").dt.epoch("us") // _HOUR
    before = before.with_columns(*made).with_columns(hours - hours.min())
    # one integer to sort by (a sort by two columns costs four times as much): the series,
    # then a context record's hour, then (after every hour) an own row's place
    span = before.select(pl.col("period_start").max().fill_null(0)).item()
    low = max(int(span) + 1, table.height).bit_length()
    if series.bit_length() + low + 1 > 62:  # too many to pack: sort by both
        return _stacked(ids, before, columns).sort([SERIES, OWN, "__k"]).drop("__k")
    inside = pl.col("__k") + pl.when(pl.col(OWN)).then(2**low).otherwise(0)
    order = pl.col(SERIES) * 2 ** (low + 1) + inside
    return _stacked(ids, before, columns).sort(order).drop("__k")


def _stacked(ids: pl.DataFrame, before: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The own rows (`__k`: their place) over the context's (`__k`: their hour)."""
    own = ids.select(
        SERIES,
        pl.lit(True).alias(OWN),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__k"),
        *columns,
    )
    thin = before.select(
        SERIES, pl.lit(False).alias(OWN), pl.col("period_start").alias("__k"), *columns
    )
    return pl.concat([own, thin.cast(own.schema)])


def _sums(frame: pl.DataFrame, new_series: pl.Expr, window: int) -> pl.DataFrame:
    """`frame` (ordered by series and period, with `__p`, `__x`, `__y`) with the sums
    over each row's window: `__s`, `__sx`, `__sy`, `__sxy`, `__sxx`."""
    # Sorted by series and period, the last `window` rows of a series are the row and the
    # `window - 1` before it that belong to the same series: plain shifts, no grouping.
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(new_series | (position == 0)).then(position).forward_fill()
    frame = frame.with_columns(start.alias("__start"))
    # weight 1 when the row `lag` rows up is in the same series, else 0
    lags = [f"__in{lag}" for lag in range(window)]
    frame = frame.with_columns(
        (position - lag >= pl.col("__start")).cast(pl.Float64).alias(name)
        for lag, name in enumerate(lags)
    )

    def roll(expr: pl.Expr) -> pl.Expr:
        return pl.sum_horizontal(expr.shift(lag) * pl.col(name) for lag, name in enumerate(lags))

    px, py = pl.col("__x"), pl.col("__y")
    return frame.with_columns(
        roll(pl.col("__p")).alias("__s"),
        roll(px).alias("__sx"),
        roll(py).alias("__sy"),
        roll(px * py).alias("__sxy"),
        roll(px * px).alias("__sxx"),
    ).drop("__start", "__p", "__y", *lags)


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
def trend(made: str | None = None) -> pl.Expr:
    """improving|stable|worsening|null from `slope` and `__level` (see `add_slope`) in the
    metric's direction, relative to the level; needs `direction`, `target`, `target_upper`.
    `made`: a column holding `relative_change()`, made ahead (else it is evaluated for each branch,
    four times: 1 ms a 15,000 records)."""
    toward = relative_change() if made is None else pl.col(made)
    return (
        pl.when(toward.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(toward > TOLERANCE)
        .then(pl.lit(Trend.IMPROVING.value))
        .when(toward < -TOLERANCE)
        .then(pl.lit(Trend.WORSENING.value))
        .otherwise(pl.lit(Trend.STABLE.value))
    )


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
def relative_change() -> pl.Expr:
    """The slope relative to the level, signed so that positive is better (see `trend`)."""
    level = pl.col("__level").abs()
    relative = pl.col("slope") / pl.max_horizontal(level, pl.lit(1e-12))
    middle = (pl.col("target") + pl.col("target_upper")) / 2
    toward = (
        pl.when(pl.col("direction") == "higher_is_better")
        .then(relative)
        .when(pl.col("direction") == "lower_is_better")
        .then(-relative)
        .when(pl.col("direction") == "within_band")
        .then(relative * (middle - pl.col("__level")).sign())
        .otherwise(None)
    )
    return toward


def add_trend(
    records: pl.DataFrame, keys: list[str], grain: str, window: int = WINDOW
) -> pl.DataFrame:
    """`slope` and `trend` in one call, for records that already carry their levels."""
    return add_slope(records, keys, grain, window).with_columns(trend().alias("trend"))
