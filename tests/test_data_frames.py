"""In-memory frames (polars, pyarrow) go through the same mapping, coercion, data rules,
dedupe and quarantine as a file; messages name the frame as data["calls"] and the row."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tpmkit.data.load
from conftest import by_key, evaluate_records
from tpmkit.contract import CANONICAL
from tpmkit.data import load_dataset
from tpmkit.data.cache import CsvCache
from tpmkit.data.derive import OPERATIONS
from tpmkit.errors import DataError
from tpmkit.spec.models import Source

ZONE = "Europe/Berlin"

# talk_seconds as clock text and numbers, offsets and wall-clock times, Y/true/yes words
CALLS = """\
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,acw_seconds,csat
c1,2026-01-05 09:00:00,a1,Y,10,1:40,20,5
c2,2026-01-05T10:00:00+01:00,a1,true,30,200,40,3
c3,2026-01-06 11:00:00,a2,N,,,,
c4,2026-01-12 09:00:00,a2,yes,25,0:05:00,0,4
"""

PROJECT = """
name: Frames
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""

METRICS = {
    "aht": """
        id: aht
        name: AHT
        unit: seconds
        direction: lower_is_better
        dataset: calls
        compute: {kind: mean, where: answered, expr: "talk_seconds + acw_seconds"}
    """,
    "sl": """
        id: service_level
        name: SL
        unit: percent
        direction: higher_is_better
        dataset: calls
        compute:
          kind: ratio
          where: "answered OR coalesce(wait_seconds >= 5, true)"
          numerator: "answered AND coalesce(wait_seconds <= 20, false)"
    """,
}


def text_frame() -> pl.DataFrame:
    """The export read as text, exactly as written."""
    return pl.read_csv(CALLS.encode(), infer_schema=False)


def typed_frame(*, zoned: bool) -> pl.DataFrame:
    """The same calls with typed columns: instants in UTC, or wall-clock times in Berlin."""
    if zoned:
        times = [dt.datetime(2026, 1, 5, 8), dt.datetime(2026, 1, 5, 9)]
        times += [dt.datetime(2026, 1, 6, 10), dt.datetime(2026, 1, 12, 8)]
    else:
        times = [dt.datetime(2026, 1, 5, 9), dt.datetime(2026, 1, 5, 10)]
        times += [dt.datetime(2026, 1, 6, 11), dt.datetime(2026, 1, 12, 9)]
    frame = pl.DataFrame(
        {
            "contact_id": ["c1", "c2", "c3", "c4"],
            "offered_at": times,
            "agent_id": ["a1", "a1", "a2", "a2"],
            "answered": [True, True, False, True],
            "wait_seconds": [10, 30, None, 25],
            "talk_seconds": [dt.timedelta(seconds=s) for s in (100, 200)]
            + [None]
            + [dt.timedelta(minutes=5)],
            "acw_seconds": [20.0, 40.0, None, 0.0],
            "csat": [5, 3, None, 4],
        }
    )
    if zoned:
        frame = frame.with_columns(pl.col("offered_at").dt.replace_time_zone("UTC"))
    return frame


def from_csv(folder: Path, text: str = CALLS, **options: Any) -> pl.DataFrame:
    (folder / "calls.csv").write_text(text)
    return load_dataset("calls", Source(path="calls.csv"), folder, ZONE, **options).frame


def test_csv_text_frame_and_typed_frames_load_the_same(tmp_path):
    expected = from_csv(tmp_path)
    assert expected.get_column("talk_seconds").to_list() == [100.0, 200.0, None, 300.0]
    assert expected.schema["offered_at"] == pl.Datetime("us", ZONE)
    assert expected.get_column("offered_at").dt.hour().to_list() == [9, 10, 11, 9]
    for frame in (
        text_frame(),
        text_frame().lazy(),
        typed_frame(zoned=True),
        typed_frame(zoned=False),
    ):
        loaded = load_dataset("calls", None, tmp_path, ZONE, frame=frame)
        assert loaded.files == ['data["calls"]']
        assert loaded.rows_read == 4
        assert_frame_equal(loaded.frame, expected)


def test_a_frame_never_uses_the_csv_cache(tmp_path):
    cache = CsvCache(tmp_path / "cache")
    load_dataset("calls", None, tmp_path, ZONE, frame=text_frame(), cache=cache)
    assert (cache.hits, cache.misses) == (0, 0)
    assert not list(tmp_path.glob("cache/*.parquet"))


def _evaluate_with_frame(path: Path, frame: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Evaluate the project with `frame` given for calls instead of its file (every module
    that imported `load_dataset` gets the frame passed through)."""
    original = tpmkit.data.load.load_dataset

    def with_frame(name: str, source: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "calls":
            kwargs["frame"] = frame
        return original(name, source, *args, **kwargs)

    for module in list(sys.modules.values()):
        if module.__name__.startswith("tpmkit") and (
            getattr(module, "load_dataset", None) is original
        ):
            monkeypatch.setattr(module, "load_dataset", with_frame)
    (path.parent / "calls.csv").unlink()  # the frame must not need the file
    return evaluate_records(path)


@pytest.mark.parametrize("kind", ["text", "typed"])
def test_records_from_a_frame_equal_records_from_the_file(make, monkeypatch, kind):
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    from_file = evaluate_records(path)
    frame = text_frame() if kind == "text" else typed_frame(zoned=True)
    from_frame = _evaluate_with_frame(path, frame, monkeypatch)
    assert from_frame == from_file
    index = by_key(from_frame)
    # W02: c1 100 + 20, c2 200 + 40 -> 180; W03: c4 300 + 0
    assert index[("aht", "2026-W02")]["value"] == 180.0
    assert index[("aht", "2026-W03")]["value"] == 300.0
    # W02: c1 met (10 s), c2 not (30 s), c3 unanswered with unknown wait counts -> 1 / 3
    assert index[("service_level", "2026-W02")]["value"] == pytest.approx(100 / 3, rel=1e-12)
    assert index[("service_level", "2026-W03")]["value"] == 0.0


def test_a_frame_is_mapped_and_derived_like_a_file(tmp_path):
    source = Source(
        path="unused.csv",
        columns={"Call ID": "contact_id", "Start": "offered_at", "Wait": "wait_seconds"},
        derive={"answered": "Outcome = 'handled'"},
    )
    frame = pl.DataFrame(
        {
            "Call ID": ["x1", "x2"],
            "Start": ["2026-01-05 09:00:00", "2026-01-05 09:30:00"],
            "Outcome": ["handled", "abandoned"],
            "Wait": ["12", "1:05"],
        }
    )
    loaded = load_dataset("calls", source, tmp_path, ZONE, frame=frame).frame
    assert loaded.get_column("contact_id").to_list() == ["x1", "x2"]
    assert loaded.get_column("answered").to_list() == [True, False]
    assert loaded.get_column("wait_seconds").to_list() == [12.0, 65.0]
    assert loaded.get_column("offered_at").dt.hour().to_list() == [9, 9]
    assert loaded.get_column("channel").to_list() == ["voice", "voice"]  # the default


def test_a_frame_without_answered_derives_it_from_answered_at(tmp_path):
    frame = pl.DataFrame(
        {
            "contact_id": ["d1", "d2"],
            "offered_at": ["2026-01-05 09:00:00", "2026-01-05 09:10:00"],
            "answered_at": ["2026-01-05 09:00:45", None],
        }
    )
    loaded = load_dataset("calls", None, tmp_path, ZONE, frame=frame).frame
    assert loaded.get_column("answered").to_list() == [True, False]
    assert loaded.get_column("wait_seconds").to_list() == [45.0, None]


def test_decimal_commas_in_a_text_frame(tmp_path):
    source = Source(path="unused.csv", decimal_comma=True)
    frame = text_frame().with_columns(pl.col("wait_seconds").str.replace("30", "30,5"))
    loaded = load_dataset("calls", source, tmp_path, ZONE, frame=frame).frame
    assert loaded.get_column("wait_seconds").to_list() == [10.0, 30.5, None, 25.0]


def test_a_bad_timestamp_names_the_frame_row_column_and_value(tmp_path):
    frame = text_frame().with_columns(
        pl.when(pl.col("contact_id") == "c3")
        .then(pl.lit("06/01/2026 11:00"))
        .otherwise(pl.col("offered_at"))
        .alias("offered_at")
    )
    with pytest.raises(DataError) as caught:
        load_dataset("calls", None, tmp_path, ZONE, frame=frame)
    (issue,) = caught.value.issues
    assert issue.file == 'data["calls"]'
    assert issue.line is None
    # the row's id beside its number: a frame's, a Parquet file's or a table's rows have
    # no fixed order for the tool that opens them (the id was added on 2026-12-01)
    assert issue.message.startswith("row 3 (contact_id c3), column `offered_at`: not a timestamp")
    assert issue.message.endswith(": '06/01/2026 11:00'")
    assert 'on_bad_rows="quarantine"' in caught.value.message


def test_a_bad_mapped_value_names_the_export_column(tmp_path):
    source = Source(path="unused.csv", columns={"Satisfaction": "csat"})
    frame = text_frame().rename({"csat": "Satisfaction"})
    frame = frame.with_columns(pl.col("Satisfaction").str.replace("^3$", "7"))
    with pytest.raises(DataError) as caught:
        load_dataset("calls", source, tmp_path, ZONE, frame=frame)
    (issue,) = caught.value.issues
    assert issue.message == (
        "row 2 (contact_id c2), column `Satisfaction` (`csat`): out of range 1..5: '7'"
    )


def test_a_typed_frame_is_checked_too(tmp_path):
    frame = typed_frame(zoned=True).with_columns(
        pl.Series("wait_seconds", [10, -4, None, 25]),
        pl.Series("contact_id", ["c1", "c2", "c3", "c1"]),
    )
    with pytest.raises(DataError) as caught:
        load_dataset("calls", None, tmp_path, ZONE, frame=frame)
    messages = [(i.file, i.message) for i in caught.value.issues]
    assert messages == [
        ('data["calls"]', "row 2 (contact_id c2), column `wait_seconds`: negative duration: '-4'"),
        (
            'data["calls"]',
            "row 4 (contact_id c1), column `contact_id`: duplicate contact_id "
            "(first in data[\"calls\"], data row 1): 'c1'",
        ),
    ]


def test_quarantine_writes_the_frames_bad_row_to_the_rejects_file(tmp_path):
    frame = text_frame().with_columns(pl.col("answered").str.replace("^N$", "maybe"))
    loaded = load_dataset(
        "calls",
        None,
        tmp_path,
        ZONE,
        frame=frame,
        on_bad_rows="quarantine",
        rejects_dir=tmp_path / "rejects",
    )
    assert loaded.quarantined == 1
    assert loaded.rows_read == 4
    assert loaded.frame.get_column("contact_id").to_list() == ["c1", "c2", "c4"]
    assert loaded.rejects_file == str(tmp_path / "rejects" / "calls.rejects.csv")
    rejects = pl.read_csv(loaded.rejects_file, infer_schema=False)
    assert rejects.get_column("contact_id").to_list() == ["c3"]
    assert rejects.get_column("answered").to_list() == ["maybe"]
    assert rejects.get_column("_source_file").to_list() == ['data["calls"]']
    assert rejects.get_column("_line").to_list() == ["3"]
    assert rejects.get_column("_reason").to_list() == [
        "answered: not a boolean (true/false, 1/0, Y/N, yes/no)"
    ]


def test_a_frame_missing_a_required_column_is_named(tmp_path):
    with pytest.raises(DataError) as caught:
        load_dataset("calls", None, tmp_path, ZONE, frame=text_frame().drop("offered_at"))
    (issue,) = caught.value.issues
    assert issue.file == 'data["calls"]'
    assert 'required column `offered_at` is missing in data["calls"]' in issue.message


def test_no_source_and_no_frame_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no source and no frame"):
        load_dataset("calls", None, tmp_path, ZONE)


def test_something_else_than_a_frame_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r'data\["calls"\] is not a data frame'):
        load_dataset("calls", None, tmp_path, ZONE, frame={"contact_id": ["c1"]})


def test_a_lazy_frame_that_cannot_be_read_is_a_data_error(tmp_path):
    lost = pl.scan_csv(tmp_path / "gone.csv")
    with pytest.raises(DataError, match=r'cannot read data\["calls"\]'):
        load_dataset("calls", None, tmp_path, ZONE, frame=lost)


def test_a_pyarrow_table(tmp_path):
    pa = pytest.importorskip("pyarrow")
    expected = from_csv(tmp_path)
    for table in (text_frame().to_arrow(), typed_frame(zoned=True).to_arrow()):
        assert isinstance(table, pa.Table)
        loaded = load_dataset("calls", None, tmp_path, ZONE, frame=table)
        assert_frame_equal(loaded.frame, expected)


def test_every_contract_derivation_has_an_operation():
    for contract in CANONICAL.values():
        for derivation in contract.derivations:
            assert derivation.how in OPERATIONS
            assert contract.column(derivation.column) is not None
