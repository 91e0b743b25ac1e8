"""Trend of each series: least-squares slope over its last N periods, in the metric's direction."""

from __future__ import annotations

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
) -> pl.DataFrame:
    """Add `slope` (least squares over the last `window` records of each metric × group
    series), `__level` (their mean) and `__fit` (the fitted line at the record), for
    `trend()` and the projections of `signals`. The records come back ordered by
    series and period. A record marked `__excluded` (an annotation with `exclude`) keeps
    its place in the window but its value is left out of the fit. `order`: a column that
    sorts the records by series and period (engine/order.py), else they are sorted by
    `keys` and period."""
    if records.is_empty() or grain == "all":
        return records.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("slope"),
            pl.lit(None, dtype=pl.Float64).alias("__level"),
            pl.lit(None, dtype=pl.Float64).alias("__fit"),
            pl.lit(None, dtype=pl.Float64).alias("__points"),
        )
    x = _position(grain)
    # small numbers: the sums below stay exact enough; `origin`, the first position of all
    # records finished in parts, gives every part the same positions
    x = x - (x.min() if origin is None else pl.lit(origin))
    counted = pl.col("value").is_not_null()
    if EXCLUDED in records.columns:
        counted = counted & ~pl.col(EXCLUDED)
    present = counted.cast(pl.Float64)
    xs = pl.when(counted).then(x).otherwise(0.0)
    ys = pl.when(counted).then(pl.col("value")).otherwise(0.0)

    # Sorted by series and period, the last `window` rows of a series are the row and the
    # `window - 1` before it that belong to the same series: plain shifts, no grouping.
    if order is not None:
        ordered = records.sort(order, multithreaded=False)
    else:
        ordered = records.sort([*keys, "period_start"], nulls_last=True)
    new_series = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    start = pl.when(new_series | (position == 0)).then(position).forward_fill()
    ordered = ordered.with_columns(
        present.alias("__p"), xs.alias("__x"), ys.alias("__y"), start.alias("__start")
    )
    # weight 1 when the row `lag` rows up is in the same series, else 0
    lags = [f"__in{lag}" for lag in range(window)]
    ordered = ordered.with_columns(
        (position - lag >= pl.col("__start")).cast(pl.Float64).alias(name)
        for lag, name in enumerate(lags)
    )

    def roll(expr: pl.Expr) -> pl.Expr:
        return pl.sum_horizontal(expr.shift(lag) * pl.col(name) for lag, name in enumerate(lags))

    px, py = pl.col("__x"), pl.col("__y")
    work = ordered.with_columns(
        roll(pl.col("__p")).alias("__s"),
        roll(px).alias("__sx"),
        roll(py).alias("__sy"),
        roll(px * py).alias("__sxy"),
        roll(px * px).alias("__sxx"),
    ).drop("__start", "__p", "__y", *lags)
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


def trend() -> pl.Expr:
    """improving|stable|worsening|null from `slope` and `__level` (see `add_slope`) in the
    metric's direction, relative to the level; needs `direction`, `target`, `target_upper`."""
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
    return (
        pl.when(toward.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(toward > TOLERANCE)
        .then(pl.lit(Trend.IMPROVING.value))
        .when(toward < -TOLERANCE)
        .then(pl.lit(Trend.WORSENING.value))
        .otherwise(pl.lit(Trend.STABLE.value))
    )


def add_trend(
    records: pl.DataFrame, keys: list[str], grain: str, window: int = WINDOW
) -> pl.DataFrame:
    """`slope` and `trend` in one call, for records that already carry their levels."""
    return add_slope(records, keys, grain, window).with_columns(trend().alias("trend"))
