"""`open_at_period_end`: a stock (e.g. the open ticket backlog), not a flow.

A row is open at the end of period P when it was opened before the next period starts
and not closed before then. With `po` the period a row was opened in and `pc` the period
it was closed in, it is open at the end of every period P with po <= P < pc. So the
stock is a running sum of +1 at `po` and -1 at `pc`, per group, over a grid of periods
from the first opening to the last period ending by the data horizon — every group gets
every period, including 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import polars as pl

from tpmkit.engine import local_periods, periods
from tpmkit.engine.in_force import choose_override, override_condition
from tpmkit.engine.kinds.base import Kind, Plan
from tpmkit.engine.kinds.rows import component_columns, row_expr
from tpmkit.engine.window import START, Window, bounds, collected, latest_of
from tpmkit.spec.computes import OpenAtEndCompute
from tpmkit.spec.models import MetricSpec


def _grid(first: Any, last: Any, grain: str, timezone: str) -> pl.DataFrame:
    if first is None or last is None or last < first:
        return pl.DataFrame(schema={START: pl.Datetime("us", timezone)})
    starts = pl.datetime_range(
        first, last, interval=periods.span(grain, 1), eager=True, time_unit="us", time_zone=timezone
    )
    return pl.DataFrame({START: starts})


def open_at_end(
    frame: pl.LazyFrame,
    spec: MetricSpec,
    compute: OpenAtEndCompute,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """Cells (metric, period_start, groups, value, n, override, components) of a stock."""
    where = (
        row_expr(compute.where, spec.parameters).fill_null(False) if compute.where else pl.lit(True)
    )
    horizon = latest_of(frame, list(compute.horizon))  # horizon columns may be absent
    conditions = [(i, override_condition(o).all()) for i, o in enumerate(spec.overrides)]
    override = choose_override(conditions).alias("override")
    rows = frame.with_columns(horizon.alias("__h"), where.alias("__in"))
    # each part read on its own (`collected`): sharing the rows would hold all of them
    groups = collected(rows.group_by(by).agg(override) if by else rows.select(override))
    counted = rows.filter(pl.col("__in") & pl.col(compute.opened).is_not_null())
    opened, closed, h = pl.col(compute.opened), pl.col(compute.closed), pl.col("__h")

    if grain == "all":  # the stock at the horizon
        # the horizon is the period's last instant (reading 2): a row opened at it is open,
        # a row closed at it is closed
        is_open = (opened <= h) & (closed.is_null() | (closed > h))
        values = (
            counted.group_by(by).agg(is_open.sum().alias("value"))
            if by
            else counted.select(is_open.sum().alias("value"))
        )
        cells = (
            groups.join(values, on=by, how="left", nulls_equal=True)
            if by
            else groups.join(values, how="cross")
        ).collect(engine="streaming")
        first_last = counted.select(opened.min().alias("__first"), h.first().alias("__last"))
        span = first_last.collect(engine="streaming")
        return cells.with_columns(
            pl.lit(spec.id).alias("metric"),
            pl.lit(None, dtype=pl.Datetime("us", timezone)).alias(START),
            pl.lit(span["__first"][0]).alias("__first"),
            pl.lit(span["__last"][0]).alias("__last"),
            pl.col("value").fill_null(0).cast(pl.Float64),
            pl.col("value").fill_null(0).cast(pl.Int64).alias("n"),
            *_components(pl.col("value").fill_null(0)),
        )

    # the earliest period start is the start of the earliest period (truncation keeps the
    # order of instants): one value truncated rather than every row
    span = counted.select(
        periods.period_start(opened.min(), grain).alias("first"),
        periods.period_start(h.first(), grain).dt.offset_by(periods.span(grain, -1)).alias("last"),
        opened.min().alias("__a"),
        h.first().alias("__b"),
    ).collect(engine="streaming")
    # the local days from the first opening to the horizon: rows are counted per local
    # period as a number there (`engine/local_periods.py`)
    a, b = span["__a"][0], span["__b"][0]
    days = (
        (a.date(), b.date()) if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) else None
    )
    schema = counted.collect_schema()
    # +1 in the period a row was opened, -1 in the one it was closed
    arrivals = _per_period(counted, compute.opened, schema, 1, grain, by, timezone, days)
    departures = _per_period(
        counted.filter(closed.is_not_null()), compute.closed, schema, -1, grain, by, timezone, days
    )
    events = (
        pl.concat([arrivals, departures.select(arrivals.collect_schema().names())])
        .group_by([START, *by])
        .agg(pl.col("__d").sum())
    )
    return stock_cells(span.drop("__a", "__b"), groups, events, spec, grain, by, timezone, window)


def _per_period(
    rows: pl.LazyFrame,
    column: str,
    schema: pl.Schema,
    sign: int,
    grain: str,
    by: list[str],
    timezone: str,
    days: tuple[dt.date, dt.date] | None,
) -> pl.LazyFrame:
    """`sign` × the rows per period of their time `column` and group (`__d`), computed now.

    Truncating each row's zoned time to its local period converts every row to local
    time (2.5 M tickets: 0.2 s of CPU a query); within the known `days` the rows are
    grouped by their local period as a number instead, and each group's period start
    truncated once from its earliest time (every row of a group has the same period). A
    time outside those days (a close after the horizon, say) counts the rows again by the
    truncation."""
    time = pl.col(column)
    count = (pl.len().cast(pl.Int64) * sign).alias("__d")
    if (
        days is not None
        and grain in local_periods.GRAINS
        and schema[column] == pl.Datetime("us", timezone)
    ):
        key, outside = local_periods.period_key(time, grain, *days, timezone)
        found = rows.group_by(key.alias(local_periods.KEY), *by).agg(
            count, time.min().alias("__at"), outside.any().alias(local_periods.OUTSIDE)
        )
        counts = found.collect(engine="streaming")
        if not counts.get_column(local_periods.OUTSIDE).any():
            start = periods.period_start(pl.col("__at"), grain).alias(START)
            return counts.lazy().select(start, *by, "__d")
    return collected(rows.group_by(periods.period_start(time, grain).alias(START), *by).agg(count))


def stock_cells(
    span: pl.DataFrame,
    groups: pl.LazyFrame,
    deltas: pl.LazyFrame,
    spec: MetricSpec,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """The stock's cells from its per-period changes, over the periods from `span`'s
    `first` (the first period a row was opened in) to its `last` (the last one ended by
    the horizon); an incremental run gives the changes summed over files."""
    grid = _grid(span["first"][0], span["last"][0], grain, timezone).lazy()
    return running_stock(grid, groups, deltas, spec, by, timezone, window).collect(
        engine="streaming"
    )


def running_stock(
    grid: pl.LazyFrame,
    groups: pl.LazyFrame,
    deltas: pl.LazyFrame,
    spec: MetricSpec,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.LazyFrame:
    """The stock's cells from its per-period changes (`__d` by START and group): every
    group on every period of `grid`, the running sum of the changes, cut to `window` (the
    polars plan and the Ibis engines' both end here)."""
    table = grid.join(groups, how="cross").join(
        deltas, on=[START, *by], how="left", nulls_equal=True
    )
    value = pl.col("__d").fill_null(0).cum_sum()
    value = value.over(by, order_by=START) if by else value
    table = table.sort(START).with_columns(value.alias("__v"))
    start, end = bounds(window, timezone)
    if start is not None:
        table = table.filter(pl.col(START) >= start)
    if end is not None:
        table = table.filter(pl.col(START) < end)
    return table.select(
        pl.lit(spec.id).alias("metric"),
        START,
        *by,
        pl.col(START).alias("__first"),
        pl.col(START).alias("__last"),
        pl.col("__v").cast(pl.Float64).alias("value"),
        pl.col("__v").cast(pl.Int64).alias("n"),
        pl.col("override").cast(pl.Int32),
        *_components(pl.col("__v")),
    )


def _components(value: pl.Expr) -> list[pl.Expr]:
    """A stock's components: the level itself, no denominator, scale 1."""
    return component_columns((value, None, 1.0), value)


class OpenAtEnd(Kind[OpenAtEndCompute]):
    """Computes its own cells over a grid of periods (plan "cells")."""

    name = "open_at_period_end"
    model = OpenAtEndCompute
    plan: ClassVar[Plan] = "cells"
    column_fields = ("opened", "closed")
    stock: ClassVar[bool] = True

    def named_columns(self, compute: OpenAtEndCompute) -> list[tuple[tuple[str | int, ...], str]]:
        found = super().named_columns(compute)
        return found + [(("horizon", i), c) for i, c in enumerate(compute.horizon)]

    def horizon(self, compute: OpenAtEndCompute) -> list[str]:
        return list(compute.horizon)

    def needs_whole_dataset(self, compute: OpenAtEndCompute) -> bool:
        return True

    def cells(
        self,
        compute: OpenAtEndCompute,
        frame: pl.LazyFrame,
        spec: MetricSpec,
        grain: str,
        by: list[str],
        timezone: str,
        window: Window,
    ) -> pl.DataFrame:
        return open_at_end(frame, spec, compute, grain, by, timezone, window)

    def describe(self, compute: OpenAtEndCompute) -> str:
        return (
            f"rows with `{compute.opened}` before the period's end and `{compute.closed}` "
            f"empty or not before it, for every period ending by the latest of "
            f"{', '.join(compute.horizon)}"
        )
