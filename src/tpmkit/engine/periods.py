"""Period grains cut in the project time zone, with their labels."""

from __future__ import annotations

from typing import Literal

import polars as pl

Grain = Literal["hour", "day", "week", "month", "quarter", "year", "all"]
GRAINS: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year", "all")
# average length of each grain in days (for positions and projections, not for cutting)
NOMINAL_DAYS = {
    "hour": 1 / 24,
    "day": 1,
    "week": 7,
    "month": 30.436875,
    "quarter": 91.310625,
    "year": 365.2425,
    "all": 1,
}
_EVERY = {"hour": "1h", "day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


def span(grain: str, count: int) -> str:
    """The polars duration string for `count` periods of `grain` (negative: backwards)."""
    return f"{count}{_EVERY[grain][1:]}"


def instant(column: pl.Expr, dtype: pl.DataType, timezone: str) -> pl.Expr:
    """A time column as an instant in the project time zone (dates are local midnight)."""
    if dtype == pl.Date:
        naive = column.cast(pl.Datetime("us"))
        # where DST skips midnight (e.g. America/Santiago), the day starts an hour later
        return pl.coalesce(
            naive.dt.replace_time_zone(timezone, non_existent="null"),
            naive.dt.offset_by("1h").dt.replace_time_zone(timezone, non_existent="null"),
        )
    return column


def period_start(ts: pl.Expr, grain: str) -> pl.Expr:
    """Start of the period (local time) containing each timestamp; weeks start on Monday."""
    return ts.dt.truncate(_EVERY[grain])


def period_end(start: pl.Expr, grain: str) -> pl.Expr:
    """Exclusive end of the period that starts at `start` (DST days are 23 or 25 hours)."""
    return start.dt.offset_by(_EVERY[grain])


def label(start: pl.Expr, grain: str) -> pl.Expr:
    """Labels: 2026-01-05T14, 2026-01-05, 2026-W03 (ISO year), 2026-01, 2026-Q1, 2026."""
    if grain == "hour":
        return start.dt.strftime("%Y-%m-%dT%H")
    if grain == "day":
        return start.dt.strftime("%Y-%m-%d")
    if grain == "week":
        return pl.format(
            "{}-W{}", start.dt.iso_year(), start.dt.week().cast(pl.String).str.zfill(2)
        )
    if grain == "month":
        return start.dt.strftime("%Y-%m")
    if grain == "quarter":
        return pl.format("{}-Q{}", start.dt.year(), start.dt.quarter())
    if grain == "year":
        return start.dt.strftime("%Y")
    return pl.lit("all")
