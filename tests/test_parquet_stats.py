"""Issue 19, item 5: a data rule proven by the Parquet files' own statistics needs no read
(tpmkit.data.parquet_stats); a rule the statistics do not prove is still checked by
DuckDB, and a bad value still goes back to the reader, which names its file and row."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

pytest.importorskip("duckdb", reason="the DuckDB engine needs tpmkit[duckdb]")
pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

import duckdb

from engines.fixtures import write_project
from tpmkit import zone_offsets
from tpmkit.data.in_duckdb import SPAN, read_in_duckdb
from tpmkit.data.load import load_dataset
from tpmkit.data.parquet_stats import ColumnStats, Rule, holds, span, statistics
from tpmkit.engines.backend import Backend
from tpmkit.engines.dialect import Dialect
from tpmkit.errors import DataError
from tpmkit.project import load

ZONE = "Europe/Berlin"


def connection() -> Any:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


class Spy:
    """A DuckDB connection that keeps the SQL it was given."""

    def __init__(self) -> None:
        self.con = connection()
        self.sql: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.sql.append(sql)
        return self.con.execute(sql, *args)

    def check(self) -> str:
        """The check query (the one aggregate over the files)."""
        (found,) = [s for s in self.sql if s.startswith("SELECT count(*)")]
        return found


# -- the statistics, by hand -------------------------------------------------------------


def two_files(tmp_path: Path, statistics_kept: bool = True) -> list[str]:
    # file a: wait 1.0, 2.0, null; text "x", "y", "z" (row groups of 2 rows: [1.0, 2.0]
    # and [null]); file b: wait 0.5, 7.0, text "b", "c"
    a = pl.DataFrame({"wait": [1.0, 2.0, None], "id": ["x", "y", "z"]})
    b = pl.DataFrame({"wait": [0.5, 7.0], "id": ["b", "c"]})
    paths = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    a.write_parquet(paths[0], row_group_size=2, statistics=statistics_kept)
    b.write_parquet(paths[1], statistics=statistics_kept)
    return [str(p) for p in paths]


def test_the_statistics_of_every_row_group_of_every_file(tmp_path):
    found = statistics(connection(), two_files(tmp_path))
    # smallest of 1.0 and 0.5; largest of 2.0 and 7.0; one null (a's second row group,
    # all null, has no smallest value and is passed over)
    assert found["wait"] == ColumnStats(low=0.5, high=7.0, low_text="0.5", nulls=1, high_text="7.0")
    assert found["id"].low_text == "b" and found["id"].nulls == 0
    assert found["id"].low is None  # texts are not numbers


def test_a_rule_is_proven_only_where_the_statistics_show_it_holds(tmp_path):
    found = statistics(connection(), two_files(tmp_path))
    assert holds(Rule("min(wait) < 0", "wait", below=0.0), found)  # 0.5 is not below 0
    assert holds(Rule("min(wait) < 0.5", "wait", below=0.5), found)  # on the bound holds
    assert not holds(Rule("min(wait) < 1", "wait", below=1.0), found)  # 0.5 may break it
    assert holds(Rule("max(wait) > 7", "wait", above=7.0), found)
    assert not holds(Rule("max(wait) > 5", "wait", above=5.0), found)  # 7.0 breaks it
    assert not holds(Rule("count(wait) < count(*)", "wait", filled=True), found)  # a null
    assert holds(Rule("count(id) < count(*)", "id", filled=True, text=True), found)
    # a rule with nothing the statistics can show (a NaN, an order across columns), or a
    # column the files lack, is never proven
    assert not holds(Rule("NOT isfinite(max(wait))", "wait"), found)
    assert not holds(Rule("NOT isfinite(max(wait))"), found)
    assert not holds(Rule("min(other) < 0", "other", below=0.0), found)


def test_files_without_statistics_prove_nothing(tmp_path):
    found = statistics(connection(), two_files(tmp_path, statistics_kept=False))
    assert found["wait"] == ColumnStats(low=None, high=None, low_text=None, nulls=None)
    assert not holds(Rule("min(wait) < 0", "wait", below=0.0), found)
    assert not holds(Rule("count(id) < count(*)", "id", filled=True, text=True), found)


def test_an_empty_text_or_a_nan_is_not_proven_absent(tmp_path):
    path = tmp_path / "c.parquet"
    pl.DataFrame({"id": ["", "a"], "x": [1.0, float("nan")]}).write_parquet(path)
    found = statistics(connection(), [str(path)])
    assert found["id"].low_text == "" and found["id"].nulls == 0
    assert not holds(Rule("count(NULLIF(id, '')) < count(*)", "id", filled=True, text=True), found)
    # whether a writer counts NaN in its largest value or leaves it out, the NaN rule is
    # never proven (the check reads the column)
    assert not holds(Rule("NOT isfinite(max(x)) OR NOT isfinite(min(x))", "x"), found)


# -- the check with the statistics -------------------------------------------------------


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """The adversarial fixture's calls as typed Parquet (the reader's frame)."""
    root = tmp_path_factory.mktemp("stats")
    project = load(write_project(root))
    source = project.spec.sources["calls"]
    frame = load_dataset("calls", source, project.root, ZONE).frame
    return root, frame, source


def as_parquet(root: Path, frame: pl.DataFrame, source: Any, name: str, **options: Any) -> Any:
    path = root / f"{name}.parquet"
    frame.write_parquet(path, **options)
    return source.model_copy(update={"path": str(path), "format": None, "columns": {}})


def test_rules_the_statistics_prove_are_not_in_the_check(calls):
    root, frame, source = calls
    spy = Spy()
    got = read_in_duckdb(spy, "calls", as_parquet(root, frame, source, "kept"), root, ZONE, None)
    assert got is not None and got.rows_read == frame.height
    check = spy.check()
    # csat's range 1..5 and the durations' ranges are proven (no min/max of them), the
    # required id and time are present (no count of them); a NaN among the durations and
    # a repeated id are still looked for
    assert 'min(CAST("csat" AS DOUBLE)) < 1.0' not in check
    assert 'max(CAST("csat" AS DOUBLE)) > 5.0' not in check
    assert 'min(CAST("wait_seconds" AS DOUBLE)) < 0.0' not in check
    assert 'count(CAST("offered_at" AS TIMESTAMPTZ)) < count(*)' not in check
    assert 'NOT isfinite(max(CAST("wait_seconds" AS DOUBLE)))' in check
    assert "count(DISTINCT hash(" in check


def test_without_statistics_every_rule_is_checked_with_the_same_result(calls):
    root, frame, source = calls
    spy = Spy()
    bare = as_parquet(root, frame, source, "bare", statistics=False)
    got = read_in_duckdb(spy, "calls", bare, root, ZONE, None)
    kept = read_in_duckdb(
        connection(), "calls", as_parquet(root, frame, source, "k2"), root, ZONE, None
    )
    assert got is not None and kept is not None
    assert (got.rows_read, got.day_counts) == (kept.rows_read, kept.day_counts)
    check = spy.check()
    assert 'min(CAST("csat" AS DOUBLE)) < 1.0' in check
    assert 'max(CAST("csat" AS DOUBLE)) > 5.0' in check
    assert 'min(CAST("wait_seconds" AS DOUBLE)) < 0.0' in check
    assert 'count(CAST("offered_at" AS TIMESTAMPTZ)) < count(*)' in check


@pytest.mark.parametrize("kept", [True, False], ids=["statistics", "no statistics"])
def test_a_bad_value_is_still_named_by_the_reader_with_its_file_and_row(tmp_path, calls, kept):
    root, frame, source = calls
    # row 3 (the file's 4th row) gets a satisfaction score of 9 (the contract: 1..5)
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(9.0).otherwise(pl.col("csat")).alias("csat")
    )
    changed = as_parquet(tmp_path, bad, source, "bad", statistics=kept)
    assert read_in_duckdb(connection(), "calls", changed, root, ZONE, None) is None
    with pytest.raises(DataError) as raised:
        load_dataset("calls", changed, root, ZONE)
    located = [i for i in raised.value.issues if i.file and "bad.parquet" in i.file]
    assert any("row 4" in i.message and "9" in i.message for i in located), located


# -- the span of the instants, and the local-time macro it keeps small ---------------------


def epoch_us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp()) * 1_000_000


def test_the_span_of_the_time_columns_by_hand(tmp_path):
    path = tmp_path / "t.parquet"
    utc = pl.Datetime("us", "UTC")
    pl.DataFrame(
        {
            "a": pl.Series(["2026-03-01T10:00:00", "2026-02-01T00:00:00"]).str.to_datetime(),
            "b": pl.Series(["2026-05-01T08:30:00", None]).str.to_datetime(),
            "day": [dt.date(2026, 1, 15), dt.date(2026, 6, 30)],
        }
    ).with_columns(pl.col("a", "b").dt.replace_time_zone("UTC").cast(utc)).write_parquet(path)
    found = statistics(connection(), [str(path)])
    # a and b: from a's 2026-02-01 00:00 (before its 03-01) to b's 2026-05-01 08:30 (its
    # null left out); a and the day: from the day 2026-01-15 to the day 2026-06-30 (each
    # its UTC midnight)
    assert span(found, ["a", "b"]) == (
        epoch_us("2026-02-01T00:00:00+00:00"),
        epoch_us("2026-05-01T08:30:00+00:00"),
    )
    assert span(found, ["a", "day"]) == (
        epoch_us("2026-01-15T00:00:00+00:00"),
        epoch_us("2026-06-30T00:00:00+00:00"),
    )
    assert span(found, []) is None
    bare = tmp_path / "bare.parquet"
    pl.read_parquet(path).write_parquet(bare, statistics=False)
    assert span(statistics(connection(), [str(bare)]), ["a"]) is None


def test_the_macro_bounds_are_whole_utc_years_with_two_days_to_spare():
    year = lambda y: epoch_us(f"{y}-01-01T00:00:00+00:00")  # noqa: E731
    middle = (epoch_us("2026-08-17T06:01:04+00:00"), epoch_us("2026-11-15T14:17:05+00:00"))
    assert zone_offsets.macro_bounds(middle) == (year(2026), year(2027))
    # 2026-01-01 01:00 UTC less two days is in 2025; 2026-12-30 plus two days in 2027
    edges = (epoch_us("2026-01-01T01:00:00+00:00"), epoch_us("2026-12-30T00:00:00+00:00"))
    assert zone_offsets.macro_bounds(edges) == (year(2025), year(2028))
    assert zone_offsets.macro_bounds(None) == (0, year(2100))
    assert zone_offsets.macro_bounds((-(10**15), 10**18)) == (0, year(2100))


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Africa/Casablanca"]
)
def test_a_macro_for_a_span_gives_the_same_wall_clock_times(zone):
    # within the span's years the offsets of polars' rules (the whole-range macro's, itself
    # tested against polars), outside them DuckDB's own timezone(); Berlin's 2026 macro has
    # its two changes only
    middle = (epoch_us("2026-08-17T06:01:04+00:00"), epoch_us("2026-11-15T14:17:05+00:00"))
    small = zone_offsets.local_macro(zone, middle)
    if zone == "Europe/Berlin":
        assert small.count("CASE WHEN epoch_us(t) <") == 3  # the range, and two changes
    found = zone_offsets.offsets(zone)
    low, high = zone_offsets.macro_bounds(middle)
    rng = random.Random(5)
    inside = [s + d for s, _ in found.changes if low <= s < high for d in (-1, 0, 1)]
    inside += [rng.randrange(low, high) for _ in range(2000)] + [low, high - 1]
    outside = [low - 1, high, epoch_us("1999-07-01T12:00:00+00:00")]
    con = connection()
    name = zone_offsets.local_macro_name(zone)
    con.execute(zone_offsets.local_macro(zone))
    points = ", ".join(str(p) for p in inside)
    sql = f"SELECT epoch_us({name}(make_timestamptz(x))) FROM unnest([{points}]) AS u(x)"
    whole = con.execute(sql).fetchall()
    con.execute(small)
    assert con.execute(sql).fetchall() == whole
    for p in outside:
        at = f"make_timestamptz({p})"
        got = con.execute(f"SELECT {name}({at}) = timezone('{zone}', {at})").fetchone()[0]
        assert got, p


def test_the_reader_keeps_the_span_beside_its_view_for_the_engine(calls):
    root, frame, source = calls
    con = connection()
    got = read_in_duckdb(con, "calls", as_parquet(root, frame, source, "span"), root, ZONE, None)
    assert got is not None and got.span is not None
    times = frame.get_column("offered_at").dt.epoch("us")
    assert got.span == (times.min(), times.max())  # offered_at: the calls' one time column
    backend = Backend(None, Dialect("duckdb"), raw=con)
    assert SPAN == "tpmkit_span_"  # the name the engine reads (it imports no tpmkit.data)
    assert backend.span(got.view) == got.span
    assert backend.span("no such view") is None
