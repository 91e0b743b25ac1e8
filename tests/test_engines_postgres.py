"""Issue 19 item 4: a real PostgreSQL server, started by the tests themselves (a
throw-away cluster, tests/engines/pg.py), holds the example's exports as tables; tpmkit
reads them as `table:` sources (the password from TPMKIT_DB_PASSWORD) and computes the
catalogue there too (`engine: postgres`), with the records the files give on polars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")
pytest.importorskip("psycopg", reason="PostgreSQL sources need tpmkit[postgres]")

from engines.agree import differences
from engines.pg import PASSWORD, cluster, server_binaries
from engines.warehouse import (
    EXAMPLE,
    postgres_project,
    postgres_tables,
    postgres_typed_tables,
    typed_project,
)
from tpmkit.errors import DataError, DefinitionError
from tpmkit.project import load

if server_binaries() is None:
    pytest.skip(
        "the PostgreSQL server (Debian package postgresql) is not installed; .ci/run installs it",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server():
    previous = os.environ.get("TPMKIT_DB_PASSWORD")
    os.environ["TPMKIT_DB_PASSWORD"] = PASSWORD
    try:
        with cluster() as running:
            from tpmkit.engines.backend import connect_source

            loader = connect_source(running.url, Path("."))
            postgres_tables(loader.con)
            postgres_typed_tables(loader.con)
            loader.close()
            yield running
    finally:
        if previous is None:
            os.environ.pop("TPMKIT_DB_PASSWORD", None)
        else:
            os.environ["TPMKIT_DB_PASSWORD"] = previous


@pytest.fixture(scope="module")
def from_files():
    project = load(EXAMPLE / "tpmkit.yaml")
    return {
        (grain, tuple(by)): project.evaluate(period=grain, by=by, cache=False).records
        for grain, by in [("week", ["team"]), ("hour", []), ("all", ["team"])]
    }


@pytest.fixture(scope="module")
def tables(server, tmp_path_factory):
    return load(postgres_project(tmp_path_factory.mktemp("pg"), server.url))


@pytest.mark.parametrize("engine", ["polars", "duckdb", "postgres"])
def test_postgres_tables_give_the_records_the_files_give(tables, from_files, engine):
    records = tables.with_engine(engine).evaluate(period="week", by=["team"]).records
    assert records.height > 100
    assert differences(from_files[("week", ("team",))], records, ["team"]) == []


@pytest.mark.parametrize(("grain", "by"), [("hour", []), ("all", ["team"])])
def test_computing_in_postgres_agrees_at_other_grains(tables, from_files, grain, by):
    records = tables.with_engine("postgres").evaluate(period=grain, by=by).records
    assert differences(from_files[(grain, tuple(by))], records, by) == []


def test_a_wrong_password_is_refused_without_showing_it(tables, monkeypatch):
    monkeypatch.setenv("TPMKIT_DB_PASSWORD", "not-it")
    with pytest.raises(Exception) as caught:  # the driver's own error, passed on
        tables.evaluate(["aht"])
    assert "not-it" not in str(caught.value)
    assert "password" in str(caught.value).lower()


def test_engine_postgres_needs_a_postgres_connection(tmp_path):
    (tmp_path / "tpmkit.yaml").write_text("name: t\nengine: postgres\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="engine: postgres computes"):
        load(tmp_path / "tpmkit.yaml").evaluate(["aht"], data={"calls": _one_call()})


def _one_call():
    import polars as pl

    return pl.DataFrame(
        {
            "contact_id": ["c"],
            "offered_at": ["2026-01-05 09:00"],
            "answered": [True],
            "wait_seconds": [3.0],
            "talk_seconds": [60.0],
        }
    )


@pytest.fixture(scope="module")
def typed(server, tmp_path_factory):
    """The example as tpmkit loads it, as typed PostgreSQL tables (timestamptz, date,
    boolean, double precision, text)."""
    return typed_project(tmp_path_factory.mktemp("pg-typed"), server.url)


@pytest.fixture
def reads(monkeypatch):
    """The datasets whose rows tpmkit's reader read from a table."""
    from engines.warehouse import count_table_reads

    return count_table_reads(monkeypatch)


@pytest.mark.parametrize(("grain", "by"), [("week", ["team"]), ("all", ["team"]), ("hour", [])])
def test_typed_tables_are_checked_and_computed_in_postgres(typed, from_files, reads, grain, by):
    records = load(typed).with_engine("postgres").evaluate(period=grain, by=by).records
    assert differences(from_files[(grain, tuple(by))], records, by) == []
    # only the lookups (joined on the backend after the reader read them) and the untyped
    # custom datasets went to the client
    assert set(reads) <= {"agents", "queues", "incidents", "system_events"}


def test_a_bad_value_in_a_postgres_table_is_located_as_before(server, typed, reads):
    from tpmkit.engines.backend import connect_source

    con = connect_source(server.url, Path("."))
    con.con.raw_sql(
        "CREATE TABLE broken_calls AS SELECT * FROM typed_calls;"
        "UPDATE broken_calls SET wait_seconds = -5 WHERE contact_id = "
        "(SELECT contact_id FROM typed_calls LIMIT 1 OFFSET 2)"
    )
    con.close()
    path = typed.with_name("broken.yaml")  # beside the metrics folder it names
    text = typed.read_text(encoding="utf-8").replace("table: typed_calls", "table: broken_calls")
    path.write_text(text, encoding="utf-8")
    messages = []
    for engine in ("postgres", "polars"):
        with pytest.raises(DataError) as caught:
            load(path).with_engine(engine).evaluate(["asa"], period="week")
        messages.append(str(caught.value) + "\n".join(str(i) for i in caught.value.issues))
        assert "calls" in reads  # the broken table went to tpmkit's reader
    assert messages[0] == messages[1]
    assert "table `broken_calls`" in messages[0] and "wait_seconds" in messages[0]
    runs = [
        load(path).with_engine(e).evaluate(["asa"], period="all", on_bad_rows="quarantine")
        for e in ("polars", "postgres")
    ]
    assert runs[1].records.get_column("quarantined").to_list() == [1]
    assert differences(runs[0].records, runs[1].records, []) == []


def test_a_tenure_band_is_made_in_postgres(typed, reads):
    by = ["team", "tenure_band"]
    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(period="month", by=by, cache=False)
    records = load(typed).with_engine("postgres").evaluate(period="month", by=by).records
    assert records.get_column("tenure_band").n_unique() > 3
    assert differences(reference.records, records, by) == []
    assert set(reads) <= {"agents", "queues", "incidents", "system_events"}
