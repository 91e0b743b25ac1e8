"""Issue 19, item 5 (round 11): a whole DuckDB run leaves the data rules of every column but
the id to the rows of the view DuckDB reads (`read_in_duckdb(defer=True)`: one flag a row),
which the first pass over the dataset aggregates, or one query of its own
(`tpmkit.engines.deferred`). A flag up sends the run back to be checked as it reads: the
records of a run with a broken row are exactly what they were when the rules were checked
first — the reader's located error, or the row quarantined — for every kind of rule."""

from __future__ import annotations

import pytest
import yaml

pytest.importorskip("duckdb", reason="the DuckDB engine needs tpmkit[duckdb]")
pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

import polars as pl

from engines.agree import differences
from engines.fixtures import write_project
from test_engines_parquet import BROKEN, ZONE, bad_copy, connection, parquet_copy
from tpmkit.data.in_duckdb import CheckedParquet, read_in_duckdb
from tpmkit.data.load import load_dataset
from tpmkit.data.stream import UNCHECKED
from tpmkit.engine.compute import UncheckedRows
from tpmkit.engines.deferred import DeferredChecks
from tpmkit.errors import DataError
from tpmkit.project import load

IDS = {"contact_id"}  # the rules of the id itself stay in the load's own query


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    root = tmp_path_factory.mktemp("edges")
    return load(parquet_copy(write_project(root), root))


def flags_up(con, found: CheckedParquet) -> int:
    """The rows of the view whose flag is up."""
    sql = f'SELECT count_if("{UNCHECKED}") FROM "{found.view}"'
    return int(con.execute(sql).fetchone()[0])


@pytest.mark.parametrize("name", ["calls", "tickets", "qa", "schedule"])
def test_a_clean_dataset_deferred_has_no_flag_up_and_the_readers_counts(edges, name):
    # the same rows, columns, values and rows per local day (the fixture's DST days
    # among them) as the reader's; every flag down
    source = edges.spec.sources[name]
    con = connection()
    got = read_in_duckdb(con, name, source, edges.root, ZONE, None, defer=True)
    assert isinstance(got, CheckedParquet)
    reference = load_dataset(name, source, edges.root, ZONE, None)
    assert got.day_counts == reference.day_counts
    assert got.rows_read == reference.rows_read
    assert got.columns == reference.columns  # the flag is the view's, not a column
    assert UNCHECKED not in got.frame.collect_schema().names()
    if got.unchecked:
        assert flags_up(con, got) == 0
    else:  # every rule proven by the files' statistics or the id's own
        view = con.execute(f'SELECT * FROM "{got.view}" LIMIT 0').pl()
        assert UNCHECKED not in view.columns


def test_the_dst_days_are_counted_alike_deferred_or_not(edges):
    # the fixture has both 2026 Berlin changes: 23 and 25 local hours
    import datetime as dt

    source = edges.spec.sources["calls"]
    deferred = read_in_duckdb(connection(), "calls", source, edges.root, ZONE, None, True)
    checked = read_in_duckdb(connection(), "calls", source, edges.root, ZONE, None, False)
    assert deferred is not None and checked is not None
    assert deferred.day_counts == checked.day_counts
    days = deferred.day_counts[1]
    assert days[dt.date(2026, 3, 29)] > 0 and days[dt.date(2026, 10, 25)] > 0


@pytest.mark.parametrize(
    ("name", "change"),
    BROKEN,
    ids=[f"{n}-{c.meta.output_name()}-{i}" for i, (n, c) in enumerate(BROKEN)],
)
def test_a_deferred_rule_broken_raises_a_flag_on_that_row_alone(tmp_path, edges, name, change):
    _, source = bad_copy(tmp_path, edges, name, change)
    con = connection()
    got = read_in_duckdb(con, name, source, edges.root, ZONE, None, defer=True)
    if change.meta.output_name() in IDS:  # the id's own rules: looked at in the load
        assert got is None
        return
    assert isinstance(got, CheckedParquet) and got.unchecked
    assert flags_up(con, got) == 1  # row 3 alone
    # not deferred, the load's own query finds it, as before
    assert read_in_duckdb(connection(), name, source, edges.root, ZONE, None) is None


def project_with(tmp_path, edges, name: str, change: pl.Expr):
    path, _ = bad_copy(tmp_path, edges, name, change)
    text = yaml.safe_load((edges.root / "tpmkit-parquet.yaml").read_text(encoding="utf-8"))
    text["sources"][name]["path"] = str(path)
    project_file = edges.root / f"tpmkit-bad-{tmp_path.name}.yaml"
    project_file.write_text(yaml.safe_dump(text), encoding="utf-8")
    return load(project_file), path


@pytest.mark.parametrize(
    ("name", "change"),
    BROKEN,
    ids=[f"{n}-{c.meta.output_name()}-{i}" for i, (n, c) in enumerate(BROKEN)],
)
@pytest.mark.parametrize("by", [[], ["team"]], ids=["plain", "by-team"])
def test_a_broken_row_gives_the_readers_located_error_on_both_engines(
    tmp_path, edges, name, change, by
):
    # by team: the calls are attributed by polars and uploaded, so no pass reads the
    # view: the flags are looked at by a query of their own
    project, path = project_with(tmp_path, edges, name, change)
    errors = []
    for engine in ("polars", "duckdb"):
        with pytest.raises(DataError) as raised:
            project.with_engine(engine).evaluate(cache=False, period="week", by=by)
        errors.append(raised.value)
    assert [str(e) for e in errors[0].issues] == [str(e) for e in errors[1].issues]
    assert any(i.file == str(path) for i in errors[1].issues), errors[1].issues


@pytest.mark.parametrize(
    ("name", "change"),
    [BROKEN[1], BROKEN[5], BROKEN[9], BROKEN[10]],  # NaN, range, order, score above max
    ids=["nan", "range", "order", "score"],
)
def test_a_broken_row_quarantined_gives_the_polars_records(tmp_path, edges, name, change):
    project, _ = project_with(tmp_path, edges, name, change)
    options = {"period": "week", "on_bad_rows": "quarantine", "rejects_dir": tmp_path / "r"}
    reference = project.evaluate(cache=False, **options).records
    other = project.with_engine("duckdb").evaluate(cache=False, **options).records
    assert differences(reference, other, []) == []
    assert reference.get_column("quarantined").max() == 1


def test_a_clean_run_looks_at_the_flags_in_a_pass_not_a_query_of_their_own(edges, monkeypatch):
    # the calls' view carries flags (its float columns may hold NaN, which no statistic
    # disproves); the first calls pass looks at them, and the records are polars'
    import tpmkit.engines.deferred as deferred

    rest: list[set[str]] = []
    looked = deferred.DeferredChecks.rest

    def spy(self, con, views):
        rest.append(set(self.checks) - self.looked)
        return looked(self, con, views)

    monkeypatch.setattr(deferred.DeferredChecks, "rest", spy)
    reference = edges.evaluate(cache=False, period="week").records
    other = edges.with_engine("duckdb").evaluate(cache=False, period="week").records
    assert differences(reference, other, []) == []
    assert rest and "calls" not in rest[-1]


def test_a_pass_that_saw_every_row_looks_at_the_flags_else_a_query_does(tmp_path):
    import duckdb

    checks = DeferredChecks({"calls": (UNCHECKED, 10)})
    checks.verify("calls", False, 10)
    assert checks.looked == {"calls"}
    with pytest.raises(UncheckedRows):
        DeferredChecks({"calls": (UNCHECKED, 10)}).verify("calls", True, 10)
    # a row without a time is in no pass: its flag is read by the query of their own
    con = duckdb.connect()
    con.execute(f"CREATE VIEW v AS SELECT i, i = 9 AS {UNCHECKED} FROM range(10) t(i)")
    unseen = DeferredChecks({"calls": (UNCHECKED, 10)})
    unseen.verify("calls", False, 9)
    assert unseen.looked == set()
    with pytest.raises(UncheckedRows):
        unseen.rest(con, {"calls": "v"})
    con.execute(f"CREATE OR REPLACE VIEW v AS SELECT i, false AS {UNCHECKED} FROM range(10) t(i)")
    clean = DeferredChecks({"calls": (UNCHECKED, 10)})
    clean.verify("calls", False, 9)
    clean.rest(con, {"calls": "v"})
    assert clean.looked == {"calls"}
    with pytest.raises(UncheckedRows):  # not the rows the load counted
        DeferredChecks({"calls": (UNCHECKED, 11)}).rest(con, {"calls": "v"})
