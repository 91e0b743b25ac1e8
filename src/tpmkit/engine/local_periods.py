"""A row's local period as a number, by arithmetic on its instant, to group by.

Truncating a zoned time to its local week (or day, month…) converts every row to local
time: at ten million calls that is 0.75 s of CPU in every pass over them, more than the
pass's grouping. Within a known range of days a zone's offset from UTC changes at a few
instants (twice a year), so a row's local time is its instant plus the offset in force,
chosen by comparing the instant with those few instants; its local day, week, month,
quarter or year then follow by integer arithmetic. Every step is row-wise with plain
numbers, so a pass keeps streaming (a literal series in `search_sorted` or
`replace_strict` would not: polars holds all rows for it). The period's start, a zoned
instant, is truncated from the cell's first time once the rows are grouped: every row
of a cell has the same local period, hence the same truncated start.

A row outside the range the offsets were found for gets `OUTSIDE`, and the pass is done
again with the truncation (`engine/cells.py`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

__all__ = ["GRAINS", "KEY", "OUTSIDE", "period_key"]

KEY = "__period_key"  # the row's local period, a number (grouped by in place of its start)
OUTSIDE = "__outside"  # a cell aggregate: some row lay outside the range of known offsets
GRAINS = ("day", "week", "month", "quarter", "year")  # periods of whole local days
_DAY_US = 86_400_000_000
_STEP = dt.timedelta(minutes=15)


def _offset_us(zone: ZoneInfo, instant: dt.datetime) -> int:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset // dt.timedelta(microseconds=1)


Offsets = tuple[int, int, int, list[tuple[int, int]]]


def _changes(first: dt.date, last: dt.date, timezone: str) -> Offsets:
    """[lo, hi) in epoch µs around the local days `first`…`last`, the offset at lo, and each
    instant (epoch µs) from which another offset holds, with that offset."""
    zone = ZoneInfo(timezone)
    lo = dt.datetime.combine(first - dt.timedelta(days=2), dt.time(), dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=3), dt.time(), dt.UTC)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def us(instant: dt.datetime) -> int:
        return (instant - epoch) // dt.timedelta(microseconds=1)

    grid = pl.datetime_range(lo, hi, interval="15m", eager=True, time_unit="us", time_zone="UTC")
    local = grid.dt.convert_time_zone(timezone)
    offsets = (local.dt.base_utc_offset() + local.dt.dst_offset()).dt.total_microseconds()
    moved = (offsets != offsets.shift(1)).fill_null(False).arg_true().to_list()
    changes = []
    for index in moved:  # the exact instant within the 15 minutes before the grid point
        after = lo + index * _STEP
        before, upto = us(after - _STEP), us(after)
        new = _offset_us(zone, after)
        while upto - before > 1:  # the first µs with the new offset
            middle = (before + upto) // 2
            if _offset_us(zone, epoch + dt.timedelta(microseconds=middle)) == new:
                upto = middle
            else:
                before = middle
        changes.append((upto, new))
    return us(lo), us(hi), _offset_us(zone, lo), changes


def period_key(
    ts: pl.Expr, grain: str, first: dt.date, last: dt.date, timezone: str
) -> tuple[pl.Expr, pl.Expr]:
    """The local period of each row's time `ts` (zoned, µs) as a number, and whether the
    row lies outside the range of days `first`…`last` was made for."""
    lo, hi, offset, changes = _changes(first, last, timezone)
    at = ts.dt.epoch("us")
    if changes:
        chain: Any = pl.when(at < changes[0][0]).then(pl.lit(offset, dtype=pl.Int64))
        for (_, held), (until, _) in itertools.pairwise(changes):
            chain = chain.when(at < until).then(pl.lit(held, dtype=pl.Int64))
        shift: pl.Expr = chain.otherwise(pl.lit(changes[-1][1], dtype=pl.Int64))
    else:
        shift = pl.lit(offset, dtype=pl.Int64)
    local = at + shift  # local wall-clock time, as µs since 1970-01-01 00:00
    day = local // _DAY_US
    if grain == "day":
        key = day
    elif grain == "week":
        key = (day + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Monday
    else:
        civil = local.cast(pl.Datetime("us"))
        year = civil.dt.year().cast(pl.Int64)
        month = civil.dt.month().cast(pl.Int64) - 1
        key = {"month": year * 12 + month, "quarter": year * 4 + month // 3, "year": year}[grain]
    return key, (at < lo) | (at >= hi)
