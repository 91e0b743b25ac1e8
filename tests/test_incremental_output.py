"""An incremental run's records stay in the records cache's segments until they are needed
(issue 21 item 3, `tpmkit.stitched`): a Parquet output copies the stored row groups byte
for byte and encodes only the new records (and the rows of row groups cut at the first
recomputed week); read as a frame, they are the same records. Either way the output is
a full run's, row for row, every column; it is written atomically, and a segment whose
bytes changed on disk is never copied."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from test_incremental import same_records
from test_incremental_segments import HEAD, segment_files, state, week_rows
from test_incremental_segments import weeks as weeks  # the fixture
from tpmkit import parquet_splice, stitched
from tpmkit import project as api
from tpmkit.render import files


def evaluate(project: Path, cache: bool = True):
    return api.load(project).evaluate(period="week", by="queue", cache=cache)


def same_as_full(project: Path, output: Path) -> None:
    """`output` holds a full run's records, in its order, every column."""
    full = evaluate(project, cache=False).records
    ours = pl.read_parquet(output)
    assert ours.columns == full.columns and ours.schema == full.schema
    same_records(ours.drop("period_start"), full.drop("period_start"))
    assert ours.get_column("period_start").equals(full.get_column("period_start"))


@pytest.fixture
def spliced(monkeypatch):
    """Segments of any size in row groups (the fixture's are far under `SPLICE_MIN`), and
    a count of the records encoded when an output is written."""
    monkeypatch.setattr(stitched, "SPLICE_MIN", 1)
    encoded = {"rows": 0}
    real = parquet_splice.encode

    def counting(frame: pl.DataFrame, group_rows: int | None = None):
        encoded["rows"] += frame.height
        return real(frame, group_rows)

    monkeypatch.setattr(parquet_splice, "encode", counting)
    return encoded


@pytest.mark.parametrize("tail", [4, 1])
def test_each_week_added_the_output_copies_the_old_rows_and_equals_a_full_run(
    weeks, spliced, monkeypatch, tmp_path, tail
):
    """With `TAIL` 4 the weeks recomputed (the last run's open week and, for FCR's 10-day
    window, the one before) are row groups of their own, left out; the others are copied.
    With `TAIL` 1 a segment's older weeks are one row group per metric, which the first
    recomputed week cuts: its rows are read and encoded."""
    monkeypatch.setattr(stitched, "TAIL", tail)
    cut = {"rows": 0}
    real = stitched._cut_rows

    def counting(*args):
        rows = real(*args)
        cut["rows"] += rows.height
        return rows

    monkeypatch.setattr(stitched, "_cut_rows", counting)
    evaluate(weeks)  # fills the cache
    assert state(weeks)["finished"]["segments"][0]["groups"]  # stored in row groups
    encoded = []  # the share of each output's records encoded, not copied
    for week in range(8, 12):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        result = evaluate(weeks)
        assert isinstance(result.held, stitched.Stitched)  # not read yet
        spliced["rows"] = 0
        output = tmp_path / f"week-{week}.parquet"
        files.write_parquet(result.held, output)
        total = pl.read_parquet(output).height
        encoded.append(spliced["rows"] / total)
        same_as_full(weeks, output)
        del result  # the holds on the segments go with the records
        assert not list(weeks.parent.glob(".tpmkit/cache/records/*/finished/.*"))
    if tail == 4:  # the weeks recomputed are in row groups of their own: the rest copied
        assert all(share < 0.5 for share in encoded) and cut["rows"] == 0
    else:  # every old row group reaches into a recomputed week: cut, read, encoded
        assert cut["rows"] > 0


def test_read_as_a_frame_the_records_are_the_same(weeks, spliced, tmp_path):
    evaluate(weeks)
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    written, read = evaluate(weeks), evaluate(weeks)
    files.write_parquet(written.held, tmp_path / "out.parquet")
    # still readable after the write (`--record` reads them), though a later run's save
    # deleted the segments they were copied from
    evaluate(weeks)
    assert pl.read_parquet(tmp_path / "out.parquet").equals(written.records)
    assert isinstance(read.held, stitched.Stitched)
    written_rows = pl.read_parquet(tmp_path / "out.parquet")
    assert written_rows.schema == read.records.schema
    # two runs (the second recomputes the open week again): a standard deviation's last
    # bits may differ, as between two full runs
    same_records(written_rows, read.records)
    assert read.held is read.records  # read once, then kept
    files.write_parquet(read.held, tmp_path / "again.parquet")  # written from the frame
    assert pl.read_parquet(tmp_path / "again.parquet").equals(read.records)


def test_row_groups_that_cannot_be_put_together_are_encoded_whole(
    weeks, spliced, monkeypatch, tmp_path
):
    evaluate(weeks)
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    result = evaluate(weeks)

    def refuse(target, parts):
        Path(target).write_bytes(b"PAR1 half")
        raise parquet_splice.Mismatch("the row groups' schemas differ")

    monkeypatch.setattr(parquet_splice, "splice", refuse)
    files.write_parquet(result.held, tmp_path / "out.parquet")
    same_as_full(weeks, tmp_path / "out.parquet")


def test_a_failed_write_leaves_the_old_output_and_no_partial_file(
    weeks, spliced, monkeypatch, tmp_path
):
    evaluate(weeks)
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    result = evaluate(weeks)
    (tmp_path / "out").mkdir()
    output = tmp_path / "out" / "records.parquet"
    output.write_bytes(b"last week's output")

    def full_disk(target, parts):
        Path(target).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    def no_fallback(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(parquet_splice, "splice", full_disk)
    monkeypatch.setattr(stitched.Stitched, "collect", no_fallback)
    with pytest.raises(OSError, match="No space"):
        files.write_parquet(result.held, output)
    assert output.read_bytes() == b"last week's output"
    assert [p.name for p in output.parent.iterdir()] == ["records.parquet"]  # no temporary


def test_a_segment_changed_on_disk_is_never_copied(weeks, spliced, tmp_path):
    """A stored segment rewritten with other values (a valid Parquet file, same name):
    its content hash no longer matches the state's, so every record is finished again
    from the cells — never the changed bytes copied into the output."""
    evaluate(weeks)
    (segment,) = segment_files(weeks)
    stored = pl.read_parquet(segment)
    stored.with_columns(pl.col("value") * 2).write_parquet(segment)
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    result = evaluate(weeks)
    assert not isinstance(result.held, stitched.Stitched)  # finished from the cells
    files.write_parquet(result.held, tmp_path / "out.parquet")
    same_as_full(weeks, tmp_path / "out.parquet")
    chain = state(weeks)["finished"]["segments"]
    assert len(chain) == 1 and chain[0]["from"] is None  # stored whole again


def test_the_command_writes_the_copied_output_and_records_the_run(weeks, spliced, tmp_path):
    """`tpmkit evaluate --format parquet --output` on an incremental run, with `--record`
    (which reads the records after the file is written): the file is a full run's."""
    from typer.testing import CliRunner

    from tpmkit.cli import app

    def cli(*args: str) -> None:
        done = CliRunner().invoke(
            app, ["evaluate", "-p", str(weeks), *args], catch_exceptions=False
        )
        assert done.exit_code == 0, done.output

    common = ["--by", "queue", "--period", "week", "--format", "parquet", "--quiet"]
    cli(*common, "--output", str(tmp_path / "fill.parquet"))
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    spliced["rows"] = 0
    cli(*common, "--output", str(tmp_path / "week-8.parquet"), "--record")
    written = pl.read_parquet(tmp_path / "week-8.parquet")
    assert 0 <= spliced["rows"] < written.height / 2  # copied
    same_as_full(weeks, tmp_path / "week-8.parquet")
    from tpmkit import history

    recorded = history.load(api.load(weeks))  # the records, read after the file was written
    assert len(recorded.runs) == 1 and recorded.records.height == written.height
