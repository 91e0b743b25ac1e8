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
