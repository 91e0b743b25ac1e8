"""Period starts looked up among the periods of the rows' known days (engine/starts.py)
instead of truncating every row: the same starts, across DST changes and odd offsets, and
a row outside the known days makes the pass run again with the truncation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tpmkit.engine import periods
from tpmkit.engine.cells import RECHECK, aggregate
from tpmkit.engine.compute import Input, Request, compute_records
from tpmkit.engine.starts import lookup, starts_between
from tpmkit.engine.window import Window
from tpmkit.spec.computes import CountCompute
from tpmkit.spec.models import MetricSpec

BERLIN = ZoneInfo("Europe/Berlin")
ZONED = pl.Datetime("us", "Europe/Berlin")


def test_week_starts_across_the_spring_change() -> None:
    # 2026-03-29 02:00 CET jumps to 03:00 CEST: the week of 2026-03-23 is 167 hours long
    edges = starts_between(dt.date(2026, 3, 25), dt.date(2026, 4, 2), "1w", "Europe/Berlin", ZONED)
    got = [e for e in edges.to_list() if dt.date(2026, 3, 16) < e.date() < dt.date(2026, 4, 13)]
    assert got == [
        dt.datetime(2026, 3, 23, tzinfo=BERLIN),
        dt.datetime(2026, 3, 30, tzinfo=BERLIN),
        dt.datetime(2026, 4, 6, tzinfo=BERLIN),  # the end of the last week
    ]
    assert got[1] - got[0] == dt.timedelta(days=7)  # wall clock; in UTC an hour less
    assert got[1].astimezone(dt.UTC) - got[0].astimezone(dt.UTC) == dt.timedelta(hours=167)
    times = pl.Series(
        [
            dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC),  # 01:59:59 CET: week of 23rd
            dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),  # 03:00 CEST: still the 23rd's
            dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),  # Mon 30th 00:00 CEST
        ],
        dtype=pl.Datetime("us", "UTC"),
    ).dt.convert_time_zone("Europe/Berlin")
    start, outside = lookup(pl.col("t"), edges)
    found = pl.DataFrame({"t": times}).select(start.alias("s"), outside.alias("o"))
    assert found["s"].to_list() == [
        dt.datetime(2026, 3, 23, tzinfo=BERLIN),
        dt.datetime(2026, 3, 23, tzinfo=BERLIN),
        dt.datetime(2026, 3, 30, tzinfo=BERLIN),
    ]
    assert found["o"].to_list() == [False, False, False]


def test_the_repeated_autumn_hour_is_two_periods() -> None:
    # 2026-10-25 03:00 CEST falls back to 02:00 CET: two hours labelled 02
    edges = starts_between(
        dt.date(2026, 10, 25), dt.date(2026, 10, 25), "1h", "Europe/Berlin", ZONED
    )
    times = pl.Series(
        [
            dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),  # 02:30 CEST
            dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),  # 02:30 CET
        ],
        dtype=pl.Datetime("us", "UTC"),
    ).dt.convert_time_zone("Europe/Berlin")
    start, _ = lookup(pl.col("t"), edges)
    found = pl.DataFrame({"t": times}).select(start.dt.convert_time_zone("UTC")).to_series()
    assert found.to_list() == [
        dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC),
    ]


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC"]
)
@pytest.mark.parametrize("grain", ["hour", "day", "week", "month", "quarter", "year"])
def test_lookup_equals_truncation_every_seven_minutes_for_two_years(zone: str, grain: str) -> None:
    first, last = dt.date(2025, 1, 1), dt.date(2026, 12, 31)
    dtype = pl.Datetime("us", zone)
    times = pl.datetime_range(
        dt.datetime(2025, 1, 1, tzinfo=ZoneInfo(zone)),
        dt.datetime(2027, 1, 1, tzinfo=ZoneInfo(zone)),
        interval="7m",
        closed="left",
        eager=True,
        time_zone=zone,
    )
    edges = starts_between(first, last, periods.every(grain), zone, dtype)
    start, outside = lookup(pl.col("t"), edges)
    got = pl.DataFrame({"t": times}).select(
        start.alias("s"), outside.alias("o"), periods.period_start(pl.col("t"), grain).alias("r")
    )
    assert not got["o"].any()
    assert got["s"].equals(got["r"])


def _count(metric_id: str = "offered") -> MetricSpec:
    return MetricSpec.model_validate(
        {
            "id": metric_id,
            "name": "Offered",
            "unit": "count",
            "dataset": "calls",
            "compute": CountCompute(kind="count"),
        }
    )


def _calls() -> pl.DataFrame:
    stamps = [
        dt.datetime(2026, 3, 27, 12, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 30, 12, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC),
    ]
    return pl.DataFrame(
        {"contact_id": ["a", "b", "c"], "offered_at": stamps},
        schema={"contact_id": pl.String, "offered_at": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("offered_at").dt.convert_time_zone("Europe/Berlin"))


def test_a_row_outside_the_known_days_asks_for_the_pass_again() -> None:
    frame = _calls().lazy()
    args = (frame, [_count()], "offered_at", "week", [], "Europe/Berlin", Window(), {})
    right = aggregate(*args, days=(dt.date(2026, 3, 27), dt.date(2026, 3, 31))).collect()
    assert not right[RECHECK].any()
    assert sorted(right["value"].to_list()) == [1.0, 2.0]  # W13: Fri; W14: Mon, Tue
    # days a week before the Monday and Tuesday (the lookup's starts reach three days
    # past the last day, to 2026-03-23 + 7): their starts cannot be trusted, their cell says so
    short = aggregate(*args, days=(dt.date(2026, 3, 20), dt.date(2026, 3, 20))).collect()
    recheck = dict(zip(short["value"].to_list(), short[RECHECK].to_list(), strict=True))
    assert recheck == {1.0: False, 2.0: True}
    # without days (or exact) the rows are truncated and nothing asks for a second pass
    assert RECHECK not in aggregate(*args).collect().columns


def test_records_are_right_when_the_known_days_are_wrong() -> None:
    frame = _calls().lazy()
    request = Request("week")
    truth = compute_records(
        [_count()], {"calls": Input(frame, "offered_at")}, request, "Europe/Berlin"
    )
    wrong = Input(frame, "offered_at", (dt.date(2026, 3, 20), dt.date(2026, 3, 20)))
    got = compute_records([_count()], {"calls": wrong}, request, "Europe/Berlin")
    assert got.equals(truth)
    assert {r["period"]: r["value"] for r in got.to_dicts()} == {"2026-W13": 1.0, "2026-W14": 2.0}
