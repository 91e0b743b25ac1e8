"""`roster`: workforce measures from the roster's hire and leave dates (kpi-catalogue.md,
"workforce"), computed on each period's own first and last day.

- headcount: rows employed on the period's last day (hire ≤ day and (leave null or
  leave ≥ day); the leave date is the last working day, so a leaver still counts on it).
- attrition: leavers (leave date inside the period) ÷ the mean of the first-day and
  last-day headcount × 365.25 ÷ days in the period × 100; n = leavers. A month without
  leavers is 0 %, not no data; no headcount at all is no data.
- early_attrition: leavers whose tenure at leave (leave − hire, in days) is below
  `early_days` ÷ hires whose first `early_days` overlap the period (hire in
  (first day − early_days, last day]) × 100; n = those hires.

The roster is small (one row per person), so every (period, person) pair is formed by a
lazy cross join and counted in one group_by: no Python loop over rows. A null hire date
counts as hired before any period (a roster without hire dates still has a headcount).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.contract import OVER_A_YEAR, TENURE_BAND, TENURE_BANDS
from tpmkit.engine import periods
from tpmkit.engine.in_force import choose_override, override_condition
from tpmkit.engine.kinds.base import Kind, Plan
from tpmkit.engine.kinds.rows import component_columns, row_expr
from tpmkit.engine.tenure import tenure_band
from tpmkit.engine.window import START, Window
from tpmkit.spec.computes import RosterCompute
from tpmkit.spec.models import MetricSpec

_FIRST, _LAST = "__first_day", "__last_day"


def _span(roster: pl.LazyFrame, window: Window) -> tuple[dt.date | None, dt.date | None]:
    """First and last day the cells cover: the selected range, else the first hire and
    the latest hire or leave date."""
    ends = roster.select(
        pl.col("__h").min().alias("first"),
        pl.max_horizontal(pl.col("__h").max(), pl.col("__l").max()).alias("last"),
        pl.col("__l").min().alias("first_leave"),
    ).collect(engine="streaming")
    first = window.start or ends["first"][0] or ends["first_leave"][0]
    last = window.end or ends["last"][0]
    return first, last


def _grid(first: dt.date, last: dt.date, grain: str, timezone: str) -> pl.LazyFrame:
    """One row per period touching [first, last], with the period's first and last day."""
    zone = ZoneInfo(timezone)
    if grain == "all":
        return pl.LazyFrame(
            {
                START: pl.Series([None], dtype=pl.Datetime("us", timezone)),
                _FIRST: [first],
                _LAST: [last],
            }
        )
    lo = dt.datetime.combine(first, dt.time(), zone)
    hi = dt.datetime.combine(last, dt.time(), zone)
    bounds = pl.select(
        periods.period_start(pl.lit(lo, dtype=pl.Datetime("us", timezone)), grain).alias("a"),
        periods.period_start(pl.lit(hi, dtype=pl.Datetime("us", timezone)), grain).alias("b"),
    )
    starts = pl.datetime_range(
        bounds["a"][0],
        bounds["b"][0],
        interval=periods.span(grain, 1),
        eager=True,
        time_unit="us",
        time_zone=timezone,
    )
    start = pl.col(START)
    return (
        pl.DataFrame({START: starts})
        .lazy()
        .with_columns(
            start.dt.date().alias(_FIRST),
            (periods.period_end(start, grain) - pl.duration(microseconds=1)).dt.date().alias(_LAST),
        )
    )


def roster_cells(
    frame: pl.LazyFrame,
    spec: MetricSpec,
    compute: RosterCompute,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """Cells (metric, period_start, groups, value, n, override, components) of a measure."""
    where = (
        row_expr(compute.where, spec.parameters).fill_null(False) if compute.where else pl.lit(True)
    )
    conditions = [(i, override_condition(o).all()) for i, o in enumerate(spec.overrides)]
    override = choose_override(conditions).alias("override")
    keys = [b for b in by if b != TENURE_BAND]  # the roster's own columns
    groups = frame.group_by(keys).agg(override) if keys else frame.select(override)
    roster = frame.filter(where).select(
        *keys,
        pl.col(compute.hired).cast(pl.Date).alias("__h"),
        pl.col(compute.left).cast(pl.Date).alias("__l"),
    )
    if TENURE_BAND in by:  # every band in every group, and no band without a hire date
        groups = groups.join(_bands(roster), how="cross")
    first, last = _span(roster, window)
    if first is None or last is None or last < first:
        return _empty(spec, by, timezone, groups)
    grid = _grid(first, last, grain, timezone)
    hired, left = pl.col("__h"), pl.col("__l")
    day1, day2 = pl.col(_FIRST), pl.col(_LAST)

    def employed(day: pl.Expr) -> pl.Expr:
        return (hired.is_null() | (hired <= day)) & (left.is_null() | (left >= day))

    early = pl.duration(days=compute.early_days)
    leaving = left.is_not_null() & (left >= day1) & (left <= day2)
    pairs = grid.join(roster, how="cross").with_columns(
        employed(day1).alias("__hc1"),
        employed(day2).alias("__hc2"),
        leaving.alias("__out"),
        (leaving & hired.is_not_null() & ((left - hired) < early)).alias("__early_out"),
        (hired.is_not_null() & (hired > day1 - early) & (hired <= day2)).alias("__hires"),
    )
    if TENURE_BAND in by:
        counted = _banded(pairs, keys)
    else:
        counts = [
            pl.col(c).sum().cast(pl.Int64)
            for c in ("__hc1", "__hc2", "__out", "__early_out", "__hires")
        ]
        counted = pairs.group_by([START, _FIRST, _LAST, *by]).agg(*counts)
    # every group in every period, including a team whose roster rows the `where` left out
    table = (
        grid.join(groups, how="cross")
        .join(counted, on=[START, _FIRST, _LAST, *by], how="left", nulls_equal=True)
        .with_columns(
            pl.col(c).fill_null(0) for c in ("__hc1", "__hc2", "__out", "__early_out", "__hires")
        )
    )
    value, n, parts = _measure(compute.measure)
    return (
        table.select(
            pl.lit(spec.id).alias("metric"),
            START,
            *by,
            pl.col(_FIRST).cast(pl.Datetime("us")).dt.replace_time_zone(timezone).alias("__first"),
            pl.col(_LAST).cast(pl.Datetime("us")).dt.replace_time_zone(timezone).alias("__last"),
            value.cast(pl.Float64).alias("value"),
            n.cast(pl.Int64).alias("n"),
            pl.col("override").cast(pl.Int32),
            *component_columns(parts, value),
        )
        .sort(START, *by, nulls_last=True)
        .collect(engine="streaming")
    )


def _bands(roster: pl.LazyFrame) -> pl.LazyFrame:
    """The tenure bands, in order; with the null band when someone has no hire date."""
    labels: list[str | None] = [*(label for _, label in TENURE_BANDS), OVER_A_YEAR]
    if roster.select(pl.col("__h").is_null().any()).collect(engine="streaming").item():
        labels.append(None)
    return pl.LazyFrame({TENURE_BAND: pl.Series(labels, dtype=pl.String)})


def _banded(pairs: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """The counts per tenure band, each person in the band of their tenure on the day
    they are counted: the period's first day for the first-day headcount, its last day
    for the headcount, the leave date for a leaver (so one person may count in two bands
    of one period, as they pass from one to the next)."""
    hired = pl.col("__h")
    cells = [START, _FIRST, _LAST, *keys]
    one = pl.lit(1, dtype=pl.Int64)
    events = pl.concat(
        [
            pairs.filter("__hc1").select(
                *cells, tenure_band(pl.col(_FIRST), hired).alias(TENURE_BAND), one.alias("__hc1")
            ),
            pairs.filter("__hc2").select(
                *cells, tenure_band(pl.col(_LAST), hired).alias(TENURE_BAND), one.alias("__hc2")
            ),
            pairs.filter("__out").select(
                *cells,
                tenure_band(pl.col("__l"), hired).alias(TENURE_BAND),
                one.alias("__out"),
                pl.col("__early_out").cast(pl.Int64),
            ),
        ],
        how="diagonal",
    )
    counts = ("__hc1", "__hc2", "__out", "__early_out", "__hires")
    return (
        events.with_columns(pl.lit(0, dtype=pl.Int64).alias("__hires"))
        .group_by([*cells, TENURE_BAND])
        .agg(pl.col(c).sum().cast(pl.Int64) for c in counts)
    )


def _measure(measure: str) -> tuple[pl.Expr, pl.Expr, tuple[Any, Any, Any]]:
    """(value, n, (numerator, denominator, scale)) of a measure over the counted columns."""
    hc1, hc2, out = pl.col("__hc1"), pl.col("__hc2"), pl.col("__out")
    if measure == "headcount":
        return hc2.cast(pl.Float64), hc2, (hc2, None, 1.0)
    if measure == "attrition":
        average = (hc1 + hc2) / 2
        days = (pl.col(_LAST) - pl.col(_FIRST)).dt.total_days() + 1
        scale = 100.0 * 365.25 / days
        value = pl.when(average > 0).then(out / average * scale)
        return value, out, (out, average, scale)
    hires, early = pl.col("__hires"), pl.col("__early_out")
    value = pl.when(hires > 0).then(early / hires * 100.0)
    return value, hires, (early, hires, 100.0)


def _empty(spec: MetricSpec, by: list[str], timezone: str, groups: pl.LazyFrame) -> pl.DataFrame:
    """No day to count on (an empty roster): no cells."""
    frame = groups.collect(engine="streaming")
    return pl.DataFrame(
        schema={
            "metric": pl.String,
            START: pl.Datetime("us", timezone),
            **{b: frame.schema[b] for b in by},
            "__first": pl.Datetime("us", timezone),
            "__last": pl.Datetime("us", timezone),
            "value": pl.Float64,
            "n": pl.Int64,
            "override": pl.Int32,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "scale": pl.Float64,
        }
    )


class Roster(Kind[RosterCompute]):
    """Computes its own cells over a grid of periods (plan "cells")."""

    name = "roster"
    model = RosterCompute
    plan: ClassVar[Plan] = "cells"
    column_fields = ("hired", "left")
    # each period's value is counted on its own whole days, never cut by the range
    stock: ClassVar[bool] = True
    spans_data: ClassVar[bool] = True

    def needs_whole_dataset(self, compute: RosterCompute) -> bool:
        return True

    def own_dimensions(self, compute: RosterCompute) -> frozenset[str]:
        # each person's band on each day counted, from the hire date (early attrition
        # refuses it: `not_grouped_by`)
        return frozenset({TENURE_BAND})

    def not_grouped_by(self, compute: RosterCompute, column: str) -> str | None:
        if column == TENURE_BAND and compute.measure == "early_attrition":
            return (
                f"tenure_band: early attrition counts people in their first "
                f"{compute.early_days} days, all of one tenure range by definition; group "
                "headcount and attrition_rate by tenure band instead"
            )
        return None

    def cells(
        self,
        compute: RosterCompute,
        frame: pl.LazyFrame,
        spec: MetricSpec,
        grain: str,
        by: list[str],
        timezone: str,
        window: Window,
    ) -> pl.DataFrame:
        return roster_cells(frame, spec, compute, grain, by, timezone, window)

    def no_value(self, compute: RosterCompute) -> str | None:
        if compute.measure == "attrition":  # n counts the leavers; the denominator is 0
            return (
                "leavers, but nobody of this group employed on the period's first or last "
                "day: the average headcount is 0 (people who joined and left inside the "
                "period, or a tenure band passed through)"
            )
        return None

    def describe(self, compute: RosterCompute) -> str:
        rows = f" among roster rows where `{compute.where}`" if compute.where else ""
        hired, left = f"`{compute.hired}`", f"`{compute.left}`"
        if compute.measure == "headcount":
            return (
                f"people employed on the period's last day ({hired} on or before it, {left} "
                f"empty or on or after it){rows}"
            )
        if compute.measure == "attrition":
            return (
                f"leavers ({left} inside the period){rows} ÷ the mean of the first-day and "
                "last-day headcount × 365.25 ÷ days in the period × 100"
            )
        days = compute.early_days
        return (
            f"leavers inside the period within {days} days of {hired}{rows} ÷ people whose "
            f"first {days} days overlap the period ({hired} after the first day − {days} days, "
            "up to the last day) × 100"
        )
