"""`time_to_proficiency`: weeks from hire to the first proficient week, as a Kaplan–Meier
median over the agents hired in each period (kpi-catalogue.md, "workforce").

An agent's week is proficient when it has at least `min_contacts` rows and the agent's
mean of `expr` is at or below (or, `better: higher`, at or above) the median of that
week's per-agent means in the agent's team (agents with `min_contacts` rows that week).
Time = (end of the first proficient week − hire date) in weeks; an agent not yet
proficient is censored at the end of their last week with data. Per period of hire and
group: the Kaplan–Meier survival S(t) = Π (1 − events/at risk) over the distinct times,
and the median is the first time where S ≤ ½; no value when half or more of the agents
are censored (the median is then not known), n = agents hired. Only agents hired on or
after the first day of data count (earlier hires' first weeks are not in the data).
`agents_not_proficient` lists the censored agents for the workforce report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.in_force import choose_override, override_condition
from tpmkit.engine.kinds.base import Kind, Plan
from tpmkit.engine.kinds.rows import component_columns, row_expr
from tpmkit.engine.window import START, Window, bounds, collected
from tpmkit.spec.computes import ProficiencyCompute
from tpmkit.spec.fields import Params
from tpmkit.spec.models import MetricSpec

WEEK = dt.timedelta(days=7)


def agent_weeks(
    frame: pl.LazyFrame,
    spec: MetricSpec,
    compute: ProficiencyCompute,
    keys: Sequence[str] = (),
) -> pl.LazyFrame:
    """The heavy step over the rows: per agent, team, hire date and local week start
    (`__week`), and `keys`, the sum (`__sum`) and non-null count (`__rows`) of `expr` over
    the `where` rows with an agent and a hire date — additive, so the weeks of several
    files add up (an incremental run caches them per file, `increment.parts`); the Ibis
    engines compute the same on the backend (`tpmkit.engines.proficiency`)."""
    where = (
        row_expr(compute.where, spec.parameters).fill_null(False) if compute.where else pl.lit(True)
    )
    value = row_expr(compute.expr, spec.parameters)
    agent, hired = pl.col(compute.agent), pl.col(compute.hired)
    return (
        frame.filter(where & agent.is_not_null() & hired.is_not_null())
        .group_by(
            *keys,
            compute.agent,
            compute.team,
            compute.hired,
            periods.period_start(pl.col(compute.at), "week").alias("__week"),
        )
        .agg(value.sum().alias("__sum"), value.is_not_null().sum().alias("__rows"))
    )


def times_from_weeks(
    weeks: pl.LazyFrame, first_day: dt.date | None, compute: ProficiencyCompute
) -> pl.LazyFrame:
    """`agent_times` from the agents' weeks (`agent_weeks`: small, agents × weeks, summed
    over files or computed on a backend) and the first local day of the data: each week
    compared with its team's median, then per agent."""
    team, hired = pl.col(compute.team), pl.col(compute.hired)
    weeks = weeks.with_columns(
        # the mean of `expr` (null when no row had a value)
        pl.when(pl.col("__rows") > 0).then(pl.col("__sum") / pl.col("__rows")).alias("__mean"),
        pl.lit(first_day, dtype=pl.Date).alias("__first_day"),
    )
    counted = pl.col("__rows") >= compute.min_contacts
    median = pl.col("__mean").filter(counted).median().over(compute.team, "__week")
    at_or_better = (
        pl.col("__mean") <= median if compute.better == "lower" else pl.col("__mean") >= median
    )
    weeks = weeks.with_columns((counted & at_or_better).fill_null(False).alias("__ok"))
    week_end = (periods.period_end(pl.col("__week"), "week")).dt.date()
    return (
        weeks.filter(pl.col("__week").dt.date() >= hired.cast(pl.Date).dt.truncate("1w"))
        .group_by(compute.agent)
        .agg(
            hired.cast(pl.Date).first().alias("hired"),
            team.sort_by("__week").last().alias("team"),
            pl.col("__first_day").first(),
            week_end.filter(pl.col("__ok")).min().alias("__done"),
            week_end.max().alias("__seen"),
        )
        .filter(pl.col("hired") >= pl.col("__first_day"))
        .select(
            pl.col(compute.agent).alias("agent_id"),
            "hired",
            "team",
            pl.col("__done").is_not_null().alias("proficient"),
            ((pl.coalesce("__done", "__seen") - pl.col("hired")).dt.total_days() / 7.0).alias(
                "weeks"
            ),
        )
    )


def agent_times(frame: pl.LazyFrame, spec: MetricSpec, compute: ProficiencyCompute) -> pl.LazyFrame:
    """Per agent hired in the data range: hire date, team, weeks to proficiency (or to
    their last week with data) and `proficient` (False: censored)."""
    first_day = frame.select(pl.col(compute.at).min().dt.date()).collect(engine="streaming")
    weeks = collected(agent_weeks(frame, spec, compute))
    return times_from_weeks(weeks, first_day.item(), compute)


def last_of_own(frame: pl.LazyFrame, agent: str, own: list[str]) -> pl.LazyFrame:
    """Per agent: the last non-null value of each of the groups `own` (in row order)."""
    return frame.group_by(agent).agg(*(pl.col(b).drop_nulls().last() for b in own))


def proficiency_cells(
    frame: pl.LazyFrame,
    spec: MetricSpec,
    compute: ProficiencyCompute,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """Cells (metric, period_start, groups, value, n, override, components): the Kaplan–Meier
    median per period of hire and group."""
    conditions = [(i, override_condition(o).all()) for i, o in enumerate(spec.overrides)]
    override = choose_override(conditions).alias("override")
    # each part read on its own: parts of one plan that share the rows make polars hold
    # all of those rows to feed them (100 M calls: 7.6 GiB)
    groups = collected(frame.group_by(by).agg(override) if by else frame.select(override))
    own = [b for b in by if b != compute.agent]
    per_agent = collected(last_of_own(frame, compute.agent, own))
    times = collected(agent_times(frame, spec, compute))
    return cohort_cells(times, groups, per_agent, spec, compute, grain, by, timezone, window)


def cohort_cells(
    times: pl.LazyFrame,
    groups: pl.LazyFrame,
    per_agent: pl.LazyFrame,
    spec: MetricSpec,
    compute: ProficiencyCompute,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """The client step of `proficiency_cells`, from the per-agent times (`agent_times`),
    each group's override (`groups`) and each agent's last value of the other groups
    (`last_of_own`): the Kaplan–Meier median per period of hire and group (every engine
    runs this code)."""
    if by:
        extra = [b for b in by if b != compute.agent]
        times = times.join(
            per_agent.select(pl.col(compute.agent).alias("agent_id"), *extra),
            on="agent_id",
            how="left",
        )
        if compute.agent in by:
            times = times.with_columns(pl.col("agent_id").alias(compute.agent))
    hired_at = pl.col("hired").cast(pl.Datetime("us")).dt.replace_time_zone(timezone)
    start = (
        pl.lit(None, dtype=pl.Datetime("us", timezone))
        if grain == "all"
        else periods.period_start(hired_at, grain)
    )
    times = times.with_columns(start.alias(START))
    lo, hi = bounds(window, timezone)
    if lo is not None:
        times = times.filter(hired_at >= lo)
    if hi is not None:
        times = times.filter(hired_at < hi)
    keys = [START, *by]
    steps = (
        times.group_by(*keys, "weeks")
        .agg(pl.col("proficient").sum().alias("__d"), pl.len().alias("__m"))
        .sort("weeks")
    )
    total = pl.col("__m").sum().over(keys)
    at_risk = total - pl.col("__m").cum_sum().over(keys) + pl.col("__m")
    survival = (1 - pl.col("__d") / at_risk).cum_prod().over(keys, order_by="weeks")
    steps = steps.with_columns(survival.alias("__s"))
    cells = steps.group_by(keys).agg(
        pl.col("__m").sum().alias("n"),
        pl.col("__d").sum().alias("__events"),
        pl.col("weeks")
        .filter((pl.col("__s") <= 0.5) & (pl.col("__d") > 0))
        .min()
        .alias("__median"),
    )
    censored = pl.col("n") - pl.col("__events")
    value = pl.when(censored * 2 < pl.col("n")).then(pl.col("__median"))
    table = (
        cells.join(groups, on=by, how="left", nulls_equal=True)
        if by
        else cells.join(groups, how="cross")
    )
    return (
        table.select(
            pl.lit(spec.id).alias("metric"),
            START,
            *by,
            pl.col(START).alias("__first"),
            pl.col(START).alias("__last"),
            value.cast(pl.Float64).alias("value"),
            pl.col("n").cast(pl.Int64),
            pl.col("override").cast(pl.Int32),
            *component_columns((None, None, None), value),
        )
        .sort(START, *by, nulls_last=True)
        .collect(engine="streaming")
    )


class Proficiency(Kind[ProficiencyCompute]):
    """Computes its own cells, by period of hire (plan "cells")."""

    cohort: ClassVar[bool] = True

    name = "time_to_proficiency"
    model = ProficiencyCompute
    plan: ClassVar[Plan] = "cells"
    expression_fields = ("where", "expr")
    column_fields = ("at", "agent")

    def needs_whole_dataset(self, compute: ProficiencyCompute) -> bool:
        return True

    def columns(self, compute: ProficiencyCompute, params: Params) -> set[str]:
        # the hire date and team come from the roster (attributed by agent), so they are
        # read but not checked against the contact dataset's own columns: a project
        # without a roster has this metric as not configured, not as a definition error
        return super().columns(compute, params) | {compute.hired, compute.team}

    def cells(
        self,
        compute: ProficiencyCompute,
        frame: pl.LazyFrame,
        spec: MetricSpec,
        grain: str,
        by: list[str],
        timezone: str,
        window: Window,
    ) -> pl.DataFrame:
        return proficiency_cells(frame, spec, compute, grain, by, timezone, window)

    def describe(self, compute: ProficiencyCompute) -> str:
        side = "at or below" if compute.better == "lower" else "at or above"
        rows = f" over rows where `{compute.where}`" if compute.where else ""
        return (
            f"per agent hired in the data range, weeks from `{compute.hired}` to the end of the "
            f"first week with at least {compute.min_contacts} rows whose mean `{compute.expr}`"
            f"{rows} is {side} the median of that week's per-agent means in the agent's "
            f"`{compute.team}`; the Kaplan–Meier median over agents hired in the period, those "
            "not yet proficient censored; no value when half or more are censored"
        )
