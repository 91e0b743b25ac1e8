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
    "partial",
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
    """Labels: 2026-01-05T14 (a repeated hour: 2026-10-25T02:00+01:00), 2026-01-05,
    2026-W03 (ISO year), 2026-01, 2026-Q1, 2026."""
    if grain == Grain.HOUR:
        # the hour a DST fall-back repeats (02:00 twice in Europe/Berlin) is labelled with
        # its UTC offset, both times, so the two hours are two periods: 2026-10-25T02:00+02:00
        plain = start.dt.strftime("%Y-%m-%dT%H")
        hour = pl.duration(hours=1)
        repeated = ((start - hour).dt.strftime("%Y-%m-%dT%H") == plain) | (
            (start + hour).dt.strftime("%Y-%m-%dT%H") == plain
        )
        return pl.when(repeated).then(start.dt.strftime("%Y-%m-%dT%H:00%:z")).otherwise(plain)
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


def partial(
    start: pl.Expr, end: pl.Expr, grain: str, first: object, last: object, window: str
) -> pl.Expr:
    """Why a period is partial — the selected range `[first, last)` (instants, None: open)
    cuts it, so its value covers only part of the period it is labelled with — or null.
    `window` words the range (e.g. `2026-01-07 – …`)."""
    if grain in (Grain.ALL, Grain.HOUR, Grain.DAY):  # the range is whole days: never cut
        return pl.lit(None, dtype=pl.String)
    cut = pl.lit(False)
    if first is not None:
        cut = cut | (start < pl.lit(first))
    if last is not None:
        cut = cut | (end > pl.lit(last))
    why = f"partial period: the range {window} cuts this {grain}; the value covers part of it"
    return pl.when(cut).then(pl.lit(why)).otherwise(None)
