"""Which `timestamp_format` an export's unreadable timestamps are written in: a hint for
the error, never a guess that changes what is read. Day-first and month-first dates are
told apart only by a value that reads one way alone (13/01/2026); when every value reads
both ways (05/01/2026), the user must say which."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

_TIMES = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", "")
_DAY_FIRST = tuple(
    f"%d{sep}%m{sep}{year}{time}" for sep in "/.-" for year in ("%Y", "%y") for time in _TIMES
)
_MONTH_FIRST = tuple(
    f"%m{sep}%d{sep}{year}{time}" for sep in "/-" for year in ("%Y", "%y") for time in _TIMES
)
_YEAR_FIRST = tuple(f"%Y/%m/%d{time}" for time in _TIMES)
SAMPLE = 1000  # bad values looked at


@dataclass(frozen=True)
class Suggestion:
    """The format every value reads with, or the two readings it cannot choose between."""

    fmt: str | None = None
    ambiguous: tuple[str, str] | None = None

    def hint(self) -> str | None:
        """The sentence for the error's hint."""
        if self.fmt is not None:
            return f'the values read as `timestamp_format: "{self.fmt}"`: set it on the source'
        if self.ambiguous is not None:
            day, month = self.ambiguous
            return (
                "every value reads both day-first and month-first (05/01/2026: 5 January or "
                f'1 May?), so tpmkit does not guess: set `timestamp_format: "{day}"` '
                f'(day first) or `timestamp_format: "{month}"` (month first) on the source'
            )
        return None


def _reading(values: pl.Series, formats: tuple[str, ...]) -> str | None:
    """The first format that reads every value (None: none does)."""
    for fmt in formats:
        parsed = values.str.to_datetime(fmt, strict=False, time_unit="us")
        if parsed.null_count() == 0:
            return fmt
    return None


def suggest(values: pl.Series) -> Suggestion:
    """The timestamp format the (non-empty) values are written in, if one reads them all."""
    text = values.cast(pl.String).str.strip_chars().drop_nulls()
    text = text.filter(text != "").head(SAMPLE)
    if text.is_empty():
        return Suggestion()
    day = _reading(text, _DAY_FIRST)
    month = _reading(text, _MONTH_FIRST)
    if day and month:
        return Suggestion(ambiguous=(day, month))
    found = day or month or _reading(text, _YEAR_FIRST)
    return Suggestion(fmt=found)
