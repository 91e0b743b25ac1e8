"""A time zone's UTC offsets as plain arithmetic for SQL engines: every offset change
between 1970 and 2100, found with polars (whose zone rules the reference engine uses),
and a DuckDB macro that turns an instant into its wall-clock time with them.

DuckDB's own `timezone(zone, t)` goes through ICU for each row, about half a second per
million rows — more than the rest of a pass. The macro adds the offset in force, chosen by
a balanced tree of comparisons on the instant's epoch microseconds (some eight of them for
a zone with daylight saving time), and falls back to `timezone()` outside 1970–2100.

DuckDB binds a macro anew wherever a query uses it, and binding the tree of 1970–2100 (some
260 changes for a zone with daylight saving time) costs 5–15 ms each time. Given the span
of the instants it will see (the data's, from the Parquet files' statistics), the macro
holds only the changes of the whole UTC years around that span (a handful), and falls back
to `timezone()` outside them: the same wall-clock times, bound in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from concurrent.futures import Future
from functools import lru_cache

import polars as pl

__all__ = ["Offsets", "local_macro", "local_macro_name", "macro_bounds", "offsets", "prepare"]

_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_END = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
_US = 1_000_000


class Offsets:
    """The zone's offset (µs) before the first change, and each change: the first
    instant (epoch µs) of a new offset and that offset."""

    def __init__(self, first: int, changes: list[tuple[int, int]]) -> None:
        self.first = first
        self.changes = changes

    def at(self, instant_us: int) -> int:
        """The offset in force at an instant (for tests and checks)."""
        offset = self.first
        for start, after in self.changes:
            if instant_us < start:
                break
            offset = after
        return offset


def _offset_us(instants: pl.Series, zone: str) -> pl.Series:
    """Each instant's (epoch µs) offset from UTC in `zone`, in µs, by polars' rules."""
    utc = pl.from_epoch(instants, time_unit="us").dt.replace_time_zone("UTC")
    local = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
    return (local.dt.epoch("us") - instants).alias("offset")


def offsets(zone: str) -> Offsets:
    """The offset changes of `zone` between 1970 and 2100 (computed once; by the thread
    `prepare` started, when it did)."""
    pending = _pending.get(zone)
    return pending.result() if pending is not None else _offsets(zone)


def prepare(zone: str) -> None:
    """Start finding the offset changes of `zone` on a thread of its own (~15 ms of CPU,
    mostly in polars, which lets go of Python's lock): the DuckDB engine starts it when
    its connection opens, so they are found while DuckDB checks the first dataset, and
    `offsets` waits for them at most. An error is raised by `offsets`, as without."""
    with _lock:
        if zone in _pending:
            return
        found: Future[Offsets] = Future()
        _pending[zone] = found

    def find() -> None:
        try:
            found.set_result(_offsets(zone))
        except BaseException as exc:  # raised where the offsets are asked for
            found.set_exception(exc)

    threading.Thread(target=find, name="tpmkit-zone-offsets", daemon=True).start()


_pending: dict[str, Future[Offsets]] = {}
_lock = threading.Lock()


@lru_cache(maxsize=16)
def _offsets(zone: str) -> Offsets:
    """The offset changes of `zone` between 1970 and 2100: sampled daily, each change
    then found to the microsecond by bisection (all of them at once)."""
    days = pl.datetime_range(_START, _END, "1d", time_unit="us", time_zone="UTC", eager=True)
    day_us = days.dt.epoch("us")
    daily = _offset_us(day_us, zone)
    changed = (daily != daily.shift(1)).fill_null(False).arg_true()
    if changed.is_empty():
        return Offsets(int(daily[0]), [])
    hi = day_us.gather(changed)  # the new offset holds here
    lo = day_us.gather(changed - 1)  # and the old one here
    before = daily.gather(changed - 1)
    while ((hi - lo) > 1).any():
        mid = lo + (hi - lo) // 2
        old = _offset_us(mid, zone) == before
        lo = pl.select(pl.when(old).then(mid).otherwise(lo)).to_series()
        hi = pl.select(pl.when(old).then(hi).otherwise(mid)).to_series()
    after = daily.gather(changed)
    return Offsets(int(daily[0]), list(zip(hi.to_list(), after.to_list(), strict=True)))


def local_macro_name(zone: str) -> str:
    """The DuckDB macro giving an instant's wall-clock time in `zone`."""
    return "tpmkit_local_" + hashlib.sha1(zone.encode()).hexdigest()[:12]


def local_macro(zone: str, span: tuple[int, int] | None = None) -> str:
    """`CREATE … MACRO` of `local_macro_name(zone)`: the wall-clock time (a naive
    TIMESTAMP) of the TIMESTAMPTZ argument, exactly as `timezone(zone, t)` gives it;
    `span`: the first and last instant (epoch µs) the queries will mostly see (see the
    module doc), None: 1970–2100."""
    found = offsets(zone)
    low, high = macro_bounds(span)
    changes = [(start, after) for start, after in found.changes if low < start < high]
    starts = [start for start, _ in changes]
    values = [found.at(low), *(after for _, after in changes)]

    def tree(first: int, last: int) -> str:  # offsets values[first..last]
        if first == last:
            return str(values[first])
        mid = (first + last + 1) // 2  # values[mid] starts at starts[mid - 1]
        return (
            f"CASE WHEN epoch_us(t) < {starts[mid - 1]} THEN {tree(first, mid - 1)} "
            f"ELSE {tree(mid, last)} END"
        )

    zone_text = "'" + zone.replace("'", "''") + "'"
    return (
        f"CREATE OR REPLACE TEMP MACRO {local_macro_name(zone)}(t) AS "
        f"CASE WHEN epoch_us(t) < {low} OR epoch_us(t) >= {high} "
        f"THEN timezone({zone_text}, t) "
        f"ELSE make_timestamp(epoch_us(t) + ({tree(0, len(values) - 1)})) END"
    )


def macro_bounds(span: tuple[int, int] | None) -> tuple[int, int]:
    """The instants (epoch µs, the first one included) the macro computes by itself: the
    whole UTC years around `span` widened by two days (a date's local midnight lies up to
    a day off its UTC one), within 1970–2100; None: all of 1970–2100."""
    low, high = int(_START.timestamp()) * _US, int(_END.timestamp()) * _US
    if span is None:
        return low, high
    margin = 2 * 86_400 * _US
    first = _moment(max(span[0] - margin, low)).year
    last = _moment(min(span[1] + margin, high - 1)).year
    start = dt.datetime(first, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last + 1, 1, 1, tzinfo=dt.UTC)
    return max(low, int(start.timestamp()) * _US), min(high, int(end.timestamp()) * _US)


def _moment(epoch_us: int) -> dt.datetime:
    return _START + dt.timedelta(microseconds=epoch_us)
