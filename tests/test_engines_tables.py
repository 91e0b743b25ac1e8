"""Issue 19 item 4: sources read from tables of a DuckDB database file (`table:` under
`connection:`) go through tpmkit's own reader — the same mapping, types and rules as an
export — and give the records the files give, on the polars and the DuckDB engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import polars as pl
import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from engines.agree import differences
from engines.warehouse import EXAMPLE, table_project
from tpmkit.errors import DataError, DefinitionError
from tpmkit.project import load


@pytest.fixture(scope="module")
def from_files():
    return load(EXAMPLE / "tpmkit.yaml").evaluate(period="week", by=["team"], cache=False).records


@pytest.mark.parametrize("typed", [False, True], ids=["text-columns", "typed-columns"])
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_tables_give_the_records_the_files_give(tmp_path, from_files, typed, engine):
    project = load(table_project(tmp_path, typed=typed)).with_engine(engine)
    records = project.evaluate(period="week", by=["team"]).records
    assert records.height == from_files.height
    assert differences(from_files, records, ["team"]) == []


def test_a_bad_value_in_a_table_is_a_located_error(tmp_path):
    import duckdb

    path = table_project(tmp_path)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    # the third row of the calls table: a wait that is not a duration
    con.execute(
        'UPDATE calls SET "Queue Time" = \'soon\' WHERE "Contact ID" = '
        '(SELECT "Contact ID" FROM calls LIMIT 1 OFFSET 2)'
    )
    con.close()
    with pytest.raises(DataError) as caught:
        load(path).with_engine("duckdb").evaluate(["asa"], period="week")
    text = str(caught.value) + "\n".join(str(i) for i in caught.value.issues)
    assert "wait_seconds" in text and "'soon'" in text
    assert "table `calls`" in text and "row 3" in text


def test_a_bad_row_of_a_table_is_quarantined_the_same_on_both_engines(tmp_path):
    import duckdb

    path = table_project(tmp_path)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute(
        'UPDATE calls SET "Queue Time" = \'soon\' WHERE "Contact ID" = '
        '(SELECT "Contact ID" FROM calls LIMIT 1 OFFSET 2)'
    )
    con.close()
    runs = [
        load(path).with_engine(engine).evaluate(["asa"], period="all", on_bad_rows="quarantine")
        for engine in ("polars", "duckdb")
    ]
    reference, other = (r.records for r in runs)
    assert reference.get_column("quarantined").to_list() == [1]
    assert differences(reference, other, []) == []
    assert other.get_column("quarantined").to_list() == [1]
    assert (tmp_path / ".tpmkit" / "rejects" / "calls.rejects.csv").exists()


def test_table_sources_need_a_connection(tmp_path):
    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nsources:\n  calls: {table: calls}\n", encoding="utf-8"
    )
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path / "tpmkit.yaml")
    (issue,) = caught.value.issues
    assert "needs a `connection:`" in issue.message
    assert issue.line == 3  # at the source's `table:`, not the document


def test_a_source_has_a_path_or_a_table_not_both(tmp_path):
    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nconnection: duckdb://w.duckdb\nsources:\n  calls: {table: calls, path: c.csv}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path / "tpmkit.yaml")
    assert "not both" in "\n".join(str(i) for i in caught.value.issues)


def test_a_missing_database_file_and_table_are_named(tmp_path):
    path = table_project(tmp_path)
    (tmp_path / "warehouse.duckdb").rename(tmp_path / "elsewhere.duckdb")
    with pytest.raises(DefinitionError, match="no DuckDB database"):
        load(path).evaluate(["asa"])
    (tmp_path / "elsewhere.duckdb").rename(tmp_path / "warehouse.duckdb")
    path.write_text(path.read_text().replace("table: calls", "table: kalls"))
    with pytest.raises(DefinitionError, match="cannot read table `kalls`"):
        load(path).evaluate(["asa"])


def test_a_password_in_the_connection_is_refused(tmp_path):
    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nconnection: postgres://ann:secret@localhost/db\nsources:\n  calls: {table: calls}\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path / "tpmkit.yaml").evaluate(["asa"])
    shown = str(caught.value) + "\n".join(str(i) for i in caught.value.issues)
    assert "TPMKIT_DB_PASSWORD" in shown and "secret" not in shown


def test_validate_refuses_a_password_even_where_no_source_reads_the_connection(tmp_path):
    # the project file is committed whether or not a run opens the connection; the
    # message is located and never repeats the URL
    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nconnection: postgres://ann:s3cret-pw@localhost/db\nsources: {}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "tpmkit", "validate", "-p", str(tmp_path / "tpmkit.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 2
    assert "tpmkit.yaml:2:13" in shown and "TPMKIT_DB_PASSWORD" in shown
    assert "s3cret" not in shown and "Traceback" not in shown


def test_the_cli_computes_on_duckdb_from_tables(tmp_path):
    path = table_project(tmp_path)
    env = {**os.environ, "NO_COLOR": "1"}
    ran = [
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tpmkit",
                "evaluate",
                "-p",
                str(path),
                "--engine",
                engine,
                "--format",
                "json",
                "-q",
                "aht",
                "fcr_repeat",
                "backlog",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        for engine in ("polars", "duckdb")
    ]
    assert [r.returncode for r in ran] == [0, 0], ran[1].stderr
    # the same records, to the last digits that summing in another order may change
    reference, other = (pl.DataFrame(json.loads(r.stdout)) for r in ran)
    assert reference.height > 10
    assert differences(reference, other, []) == []


def test_spark_tables_need_no_connection_but_need_spark(tmp_path):
    """With `engine: spark` and no `connection:`, `table:` names a table of the Spark
    session's catalog; another engine cannot read it and says how to run it."""
    from typer.testing import CliRunner

    from tpmkit.cli.app import app

    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nengine: spark\nsources:\n  calls: {table: main.cc.calls}\n", encoding="utf-8"
    )
    project = load(tmp_path / "tpmkit.yaml")
    assert project.definitions.spec.sources["calls"].table == "main.cc.calls"
    with pytest.raises(DefinitionError) as caught:
        project.with_engine("duckdb").evaluate(["aht"], period="week")
    text = str(caught.value) + "\n".join(str(i) for i in caught.value.issues)
    assert "Spark's catalog" in text and "--engine spark" in text
    result = CliRunner().invoke(
        app, ["evaluate", "-p", str(tmp_path / "tpmkit.yaml"), "--engine", "polars", "aht"]
    )
    assert result.exit_code == 2, result.output
    assert "--engine spark" in result.output and "Traceback" not in result.output


def test_validate_opens_each_table_without_its_rows(tmp_path):
    """validate names a table the connection does not have, and a mapped column a table
    lacks, at their lines; a project whose tables are all there is valid."""
    from tpmkit.project import validate

    path = table_project(tmp_path)
    assert [i for i in validate(path) if i.severity == "error"] == []
    text = path.read_text(encoding="utf-8").replace("table: tickets", "table: tickts", 1)
    text = text.replace('"Queue": queue', '"Queue Name": queue', 1)
    path.write_text(text, encoding="utf-8")
    issues = validate(path)
    line = 1 + next(i for i, t in enumerate(text.splitlines()) if "table: tickts" in t)
    missing = next(i for i in issues if "tickts" in i.message)
    assert (missing.severity, missing.line) == ("error", line)
    assert "cannot read table `tickts`" in missing.message
    mapped = next(i for i in issues if "Queue Name" in i.message)
    assert mapped.severity == "warning" and "not in table `calls`" in mapped.message


def test_validate_says_it_does_not_open_sparks_catalog(tmp_path):
    from tpmkit.project import validate

    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nengine: spark\nsources:\n  calls: {table: main.cc.calls}\n", encoding="utf-8"
    )
    (issue,) = [i for i in validate(tmp_path / "tpmkit.yaml") if "Spark" in i.message]
    assert issue.severity == "warning" and issue.line == 2
    assert "not opened by validate" in issue.message and "tpmkit check" in str(issue.hint)
    # without engine: spark such a table is an error at its line, said once
    (tmp_path / "tpmkit.yaml").write_text(
        "name: t\nsources:\n  calls: {table: calls}\n", encoding="utf-8"
    )
    (issue,) = validate(tmp_path / "tpmkit.yaml")
    assert (issue.severity, issue.line) == ("error", 3) and "needs a `connection:`" in issue.message


def test_a_missing_engine_package_says_which_extra(tmp_path, monkeypatch):
    """With Ibis installed but not DuckDB (tpmkit[spark] alone), --engine duckdb names the
    extra to install instead of failing as a bug."""
    import sys

    from tpmkit.engines.backend import open_backend
    from tpmkit.errors import UsageError

    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    with pytest.raises(UsageError) as caught:
        open_backend("duckdb", None, tmp_path)
    assert "pip install 'tpmkit[duckdb]'" in str(caught.value)
