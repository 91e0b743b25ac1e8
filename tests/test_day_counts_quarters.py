"""The streaming check counts rows per quarter hour of UTC time and puts the quarter hours
on their local days (data/stream.py): the same day counts as counting by local day, in a
zone with half-hour offsets and across a DST change; a zone whose offset is no whole
number of quarter hours (Monrovia until 1972: -0:44:30) is counted by the day itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tpmkit.data import load_dataset, stream
from tpmkit.data.freshness import day_counts
from tpmkit.spec.models import Source

UTC = dt.UTC


def _calls(stamps: list[dt.datetime]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(len(stamps))],
            "offered_at": stamps,
            "answered": [True] * len(stamps),
            "wait_seconds": [5.0] * len(stamps),
        },
        schema={
            "contact_id": pl.String,
            "offered_at": pl.Datetime("us", "UTC"),
            "answered": pl.Boolean,
            "wait_seconds": pl.Float64,
        },
    )


def _counted(folder: Path, zone: str, stamps: list[dt.datetime]) -> object:
    _calls(stamps).write_parquet(folder / "calls.parquet")
    dataset = load_dataset("calls", Source(path="calls.parquet"), folder, zone)
    assert "frame" not in vars(dataset)  # checked by the streaming check
    return dataset.day_counts


def test_half_hour_offset_days(tmp_path: Path) -> None:
    # Kolkata is UTC+5:30: 18:29 UTC is 23:59 on the 5th, 18:30 UTC midnight of the 6th
    stamps = [
        dt.datetime(2026, 1, 5, 18, 29, 59, tzinfo=UTC),
        dt.datetime(2026, 1, 5, 18, 30, tzinfo=UTC),
        dt.datetime(2026, 1, 5, 18, 44, 59, tzinfo=UTC),
        dt.datetime(2026, 1, 4, 18, 30, tzinfo=UTC),  # 00:00 on the 5th
    ]
    latest, daily = _counted(tmp_path, "Asia/Kolkata", stamps)
    assert daily == {dt.date(2026, 1, 5): 2, dt.date(2026, 1, 6): 2}
    assert latest == dt.datetime(2026, 1, 5, 18, 44, 59, tzinfo=UTC)


def test_days_across_the_autumn_change(tmp_path: Path) -> None:
    # Berlin, 2026-10-25: 23:59 CEST on the 24th is 21:59 UTC; 00:00 CET on the 26th is
    # 23:00 UTC on the 25th (the 25th has 25 hours)
    stamps = [
        dt.datetime(2026, 10, 24, 21, 59, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
    ]
    latest, daily = _counted(tmp_path, "Europe/Berlin", stamps)
    assert daily == {dt.date(2026, 10, 24): 1, dt.date(2026, 10, 25): 2, dt.date(2026, 10, 26): 1}
    assert latest == dt.datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_an_offset_of_no_whole_quarter_hours_is_counted_by_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Monrovia was UTC-0:44:30 until 1972: 00:44:29 UTC is 23:59:59 of the day before
    stamps = [
        dt.datetime(1971, 6, 2, 0, 44, 29, tzinfo=UTC),
        dt.datetime(1971, 6, 2, 0, 44, 30, tzinfo=UTC),
    ]
    fallbacks: list[bool] = []
    quarters = stream._days_of_quarters

    def spy(counts: pl.DataFrame, dtype: pl.DataType) -> pl.DataFrame | None:
        found = quarters(counts, dtype)
        fallbacks.append(found is None)
        return found

    monkeypatch.setattr(stream, "_days_of_quarters", spy)
    latest, daily = _counted(tmp_path, "Africa/Monrovia", stamps)
    assert fallbacks == [True]  # the quarter hour 00:30-00:45 UTC spans two local days
    assert daily == {dt.date(1971, 6, 1): 1, dt.date(1971, 6, 2): 1}
    assert latest == dt.datetime(1971, 6, 2, 0, 44, 30, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"])
def test_the_same_counts_as_by_local_day(tmp_path: Path, zone: str) -> None:
    stamps = pl.datetime_range(
        dt.datetime(2026, 3, 1, tzinfo=UTC),
        dt.datetime(2026, 4, 15, tzinfo=UTC),
        interval="7m13s",
        eager=True,
    ).to_list()
    counted = _counted(tmp_path, zone, stamps)
    frame = _calls(stamps).with_columns(pl.col("offered_at").dt.convert_time_zone(zone))
    assert counted == day_counts(frame.lazy(), "offered_at")
