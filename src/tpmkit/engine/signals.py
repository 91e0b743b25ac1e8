"""Early warnings and control signals on each metric × group series (records ordered by
series and period, with `slope`, `__fit` and `trend` from `trend.py`).

- `change_pct`: change against the series' previous record, in percent of it;
  `change_vs_baseline_pct`: against the metric's baseline value.
- `projected_status` / `projected_breach_period`: while a series is worsening (and its line
  is fitted on at least `PROJECTION_POINTS` values), the first of the next `HORIZON`
  periods in which its least-squares line passes the next level —
  warning from ok, critical from warning (a value on a threshold is no breach). Reported
  while the status is still better, which is the point of an early warning.
- `projected_target_period`: when the line reaches the target (null when it moves away or
  the target is met); `required_per_period`: the change per period still needed to reach
  the target by its date.
- `control_signal`: special causes, apart from thresholds, against limits taken from the
  first `CONTROL_WINDOW` records of the series (at least `CONTROL_MIN` values): a value
  beyond mean ± 3 standard deviations (`outside_limits`), or the `RUN`-th consecutive
  value on one side of the mean (`run_above` / `run_below`).
"""

from __future__ import annotations

import polars as pl

from tpmkit.engine import periods

HORIZON = 4
PROJECTION_POINTS = 5  # values in the fitted window before a projection is trusted
CONTROL_WINDOW = 8
CONTROL_MIN = 5
RUN = 7
_UNITS = {"hour": "h", "day": "d", "week": "w", "month": "mo", "quarter": "q", "year": "y"}
_DAYS = {
    "hour": 1 / 24,
    "day": 1,
    "week": 7,
    "month": 30.436875,
    "quarter": 91.310625,
    "year": 365.2425,
}


def _periods_ahead(k: pl.Expr, grain: str) -> pl.Expr:
    """The label of the period `k` periods after the record's."""
    start = pl.col("period_start").dt.offset_by(pl.format("{}" + _UNITS[grain], k.cast(pl.Int64)))
    return periods.label(start, grain)


def _first_past(threshold: pl.Expr, worse_up: bool) -> pl.Expr:
    """First k >= 1 with the fitted line strictly past `threshold` (null if not rising to
    it within the horizon)."""
    fit, slope = pl.col("__fit"), pl.col("slope")
    if worse_up:
        k = ((threshold - fit) / slope).floor() + 1
        moving = slope > 0
    else:
        k = ((fit - threshold) / -slope).floor() + 1
        moving = slope < 0
    k = pl.max_horizontal(k, pl.lit(1.0))
    return pl.when(moving & threshold.is_not_null() & (k <= HORIZON)).then(k)


def _projection() -> tuple[pl.Expr, pl.Expr]:
    """(next level name, k periods ahead) for a worsening series."""
    direction, status = pl.col("direction"), pl.col("status")
    up = pl.col("slope") > 0
    # which bound the series is moving towards, per direction
    warn = (
        pl.when(direction == "within_band")
        .then(pl.when(up).then(pl.col("warning_upper")).otherwise(pl.col("warning")))
        .otherwise(pl.col("warning"))
    )
    crit = (
        pl.when(direction == "within_band")
        .then(pl.when(up).then(pl.col("critical_upper")).otherwise(pl.col("critical")))
        .otherwise(pl.col("critical"))
    )
    worse_up = (direction == "lower_is_better") | ((direction == "within_band") & up)

    def k_for(level: pl.Expr) -> pl.Expr:
        return pl.when(worse_up).then(_first_past(level, True)).otherwise(_first_past(level, False))

    worsening = (pl.col("trend") == "worsening") & (pl.col("__points") >= PROJECTION_POINTS)
    name = (
        pl.when(worsening & (status == "ok") & k_for(warn).is_not_null())
        .then(pl.lit("warning"))
        .when(worsening & status.is_in(["ok", "warning"]) & k_for(crit).is_not_null())
        .then(pl.lit("critical"))
    )
    k = pl.when(name == "warning").then(k_for(warn)).when(name == "critical").then(k_for(crit))
    return name, k


def add_signals(table: pl.DataFrame, keys: list[str], grain: str) -> pl.DataFrame:
    """Add the fields of the module docstring; `table` must be ordered by series, period."""
    if table.is_empty() or grain == "all":
        return table.with_columns(
            *(pl.lit(None, dtype=pl.Float64).alias(c) for c in FLOAT_FIELDS),
            *(pl.lit(None, dtype=pl.String).alias(c) for c in TEXT_FIELDS),
        )
    new_series = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    new_series = new_series | (pl.int_range(pl.len()) == 0)
    value = pl.col("value")
    previous = pl.when(~new_series).then(value.shift(1))
    baseline = pl.col("baseline")
    table = table.with_columns(
        new_series.alias("__new"),
        pl.when(previous.is_not_null() & (previous != 0))
        .then(100 * (value - previous) / previous.abs())
        .alias("change_pct"),
        pl.when(baseline.is_not_null() & (baseline != 0))
        .then(100 * (value - baseline) / baseline.abs())
        .alias("change_vs_baseline_pct"),
    )
    name, k = _projection()
    table = table.with_columns(name.alias("projected_status"), k.alias("__k"))
    table = table.with_columns(
        pl.when(pl.col("__k").is_not_null())
        .then(_periods_ahead(pl.col("__k"), grain))
        .alias("projected_breach_period")
    )
    table = _glide(table, grain)
    return _control(table, keys).drop("__new", "__k")


def _glide(table: pl.DataFrame, grain: str) -> pl.DataFrame:
    target, fit, slope, value = pl.col("target"), pl.col("__fit"), pl.col("slope"), pl.col("value")
    plain = target.is_not_null() & ~pl.col("target_is_band").fill_null(False)
    k = (target - fit) / slope
    reaching = plain & slope.is_not_null() & (slope != 0) & (k > 0) & (k <= 520)
    met = (
        pl.when(pl.col("direction") == "higher_is_better")
        .then(value >= target)
        .when(pl.col("direction") == "lower_is_better")
        .then(value <= target)
        .otherwise(False)
    )
    # whole periods from this record's end to the end of the target date
    end_local = pl.col("period_end").dt.replace_time_zone(None)
    due = pl.col("target_by").cast(pl.Datetime("us")) + pl.duration(days=1)
    remaining = ((due - end_local).dt.total_seconds() / 86_400 / _DAYS[grain]).ceil()
    return table.with_columns(
        pl.when(reaching & ~met.fill_null(False))
        .then(_periods_ahead(k.ceil(), grain))
        .alias("projected_target_period"),
        pl.when(plain & value.is_not_null() & (remaining >= 1) & ~met.fill_null(False))
        .then((target - value) / remaining)
        .alias("required_per_period"),
    )


def _control(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    first = (
        table.with_columns(pl.col("__new").cum_sum().alias("__series"))
        .filter(pl.int_range(pl.len()).over("__series") < CONTROL_WINDOW)
        .group_by("__series")
        .agg(
            pl.col("value").mean().alias("__mean"),
            pl.col("value").std().alias("__sd"),
            pl.col("value").count().alias("__count"),
        )
    )
    table = table.with_columns(pl.col("__new").cum_sum().alias("__series")).join(
        first, on="__series", how="left"
    )
    usable = (pl.col("__count") >= CONTROL_MIN) & (pl.col("__sd") > 0)
    deviation = pl.col("value") - pl.col("__mean")
    side = pl.when(usable & pl.col("value").is_not_null()).then(deviation.sign())
    table = table.with_columns(side.alias("__side"))
    run_start = pl.col("__new") | pl.col("__side").ne_missing(pl.col("__side").shift(1))
    table = table.with_columns(run_start.cum_sum().alias("__run"))
    table = table.with_columns(pl.int_range(1, pl.len() + 1).over("__run").alias("__len"))
    outside = usable & (deviation.abs() > 3 * pl.col("__sd"))
    signal = (
        pl.when(outside)
        .then(pl.lit("outside_limits"))
        .when((pl.col("__len") >= RUN) & (pl.col("__side") > 0))
        .then(pl.lit("run_above"))
        .when((pl.col("__len") >= RUN) & (pl.col("__side") < 0))
        .then(pl.lit("run_below"))
    )
    return table.with_columns(signal.alias("control_signal")).drop(
        "__series", "__mean", "__sd", "__count", "__side", "__run", "__len"
    )


FLOAT_FIELDS = ("change_pct", "change_vs_baseline_pct", "required_per_period")
TEXT_FIELDS = (
    "projected_status",
    "projected_breach_period",
    "projected_target_period",
    "control_signal",
)
