"""Issue 19, item 5: the DuckDB engine compiles each query once (tpmkit.engines.compiled)
and later runs execute the kept SQL without Ibis. The records of a run from the cache are
the records of a compiling run; any change of what the SQL depends on (a definition, the
grouping, a table's columns, the code) finds another entry; the cache can be turned off,
and a folder that cannot be written only means it is not filled."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from engines.agree import differences
from test_engines_parquet import parquet_copy
from tpmkit.duckdb_memory import release
from tpmkit.engines import compiled
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty compiled-query cache of this test alone."""
    folder = tmp_path / "compiled"
    monkeypatch.setenv(compiled.VARIABLE, str(folder))
    return folder


@pytest.fixture(scope="module")
def project_file(tmp_path_factory):
    """The example with Parquet exports (DuckDB reads and checks them: views) beside CSV
    ones it uploads (the workbook-free rest)."""
    root = tmp_path_factory.mktemp("compiled")
    copy = root / "project"
    shutil.copytree(EXAMPLE.parent, copy, ignore=shutil.ignore_patterns(".tpmkit"))
    return parquet_copy(copy / "tpmkit.yaml", root)


def duckdb_records(path: Path, **options) -> pl.DataFrame:
    options = {"period": "week", "by": ["team"], **options}
    return load(path).with_engine("duckdb").evaluate(cache=False, **options).records


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_a_second_run_executes_the_kept_sql_and_gives_the_same_records(cache, project_file):
    first = duckdb_records(project_file)
    stored = entries(cache)
    assert len(stored) == 1
    queries = json.loads(stored[0].read_text())["queries"]
    # every pass and stock of the evaluation, its SQL on the views and uploaded tables
    assert any(name.startswith("pass ") for name in queries)
    assert any(name.startswith("stock ") for name in queries)
    assert all("SELECT" in q["sql"] for q in queries.values())
    second = duckdb_records(project_file)
    assert entries(cache) == stored  # a hit adds nothing
    assert differences(first, second, ["team"]) == []
    reference = load(project_file).evaluate(cache=False, period="week", by=["team"]).records
    assert differences(reference, second, ["team"]) == []


def test_a_run_from_the_cache_never_imports_ibis(cache, project_file):
    script = (
        "import sys\n"
        "from tpmkit.project import load\n"
        f"p = load({str(project_file)!r}).with_engine('duckdb')\n"
        "r = p.evaluate(cache=False, period='week', by=['team']).records\n"
        "assert r.height > 0\n"
        "print(sum(1 for m in sys.modules if m == 'ibis' or m.startswith(('ibis.', 'sqlglot'))))\n"
    )

    def modules() -> int:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        return int(done.stdout.split()[-1])

    assert modules() > 0  # the first run compiles with Ibis
    assert modules() == 0  # the second runs the kept SQL alone


def test_the_kept_sql_is_what_runs(cache, project_file):
    # a hit runs the entry's SQL as it is: an entry altered by hand shows in the records
    # (so the test above compares a real hit), and is found under that key alone
    first = duckdb_records(project_file)
    [path] = entries(cache)
    entry = json.loads(path.read_text())
    for name, query in entry["queries"].items():
        if name.startswith("pass "):
            query["sql"] = query["sql"] + " LIMIT 0"  # every pass finds no rows
    path.write_text(json.dumps(entry))
    altered = duckdb_records(project_file)
    assert (
        altered.filter(pl.col("value").is_not_null()).height
        < first.filter(pl.col("value").is_not_null()).height
    )
    # another grouping is another key: compiled afresh, right
    by_agent = duckdb_records(project_file, by=["agent_id"])
    reference = load(project_file).evaluate(cache=False, period="week", by=["agent_id"]).records
    assert differences(reference, by_agent, ["agent_id"]) == []
    assert len(entries(cache)) == 2


def test_a_changed_definition_is_compiled_afresh(cache, project_file, tmp_path):
    before = duckdb_records(project_file, metrics=None)
    [kept] = entries(cache)
    entry = json.loads(kept.read_text())
    for name, query in entry["queries"].items():
        if name.startswith("pass "):
            query["sql"] = query["sql"] + " LIMIT 0"  # poisoned: must not be used any more
    kept.write_text(json.dumps(entry))
    # the service level's answer threshold changed in its metric file: a new key
    changed = tmp_path / "changed"
    shutil.copytree(project_file.parent, changed)
    text = yaml.safe_load((changed / "tpmkit-parquet.yaml").read_text())
    text.setdefault("customize", {}).setdefault("service_level", {})["parameters"] = {
        "answer_within_seconds": 60
    }
    (changed / "tpmkit-parquet.yaml").write_text(yaml.safe_dump(text, sort_keys=False))
    after = duckdb_records(changed / "tpmkit-parquet.yaml")
    assert len(entries(cache)) == 2
    reference = (
        load(changed / "tpmkit-parquet.yaml").evaluate(cache=False, period="week", by=["team"])
    ).records
    assert differences(reference, after, ["team"]) == []

    def level(records: pl.DataFrame) -> list[float]:
        return records.filter(pl.col("metric") == "service_level")["value"].to_list()

    assert level(after) != level(before)  # 60 s answers more calls in time than 20 s
    assert all(a >= b for a, b in zip(level(after), level(before), strict=True) if a and b)


def test_the_key_names_everything_the_sql_depends_on(project_file):
    project = load(project_file)
    spec = project.metrics["aht"].spec
    table = (
        "tpmkit_read_calls_0",
        "view",
        "offered_at",
        [("offered_at", "TIMESTAMP WITH TIME ZONE")],
    )
    base = {
        "dialect": "duckdb",
        "zones": ("Europe/Berlin",),
        "timezone": "Europe/Berlin",
        "grain": "week",
        "by": ["team"],
        "window": (None, None),
        "metrics": [spec],
        "helpers": [],
        "aliases": {},
        "unavailable": {},
        "tables": {"calls": table},
    }
    key = compiled.cache_key(**base)
    assert compiled.cache_key(**base) == key
    other_spec = spec.model_copy(update={"parameters": {**spec.parameters, "x": 1}})
    changes = [
        {"grain": "month"},
        {"by": ["agent_id"]},
        {"window": ("2026-09-01", None)},
        {"timezone": "UTC"},
        {"metrics": [other_spec]},
        {"helpers": [spec]},
        {"unavailable": {"aht": "no column"}},
        {"aliases": {"handle_time": "aht"}},
        {"tables": {"calls": (*table[:3], [("offered_at", "TIMESTAMP")])}},
        {"tables": {"calls": ("tpmkit_calls", "upload", *table[2:])}},
    ]
    for change in changes:
        assert compiled.cache_key(**{**base, **change}) != key, change


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path, project_file):
    monkeypatch.setenv(compiled.VARIABLE, "off")
    assert compiled.folder() is None
    assert duckdb_records(project_file).height > 0
    monkeypatch.setenv(compiled.VARIABLE, str(tmp_path / "unused"))
    assert not (tmp_path / "unused").exists() or not entries(tmp_path / "unused")


def test_a_folder_that_cannot_be_written_is_a_cache_not_filled(monkeypatch, tmp_path, project_file):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(compiled.VARIABLE, str(blocked / "compiled"))
    reference = load(project_file).evaluate(cache=False, period="week", by=["team"]).records
    assert differences(reference, duckdb_records(project_file), ["team"]) == []


def test_an_unreadable_entry_is_a_miss(cache, project_file):
    first = duckdb_records(project_file)
    [path] = entries(cache)
    path.write_text("{not json")
    again = duckdb_records(project_file)
    assert differences(first, again, ["team"]) == []
    assert json.loads(path.read_text())["format"] == compiled.FORMAT  # written afresh


def test_releasing_memory_keeps_the_limit():
    # DuckDB shows its limit rounded ("286.0 MiB" for 300MB): releasing again and again
    # sets back the limit first shown, never a smaller one each time
    con = duckdb.connect()
    con.execute("SET memory_limit = '300MB'")
    limits = []
    for _ in range(4):
        release(con)
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
    assert len(set(limits)) == 1
    assert con.execute("SELECT 42").fetchone()[0] == 42


def test_result_types_are_kept_exactly():
    # the types a result is cast to on a hit: by name, or as Arrow IPC for the rest
    from tpmkit.engines.compiled import _schema, _schema_text

    schema = pl.Schema(
        {
            "metric\x00agg_count": pl.Int64(),
            "__first": pl.Datetime("us", "Europe/Berlin"),
            "naive": pl.Datetime("ns"),
            "sum": pl.Decimal(38, 0),
            "agent_id": pl.String(),
            "flag": pl.Boolean(),
            "listed": pl.List(pl.Int64()),
        }
    )
    text = json.loads(json.dumps(_schema_text(schema)))
    assert _schema(text) == schema
    assert text[0] == ["metric\x00agg_count", "Int64"]
    with pytest.raises(ValueError):
        _schema([["x", "Datetime days"]])


def test_no_kept_query_makes_duckdb_materialise_a_table(cache, project_file):
    # a horizon read from the pass's own table made DuckDB materialise that table (every
    # column of every row) as a common table expression: 1.5 GB instead of 1.1 at 10 M
    duckdb_records(project_file, by=["agent_id"])
    [path] = entries(cache)
    queries = json.loads(path.read_text())["queries"]
    assert any("SELECT MAX" in q["sql"] for q in queries.values())  # horizons in the SQL
    assert [name for name, q in queries.items() if q["sql"].lstrip().startswith("WITH")] == []


def test_kept_sql_that_fails_is_compiled_again(cache, project_file):
    # SQL that no longer runs (a table renamed by code the key did not tell apart) is
    # built and compiled again, and the entry rewritten; never a traceback
    first = duckdb_records(project_file)
    [path] = entries(cache)
    entry = json.loads(path.read_text())
    for name, query in entry["queries"].items():
        if name.startswith("pass "):
            query["sql"] = "SELECT * FROM no_such_table"
    path.write_text(json.dumps(entry))
    again = duckdb_records(project_file)
    assert differences(first, again, ["team"]) == []
    rewritten = json.loads(path.read_text())["queries"]
    assert "no_such_table" not in " ".join(q["sql"] for q in rewritten.values())


def test_a_read_only_cache_still_serves_its_entries(cache, project_file, monkeypatch):
    first = duckdb_records(project_file)
    [path] = entries(cache)
    entry = json.loads(path.read_text())
    for name, query in entry["queries"].items():
        if name.startswith("pass "):
            query["sql"] += " LIMIT 0"  # shows whether the entry is read
    path.write_text(json.dumps(entry))

    def refused(*args, **kwargs):  # a folder mounted read-only (root ignores chmod)
        raise PermissionError("read-only file system")

    monkeypatch.setattr(compiled.os, "utime", refused)
    altered = duckdb_records(project_file)
    assert altered.filter(pl.col("value").is_not_null()).height < first.height
