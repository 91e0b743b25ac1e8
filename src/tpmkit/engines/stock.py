"""`open_at_period_end` (a stock) on Ibis: the +1/−1 events per period and group, the
groups' overrides and the horizon are computed on the backend; the running sum over the
grid of periods (small: periods × groups) is made on the client exactly as the polars
plan makes it (`tpmkit.engine.kinds.open_at_period_end`)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds.open_at_period_end import _components, _grid
from tpmkit.engine.window import START, Window, bounds
from tpmkit.engines.cells import PERIOD, override_condition, period_key, to_instants, utc_instant
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds.base import Rows
from tpmkit.spec.computes import OpenAtEndCompute
from tpmkit.spec.models import MetricSpec


def stock_cells(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """Cells (metric, period_start, groups, value, n, override, components) of a stock."""
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    rows = Rows(table, dialect, "")
    where = rows.mask(compute.where, spec.parameters)
    present = [c for c in compute.horizon if c in table.columns]
    latest = table.aggregate(
        **{f"h{i}": dialect.epoch_us(table[c]).max() for i, c in enumerate(present)}
    ).to_polars()
    known = [v for v in latest.row(0) if v is not None] if present else []
    h = max(known) if known else None
    conditions = {f"o{i}": override_condition(table, o).all() for i, o in enumerate(spec.overrides)}
    groups = (
        (table.group_by(by).aggregate(**conditions) if by else table.aggregate(**conditions))
        if conditions
        else (table.select(*by).distinct() if by else None)
    )
    group_frame = groups.to_polars() if groups is not None else pl.DataFrame({"__one": [1]})
    choose = choose_override([(i, pl.col(f"o{i}")) for i in range(len(spec.overrides))])
    group_frame = group_frame.with_columns(choose.alias("override")).select(*by, "override")
    counted = table.filter(table[compute.opened].notnull())
    if where is not None:
        counted = counted.filter(where)
    opened_us = dialect.epoch_us(counted[compute.opened])
    closed = counted[compute.closed]
    moment = pl.Datetime("us", timezone)
    if grain == "all":  # the stock at the horizon (a row opened at it is open)
        if h is None:
            is_open = ibis.literal(0)
        else:
            still = closed.isnull() | (dialect.epoch_us(closed) > h)
            is_open = ibis.ifelse((opened_us <= h) & still, 1, 0)
        values = (counted.group_by(by) if by else counted).aggregate(
            value=is_open.sum(), first=opened_us.min()
        )
        got = values.to_polars()
        first = got.get_column("first").min() if not got.is_empty() else None
        got = got.drop("first")
        cells = (
            group_frame.join(got, on=by, how="left", nulls_equal=True)
            if by
            else group_frame.join(got, how="cross")
        )
        cells = cells.with_columns(
            pl.lit(first, dtype=pl.Int64).alias("__first"),
            pl.lit(h, dtype=pl.Int64).alias("__last"),
        )
        return cells.with_columns(
            pl.lit(spec.id).alias("metric"),
            pl.lit(None, dtype=moment).alias(START),
            utc_instant("__first", timezone).alias("__first"),
            utc_instant("__last", timezone).alias("__last"),
            pl.col("value").fill_null(0).cast(pl.Float64),
            pl.col("value").fill_null(0).cast(pl.Int64).alias("n"),
            *_components(pl.col("value").fill_null(0)),
        )
    opens = counted.select(
        *by, **{PERIOD: period_key(counted[compute.opened], dialect, grain, timezone)}
    ).mutate(__d=ibis.literal(1))
    ends = counted.filter(closed.notnull())
    ends = ends.select(
        *by, **{PERIOD: period_key(ends[compute.closed], dialect, grain, timezone)}
    ).mutate(__d=ibis.literal(-1))
    events = opens.union(ends).group_by([PERIOD, *by]).aggregate(__d=ibis._["__d"].sum())
    events_frame = events.to_polars()
    events_frame = events_frame.with_columns(
        to_instants(events_frame, PERIOD, grain, timezone).alias(START)
    ).drop(PERIOD)
    first = (
        events_frame.filter(pl.col("__d").is_not_null()).get_column(START).min() if False else None
    )
    first_open = counted.aggregate(
        p=period_key(counted[compute.opened], dialect, grain, timezone).min()
    ).to_polars()
    first_start = first_open.with_columns(
        to_instants(first_open, "p", grain, timezone).alias("s")
    ).get_column("s")[0]
    last_start = None
    if h is not None:
        horizon = pl.select(utc_instant_lit(h, timezone)).item()
        last_start = pl.select(
            periods.period_start(pl.lit(horizon), grain).dt.offset_by(periods.span(grain, -1))
        ).item()
    del first
    grid = _grid(first_start, last_start, grain, timezone)
    table_ = grid.join(group_frame, how="cross").join(
        events_frame.with_columns(pl.col("__d").cast(pl.Int64)),
        on=[START, *by],
        how="left",
        nulls_equal=True,
    )
    value = pl.col("__d").fill_null(0).cum_sum()
    value = value.over(by, order_by=START) if by else value
    table_ = table_.sort(START).with_columns(value.alias("__v"))
    start, end = bounds(window, timezone)
    if start is not None:
        table_ = table_.filter(pl.col(START) >= start)
    if end is not None:
        table_ = table_.filter(pl.col(START) < end)
    return table_.select(
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


def utc_instant_lit(us: int, timezone: str) -> pl.Expr:
    """Epoch microseconds as an instant in `timezone`."""
    return (
        pl.from_epoch(pl.lit(us, dtype=pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
    )
