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
from engines.warehouse import EXAMPLE, postgres_project, postgres_tables
from tpmkit.errors import DefinitionError
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
