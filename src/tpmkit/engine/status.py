"""Status, gap to target and glide-path plan, vectorised over records.

Threshold rule (kpi-catalogue.md): a value exactly on a threshold is not a breach.
"""

from __future__ import annotations

import polars as pl

from tpmkit.vocabulary import PlanStatus, Status


def _beyond(level: str, upper: str | None = None) -> pl.Expr:
    """Is the value worse than a level, per direction (null level: never)."""
    value, direction = pl.col("value"), pl.col("direction")
    lower_side = pl.col(level)
    higher = (direction == "higher_is_better") & (value < lower_side)
    lower = (direction == "lower_is_better") & (value > lower_side)
    band = (direction == "within_band") & (
        (value < lower_side).fill_null(False) | (value > pl.col(upper or level)).fill_null(False)
    )
    return higher.fill_null(False) | lower.fill_null(False) | band.fill_null(False)


def status() -> pl.Expr:
    """no_data, insufficient_sample, critical, warning or ok."""
    return (
        pl.when(pl.col("value").is_null())
        .then(pl.lit(Status.NO_DATA))
        .when(pl.col("n") < pl.col("min_sample"))
        .then(pl.lit(Status.INSUFFICIENT_SAMPLE))
        .when(_beyond("critical", "critical_upper"))
        .then(pl.lit(Status.CRITICAL))
        .when(_beyond("warning", "warning_upper"))
        .then(pl.lit(Status.WARNING))
        .otherwise(pl.lit(Status.OK))
    )


def gap_to_target() -> pl.Expr:
    """value − target; for a band target ({lower, upper}, either may be open), 0 inside and
    the signed distance to the nearest bound outside."""
    value, target, upper = pl.col("value"), pl.col("target"), pl.col("target_upper")
    band = (
        pl.when(target.is_not_null() & (value < target))
        .then(value - target)
        .when(upper.is_not_null() & (value > upper))
        .then(value - upper)
        .otherwise(pl.lit(0.0))
    )
    is_band = pl.col("target_is_band").fill_null(False)
    return (
        pl.when(pl.col("value").is_null() | (target.is_null() & upper.is_null()))
        .then(None)
        .when(is_band)
        .then(band)
        .otherwise(value - target)
    )


def plan(timezone: str) -> pl.Expr:
    """Glide path: baseline at the start of `baseline_as_of`, target at the end of `target_by`,
    linear in between, flat outside; evaluated at the period's end."""
    start = pl.col("baseline_as_of").cast(pl.Datetime("us")).dt.replace_time_zone(timezone)
    stop = (
        pl.col("target_by")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(timezone)
        .dt.offset_by("1d")
    )
    total = (stop - start).dt.total_microseconds().cast(pl.Float64)
    elapsed = (pl.col("period_end") - start).dt.total_microseconds().cast(pl.Float64)
    fraction = (elapsed / total).clip(0.0, 1.0)
    usable = (
        start.is_not_null()
        & stop.is_not_null()
        & pl.col("baseline").is_not_null()
        & pl.col("target").is_not_null()
        & ~pl.col("target_is_band").fill_null(False)
        & (total > 0)
    )
    planned = pl.col("baseline") + (pl.col("target") - pl.col("baseline")) * fraction
    return pl.when(usable).then(planned).otherwise(None)


def plan_status() -> pl.Expr:
    """ahead / on_plan / behind: the actual against the plan, in the metric's direction."""
    value, planned = pl.col("value"), pl.col("plan")
    tolerance = pl.max_horizontal(planned.abs(), pl.lit(1.0)) * 1e-9
    better = (
        pl.when(pl.col("direction") == "higher_is_better")
        .then(value - planned)
        .when(pl.col("direction") == "lower_is_better")
        .then(planned - value)
        .otherwise(None)
    )
    return (
        pl.when(value.is_null() | planned.is_null() | better.is_null())
        .then(None)
        .when(better > tolerance)
        .then(pl.lit(PlanStatus.AHEAD))
        .when(better < -tolerance)
        .then(pl.lit(PlanStatus.BEHIND))
        .otherwise(pl.lit(PlanStatus.ON_PLAN))
    )
