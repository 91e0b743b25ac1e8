"""Period starts looked up instead of computed row by row.

Truncating a zoned timestamp to its local week (or day, month…) converts every row to
local time: at ten million calls that is 0.75 s of CPU in every pass over them, more than
the pass's grouping. A dataset's rows span a known range of local days (the load counted
them), and that range holds few periods (13 weeks, or 17,520 hours over two years). So the
periods' starts are computed once, by the same truncation, from a grid of instants fine
enough to meet every period (15 minutes: no period is shorter), and each row's start is
found by a binary search of its instant among them (0.07 s at ten million rows).

A row outside the range the starts were made for gets no start of its own: `OUTSIDE` says
so per cell, and the pass is done again with the truncation itself (`engine/cells.py`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

__all__ = ["OUTSIDE", "lookup", "starts_between"]

OUTSIDE = "__outside"  # a cell aggregate: some row lay outside the looked-up periods
_GRID = "15m"  # finer than any period (an hour is the shortest grain)


def starts_between(
    first: dt.date, last: dt.date, every: str, timezone: str, dtype: pl.DataType
) -> pl.Series:
    """The starts of every period (`every`: a polars truncation interval) that meets the
    local days `first`…`last`, sorted, and the end of the last one after them, as `dtype`."""
    # a day either side in UTC covers every offset from UTC (at most 26 hours)
    lo = dt.datetime.combine(first - dt.timedelta(days=2), dt.time(), dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=3), dt.time(), dt.UTC)
    grid = pl.datetime_range(lo, hi, interval=_GRID, eager=True, time_unit="us", time_zone="UTC")
    local = grid.dt.convert_time_zone(timezone).cast(dtype)
    starts = local.dt.truncate(every).unique().sort()
    return pl.concat([starts, starts.tail(1).dt.offset_by(every)])


def lookup(ts: pl.Expr, starts: pl.Series) -> tuple[pl.Expr, pl.Expr]:
    """Each row's period start among `starts` (as `starts_between` gives them, the last
    one an end) and whether the row lies outside them (its start is then not its own)."""
    dtype = starts.dtype
    unit = dtype.time_unit if isinstance(dtype, pl.Datetime) and dtype.time_unit else "us"
    edges = starts.dt.epoch(unit)  # in the rows' own unit: no rounding at an edge
    at = pl.lit(edges).search_sorted(ts.dt.epoch(unit), side="right")
    # the last edge only ends the last period: a row at or after it is outside
    inside = (at >= 1) & (at < len(starts))
    start = pl.lit(starts).gather((at - 1).clip(0, len(starts) - 1))
    return start, ~inside
