"""`open_at_period_end` (a stock) on Ibis: the +1/−1 events per period and group, the
groups' overrides and the horizon are computed on the backend (`tpmkit.engines.
stock_queries`); the running sum over the grid of periods (small: periods × groups) is made
on the client exactly as the polars plan makes it (`tpmkit.engine.kinds.open_at_period_end`).
Nothing here imports Ibis: compiled queries run without it (`tpmkit.engines.queries`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds.open_at_period_end import _components, _grid, running_stock
from tpmkit.engine.window import START, Window
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.passes import PERIOD, to_instants, utc_instant
from tpmkit.engines.queries import Runner
from tpmkit.spec.computes import OpenAtEndCompute
from tpmkit.spec.models import MetricSpec


def stock_cells(
    runner: Runner,
    name: str,
    table: Callable[[], Any],
    columns: set[str],
    dialect: Dialect,
    spec: MetricSpec,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """Cells (metric, period_start, groups, value, n, override, components) of a stock;
    `table` makes the dataset's Ibis table (only where a query must be built), `columns`
    are its columns, `name` names the stock's queries."""
    q = _Queries()
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    present = [c for c in compute.horizon if c in columns]
    horizon = None  # epoch µs
    if present:
        latest = runner.run(f"{name} horizon", lambda: q.horizons(table(), dialect, present))
        known = [v for v in latest.row(0) if v is not None]
        horizon = max(known) if known else None
    if spec.overrides or by:
        found = runner.run(f"{name} groups", lambda: q.groups(table(), spec, by))
    else:
        found = pl.DataFrame({"__one": [1]})
    choose = choose_override([(i, pl.col(f"o{i}")) for i in range(len(spec.overrides))])
    groups = found.with_columns(choose.alias("override")).select(*by, "override")
    if grain == "all":
        got = runner.run(
            f"{name} at horizon",
            lambda: q.at_horizon(table(), dialect, spec, by, timezone, present, horizon),
        )
        return _at_horizon(got, spec, groups, by, timezone, horizon)
    events = runner.run(
        f"{name} events", lambda: q.events(table(), dialect, spec, grain, by, timezone)
    )
    first = runner.run(
        f"{name} first", lambda: q.first_opening(table(), dialect, spec, grain, timezone)
    )
    return _over_periods(events, first, spec, groups, grain, by, timezone, window, horizon)


class _Queries:
    """`tpmkit.engines.stock_queries`, imported (with Ibis) only when a query is built."""

    def __getattr__(self, name: str) -> Any:
        from tpmkit.engines import stock_queries

        return getattr(stock_queries, name)


def _at_horizon(
    got: pl.DataFrame,
    spec: MetricSpec,
    groups: pl.DataFrame,
    by: list[str],
    timezone: str,
    horizon: int | None,
) -> pl.DataFrame:
    """The stock at the horizon, every group."""
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
    found: pl.DataFrame,
    first: pl.DataFrame,
    spec: MetricSpec,
    groups: pl.DataFrame,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
    horizon: int | None,
) -> pl.DataFrame:
    """The stock at the end of every period from the first opening to the last period
    ending by the horizon, every group in every period."""
    found = found.with_columns(
        to_instants(found, PERIOD, grain, timezone).alias(START),
        pl.col("__d").cast(pl.Int64),
    ).drop(PERIOD)
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
