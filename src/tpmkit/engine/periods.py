"""Period grains cut in the project time zone, with their labels."""

from __future__ import annotations

import polars as pl

from tpmkit.vocabulary import Grain

__all__ = [
    "GRAINS",
    "NOMINAL_DAYS",
    "Grain",
    "instant",
    "label",
    "period_end",
    "period_start",
    "span",
]

GRAINS: tuple[str, ...] = tuple(g.value for g in Grain)  # finest first, for messages
# average length of each grain in days (for positions and projections, not for cutting)
NOMINAL_DAYS: dict[str, float] = {
    Grain.HOUR: 1 / 24,
    Grain.DAY: 1,
    Grain.WEEK: 7,
    Grain.MONTH: 30.436875,
    Grain.QUARTER: 91.310625,
    Grain.YEAR: 365.2425,
    Grain.ALL: 1,
}
_EVERY: dict[str, str] = {
    Grain.HOUR: "1h",
    Grain.DAY: "1d",
    Grain.WEEK: "1w",
    Grain.MONTH: "1mo",
    Grain.QUARTER: "1q",
    Grain.YEAR: "1y",
}


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
    if grain == Grain.HOUR:
        return start.dt.strftime("%Y-%m-%dT%H")
    if grain == Grain.DAY:
        return start.dt.strftime("%Y-%m-%d")
    if grain == Grain.WEEK:
        return pl.format(
            "{}-W{}", start.dt.iso_year(), start.dt.week().cast(pl.String).str.zfill(2)
        )
    if grain == Grain.MONTH:
        return start.dt.strftime("%Y-%m")
    if grain == Grain.QUARTER:
        return pl.format("{}-Q{}", start.dt.year(), start.dt.quarter())
    if grain == Grain.YEAR:
        return start.dt.strftime("%Y")
    return pl.lit("all")
