"""What `check` needs to judge a source's freshness and completeness, read once from the
loaded dataset: its latest timestamp and its rows per local day. Only the time column is
touched, lazily; the frame's times are already in the project time zone, so a timestamp's
date is its local day (a 23- or 25-hour DST day counts its own rows)."""

from __future__ import annotations

import datetime as dt

import polars as pl

__all__ = ["DayCounts", "day_counts"]

DayCounts = tuple[dt.datetime | dt.date | None, dict[dt.date, int]]


def day_counts(frame: pl.DataFrame | pl.LazyFrame, column: str | None) -> DayCounts:
    """The latest value of `column` and the rows per local day; (None, {}) when the
    dataset has no such column or it is not a timestamp or date."""
    lazy = frame.lazy()
    if not column or column not in lazy.collect_schema().names():
        return None, {}
    dtype = lazy.collect_schema()[column]
    if isinstance(dtype, pl.Datetime):
        day = pl.col(column).dt.date()
    elif isinstance(dtype, pl.Date):
        day = pl.col(column)
    else:
        return None, {}
    stamped = lazy.select(pl.col(column)).filter(pl.col(column).is_not_null())
    latest = stamped.select(pl.col(column).max()).collect().item()
    counts = stamped.group_by(day.alias("day")).agg(pl.len().alias("rows")).collect()
    daily = dict(
        zip(counts.get_column("day").to_list(), counts.get_column("rows").to_list(), strict=True)
    )
    return latest, daily
