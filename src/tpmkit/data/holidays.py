"""The hook between annotations and completeness: the local days an unscoped `holiday`
annotation covers are exempt from the completeness check (a bank holiday's few rows are not
a truncated export).

Only a holiday for everyone exempts a source's day: one with an empty `metric` and an empty
`group`. A holiday of one site (`group: site`, `value: Berlin`) or of one metric leaves the
other sites' or metrics' rows expected, so the source's day is still checked (and the
check says so in a note). The annotations are read as everywhere else (`tpmkit.annotations`:
validated, located errors), so a day means the same here as on charts: a date-only `to`
includes its day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tpmkit.annotations.model import INSTANT, Annotation
from tpmkit.spec.loader import Definitions

HOLIDAY = "holiday"

__all__ = ["Holidays", "covered_days", "holiday_days"]


@dataclass
class Holidays:
    """The days exempt from completeness, and the days only a scoped holiday covers."""

    days: set[dt.date] = field(default_factory=set)
    # day -> what the scoped holiday is for (`site Berlin`, `metric aht`): checked anyway
    scoped: dict[dt.date, str] = field(default_factory=dict)


def holiday_days(project: Definitions) -> Holidays:
    """The holidays of the project's annotations (none without annotations)."""
    from tpmkit.annotations import read

    return covered_days(read(project), project.spec.timezone)


def covered_days(notes: Iterable[Annotation], timezone: str) -> Holidays:
    """The local days each `holiday` note covers, from the day of its start to the day of
    its end (a timestamp end at exactly local midnight does not reach into that day), split
    into the unscoped ones (exempt) and those of one group or metric (not exempt)."""
    found = Holidays()
    zone = ZoneInfo(timezone)
    for note in notes:  # a hand-kept notes file: a few rows, not data
        if note.kind != HOLIDAY:
            continue
        days = _days(note, timezone, zone)
        scope = _scope(note)
        if scope is None:
            found.days |= days
            continue
        for day in days:
            before = found.scoped.get(day)
            found.scoped[day] = scope if before in (None, scope) else f"{before}; {scope}"
    return found


def _scope(note: Annotation) -> str | None:
    """What a note is limited to (`site Berlin`, `metric aht`), None for everyone."""
    parts = [f"metric {note.metric}"] if note.metric else []
    parts += [f"{note.group} {note.value}"] if note.group else []
    return ", ".join(parts) or None


def _days(note: Annotation, timezone: str, zone: ZoneInfo) -> set[dt.date]:
    start, end = note.bounds(timezone)
    last = end - INSTANT  # the last instant the note covers
    at_midnight = last.astimezone(zone).time() == dt.time()
    if isinstance(note.to, dt.datetime) and last > start and at_midnight:
        last -= INSTANT  # ends at local midnight: that day is not touched
    first_day, last_day = start.astimezone(zone).date(), last.astimezone(zone).date()
    return {first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1)}
