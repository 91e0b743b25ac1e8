"""Period labels and bounds: ISO weeks, DST days, time-zone cutting, --from/--to and --last."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conftest import by_key, evaluate_records

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC

PROJECT = """
name: Periods
timezone: {tz}
metrics: [metrics/]
sources:
  calls: {{path: calls.csv}}
"""

METRICS = {
    "offered": """
        id: offered
        name: Offered
        unit: count
        dataset: calls
        compute: {kind: count}
    """,
}


def calls(*stamps: str) -> str:
    """A calls export with one answered contact per timestamp (as written in the export)."""
    rows = [f"c{i},{stamp},true,5" for i, stamp in enumerate(stamps)]
    return "contact_id,offered_at,answered,wait_seconds\n" + "\n".join(rows) + "\n"


def run(make, stamps, tz="UTC", **options):
    path = make.project(PROJECT.format(tz=tz), metrics=METRICS, files={"calls.csv": calls(*stamps)})
    return evaluate_records(path, **options)


def length(record):
    """Real elapsed time of a period (python subtracts same-zone datetimes as wall clock)."""
    return record["period_end"].astimezone(UTC) - record["period_start"].astimezone(UTC)


def counts(records):
    return {r["period"]: r["value"] for r in records}


def test_iso_week_53_at_year_start(make):
    records = run(make, ["2020-12-31 12:00:00", "2021-01-03 12:00:00", "2021-01-04 12:00:00"])
    # 2020 has 53 ISO weeks: Thu 2020-12-31 and Sun 2021-01-03 are in 2020-W53,
    # Mon 2021-01-04 starts 2021-W01 (not 2021-W53 nor 2020-W01)
    assert counts(records) == {"2020-W53": 2.0, "2021-W01": 1.0}
    week53 = by_key(records)[("offered", "2020-W53")]
    assert week53["period_start"] == dt.datetime(2020, 12, 28, tzinfo=UTC)  # the Monday
    assert week53["period_end"] == dt.datetime(2021, 1, 4, tzinfo=UTC)


def test_week_across_year_change(make):
    # Thu 2026-12-31 and Fri 2027-01-01 are both in 2026-W53 (ISO year 2026)
    records = run(make, ["2026-12-31 08:00:00", "2027-01-01 08:00:00"])
    assert counts(records) == {"2026-W53": 2.0}
    assert records[0]["period_start"] == dt.datetime(2026, 12, 28, tzinfo=UTC)
    # in Berlin, 2026-12-31T23:30Z is already 2027-01-01 (still 2026-W53) and
    # 2027-01-03T23:30Z is Monday 2027-01-04 00:30 (2027-W01)
    stamps = ["2026-12-31T23:30:00Z", "2027-01-03T23:30:00Z"]
    weeks = counts(run(make, stamps, tz="Europe/Berlin"))
    assert weeks == {"2026-W53": 1.0, "2027-W01": 1.0}


@pytest.mark.parametrize(
    ("grain", "label", "start", "end"),
    [
        ("hour", "2026-01-05T14", dt.datetime(2026, 1, 5, 14), dt.datetime(2026, 1, 5, 15)),
        ("day", "2026-01-05", dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 6)),
        ("week", "2026-W02", dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 12)),
        ("month", "2026-01", dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)),
        ("quarter", "2026-Q1", dt.datetime(2026, 1, 1), dt.datetime(2026, 4, 1)),
        ("year", "2026", dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1)),
        # `all`: from the first day touched to the end of the last day touched
        ("all", "all", dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 6)),
    ],
)
def test_labels_and_bounds(make, grain, label, start, end):
    (record,) = run(make, ["2026-01-05 14:30:00"], period=grain)
    assert record["period"] == label
    assert record["period_start"] == start.replace(tzinfo=UTC)
    assert record["period_end"] == end.replace(tzinfo=UTC)
    assert record["value"] == 1.0


def test_quarter_and_month_labels_later_in_year(make):
    records = run(make, ["2026-05-10 12:00:00", "2026-11-30 12:00:00"], period="quarter")
    assert counts(records) == {"2026-Q2": 1.0, "2026-Q4": 1.0}
    q4 = by_key(records)[("offered", "2026-Q4")]
    assert q4["period_start"] == dt.datetime(2026, 10, 1, tzinfo=UTC)
    assert q4["period_end"] == dt.datetime(2027, 1, 1, tzinfo=UTC)
    months = run(make, ["2026-05-10 12:00:00", "2026-11-30 12:00:00"], period="month")
    assert counts(months) == {"2026-05": 1.0, "2026-11": 1.0}


def test_dst_spring_day_is_23_hours(make):
    # 2026-03-29: Berlin clocks jump 02:00 -> 03:00; 03:30 local exists (CEST) and is that day
    stamps = ["2026-03-28 23:30:00", "2026-03-29 03:30:00", "2026-03-30 00:30:00"]
    records = run(make, stamps, tz="Europe/Berlin", period="day")
    assert counts(records) == {"2026-03-28": 1.0, "2026-03-29": 1.0, "2026-03-30": 1.0}
    day = by_key(records)[("offered", "2026-03-29")]
    start, end = day["period_start"], day["period_end"]
    assert start == dt.datetime(2026, 3, 29, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert end == dt.datetime(2026, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert start.utcoffset() == dt.timedelta(hours=1)
    assert end.utcoffset() == dt.timedelta(hours=2)
    assert length(day) == dt.timedelta(hours=23)


def test_dst_autumn_day_is_25_hours(make):
    # 2026-10-25: Berlin clocks go back 03:00 -> 02:00; 23:30 local is still that day
    stamps = ["2026-10-25 00:30:00", "2026-10-25 23:30:00"]
    records = run(make, stamps, tz="Europe/Berlin", period="day")
    assert counts(records) == {"2026-10-25": 2.0}
    start, end = records[0]["period_start"], records[0]["period_end"]
    assert start == dt.datetime(2026, 10, 25, tzinfo=BERLIN)
    assert end == dt.datetime(2026, 10, 26, tzinfo=BERLIN)
    assert length(records[0]) == dt.timedelta(hours=25)


def test_dst_week_and_month_bounds_are_local_midnights(make):
    # the week of the spring change starts Mon 2026-03-23 00:00+01:00 and ends
    # Mon 2026-03-30 00:00+02:00 (167 h); March ends at 2026-04-01 00:00+02:00
    records = run(make, ["2026-03-29 12:00:00"], tz="Europe/Berlin")
    (week,) = records
    assert week["period"] == "2026-W13"
    assert week["period_start"] == dt.datetime(2026, 3, 23, tzinfo=BERLIN)
    assert week["period_end"] == dt.datetime(2026, 3, 30, tzinfo=BERLIN)
    assert length(week) == dt.timedelta(hours=167)
    (month,) = run(make, ["2026-03-29 12:00:00"], tz="Europe/Berlin", period="month")
    assert month["period_end"] == dt.datetime(2026, 4, 1, tzinfo=BERLIN)


def test_timestamps_with_offset_are_cut_in_project_zone(make):
    # 23:30 UTC on Mon 2026-01-05 is 00:30 on Tue 2026-01-06 in Berlin;
    # 23:30 UTC on Sun 2026-01-04 is Monday in Berlin, so week 2026-W02 (not W01)
    stamps = ["2026-01-05T23:30:00Z", "2026-01-04 23:30:00+00:00", "2026-01-05 10:00:00"]
    days = counts(run(make, stamps, tz="Europe/Berlin", period="day"))
    assert days == {"2026-01-05": 2.0, "2026-01-06": 1.0}
    weeks = counts(run(make, stamps, tz="Europe/Berlin", period="week"))
    assert weeks == {"2026-W02": 3.0}
    # the same export in a UTC project: Sunday's row is in W01
    assert counts(run(make, stamps, tz="UTC", period="week")) == {"2026-W01": 1.0, "2026-W02": 2.0}


def test_from_to_edges_are_inclusive_local_days(make):
    stamps = [
        "2026-01-04 23:59:59",  # local, day before --from: out
        "2026-01-05 00:00:00",  # first instant of --from: in
        "2026-01-10 23:59:59",  # last second of --to: in
        "2026-01-11 00:00:00",  # first instant after --to: out
        "2026-01-04T23:30:00Z",  # 2026-01-05 00:30 Berlin: in
        "2026-01-10T23:30:00Z",  # 2026-01-11 00:30 Berlin: out
    ]
    window = {"start": dt.date(2026, 1, 5), "end": dt.date(2026, 1, 10)}
    (record,) = run(make, stamps, tz="Europe/Berlin", period="all", **window)
    assert record["value"] == 3.0
    # `all` covers exactly the selected local range
    assert record["period_start"] == dt.datetime(2026, 1, 5, tzinfo=BERLIN)
    assert record["period_end"] == dt.datetime(2026, 1, 11, tzinfo=BERLIN)
    days = counts(run(make, stamps, tz="Europe/Berlin", period="day", **window))
    assert days == {"2026-01-05": 2.0, "2026-01-10": 1.0}


def test_from_only_and_to_only(make):
    stamps = ["2026-01-04 12:00:00", "2026-01-05 12:00:00", "2026-01-06 12:00:00"]
    after = run(make, stamps, period="day", start=dt.date(2026, 1, 5))
    assert counts(after) == {"2026-01-05": 1.0, "2026-01-06": 1.0}
    before = run(make, stamps, period="day", end=dt.date(2026, 1, 5))
    assert counts(before) == {"2026-01-04": 1.0, "2026-01-05": 1.0}


def test_last_n_keeps_calendar_periods(make):
    # data in W02, W03 and W05 (nothing in W04)
    stamps = ["2026-01-06 10:00:00", "2026-01-13 10:00:00", "2026-01-27 10:00:00"]
    # last 3 calendar weeks of the data = W03, W04, W05: W02 is dropped, W04 has no row
    assert counts(run(make, stamps, last=3)) == {"2026-W03": 1.0, "2026-W05": 1.0}
    assert counts(run(make, stamps, last=1)) == {"2026-W05": 1.0}
    # more periods than the data has: everything
    assert len(run(make, stamps, last=10)) == 3


def test_last_n_months_in_local_time(make):
    # 2026-02-28T23:30Z is 2026-03-01 00:30 Berlin: March, so last 1 month keeps both rows
    stamps = ["2026-01-15 12:00:00", "2026-02-28T23:30:00Z", "2026-03-10 12:00:00"]
    records = run(make, stamps, tz="Europe/Berlin", period="month", last=1)
    assert counts(records) == {"2026-03": 2.0}
    records = run(make, stamps, tz="Europe/Berlin", period="month", last=2)
    assert counts(records) == {"2026-03": 2.0}  # February has no row left


def test_hours_around_autumn_change_are_distinct_hours(make):
    # 00:30Z, 01:30Z and 02:30Z on 2026-10-25 are 02:30 CEST, 02:30 CET and 03:30 CET in Berlin:
    # three different one-hour periods (the repeated 02 hour is not merged)
    stamps = ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"]
    records = run(make, stamps, tz="Europe/Berlin", period="hour")
    assert [r["value"] for r in records] == [1.0, 1.0, 1.0]
    starts = [r["period_start"].astimezone(UTC) for r in records]
    assert starts == [dt.datetime(2026, 10, 25, h, tzinfo=UTC) for h in (0, 1, 2)]
    assert all(length(r) == dt.timedelta(hours=1) for r in records)
    assert [r["period"] for r in records][-1] == "2026-10-25T03"
