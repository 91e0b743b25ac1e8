"""Timestamps an export writes as a date in one column and a clock time in another
(`990201` and `7:02:47`), with a day roll-over: a call that entered the IVR at 23:59:50
and was queued at 0:00:10 was queued on the next day. The result is text
(`1999-02-02 00:00:10`) that the timestamp column's own rules then read and check."""

from __future__ import annotations

import polars as pl

from tpmkit.data.filters import check_columns
from tpmkit.errors import DefinitionError, Issue
from tpmkit.spec.models import Source
from tpmkit.spec.sourceopts import ClockTime

CLOCK = r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*$"  # H:MM or H:MM:SS[.f]
HALF_DAY = 12 * 3600


def seconds_of_day(column: str) -> pl.Expr:
    """A clock time `H:MM[:SS]` as seconds after midnight (empty: not a clock time)."""
    text = pl.col(column).cast(pl.String)
    hours = text.str.extract(CLOCK, 1).cast(pl.Int64)
    minutes = text.str.extract(CLOCK, 2).cast(pl.Int64)
    secs = text.str.extract(CLOCK, 3).cast(pl.Float64).fill_null(0.0)
    valid = (hours < 24) & (minutes < 60) & (secs < 60)
    return pl.when(valid).then(hours * 3600 + minutes * 60 + secs)


def timestamp_text(spec: ClockTime) -> pl.Expr:
    """The timestamp as ISO text; where the date or the clock cannot be read, the two
    values as written, joined by ` at ` so that no timestamp format reads them and the
    timestamp's check reports the row."""
    day = pl.col(spec.date).cast(pl.String).str.strip_chars()
    date = day.str.strptime(pl.Date, spec.date_format, strict=False)
    clock = seconds_of_day(spec.time)
    if spec.after is not None:
        reference = seconds_of_day(spec.after)
        rolled = reference.is_not_null() & (clock < reference - HALF_DAY)
        clock = pl.when(rolled).then(clock + 86400).otherwise(clock)
    stamp = date.cast(pl.Datetime("us")) + pl.duration(microseconds=(clock * 1e6).round())
    written = pl.concat_str([day, pl.col(spec.time).cast(pl.String)], separator=" at ")
    return (
        pl.when(pl.col(spec.date).is_null() & pl.col(spec.time).is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(stamp.is_not_null())
        .then(stamp.dt.strftime("%Y-%m-%d %H:%M:%S%.f"))
        .otherwise(written)
    )


def combine(
    frame: pl.LazyFrame,
    canonical: dict[str, str],
    source: Source,
    dataset: str,
    display: str,
) -> pl.LazyFrame:
    """The frame with each `clock_times` column added (columns may be export or derived
    names; `canonical` gains the new names)."""
    for target, spec in source.clock_times.items():
        if target in canonical:
            made = "derived" if target in source.derive else "a column of the export"
            raise DefinitionError(
                f"dataset `{dataset}`: `{target}` is both {made} and in `clock_times`",
                [
                    Issue(
                        f"two definitions of `{target}`",
                        file=display,
                        hint=f"keep one: drop `clock_times.{target}` or the other mapping",
                    )
                ],
            )
        used = [spec.date, spec.time, *([spec.after] if spec.after else [])]
        names = list(canonical)
        what = "column names after the mapping (`columns`, `derive`)"
        check_columns(used, names, dataset, display, f"clock_times.{target}", what)
        frame = frame.with_columns(timestamp_text(spec).alias(target))
        canonical[target] = target
    return frame


def described(spec: ClockTime, derive: dict[str, str]) -> str:
    """The combination as a SQL expression on the raw row (for messages)."""

    def column(name: str) -> str:
        return f"({derive[name]})" if name in derive else '"' + name.replace('"', '""') + '"'

    return f"{column(spec.date)} || ' ' || {column(spec.time)}"
