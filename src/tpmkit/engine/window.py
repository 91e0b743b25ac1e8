"""The selected time range and the period column every cell carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

START = "period_start"
# on the rows of a time slice of a dataset (engine/slices.py): the whole dataset's latest
# time, which a slice's own rows do not reach
HORIZON = "__slice_horizon"


@dataclass(frozen=True)
class Window:
    """The selected time range, as local dates (inclusive)."""

    start: dt.date | None = None
    end: dt.date | None = None


def finite(value: pl.Expr) -> pl.Expr:
    """NaN and infinity (e.g. a division by zero inside an expression) are no data."""
    return pl.when(value.is_finite()).then(value).otherwise(None)


def bounds(window: Window, timezone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) instants of a window in the project time zone."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(window.start, dt.time(), zone) if window.start else None
    end = (
        dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), zone)
        if window.end
        else None
    )
    return start, end


def scalar(frame: pl.LazyFrame, value: pl.Expr) -> pl.Expr:
    """A whole-frame aggregate (`value`) as a literal: computed by a streaming query of its
    own, because a whole-column maximum or minimum inside a row-wise plan makes the
    streaming engine hold every row to broadcast it (a stock's or a censored pass's
    horizon over 20 M tickets: several GiB)."""
    found = frame.select(value.alias("value")).collect(engine="streaming")
    return pl.lit(found.item(), dtype=found.schema["value"])


def latest_of(frame: pl.LazyFrame, columns: list[str]) -> pl.Expr:
    """The latest value in any of `columns` over the whole frame, as a literal."""
    present = set(frame.collect_schema().names())
    return scalar(frame, pl.max_horizontal(pl.col(c).max() for c in columns if c in present))


def collected(frame: pl.LazyFrame) -> pl.LazyFrame:
    """A small result (cells, per-agent or per-group rows) computed now, by a streaming
    query of its own, for later steps of a plan that reads the same rows again: polars
    would otherwise hold every shared row once to feed both (common subplans)."""
    return frame.collect(engine="streaming").lazy()
