"""A period without a single row of a source: a missing export, or a quiet source?

The judged period is the calendar's when a run time is given (`--now`), so the data need
not reach it: an export that did not run leaves the period without rows, and `check` must
fail rather than judge an older week. A source of rare events (incidents, a few a week)
may have an empty period without anything being wrong, so a period without rows fails only
when the source usually has rows in a period: the median of its rows per period over the
(up to) 8 periods before, taken inside the source's own data (from its first to its last
day, so a long-dead export still counts its healthy periods), is at least 20 rows — the
same floor as a day's completeness. Rows per period are summed from the rows per local
day, so an hourly grain is not judged here."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from tpmkit.judge.calendar import Period, containing, earlier
from tpmkit.vocabulary import Grain

BASELINE_PERIODS = 8  # the periods before the judged one that make a source's usual rows
MIN_USUAL = 20  # a source with fewer rows in a usual period may have an empty one

__all__ = ["Usual", "days_of", "usual_rows"]


@dataclass(frozen=True)
class Usual:
    """A source's rows in a usual period: the median over `periods` earlier periods."""

    median: float
    periods: int

    @property
    def expected(self) -> bool:
        """Rows are expected in every period: an empty one is a missing export."""
        return self.median >= MIN_USUAL


def days_of(period: Period) -> list[dt.date]:
    """The local days of a period."""
    first = period.start.date()
    last = (period.end - dt.timedelta(microseconds=1)).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def usual_rows(
    daily: Mapping[dt.date, int], period: Period, grain: str, timezone: str
) -> Usual | None:
    """The median rows per period of the periods before `period` inside the source's data
    (a period there without rows counts 0); None when none lies in the data, or for an
    hourly grain."""
    if not daily or grain in (Grain.HOUR, Grain.ALL):
        return None
    first, last = min(daily), max(daily)
    current = earlier(period, grain, timezone)
    if current.start.date() > last:  # skip the periods after the source's last row
        current = containing(dt.datetime.combine(last, dt.time(12)), grain, timezone)
    counts: list[int] = []
    # a few calendar periods, each summed from at most ~92 day counts: not a loop over rows
    while len(counts) < BASELINE_PERIODS and days_of(current)[-1] >= first:
        counts.append(sum(daily.get(day, 0) for day in days_of(current)))
        current = earlier(current, grain, timezone)
    if not counts:
        return None
    return Usual(float(statistics.median(counts)), len(counts))
