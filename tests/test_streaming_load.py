"""The streaming check (data/stream.py): a clean Parquet export or cached CSV is checked in
one streaming pass and not held in memory, with the same rows, counts and day counts as
the in-memory load; any broken rule still ends in the located error or the quarantine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tpmkit.data import load_dataset
from tpmkit.data.cache import CsvCache
from tpmkit.data.freshness import day_counts
from tpmkit.errors import DataError
from tpmkit.spec.models import Source

ZONE = "Europe/Berlin"
UTC = dt.UTC


def calls(**changes: list[object]) -> pl.DataFrame:
    """Four typed calls over two local days (2026-01-05: 3 calls, 2026-01-06: 1)."""
    data: dict[str, list[object]] = {
        "contact_id": ["c1", "c2", "c3", "c4"],
        "offered_at": [
            dt.datetime(2026, 1, 5, 8, tzinfo=UTC),
            dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
            dt.datetime(2026, 1, 5, 23, 30, tzinfo=UTC),  # 00:30 on the 6th in Berlin
            dt.datetime(2026, 1, 5, 10, tzinfo=UTC),
        ],
        "agent_id": ["a1", "a1", "a2", "a2"],
        "answered": [True, True, False, True],
        "wait_seconds": [10.0, 30.0, None, 25.0],
        "talk_seconds": [100.0, 200.0, None, 300.0],
        "extra": ["1", "2", None, "3.5"],  # no declared type: numbers
        "code": ["007", "1", None, "2"],  # a code: stays text
    }
    data.update(changes)
    return pl.DataFrame(data)


def load(folder: Path, frame: pl.DataFrame, **options: object) -> object:
    frame.write_parquet(folder / "calls.parquet")
    return load_dataset("calls", Source(path="calls.parquet"), folder, ZONE, **options)  # type: ignore[arg-type]


def test_a_clean_parquet_export_is_checked_streaming_and_not_held(tmp_path: Path) -> None:
    dataset = load(tmp_path, calls())
    assert "frame" not in vars(dataset)  # nothing materialised by the load
    assert dataset.rows_read == 4
    # the same rows as the in-memory load of the same data
    held = load_dataset("calls", None, tmp_path, ZONE, frame=calls())
    assert "frame" in vars(held)
    assert_frame_equal(dataset.frame, held.frame, check_column_order=False)
    assert dataset.frame.schema["extra"] == pl.Float64
    assert dataset.frame.schema["code"] == pl.String
    assert dataset.frame.get_column("extra").to_list() == [1.0, 2.0, None, 3.5]
    # counted on the way, as freshness counts them from the frame: local days
    latest, daily = dataset.day_counts
    assert (latest, daily) == day_counts(dataset.frame, "offered_at")
    assert daily == {dt.date(2026, 1, 5): 3, dt.date(2026, 1, 6): 1}
    assert latest == dt.datetime(2026, 1, 6, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_a_value_out_of_range_is_still_located(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        load(tmp_path, calls(wait_seconds=[10.0, -5.0, None, 25.0]))
    text = str(caught.value) + "".join(str(i) for i in caught.value.issues)
    assert "1 bad value(s) in 1 row(s)" in caught.value.message
    assert "calls.parquet" in text and "row 2" in text and "wait_seconds" in text
    assert "-5" in text


def test_a_repeated_id_is_still_located(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        load(tmp_path, calls(contact_id=["c1", "c2", "c1", "c4"]))
    text = "".join(str(i) for i in caught.value.issues)
    assert "duplicate contact_id (first in" in text and "data row 1" in text


def test_a_broken_rule_across_columns_is_still_located(tmp_path: Path) -> None:
    # a required value left empty: the cross-column rules are part of the streaming check
    with pytest.raises(DataError) as caught:
        load(tmp_path, calls(contact_id=["c1", None, "c3", "c4"]))
    assert "required value is empty" in "".join(str(i) for i in caught.value.issues)


def test_quarantine_leaves_out_exactly_the_bad_row(tmp_path: Path) -> None:
    dataset = load(
        tmp_path,
        calls(wait_seconds=[10.0, -5.0, None, 25.0]),
        on_bad_rows="quarantine",
        rejects_dir=tmp_path / "rejects",
    )
    assert dataset.quarantined == 1 and dataset.rows_read == 4  # type: ignore[attr-defined]
    assert dataset.frame.get_column("contact_id").to_list() == ["c1", "c3", "c4"]  # type: ignore[attr-defined]
    assert (tmp_path / "rejects").is_dir()


def test_a_cached_csv_export_streams_from_the_cache(tmp_path: Path) -> None:
    csv = "contact_id,offered_at,agent_id,answered,wait_seconds\n"
    csv += "c1,2026-01-05 09:00:00,a1,Y,10\nc2,2026-01-06T10:00:00+01:00,a2,N,\n"
    (tmp_path / "calls.csv").write_text(csv)
    source = Source(path="calls.csv")
    uncached = load_dataset("calls", source, tmp_path, ZONE)
    assert "frame" in vars(uncached)  # an uncached CSV is parsed once and held
    cache = CsvCache(tmp_path / "cache")
    first = load_dataset("calls", source, tmp_path, ZONE, cache=cache)
    second = load_dataset("calls", source, tmp_path, ZONE, cache=cache)
    assert (cache.misses, cache.hits) == (1, 1)
    assert "frame" not in vars(second)
    assert_frame_equal(first.frame, uncached.frame)
    assert_frame_equal(second.frame, uncached.frame)
    assert second.day_counts[1] == {dt.date(2026, 1, 5): 1, dt.date(2026, 1, 6): 1}


@pytest.mark.parametrize("limit", [0, 12_000_000])
def test_the_queries_run_together_or_one_after_another_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A small Parquet dataset's check queries run at once over one reading (at most
    `TOGETHER_ROWS` rows, counted from the metadata); a larger one's one after another:
    the same counts, and the same located error for a repeated id."""
    from tpmkit.data import read, stream

    monkeypatch.setattr(stream, "TOGETHER_ROWS", limit)
    ran: list[bool] = []
    each = read.collect_each

    def spy(frames, name, scanned, together=False):  # type: ignore[no-untyped-def]
        ran.append(together)
        return each(frames, name, scanned, together)

    monkeypatch.setattr(stream, "collect_each", spy)
    dataset = load(tmp_path, calls())
    assert ran == [limit >= 4]  # four rows
    assert dataset.rows_read == 4
    assert dataset.day_counts[1] == {dt.date(2026, 1, 5): 3, dt.date(2026, 1, 6): 1}
    with pytest.raises(DataError) as caught:
        load(tmp_path, calls(contact_id=["c1", "c2", "c1", "c4"]))
    assert "duplicate contact_id (first in" in "".join(str(i) for i in caught.value.issues)


def test_an_unreadable_parquet_export_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "calls.parquet").write_bytes(b"PAR1 this is no parquet file PAR1")
    with pytest.raises(DataError) as caught:
        load_dataset("calls", Source(path="calls.parquet"), tmp_path, ZONE)
    assert "calls" in caught.value.message
