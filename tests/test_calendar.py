"""The calendar of periods apart from the data (judge/calendar.py), which `--now` uses for
the latest complete period: labels and bounds as the engine cuts them, DST included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tpmkit.judge.calendar import containing, earlier, latest_complete, period_of

BERLIN = ZoneInfo("Europe/Berlin")
TZ = "Europe/Berlin"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def test_the_latest_complete_week_is_the_one_before_the_run_time():
    # Tuesday 1 Dec 2026 03:00 is in W49 (30 Nov - 6 Dec): W48 (23 - 29 Nov) has ended
    found = latest_complete(at(2026, 12, 1, 3), "week", TZ)
    assert (found.label, found.start, found.end) == ("2026-W48", at(2026, 11, 23), at(2026, 11, 30))
    # exactly Monday 00:00: the week before has just ended
    assert latest_complete(at(2026, 11, 30), "week", TZ).label == "2026-W48"
    # a 7-day repeat window: on Monday 16 Nov 08:00 W46 (ended 16 Nov 00:00) has not had
    # its 7 days yet, so W45 is the latest whose window has passed
    assert latest_complete(at(2026, 11, 16, 8), "week", TZ, dt.timedelta(days=7)).label == (
        "2026-W45"
    )
    # an offset in another zone: 2026-11-29T23:30Z is Monday 00:30 in Berlin
    utc = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)
    assert latest_complete(utc, "week", TZ).label == "2026-W48"


def test_other_grains_and_the_dst_days():
    assert latest_complete(at(2026, 12, 1, 3), "month", TZ).label == "2026-11"
    assert latest_complete(at(2027, 1, 5), "quarter", TZ).label == "2026-Q4"
    assert latest_complete(at(2027, 1, 5), "year", TZ).label == "2026"
    # Sunday 25 Oct 2026 has 25 hours in Berlin
    day = latest_complete(at(2026, 10, 26, 8), "day", TZ)
    assert day.label == "2026-10-25"
    assert day.end - day.start == dt.timedelta(hours=24)  # wall clock …
    assert day.end.astimezone(dt.UTC) - day.start.astimezone(dt.UTC) == dt.timedelta(hours=25)
    # the repeated hour 02:00 is two periods, labelled with their offsets
    second = period_of("2026-10-25T02:00+01:00", "hour", TZ)
    assert second is not None
    assert earlier(second, "hour", TZ).label == "2026-10-25T02:00+02:00"


@pytest.mark.parametrize(
    ("label", "grain", "start", "end"),
    [
        ("2026-W53", "week", at(2026, 12, 28), at(2027, 1, 4)),
        ("2026-W01", "week", at(2025, 12, 29), at(2026, 1, 5)),
        ("2026-11", "month", at(2026, 11, 1), at(2026, 12, 1)),
        ("2026-Q4", "quarter", at(2026, 10, 1), at(2027, 1, 1)),
        ("2026", "year", at(2026, 1, 1), at(2027, 1, 1)),
        ("2026-11-23", "day", at(2026, 11, 23), at(2026, 11, 24)),
        ("2026-11-23T08", "hour", at(2026, 11, 23, 8), at(2026, 11, 23, 9)),
    ],
)
def test_a_label_gives_its_period(label, grain, start, end):
    found = period_of(label, grain, TZ)
    assert found is not None and (found.start, found.end) == (start, end)
    assert containing(start, grain, TZ).label == label


@pytest.mark.parametrize(
    ("label", "grain"),
    [("2026-W54", "week"), ("2026-W48", "month"), ("2026-Q5", "quarter"), ("junk", "day")],
)
def test_what_is_not_a_label_of_the_grain_is_none(label, grain):
    assert period_of(label, grain, TZ) is None


def test_a_lag_is_elapsed_time_across_dst():
    # Thu 2 Apr 2026 00:30 CEST less 10 days (240 h) is Sun 22 Mar 23:30 CET (spring DST
    # came between): day 22 Mar has not had its 10 days yet, so 21 Mar is the latest day.
    # Subtracting in wall-clock time gave 23 Mar 00:30 and judged 22 Mar (review).
    lag = dt.timedelta(days=10)
    assert latest_complete(at(2026, 4, 2, 0, 30), "day", TZ, lag).label == "2026-03-21"
    assert latest_complete(at(2026, 4, 2, 1, 30), "day", TZ, lag).label == "2026-03-22"
    # a naive run time is local to the project's zone, with the same rule
    naive = dt.datetime(2026, 4, 2, 0, 30)
    assert latest_complete(naive, "day", TZ, lag).label == "2026-03-21"


def test_the_gate_adds_a_window_in_elapsed_time():
    from tpmkit.judge.gate import _after

    # 22 Mar 00:00 CET + 240 h = 1 Apr 01:00 CEST (spring DST came between)
    end = _after(at(2026, 3, 22), dt.timedelta(days=10))
    assert end == at(2026, 4, 1, 1) and end - at(2026, 3, 22) == dt.timedelta(hours=240)
