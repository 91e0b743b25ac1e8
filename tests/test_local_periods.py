"""Rows grouped by their local period computed by arithmetic (engine/local_periods.py)
instead of truncating every zoned time: the same periods across DST changes, half-hour
offsets and an offset change at an odd instant; a row outside the known days makes the
pass run again with the truncation, and a pass keeps streaming."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tpmkit.engine import periods
from tpmkit.engine.cells import RECHECK, aggregate
from tpmkit.engine.compute import Input, Request, compute_records
from tpmkit.engine.local_periods import period_key
from tpmkit.engine.window import Window
from tpmkit.spec.models import MetricSpec

UTC = dt.UTC


def _same_periods(times: pl.Series, zone: str, grain: str, first: dt.date, last: dt.date) -> None:
    """Rows share a key exactly when they share a truncated start, and none is outside."""
    key, outside = period_key(pl.col("t"), grain, first, last, zone)
    got = pl.DataFrame({"t": times}).select(
        key.alias("k"), outside.alias("o"), periods.period_start(pl.col("t"), grain).alias("s")
    )
    assert not got["o"].any()
    pairs = got.select("k", "s").unique()
    assert pairs["k"].n_unique() == pairs.height == pairs["s"].n_unique()


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_the_periods_of_truncation_every_seven_minutes_for_two_years(zone: str, grain: str) -> None:
    times = pl.datetime_range(
        dt.datetime(2025, 1, 1, tzinfo=ZoneInfo(zone)),
        dt.datetime(2027, 1, 1, tzinfo=ZoneInfo(zone)),
        interval="7m",
        closed="left",
        eager=True,
        time_zone=zone,
    )
    _same_periods(times, zone, grain, dt.date(2025, 1, 1), dt.date(2026, 12, 31))


def test_an_offset_change_at_an_odd_instant() -> None:
    # Monrovia moved from UTC-0:44:30 to UTC at 1972-01-07 00:44:30 UTC (local midnight
    # became 00:44:30): 00:44:29 UTC is 23:59:59 of the 6th, 00:44:30 UTC 00:44:30 of the 7th
    zone = "Africa/Monrovia"
    stamps = [
        dt.datetime(1972, 1, 7, 0, 44, 29, tzinfo=UTC),
        dt.datetime(1972, 1, 7, 0, 44, 30, tzinfo=UTC),
        dt.datetime(1972, 1, 6, 0, 44, 30, tzinfo=UTC),  # 00:00 on the 6th
        dt.datetime(1972, 1, 6, 0, 44, 29, tzinfo=UTC),  # 23:59:59 on the 5th
    ]
    times = pl.Series(stamps, dtype=pl.Datetime("us", "UTC")).dt.convert_time_zone(zone)
    key, _ = period_key(pl.col("t"), "day", dt.date(1972, 1, 5), dt.date(1972, 1, 7), zone)
    days = pl.DataFrame({"t": times}).select(key).to_series().to_list()
    assert days[0] == days[2] == days[1] - 1 == days[3] + 1
    # (truncating to the day fails here: midnight of the 7th never happened in Monrovia)
    _same_periods(times, zone, "week", dt.date(1972, 1, 5), dt.date(1972, 1, 7))


def _count() -> MetricSpec:
    return MetricSpec.model_validate(
        {
            "id": "offered",
            "name": "Offered",
            "unit": "count",
            "dataset": "calls",
            "compute": {"kind": "count"},
        }
    )


def _calls() -> pl.DataFrame:
    stamps = [
        dt.datetime(2026, 3, 27, 12, tzinfo=UTC),  # Fri, W13
        dt.datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # Mon 30th 00:30 CEST, W14
        dt.datetime(2026, 3, 31, 12, tzinfo=UTC),  # Tue, W14
    ]
    return pl.DataFrame(
        {"contact_id": ["a", "b", "c"], "offered_at": stamps},
        schema={"contact_id": pl.String, "offered_at": pl.Datetime("us", "UTC")},
    ).with_columns(pl.col("offered_at").dt.convert_time_zone("Europe/Berlin"))


def test_a_row_outside_the_known_days_asks_for_the_pass_again() -> None:
    args = (_calls().lazy(), [_count()], "offered_at", "week", [], "Europe/Berlin", Window(), {})
    right = aggregate(*args, days=(dt.date(2026, 3, 27), dt.date(2026, 3, 31))).collect()
    assert not right[RECHECK].any()
    starts = dict(zip(right["period_start"].to_list(), right["value"].to_list(), strict=True))
    berlin = ZoneInfo("Europe/Berlin")
    assert starts == {
        dt.datetime(2026, 3, 23, tzinfo=berlin): 1.0,
        dt.datetime(2026, 3, 30, tzinfo=berlin): 2.0,
    }
    # known days ending on Wednesday the 25th: the offsets are known up to the 28th 00:00
    # UTC, before the change to summer time; Monday 00:30 CEST is taken for Sunday 23:30
    # and lands in the Friday's week: both cells hold a row outside and say so
    short = aggregate(*args, days=(dt.date(2026, 3, 25), dt.date(2026, 3, 25))).collect()
    recheck = dict(zip(short["value"].to_list(), short[RECHECK].to_list(), strict=True))
    assert recheck == {2.0: True, 1.0: True}
    assert RECHECK not in aggregate(*args).collect().columns  # no days: truncated


def test_records_are_right_when_the_known_days_are_wrong() -> None:
    frame = _calls().lazy()
    request = Request("week")
    truth = compute_records(
        [_count()], {"calls": Input(frame, "offered_at")}, request, "Europe/Berlin"
    )
    wrong = Input(frame, "offered_at", (dt.date(2026, 3, 25), dt.date(2026, 3, 25)))
    got = compute_records([_count()], {"calls": wrong}, request, "Europe/Berlin")
    assert got.equals(truth)
    assert {r["period"]: r["value"] for r in got.to_dicts()} == {"2026-W13": 1.0, "2026-W14": 2.0}


def test_the_pass_keeps_streaming() -> None:
    args = (_calls().lazy(), [_count()], "offered_at", "week", [], "Europe/Berlin", Window(), {})
    plan = aggregate(*args, days=(dt.date(2026, 3, 27), dt.date(2026, 3, 31)))
    # no literal series in the row-wise part: polars would hold every row for it
    assert "search_sorted" not in plan.explain() and "replace" not in plan.explain()


def test_a_pass_over_another_time_column_uses_that_columns_own_local_days(monkeypatch) -> None:
    # offered on Sunday evening (W13), answered after midnight CEST on Monday (W14) or on
    # Friday: the pass over `answered_at` learns that column's first and last local day
    # (its dataset's span is the offered days) and groups by its local weeks
    stamps = [
        (
            dt.datetime(2026, 3, 29, 21, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
        ),
        (dt.datetime(2026, 3, 27, 12, tzinfo=UTC), dt.datetime(2026, 3, 27, 12, 5, tzinfo=UTC)),
        (dt.datetime(2026, 3, 29, 20, tzinfo=UTC), None),
    ]
    frame = pl.DataFrame(
        {
            "contact_id": ["a", "b", "c"],
            "offered_at": [o for o, _ in stamps],
            "answered_at": [a for _, a in stamps],
        },
        schema={
            "contact_id": pl.String,
            "offered_at": pl.Datetime("us", "UTC"),
            "answered_at": pl.Datetime("us", "UTC"),
        },
    ).with_columns(pl.col("offered_at", "answered_at").dt.convert_time_zone("Europe/Berlin"))
    answered = MetricSpec.model_validate(
        {
            "id": "answered",
            "name": "Answered",
            "unit": "count",
            "dataset": "calls",
            "time_column": "answered_at",
            "compute": {"kind": "count"},
        }
    )
    from tpmkit.engine import cells, local_periods

    asked: list[tuple[dt.date, dt.date]] = []
    real = local_periods.period_key

    def spy(ts: pl.Expr, grain: str, first: dt.date, last: dt.date, zone: str):
        asked.append((first, last))
        return real(ts, grain, first, last, zone)

    monkeypatch.setattr(cells.local_periods, "period_key", spy)
    data = Input(frame.lazy(), "offered_at", (dt.date(2026, 3, 27), dt.date(2026, 3, 29)))
    got = compute_records([answered], {"calls": data}, Request("week"), "Europe/Berlin")
    assert asked == [(dt.date(2026, 3, 27), dt.date(2026, 3, 30))]  # Monday, local
    assert {r["period"]: r["value"] for r in got.to_dicts()} == {"2026-W13": 1.0, "2026-W14": 1.0}
