"""Parquet files put together from other files' row groups, byte for byte (the incremental
run's output, `tpmkit.parquet_splice`): what a reader gets back is exactly the frames'
rows in order, with their types, for polars and for an independent reader (pyarrow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from tpmkit import parquet_splice as splice


def frame(first: int, rows: int) -> pl.DataFrame:
    ids = list(range(first, first + rows))
    return pl.DataFrame(
        {
            "metric": [f"m{i % 3}" for i in ids],
            "period_start": [dt.datetime(2026, 1, 5) + dt.timedelta(weeks=i % 7) for i in ids],
            "value": [None if i % 5 == 0 else i / 7 for i in ids],
            "n": ids,
            "status": [["ok", "warning", None][i % 3] for i in ids],
            "day": [dt.date(2026, 1, 1) + dt.timedelta(days=i % 30) for i in ids],
            "flag": [i % 2 == 0 for i in ids],
        }
    ).with_columns(pl.col("period_start").dt.replace_time_zone("Europe/Berlin"))


def test_row_groups_of_files_and_frames_put_together_read_back_in_order(tmp_path: Path):
    a, b, c = frame(0, 1000), frame(1000, 2500), frame(3500, 7)
    a.write_parquet(tmp_path / "a.parquet", row_group_size=400)  # three row groups
    on_disk = splice.open_source(tmp_path / "a.parquet")
    assert len(on_disk.groups) == 3
    encoded_b, encoded_c = splice.encode(b), splice.encode(c)
    parts = [(on_disk, 0), (on_disk, 1), (encoded_b, 0), (on_disk, 2), (encoded_c, 0)]
    written = splice.splice(tmp_path / "out.parquet", parts)
    # the footer returned is the one a reader parses back (the output copies from it)
    assert written == splice.open_source(tmp_path / "out.parquet").footer
    copied = splice.Source(tmp_path / "out.parquet", written)  # its last row group: c
    splice.splice(tmp_path / "again.parquet", [(copied, 4)])
    assert pl.read_parquet(tmp_path / "again.parquet").equals(c)
    expected = pl.concat([a.slice(0, 800), b, a.slice(800), c])
    back = pl.read_parquet(tmp_path / "out.parquet")
    assert back.schema == expected.schema  # the time zone kept
    assert back.equals(expected)
    assert pq.read_table(tmp_path / "out.parquet").equals(expected.to_arrow())
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_rows == 3507
    # statistics moved with their chunks: a filter on them skips or reads the right rows
    got = pl.scan_parquet(tmp_path / "out.parquet").filter(pl.col("n") >= 3500).collect()
    assert got.equals(c)


def test_a_row_group_may_be_left_out_or_repeated(tmp_path: Path):
    a = frame(0, 30)
    a.write_parquet(tmp_path / "a.parquet", row_group_size=10)
    source = splice.open_source(tmp_path / "a.parquet")
    splice.splice(tmp_path / "out.parquet", [(source, 2), (source, 0), (source, 2)])
    back = pl.read_parquet(tmp_path / "out.parquet")
    assert back.get_column("n").to_list() == [*range(20, 30), *range(10), *range(20, 30)]


def test_other_schemas_and_other_files_are_refused(tmp_path: Path):
    a = splice.encode(frame(0, 5))
    other = splice.encode(frame(0, 5).with_columns(pl.col("n").cast(pl.Float64)))
    with pytest.raises(splice.Mismatch):
        splice.splice(tmp_path / "out.parquet", [(a, 0), (other, 0)])
    renamed = splice.encode(frame(0, 5).rename({"flag": "flags"}))
    with pytest.raises(splice.Mismatch):
        splice.splice(tmp_path / "out.parquet", [(a, 0), (renamed, 0)])
    (tmp_path / "text.parquet").write_text("metric,value\nfcr,0.8\n")
    with pytest.raises(splice.Mismatch):
        splice.open_source(tmp_path / "text.parquet")
    with pytest.raises(splice.Mismatch):
        splice.splice(tmp_path / "out.parquet", [])


@pytest.mark.parametrize("kernel", ["refuses", "absent"])
def test_row_groups_are_copied_in_pieces_where_the_kernel_cannot(tmp_path, monkeypatch, kernel):
    """Another file system (copy_file_range refuses) or another system (no such call):
    the bytes go through Python in pieces, to the same file."""
    import os

    if kernel == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    else:

        def refuse(*args: object) -> int:
            raise OSError("not on this file system")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    monkeypatch.setattr(splice, "_PIECE", 1000)  # many pieces per row group
    a = frame(0, 3000)
    a.write_parquet(tmp_path / "a.parquet", row_group_size=1000)
    on_disk = splice.open_source(tmp_path / "a.parquet")
    splice.splice(tmp_path / "out.parquet", [(on_disk, 2), (on_disk, 0)])
    expected = pl.concat([a.slice(2000, 1000), a.slice(0, 1000)])
    assert pl.read_parquet(tmp_path / "out.parquet").equals(expected)
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 2000
