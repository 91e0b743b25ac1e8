"""The calendar of periods, apart from the data: the period a moment falls in, the latest
complete period at a run time, and the bounds of a period by its label — also of one the
data do not reach, which is what a missing export looks like.

Periods are cut exactly as the engine cuts them (`engine.periods`: local time, ISO weeks
from Monday, 23- and 25-hour DST days), so a calendar label is the label a record of
that period carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.engine import periods
from tpmkit.vocabulary import Grain

INSTANT = dt.timedelta(microseconds=1)

__all__ = ["Period", "containing", "earlier", "latest_complete", "period_of"]


@dataclass(frozen=True)
class Period:
    """One period of a grain: its label and its local [start, end)."""

    label: str
    start: dt.datetime
    end: dt.datetime


def containing(moment: dt.datetime, grain: str, timezone: str) -> Period:
    """The period of `grain` that `moment` falls in (naive: local to `timezone`)."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
    utc = local.astimezone(dt.UTC).replace(tzinfo=None)
    at = pl.lit(utc, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    start = periods.period_start(at.dt.convert_time_zone(timezone), grain)
    row = pl.select(
        start.alias("start"),
        periods.period_end(start, grain).alias("end"),
        periods.label(start, grain).alias("label"),
    ).row(0, named=True)
    return Period(str(row["label"]), row["start"].astimezone(zone), row["end"].astimezone(zone))


def earlier(period: Period, grain: str, timezone: str) -> Period:
    """The period just before `period` (the instant before its start, counted in UTC: the
    hour before a repeated DST hour is the first of the two)."""
    return containing(period.start.astimezone(dt.UTC) - INSTANT, grain, timezone)


def latest_complete(
    moment: dt.datetime, grain: str, timezone: str, lag: dt.timedelta = dt.timedelta(0)
) -> Period:
    """The last period that has ended, and whose `lag` (a repeat-contact window) has passed,
    by `moment`: the one before the period `moment - lag` falls in (`lag` is elapsed time,
    taken in UTC: a zoned datetime would subtract wall-clock time across a DST change)."""
    local = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
    since = local.astimezone(dt.UTC) - lag
    return earlier(containing(since, grain, timezone), grain, timezone)


def period_of(label: str, grain: str, timezone: str) -> Period | None:
    """The period labelled `label` (`2026-W48`, `2026-11`, `2026-Q4`, `2026`, `2026-11-23`,
    `2026-11-23T08`), None when `label` is not a label of `grain`."""
    try:
        start = _start(label.strip(), grain)
    except ValueError:
        return None
    if start is None:
        return None
    found = containing(start, grain, timezone)
    return found if found.label == label else None


def _start(label: str, grain: str) -> dt.datetime | None:
    """A moment inside the period labelled `label` (ValueError: not such a label)."""
    if grain == Grain.WEEK:
        year, _, week = label.partition("-W")
        day = dt.date.fromisocalendar(int(year), int(week), 1)
        return dt.datetime.combine(day, dt.time(12))  # noon: never a skipped DST hour
    if grain == Grain.MONTH:
        return dt.datetime.strptime(label, "%Y-%m").replace(day=15)
    if grain == Grain.QUARTER:
        year, _, quarter = label.partition("-Q")
        if quarter not in ("1", "2", "3", "4"):
            raise ValueError(label)
        return dt.datetime(int(year), 3 * int(quarter) - 1, 15)
    if grain == Grain.YEAR:
        return dt.datetime(int(label), 7, 1)
    if grain == Grain.DAY:
        return dt.datetime.combine(dt.date.fromisoformat(label), dt.time(12))
    if grain == Grain.HOUR:
        text = label if ":" in label else f"{label}:00"
        return dt.datetime.fromisoformat(text) + dt.timedelta(minutes=30)
    return None
