"""`open_at_period_end` (a stock) on Ibis: the +1/−1 events per period and group, the
groups' overrides and the horizon are computed on the backend; the running sum over the
grid of periods (small: periods × groups) is made on the client exactly as the polars
plan makes it (`tpmkit.engine.kinds.open_at_period_end`)."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds.open_at_period_end import _components, _grid, running_stock
from tpmkit.engine.window import START, Window
from tpmkit.engines.cells import PERIOD, override_condition, period_key, to_instants, utc_instant
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds.base import Rows
from tpmkit.engines.results import collect
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
    present = [c for c in compute.horizon if c in table.columns]
    latest = [dialect.scalar(table, dialect.epoch_us(table[c]).max()) for c in present]
    known = [v for v in latest if v is not None]
    horizon = max(known) if known else None  # epoch µs
    groups = _groups(table, spec, by)
    counted = table.filter(table[compute.opened].notnull())
    where = Rows(table, dialect, "", timezone).mask(compute.where, spec.parameters)
    if where is not None:
        counted = counted.filter(where)
    if grain == "all":
        return _at_horizon(counted, dialect, spec, compute, groups, by, timezone, horizon)
    return _over_periods(
        counted, dialect, spec, compute, groups, grain, by, timezone, window, horizon
    )


def _groups(table: ir.Table, spec: MetricSpec, by: list[str]) -> pl.DataFrame:
    """Every group of the whole table with the override it is judged by."""
    conditions = {f"o{i}": override_condition(table, o).all() for i, o in enumerate(spec.overrides)}
    if conditions:
        query = table.group_by(by).aggregate(**conditions) if by else table.aggregate(**conditions)
        found: pl.DataFrame = collect(query)
    else:
        found = collect(table.select(*by).distinct()) if by else pl.DataFrame({"__one": [1]})
    choose = choose_override([(i, pl.col(f"o{i}")) for i in range(len(spec.overrides))])
    return found.with_columns(choose.alias("override")).select(*by, "override")


def _at_horizon(
    counted: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    compute: OpenAtEndCompute,
    groups: pl.DataFrame,
    by: list[str],
    timezone: str,
    horizon: int | None,
) -> pl.DataFrame:
    """The stock at the horizon (its last instant: a row opened at it is open, a row
    closed at it is closed)."""
    opened = dialect.epoch_us(counted[compute.opened])
    closed = counted[compute.closed]
    if horizon is None:
        is_open: Any = ibis.literal(0)
    else:
        still = closed.isnull() | (dialect.epoch_us(closed) > horizon)
        is_open = ibis.ifelse((opened <= horizon) & still, 1, 0)
    query = counted.group_by(by) if by else counted
    got = collect(query.aggregate(value=is_open.sum(), first=opened.min()))
    first = got.get_column("first").min() if not got.is_empty() else None
    got = got.drop("first")
    cells = (
        groups.join(got, on=by, how="left", nulls_equal=True)
        if by
        else groups.join(got, how="cross")
    )
    value = pl.col("value").fill_null(0)
    return cells.with_columns(
        pl.lit(spec.id).alias("metric"),
        pl.lit(None, dtype=pl.Datetime("us", timezone)).alias(START),
        pl.lit(first, dtype=pl.Int64).alias("__first"),
        pl.lit(horizon, dtype=pl.Int64).alias("__last"),
    ).with_columns(
        utc_instant("__first", timezone).alias("__first"),
        utc_instant("__last", timezone).alias("__last"),
        value.cast(pl.Float64).alias("value"),
        value.cast(pl.Int64).alias("n"),
        *_components(value),
    )


def _over_periods(
    counted: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    compute: OpenAtEndCompute,
    groups: pl.DataFrame,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
    horizon: int | None,
) -> pl.DataFrame:
    """The stock at the end of every period from the first opening to the last period
    ending by the horizon, every group in every period."""
    opened = period_key(counted[compute.opened], dialect, grain, timezone)
    opens = counted.select(*by, **{PERIOD: opened}).mutate(__d=ibis.literal(1))
    ends = counted.filter(counted[compute.closed].notnull())
    closed = period_key(ends[compute.closed], dialect, grain, timezone)
    ends = ends.select(*by, **{PERIOD: closed}).mutate(__d=ibis.literal(-1))
    events = opens.union(ends).group_by([PERIOD, *by]).aggregate(__d=ibis._["__d"].sum())
    found = collect(events)
    found = found.with_columns(
        to_instants(found, PERIOD, grain, timezone).alias(START),
        pl.col("__d").cast(pl.Int64),
    ).drop(PERIOD)
    first = collect(counted.aggregate(p=opened.min()))
    first_start = first.select(to_instants(first, "p", grain, timezone)).item()
    last_start = None
    if horizon is not None:
        at = pl.from_epoch(pl.lit(horizon, dtype=pl.Int64), time_unit="us")
        at = at.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)
        last_start = pl.select(
            periods.period_start(at, grain).dt.offset_by(periods.span(grain, -1))
        ).item()
    grid = _grid(first_start, last_start, grain, timezone)
    return running_stock(
        grid.lazy(), groups.lazy(), found.lazy(), spec, by, timezone, window
    ).collect()
