"""Freshness and completeness: is each source's export recent and whole enough to judge?

`stale` and `incomplete` are statuses of a *source*, not of records. A source is stale when
its latest timestamp is older than its `freshness.max_age` at the run time. It is
incomplete when a day of the judged period holds fewer rows than `min_share` (default 0.6)
× the median of the same weekday over the previous 8 weeks (a day with no rows in the data
range counts 0). A day is not checked — and the source says why in a note — when its
trailing median is under 20 rows, when fewer than 4 of those 8 weeks lie in the data, or
when a `holiday` annotation for everyone covers it; a source without a time column is not checked at
all. Days after the run time are not judged yet. A judged period without a single row of
a source that usually has rows then (`judge/missing.py`) is incomplete too: "no rows in
2026-W48 — did the export run?". Both statuses fail `check` (exit 1).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.errors import UsageError
from tpmkit.judge import calendar
from tpmkit.judge.calendar import Period
from tpmkit.judge.missing import MIN_USUAL, days_of, usual_rows
from tpmkit.records import DatasetSummary, Evaluation
from tpmkit.spec.models import Source
from tpmkit.spec.sourcechecks import Completeness, age_text, completeness_of

TRAILING_WEEKS = 8  # the same weekday of this many earlier weeks makes the baseline
MIN_WEEKS = 4  # fewer earlier weeks in the data: the day is not checked
MIN_MEDIAN = 20  # a trailing median under this many rows is too thin to judge a day by

OK, STALE, INCOMPLETE, SKIPPED = "ok", "stale", "incomplete", "skipped"


@dataclass
class DayCount:
    """One day of the judged period against the trailing median of its weekday."""

    day: dt.date
    rows: int
    median: float
    weeks: int  # earlier weeks the median is taken over

    @property
    def share(self) -> float:
        return self.rows / self.median

    def text(self) -> str:
        """`2026-11-21 Sat: 40 rows vs median 420 (10%)`."""
        median = f"{self.median:g}"
        return (
            f"{self.day.isoformat()} {self.day:%a}: {self.rows} rows vs median {median} "
            f"({self.share:.0%})"
        )


@dataclass
class SourceStatus:
    """How one source's export stands at the run time (see the module docstring)."""

    name: str
    time_column: str | None
    latest: dt.datetime | None  # local time; a date column's day counts through its end
    age: dt.timedelta | None  # run time minus latest
    max_age: dt.timedelta | None  # freshness.max_age, None when not set
    min_share: float | None  # completeness.min_share, None when off
    days: list[DayCount] = field(default_factory=list)  # the days checked
    incomplete: list[DayCount] = field(default_factory=list)  # the checked days below
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    empty: str | None = None  # the judged period, when it has no row of a usually busy source
    usual: float | None = None  # the source's median rows per period before it
    grain: str = "week"  # of the judged period

    @property
    def stale(self) -> bool:
        return (
            self.max_age is not None
            and self.age is not None
            and (self.age > self.max_age or self.latest is None)
        )

    @property
    def status(self) -> str:
        """stale, incomplete, ok (something was checked and passed) or skipped."""
        if self.stale:
            return STALE
        if self.incomplete or self.empty:
            return INCOMPLETE
        return OK if self.days or self.max_age is not None else SKIPPED

    @property
    def failed(self) -> bool:
        return self.status in (STALE, INCOMPLETE)

    def message(self) -> str:
        """One line naming the source and what is wrong (or that it is fine)."""
        parts = []
        if self.max_age is not None:
            if self.latest is None:
                parts.append(f"stale: no timestamp in `{self.time_column}` (max_age {_max(self)})")
            else:
                word = "stale" if self.stale else "fresh"
                parts.append(
                    f"{word}: latest timestamp {_stamp(self.latest)} is {duration_text(self.age)}"
                    f" old (max_age {_max(self)})"
                )
        if self.empty:
            parts.append(
                f"incomplete: no rows in {self.empty} — did the export run? (usually "
                f"{self.usual:g} rows a {self.grain})"
            )
        elif self.incomplete:
            days = "; ".join(d.text() for d in self.incomplete)
            parts.append(
                f"incomplete: {days} — below {self.min_share:g} × the median of the same "
                f"weekday over the previous {TRAILING_WEEKS} weeks"
            )
        elif self.days:
            parts.append(f"complete: {len(self.days)} day(s) checked")
        if not parts:
            parts.append("not checked")
        return f"source {self.name}: " + ", ".join(parts)


def _max(status: SourceStatus) -> str:
    return age_text(status.max_age) if status.max_age is not None else ""


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def duration_text(age: dt.timedelta | None) -> str:
    """`5d 8h 19m`: an age in days, hours and minutes (the zero parts left out)."""
    if age is None:
        return ""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes or not parts else []
    return " ".join(parts)


def trailing(daily: Mapping[dt.date, int], day: dt.date, first: dt.date) -> list[int]:
    """The rows of the same weekday in each of the previous 8 weeks that lie in the data
    (from its first day on), a week without rows counting 0."""
    earlier = [day - dt.timedelta(weeks=k) for k in range(1, TRAILING_WEEKS + 1)]
    return [daily.get(d, 0) for d in earlier if d >= first]


def check_days(
    daily: Mapping[dt.date, int],
    days: Iterable[dt.date],
    min_share: float,
    holidays: Iterable[dt.date] = (),
    scoped: Mapping[dt.date, str] | None = None,
) -> tuple[list[DayCount], list[DayCount], list[str]]:
    """The days checked, those below min_share × their trailing median, and notes on the
    days not checked (grouped by why). `holidays` are exempt; `scoped` holidays (of one
    site or metric: day -> what for) are checked, with a note saying why."""
    exempt = set(holidays)
    partial = scoped or {}
    if not daily:
        return [], [], ["no rows with a timestamp: completeness not checked"]
    first = min(daily)
    checked: list[DayCount] = []
    skipped: dict[str, list[dt.date]] = {}
    for day in days:
        earlier = trailing(daily, day, first)
        if day in exempt:
            skipped.setdefault("a holiday annotation", []).append(day)
        elif len(earlier) < MIN_WEEKS:
            why = f"fewer than {MIN_WEEKS} earlier weeks of data"
            skipped.setdefault(why, []).append(day)
        elif (median := statistics.median(earlier)) < MIN_MEDIAN:
            why = f"the trailing median is under {MIN_MEDIAN} rows"
            skipped.setdefault(why, []).append(day)
        else:
            checked.append(DayCount(day, daily.get(day, 0), float(median), len(earlier)))
    below = [d for d in checked if d.rows < min_share * d.median]
    notes = [
        f"{_days_text(listed)} not checked for completeness: {why}"
        for why, listed in skipped.items()
    ]
    notes += [
        f"{d.day.isoformat()} checked for completeness although a holiday annotation covers "
        f"it: the holiday is for {partial[d.day]} only, not the whole source"
        for d in checked
        if d.day in partial
    ]
    return checked, below, notes


def _days_text(days: list[dt.date]) -> str:
    if len(days) == 1:
        return days[0].isoformat()
    return f"{len(days)} days ({days[0].isoformat()} to {days[-1].isoformat()})"


def judged_period(evaluation: Evaluation, label: str) -> Period | None:
    """The period labelled `label`: its bounds from the records, else from the calendar (a
    period the data do not reach, judged because the run time says it is complete)."""
    zone = ZoneInfo(evaluation.timezone)
    rows = (
        evaluation.records.filter(pl.col("period") == label)
        .select("period_start", "period_end")
        .drop_nulls()
        .unique()
    )
    if rows.is_empty():
        return calendar.period_of(label, evaluation.grain, evaluation.timezone)
    start, end = rows.row(0)
    return Period(label, start.astimezone(zone), end.astimezone(zone))


def period_days(period: Period | None, now: dt.datetime) -> list[dt.date]:
    """The local days of `period` that have ended by `now`."""
    if period is None:
        return []
    today = now.astimezone(period.start.tzinfo).date()
    return [day for day in days_of(period) if day < today]


def source_status(
    dataset: DatasetSummary,
    source: Source | None,
    days: list[dt.date],
    now: dt.datetime,
    zone: ZoneInfo,
    holidays: Iterable[dt.date] = (),
    scoped: Mapping[dt.date, str] | None = None,
    period: Period | None = None,
    grain: str = "week",
) -> SourceStatus:
    """One source's freshness (when set) and completeness (unless off) at the run time;
    `period` is the judged one (a period without rows of a usually busy source fails)."""
    freshness = source.freshness if source else None
    rule: Completeness | None = completeness_of(source.completeness if source else True)
    latest = _as_moment(dataset.latest, zone)
    status = SourceStatus(
        dataset.name,
        dataset.time_column,
        latest,
        now - latest if latest is not None else None,
        freshness.max_age if freshness else None,
        rule.min_share if rule else None,
    )
    if freshness is not None and latest is None:
        status.age = dt.timedelta.max  # nothing dated at all: as stale as can be
    if rule is None:
        return status
    if dataset.time_column is None:
        status.notes.append("no time column: completeness not checked")
        return status
    if not days:
        status.notes.append("no judged days: completeness not checked")
        return status
    status.days, status.incomplete, status.notes = check_days(
        dataset.daily, days, rule.min_share, holidays, scoped
    )
    if period is not None and not any(dataset.daily.get(day, 0) for day in days):
        _no_rows(status, dataset, period, grain, zone)
    return status


def _no_rows(
    status: SourceStatus, dataset: DatasetSummary, period: Period, grain: str, zone: ZoneInfo
) -> None:
    """A judged period without a row: a missing export when the source usually has rows
    then (`judge/missing.py`), else a note saying why it is not judged missing."""
    usual = usual_rows(dataset.daily, period, grain, str(zone))
    if usual is not None and usual.expected:
        status.empty, status.usual, status.grain = period.label, usual.median, grain
        return
    if usual is None:
        why = f"no earlier {grain} in its data" if dataset.daily else "no rows at all"
    else:
        why = (
            f"its {usual.periods} {grain}(s) before held a median of {usual.median:g} rows, "
            f"under {MIN_USUAL}"
        )
    status.notes.append(f"no rows in {period.label}; not judged a missing export: {why}")


def _as_moment(value: dt.datetime | dt.date | None, zone: ZoneInfo) -> dt.datetime | None:
    """A latest value as a local time; a date counts through its end (the next midnight)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), zone)


def judge_sources(
    evaluation: Evaluation,
    sources: Mapping[str, Source],
    label: str,
    now: dt.datetime,
    holidays: Iterable[dt.date] = (),
    scoped: Mapping[dt.date, str] | None = None,
) -> list[SourceStatus]:
    """Every dataset the evaluation read, judged on the days of the period `label`
    (`holidays` exempt; `scoped`: days only a group's or metric's holiday covers)."""
    zone = ZoneInfo(evaluation.timezone)
    moment = now if now.tzinfo else now.replace(tzinfo=zone)
    period = judged_period(evaluation, label) if evaluation.grain != "all" else None
    days = period_days(period, moment)
    exempt = set(holidays)
    return [
        source_status(
            d, sources.get(d.name), days, moment, zone, exempt, scoped, period, evaluation.grain
        )
        for d in sorted(evaluation.datasets, key=lambda d: d.name)
    ]


def run_time(text: str | None, timezone: str) -> dt.datetime | None:
    """`--now`: an ISO date or date and time (local to the project unless it names an
    offset); a date alone means its local midnight. None: the wall clock."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"now {text}: not a date or time; write e.g. 2026-11-23 or 2026-11-23T08:00"
        ) from None
    zone = ZoneInfo(timezone)
    return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)


def skipped_note(statuses: Iterable[SourceStatus]) -> str | None:
    """One note naming the timed sources whose completeness no day could be checked for (a
    lookup without a time column, such as the roster, is not an export of events: its note
    is in the JSON output only)."""
    names = [
        s.name
        for s in statuses
        if s.min_share is not None and s.time_column is not None and not s.days
    ]
    if not names:
        return None
    return (
        f"completeness not checked for {', '.join(names)} "
        "(too few rows a day or too few earlier weeks; see --format json)"
    )
