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

A record marked `__excluded` (an annotation with `exclude: true`, engine/notes.py) is left
out: its value is in no fitted line (trend.py), sets no control limit, counts in no run,
and the record raises no early warning and no control signal of its own.

A metric evaluated on a period shorter than its `cadence` (status.py) raises neither
(`quiet`): it is not judged there, and the series of a shorter period is the noise its
cadence exists to average out (a week's annualised attrition jumps from 0 to 360 % with
one leaver). Judged on its own cadence it has both, as any metric.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from tpmkit.engine import periods, trend
from tpmkit.engine.notes import EXCLUDED
from tpmkit.vocabulary import Status, Trend

HORIZON = 4
PROJECTION_POINTS = 5  # values in the fitted window before a projection is trusted
CONTROL_WINDOW = 8
CONTROL_MIN = 5
RUN = 7
END_LOCAL = "__end_local"  # optional: `period_end` as local wall time, made per period
_UNITS = {"hour": "h", "day": "d", "week": "w", "month": "mo", "quarter": "q", "year": "y"}


def _ahead_labels(table: pl.DataFrame, k_column: str, grain: str) -> pl.Series:
    """Per row, the label of the period `k_column` periods after the row's (null where k is
    null); computed once per distinct (period, k), which are few."""
    # only the rows with a k are looked up (a few percent: a join of every row cost 0.3 ms
    # a 15,000 records) and put back in their places among nulls
    k = pl.col(k_column).cast(pl.Int64)
    wanted = table.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"), "period_start", k.alias("__kk")
    ).filter(pl.col("__kk").is_not_null() & pl.col("period_start").is_not_null())
    labels = pl.Series(k_column, [None] * table.height, dtype=pl.String)
    if wanted.is_empty():
        return labels
    pairs = wanted.select("period_start", "__kk").unique()
    later = pl.col("period_start").dt.offset_by(pl.format("{}" + _UNITS[grain], pl.col("__kk")))
    pairs = pairs.with_columns(periods.label(later, grain).alias("__label"))
    found = wanted.join(pairs, on=["period_start", "__kk"], how="left")
    return labels.scatter(found.get_column("__row"), found.get_column("__label"))


def _first_past(threshold: str, fit: pl.Expr, slope: pl.Expr, worse_up: pl.Expr) -> pl.Expr:
    """First k >= 1 with the fitted line strictly past the level in column `threshold`
    (null when it does not get there within the horizon)."""
    level = pl.col(threshold)
    k = (
        pl.when(worse_up)
        .then(((level - fit) / slope).floor() + 1)
        .otherwise(((fit - level) / -slope).floor() + 1)
    )
    moving = pl.when(worse_up).then(slope > 0).otherwise(slope < 0)
    k = pl.max_horizontal(k, pl.lit(1.0))
    return pl.when(moving & level.is_not_null() & (k <= HORIZON)).then(k)


def add_signals(
    table: pl.DataFrame,
    keys: list[str],
    grain: str,
    limits: pl.DataFrame | None = None,
    context: pl.DataFrame | None = None,
    placing: trend.Placing | None = None,
) -> pl.DataFrame:
    """Add the fields of the module docstring; `table` must be ordered by series, period.
    `limits` (`keys` and `__mean`, `__sd`, `__count`): the control limits of the series it
    names, when their first records are not in `table` (an incremental run's). `context`
    (`keys`, `period_start`, `value`): records of the same series before all of `table`'s,
    finished elsewhere (an incremental run's): a change is against the last of them, runs
    go on from them and a series' first records among them set its limits, exactly as if
    they were in `table`; they are not returned. `placing`: see `trend.Placing`."""
    if table.is_empty() or grain == "all":
        return table.with_columns(
            *(pl.lit(None, dtype=pl.Float64).alias(c) for c in FLOAT_FIELDS),
            *(pl.lit(None, dtype=pl.String).alias(c) for c in TEXT_FIELDS),
        )
    excluded = EXCLUDED in table.columns
    table = table.with_columns(_series_heads(tuple(keys), excluded))
    # each row with what its series' earlier rows decide: `table`'s own, or with `context`
    rows = table.select(
        pl.col("__new").cum_sum().cast(pl.Int64).alias(trend.SERIES),
        pl.lit(True).alias(trend.OWN),
        pl.col("value").cast(pl.Float64),
        "__kept",
    )
    seeded = context is not None and not context.is_empty()
    if context is not None and seeded:
        kept = [pl.lit(True).alias("__kept")]  # no period of the context is excluded
        rows = trend.seeded(
            table, keys, pl.col("__new"), context, ["value", "__kept"], placing, kept
        )
    value, series = pl.col("value"), pl.col(trend.SERIES)
    earlier = rows.select(pl.when(series == series.shift(1)).then(value.shift(1)).alias("__prev"))
    # rows of the context are set aside; without one every row is the table's own
    table = table.hstack(earlier.filter(rows.get_column(trend.OWN)) if seeded else earlier)
    table = table.with_columns(_changes())
    table = table.with_columns(_crossings())
    table = table.with_columns(_projected(excluded).alias("projected_status"))
    table = table.with_columns(_breach_k())
    table = table.with_columns(_ahead_labels(table, "__k", grain).alias("projected_breach_period"))
    table = _glide(table, grain)
    return _control(table, rows, keys, limits, seeded).drop(
        "__new", "__k", "__kw", "__kc", "__w", "__c", "__up", "__kept", "__prev", *_CONTROL
    )


# The expressions below are built once (functools.cache: an expression is immutable, and
# building these took ~1 ms of each part's fixed cost in `compute.finish`).


@cache
def _series_heads(keys: tuple[str, ...], excluded: bool) -> tuple[pl.Expr, pl.Expr]:
    """`__new` (a series' first row) and `__kept` (a record not excluded)."""
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    new_series = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    kept = ~pl.col(EXCLUDED) if excluded else pl.lit(True)
    return (new_series | (position == 0)).alias("__new"), kept.alias("__kept")


@cache
def _changes() -> tuple[pl.Expr, ...]:
    """The changes against the previous record and the baseline, and per direction the
    bounds a series is moving towards (`__w`, `__c`) and whether worse is up (`__up`)."""
    value, baseline, previous = pl.col("value"), pl.col("baseline"), pl.col("__prev")
    direction, up = pl.col("direction"), pl.col("slope") > 0
    band = direction == "within_band"
    return (
        pl.when(previous.is_not_null() & (previous != 0))
        .then(100 * (value - previous) / previous.abs())
        .alias("change_pct"),
        pl.when(baseline.is_not_null() & (baseline != 0))
        .then(100 * (value - baseline) / baseline.abs())
        .alias("change_vs_baseline_pct"),
        # the bound the series is moving towards, per direction
        pl.when(band & up).then(pl.col("warning_upper")).otherwise(pl.col("warning")).alias("__w"),
        pl.when(band & up)
        .then(pl.col("critical_upper"))
        .otherwise(pl.col("critical"))
        .alias("__c"),
        ((direction == "lower_is_better") | (band & up)).alias("__up"),
    )


@cache
def _crossings() -> tuple[pl.Expr, pl.Expr]:
    """`__kw`, `__kc`: the periods until the fitted line passes the warning, the critical."""
    fit, slope, worse_up = pl.col("__fit"), pl.col("slope"), pl.col("__up")
    return (
        _first_past("__w", fit, slope, worse_up).alias("__kw"),
        _first_past("__c", fit, slope, worse_up).alias("__kc"),
    )


@cache
def _projected(excluded: bool) -> pl.Expr:
    """The status a worsening series is heading for (`projected_status`)."""
    status = pl.col("status")
    worsening = (pl.col("trend") == Trend.WORSENING.value) & (
        pl.col("__points") >= PROJECTION_POINTS
    )
    name = (
        pl.when(worsening & (status == Status.OK.value) & pl.col("__kw").is_not_null())
        .then(pl.lit(Status.WARNING.value))
        .when(
            worsening
            & status.is_in([Status.OK.value, Status.WARNING.value])
            & pl.col("__kc").is_not_null()
        )
        .then(pl.lit(Status.CRITICAL.value))
    )
    if excluded:  # an excluded period raises no early warning of its own
        return pl.when(~pl.col(EXCLUDED)).then(name)
    return name


@cache
def _breach_k() -> pl.Expr:
    """`__k`: the periods until the projected status is reached."""
    return (
        pl.when(pl.col("projected_status") == Status.WARNING.value)
        .then(pl.col("__kw"))
        .when(pl.col("projected_status") == Status.CRITICAL.value)
        .then(pl.col("__kc"))
        .alias("__k")
    )


def quiet(table: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    """No early warning and no control signal for the records of `metrics` (those evaluated
    on a period shorter than their cadence)."""
    if not metrics or table.is_empty():
        return table
    off = pl.col("metric").is_in(metrics)
    fields = ("projected_status", "projected_breach_period", "control_signal")
    return table.with_columns(pl.when(~off).then(pl.col(c)).alias(c) for c in fields)


def _glide(table: pl.DataFrame, grain: str) -> pl.DataFrame:
    table = table.with_columns(_glide_path(grain, END_LOCAL in table.columns))
    return table.with_columns(
        _ahead_labels(table, "__kt", grain).alias("projected_target_period")
    ).drop("__kt")


@cache
def _glide_path(grain: str, local_end: bool) -> tuple[pl.Expr, pl.Expr]:
    """`__kt` (the periods until the line reaches the target) and `required_per_period`;
    `local_end`: the records carry `END_LOCAL`."""
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
    ).fill_null(False)
    # whole periods from this record's end to the end of the target date (the local end
    # made once per period when the records carry it: no zone conversion per record)
    end_local = pl.col(END_LOCAL) if local_end else pl.col("period_end").dt.replace_time_zone(None)
    due = pl.col("target_by").cast(pl.Datetime("us")) + pl.duration(days=1)
    remaining = ((due - end_local).dt.total_seconds() / 86_400 / periods.NOMINAL_DAYS[grain]).ceil()
    return (
        pl.when(reaching & ~met).then(k.ceil()).alias("__kt"),
        pl.when(plain & value.is_not_null() & (remaining >= 1) & ~met)
        .then((target - value) / remaining)
        .alias("required_per_period"),
    )


_CONTROL = ("__mean", "__sd", "__usable", "__side", "__len")  # `_control`'s, left to drop


def _control(
    table: pl.DataFrame,
    rows: pl.DataFrame,
    keys: list[str],
    given: pl.DataFrame | None = None,
    seeded: bool = True,
) -> pl.DataFrame:
    """Control limits from each series' first kept records; signals against them. `rows`
    (`trend.seeded`'s columns, `value` and `__kept`): `table`'s rows, ordered by series,
    with any records before them (`seeded`: there may be some); positions and runs come
    from running indices. The table comes back with the `_CONTROL` columns."""
    # the record's place among its series' kept records (0 for the first): the rows are in
    # series order, so a running count less its value before the series' first row (a
    # window `over` the series took 40 % of the limits' time)
    kept = pl.col("__kept").cast(pl.Int64)
    count, series = kept.cum_sum(), pl.col(trend.SERIES)
    before = pl.when(series.ne_missing(series.shift(1))).then(count - kept).forward_fill()
    rows = rows.with_columns((count - before - 1).alias("__pos"))
    limits = (
        rows.filter(pl.col("__kept") & (pl.col("__pos") < CONTROL_WINDOW))
        .group_by(trend.SERIES)
        .agg(
            pl.col("value").mean().alias("__mean"),
            pl.col("value").std().alias("__sd"),
            pl.col("value").count().alias("__count"),
        )
    )
    if given is not None:  # these series' limits instead of those of their first records here
        ids = pl.col("__new").cum_sum().cast(pl.Int64).alias(trend.SERIES)
        named = table.select(ids, *keys, "__new").filter(pl.col("__new")).drop("__new")
        known = named.join(given, on=keys, how="inner", nulls_equal=True).drop(keys)
        limits = pl.concat(
            [limits.join(known, on=trend.SERIES, how="anti"), known], how="diagonal_relaxed"
        )
    rows = rows.join(limits, on=trend.SERIES, how="left", maintain_order="left")
    usable = (pl.col("__count") >= CONTROL_MIN) & (pl.col("__sd") > 0) & pl.col("__kept")
    deviation = pl.col("value") - pl.col("__mean")
    rows = rows.with_columns(
        usable.alias("__usable"),
        pl.when(usable & pl.col("value").is_not_null()).then(deviation.sign()).alias("__side"),
    )
    # runs over the kept records only: an excluded period neither extends nor breaks one
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    run_start = pl.col(trend.SERIES).ne_missing(pl.col(trend.SERIES).shift(1)) | pl.col(
        "__side"
    ).ne_missing(pl.col("__side").shift(1))
    length = (index - pl.when(run_start).then(index).forward_fill() + 1).alias("__len")
    if rows.get_column("__kept").all():  # no period excluded (most runs): no rows set aside
        rows = rows.with_columns(length)
    else:
        rows = rows.with_columns(index.alias("__row"))
        runs = rows.filter(pl.col("__kept")).select("__row", trend.SERIES, "__side")
        runs = runs.with_columns(length).select("__row", "__len")
        rows = rows.join(runs, on="__row", how="left", maintain_order="left")
    mine = rows.filter(pl.col(trend.OWN)) if seeded else rows
    table = table.hstack(mine.select(_CONTROL))
    return table.with_columns(_signal())


@cache
def _signal() -> pl.Expr:
    """`control_signal` from `_control`'s columns."""
    usable, deviation = pl.col("__usable"), pl.col("value") - pl.col("__mean")
    signal = (
        pl.when(usable & (deviation.abs() > 3 * pl.col("__sd")))
        .then(pl.lit("outside_limits"))
        .when((pl.col("__len") >= RUN) & (pl.col("__side") > 0))
        .then(pl.lit("run_above"))
        .when((pl.col("__len") >= RUN) & (pl.col("__side") < 0))
        .then(pl.lit("run_below"))
    )
    return signal.alias("control_signal")


FLOAT_FIELDS = ("change_pct", "change_vs_baseline_pct", "required_per_period")
TEXT_FIELDS = (
    "projected_status",
    "projected_breach_period",
    "projected_target_period",
    "control_signal",
)
