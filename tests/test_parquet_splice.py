"""Parquet files put together from other files' row groups, byte for byte (the incremental
run's output, `tpmkit.parquet_splice`): what a reader gets back is exactly the frames'
rows in order, with their types, for polars and for an independent reader (pyarrow)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
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


def raw_footer(data: bytes) -> bytes:
    """A Parquet file's footer bytes (its length and the magic stripped)."""
    size = int.from_bytes(data[-8:-4], "little")
    return data[-8 - size : -8]


def written(frame_: pl.DataFrame, **options: object) -> bytes:
    buffer = io.BytesIO()
    frame_.write_parquet(buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


WIDE = pl.DataFrame({f"c{i}": [i, None, i] for i in range(20)})  # >15 columns: a long list head


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("dictionary pages and nulls", lambda: written(frame(0, 1000), row_group_size=100)),
        ("a column all null", lambda: written(pl.DataFrame({"x": [None, None]}, {"x": pl.Utf8}))),
        ("no rows, no row group", lambda: written(frame(0, 5).clear())),
        ("20 row groups, 20 columns", lambda: written(pl.concat([WIDE] * 20), row_group_size=3)),
    ],
)
def test_a_polars_footer_read_is_what_its_metadata_says_and_is_written_back_the_same(case, data):
    """Each row group's rows and page span are pyarrow's (an independent reader); the
    footer written back from it reads back as the same footer (its offsets where they
    were, each column chunk's offset where its pages start)."""
    raw = data()
    footer = splice.parse(raw_footer(raw))
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    assert len(footer.groups) == meta.num_row_groups
    for i, group in enumerate(footer.groups):
        chunks = [meta.row_group(i).column(c) for c in range(meta.num_columns)]
        starts = [c.dictionary_page_offset or c.data_page_offset for c in chunks]
        assert group.rows == meta.row_group(i).num_rows
        assert group.start == starts[0]
        # to the end of the last chunk (polars puts a copy of each chunk's metadata after
        # its pages: the chunks are not back to back)
        assert group.size == starts[-1] + chunks[-1].total_compressed_size - starts[0]
        # per column chunk: its offset (set to where its pages start) and its page
        # offsets; then the row group's offset (polars writes it) and its ordinal
        offsets = []
        for start, c in zip(starts, chunks, strict=True):
            offsets += [start, c.data_page_offset]
            offsets += [c.dictionary_page_offset] if c.dictionary_page_offset else []
        assert list(group.slots[: len(offsets)]) == offsets
        assert list(group.slots[len(offsets) :]) in ([splice.ORDINAL], [starts[0], splice.ORDINAL])
    again = splice.footer_bytes(footer)
    assert splice.parse(again) == footer
    assert splice.footer_bytes(splice.parse(again)) == again  # stable once written by us


def test_a_spliced_footer_moves_only_the_offsets(tmp_path: Path):
    """Row group 2 of a file copied first into a new file: each of its chunks' dictionary
    and data page offsets moved by exactly where its pages landed; sizes, row counts and
    statistics the same."""
    a = frame(0, 300)
    a.write_parquet(tmp_path / "a.parquet", row_group_size=100)
    source = splice.open_source(tmp_path / "a.parquet")
    delta = 4 - source.groups[2].start  # its pages now start after the magic
    splice.splice(tmp_path / "out.parquet", [(source, 2), (source, 0)])
    before = pq.ParquetFile(tmp_path / "a.parquet").metadata.row_group(2)
    after = pq.ParquetFile(tmp_path / "out.parquet").metadata.row_group(0)
    assert after.num_rows == before.num_rows == 100
    for c in range(before.num_columns):
        old, new = before.column(c), after.column(c)
        assert new.data_page_offset == old.data_page_offset + delta
        if old.dictionary_page_offset:
            assert new.dictionary_page_offset == old.dictionary_page_offset + delta
        assert new.total_compressed_size == old.total_compressed_size
        assert new.statistics == old.statistics
    assert pl.read_parquet(tmp_path / "out.parquet").equals(
        pl.concat([a.slice(200, 100), a.slice(0, 100)])
    )


def test_page_indexes_and_bloom_filters_are_dropped_and_the_rest_kept(tmp_path: Path):
    """Fields left out of a struct (pyarrow writes page indexes and Bloom filters; their
    locations are not moved): the next fields' headers are written anew."""
    table = pa.table({"n": list(range(100)), "s": [str(i % 3) for i in range(100)]})
    pq.write_table(
        table,
        tmp_path / "a.parquet",
        row_group_size=30,
        write_page_index=True,
        bloom_filter_options={"s": {"ndv": 10}},
    )
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata.row_group(0).column(1)
    assert meta.has_offset_index and meta.bloom_filter_offset  # there to be dropped
    source = splice.open_source(tmp_path / "a.parquet")
    assert [g.rows for g in source.groups] == [30, 30, 30, 10]
    splice.splice(tmp_path / "out.parquet", [(source, 3), (source, 0)])
    back = pq.ParquetFile(tmp_path / "out.parquet")
    column = back.metadata.row_group(0).column(1)
    assert not column.has_offset_index and column.bloom_filter_offset is None
    assert back.read().column("n").to_pylist() == [*range(90, 100), *range(30)]


def test_a_corrupt_or_foreign_footer_is_refused_never_misread(tmp_path: Path):
    """Truncated, pointing outside the file, an unknown Thrift type, a row count that is
    not its row groups': `Mismatch` (the caller then writes every record itself)."""
    data = written(frame(0, 200), row_group_size=50)
    raw = raw_footer(data)
    body = data[: -8 - len(raw)]

    def with_footer(footer: bytes) -> bytes:
        return body + footer + len(footer).to_bytes(4, "little") + splice.MAGIC

    assert splice.open_source(with_footer(raw)).footer == splice.parse(raw)
    for cut in range(0, len(raw) - 1, 7):  # every 7th truncation
        with pytest.raises(splice.Mismatch):
            splice.open_source(with_footer(raw[:cut]))
    with pytest.raises(splice.Mismatch):  # the length says more than the file holds
        splice.open_source(data[:-8] + (len(data) + 1).to_bytes(4, "little") + splice.MAGIC)
    with pytest.raises(splice.Mismatch):  # the pages are not in the file
        splice.open_source(data[:4] + data[len(data) - 8 - len(raw) :])
    with pytest.raises(splice.Mismatch):  # Thrift type 13 does not exist
        splice.parse(b"\x1d" + raw[1:])
    footer = splice.parse(raw)
    good = splice.footer_bytes(footer)
    head = footer.head + splice._header(3, 6, footer.last)  # FileMetaData.num_rows, an i64
    assert good.startswith(head + splice._zigzag(200))  # the four row groups' 200 rows
    with pytest.raises(splice.Mismatch):  # 150 rows said, 200 in the row groups
        splice.parse(head + splice._zigzag(150) + good[len(head + splice._zigzag(200)) :])
    # any single byte changed: refused or read, never another exception
    for at in range(len(raw)):
        for byte in (0x00, 0x0F, 0xFF):
            with contextlib.suppress(splice.Mismatch):
                splice.open_source(with_footer(raw[:at] + bytes([byte]) + raw[at + 1 :]))


def test_a_known_footer_beyond_its_file_is_refused(tmp_path: Path):
    """A footer held in memory for a file that is now shorter: `Mismatch`, no partial
    copy taken for a whole one."""
    frame(0, 300).write_parquet(tmp_path / "a.parquet", row_group_size=100)
    source = splice.open_source(tmp_path / "a.parquet")
    frame(0, 10).write_parquet(tmp_path / "a.parquet")
    with pytest.raises(splice.Mismatch):
        splice.splice(tmp_path / "out.parquet", [(source, 2)])


def test_nested_and_other_types_are_copied_row_group_by_row_group(tmp_path: Path):
    """Lists (repetition levels, several pages per chunk), structs (one chunk per field),
    categoricals, decimals, binary, times, durations, small ints and long strings: row
    groups picked out of order and one twice read back as those rows."""
    import decimal

    from polars.testing import assert_frame_equal

    n = 3000
    nested = pl.DataFrame(
        {
            "l": [[f"x{i % 5}"] * (i % 4) if i % 7 else None for i in range(n)],
            "st": [{"a": i, "b": None if i % 3 else f"s{i}"} for i in range(n)],
            "cat": pl.Series([f"c{i % 4}" for i in range(n)], dtype=pl.Categorical),
            "dec": pl.Series([decimal.Decimal(i) / 100 for i in range(n)], dtype=pl.Decimal(10, 2)),
            "bin": [bytes([i % 256]) * (i % 5) for i in range(n)],
            "t": [dt.time(i % 24, i % 60) for i in range(n)],
            "d": [dt.timedelta(seconds=i) for i in range(n)],
            "f32": pl.Series([float(i) if i % 2 else None for i in range(n)], dtype=pl.Float32),
            "u8": pl.Series([i % 256 for i in range(n)], dtype=pl.UInt8),
            "long": ["y" * (i % 300) for i in range(n)],
        }
    )
    nested.write_parquet(tmp_path / "a.parquet", row_group_size=500)
    source = splice.open_source(tmp_path / "a.parquet")
    assert [g.rows for g in source.groups] == [500] * 6
    order = [5, 0, 3, 3, 1]
    written = splice.splice(tmp_path / "out.parquet", [(source, g) for g in order])
    assert written == splice.open_source(tmp_path / "out.parquet").footer
    expected = pl.concat([nested.slice(g * 500, 500) for g in order])
    assert_frame_equal(pl.read_parquet(tmp_path / "out.parquet"), expected)
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 2500
