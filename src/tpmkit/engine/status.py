"""Status, gap to target and glide-path plan, vectorised over records.

Threshold rule (kpi-catalogue.md): a value exactly on a threshold is not a breach.
Precedence: not_judged (a level the metric is not judged at, an `unassigned` group, no
thresholds, a period shorter than the metric's `cadence`), then no_data, then
insufficient_sample, then the thresholds.

Judged on its cadence: a metric reviewed monthly is judged on a month, a quarter, a year or
the whole range, never on a week, a day or an hour — annualised attrition over one week turns
a single leaver among fifty agents into more than 100 %. On a shorter period its record
keeps its value and says how to judge it (`judged monthly — …`); `signals.quiet` takes its
early warning and control signal away as well (they would read the same noise).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import polars as pl

from tpmkit.spec.models import MetricSpec
from tpmkit.vocabulary import Grain, PlanStatus, Status, is_level_column, level_column, level_of

NO_THRESHOLDS = "no thresholds"
# a metric's `cadence` (its review rhythm) as the shortest period it is judged on
CADENCE_GRAINS = {"daily": Grain.DAY, "weekly": Grain.WEEK, "monthly": Grain.MONTH}
_SHORTEST_FIRST = list(Grain)  # hour … year, then all (the whole range: never too short)
_OFF_CADENCE = tuple(f"judged {cadence} — " for cadence in CADENCE_GRAINS)
_THRESHOLD_COLUMNS = ("warning", "warning_upper", "critical", "critical_upper")


def level_reasons(metrics: Sequence[MetricSpec], by: Sequence[str]) -> dict[str, str]:
    """Per metric not judged at the grouping's level, why (one entry per metric, not per
    record)."""
    level = level_of(by)
    if level is None:
        others = [c for c in by if not is_level_column(c)]
        why = f"grouped by {', '.join(others)}, which is not an organisational level"
        return {m.id: why for m in metrics}
    return {
        m.id: f"{m.id} is judged at {', '.join(m.judged_at)} — not at {level}"
        for m in metrics
        if level not in m.judged_at
    }


def cadence_reason(cadence: str) -> str:
    """Why a record of a metric reviewed at `cadence` is not judged on a shorter period."""
    grain = CADENCE_GRAINS[cadence]
    # no semicolon: a record's reason joins its parts with "; " (engine/compute.finish)
    return f"judged {cadence} — run with --period {grain} or longer"


def cadence_reasons(metrics: Sequence[MetricSpec], grain: str) -> dict[str, str]:
    """Per metric whose cadence is longer than the period `grain`, why its records are not
    judged on it (a metric without a cadence is judged on any period)."""
    if grain not in _SHORTEST_FIRST:
        return {}
    at = _SHORTEST_FIRST.index(Grain(grain))
    return {
        m.id: cadence_reason(m.cadence)
        for m in metrics
        if m.cadence is not None and at < _SHORTEST_FIRST.index(CADENCE_GRAINS[m.cadence])
    }


def off_cadence(reason: str | None) -> bool:
    """True for a record's reason that says it is not judged on a period this short (the
    renderers show those apart: judging it needs another --period, not other data)."""
    return reason is not None and reason.startswith(_OFF_CADENCE)


def not_judged_reason(
    metrics: Sequence[MetricSpec], by: Sequence[str], grain: str | None = None
) -> pl.Expr:
    """Why a record is not judged (null: it is judged), in precedence order: its level, an
    `unassigned` group (no value in the level's column), no thresholds in force, a period
    `grain` shorter than the metric's cadence."""
    at_level, unassigned, rest = _reasons(metrics, by, grain)
    return pl.coalesce([at_level, *unassigned, rest])


NJ_LEVEL, NJ_REST = "__nj_level", "__nj_rest"  # `not_judged_by_level`'s levels columns


def not_judged_by_level(
    metrics: Sequence[MetricSpec], by: Sequence[str], grain: str | None = None
) -> tuple[tuple[pl.Expr, pl.Expr], pl.Expr]:
    """`not_judged_reason` in two steps: the columns `NJ_LEVEL` (the metric's level) and
    `NJ_REST` (no thresholds, the cadence), made on the levels table (`in_force.join_levels`'
    `extra`: once per metric and override, not per record), and the record's reason from
    them and its `unassigned` group, in the same precedence."""
    at_level, unassigned, rest = _reasons(metrics, by, grain)
    record = pl.coalesce([pl.col(NJ_LEVEL), *unassigned, pl.col(NJ_REST)])
    return (at_level.alias(NJ_LEVEL), rest.alias(NJ_REST)), record


def _reasons(
    metrics: Sequence[MetricSpec], by: Sequence[str], grain: str | None
) -> tuple[pl.Expr, list[pl.Expr], pl.Expr]:
    """The reasons not to judge, in precedence order: the metric's level; the group's (none
    when the grouping has no level column); the levels' and the cadence's."""
    # a lookup per record only where some metric has a reason (most runs: none)
    at_level = _per_metric(level_reasons(metrics, by))
    level, column = level_of(by), level_column(by)
    unassigned: list[pl.Expr] = []
    if level is not None and column is not None:
        why = f"unassigned: no {column} reaches these rows, so no {level} owns them"
        unassigned.append(pl.when(pl.col(column).is_null()).then(pl.lit(why)))
    thresholdless = pl.all_horizontal(pl.col(c).is_null() for c in _THRESHOLD_COLUMNS)
    rest = pl.when(thresholdless).then(pl.lit(NO_THRESHOLDS))
    cadences = {} if grain is None else cadence_reasons(metrics, grain)
    return at_level, unassigned, rest.fill_null(_per_metric(cadences)) if cadences else rest


def _per_metric(texts: dict[str, str]) -> pl.Expr:
    """Each record's metric's text in `texts` (null for a metric not in it)."""
    if not texts:
        return pl.lit(None, dtype=pl.String)
    return pl.col("metric").replace_strict(texts, default=None, return_dtype=pl.String)


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


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
def status(not_judged: str | None = None) -> pl.Expr:
    """not_judged (when the column `not_judged` holds a reason), no_data,
    insufficient_sample, critical, warning or ok."""
    judged = pl.lit(True) if not_judged is None else pl.col(not_judged).is_null()
    return (
        pl.when(~judged)
        .then(pl.lit(Status.NOT_JUDGED))
        .when(pl.col("value").is_null())
        .then(pl.lit(Status.NO_DATA))
        .when(pl.col("n") < pl.col("min_sample"))
        .then(pl.lit(Status.INSUFFICIENT_SAMPLE))
        .when(_beyond("critical", "critical_upper"))
        .then(pl.lit(Status.CRITICAL))
        .when(_beyond("warning", "warning_upper"))
        .then(pl.lit(Status.WARNING))
        .otherwise(pl.lit(Status.OK))
    )


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
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


PLAN_START, PLAN_STOP = "__plan_start", "__plan_stop"  # `plan_bounds`, when made ahead


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
def plan_bounds(timezone: str) -> tuple[pl.Expr, pl.Expr]:
    """The glide path's instants: the start of `baseline_as_of` and the end of `target_by`
    in the project time zone (`PLAN_START`, `PLAN_STOP`)."""
    start = pl.col("baseline_as_of").cast(pl.Datetime("us")).dt.replace_time_zone(timezone)
    stop = (
        pl.col("target_by")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(timezone)
        .dt.offset_by("1d")
    )
    return start.alias(PLAN_START), stop.alias(PLAN_STOP)


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
def plan(timezone: str, *, ahead: bool = False) -> pl.Expr:
    """Glide path: baseline at the start of `baseline_as_of`, target at the end of `target_by`,
    linear in between, flat outside; evaluated at the period's end. `ahead`: the records
    carry `plan_bounds` (made on the few levels, not converted between zones per record)."""
    start, stop = (pl.col(PLAN_START), pl.col(PLAN_STOP)) if ahead else plan_bounds(timezone)
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


@cache  # an expression is immutable: built once (status() took 0.2 ms a call)
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
