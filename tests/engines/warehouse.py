"""The example's exports as tables of a DuckDB database file, and the example's project
file reading them with `table:` (the same column mappings) from `connection:`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contact-center"
TABLES = {  # dataset -> export file
    "calls": "acd_calls.csv",
    "tickets": "tickets.csv",
    "qa": "qa.csv",
    "schedule": "schedule.csv",
    "costs": "costs.csv",
    "agents": "roster.csv",
    "queues": "queues.csv",
    "system_events": "system_events.parquet",
    "incidents": "incidents.csv",
    "coaching": "coaching.csv",
}


def write_warehouse(root: Path, *, typed: bool) -> Path:
    """warehouse.duckdb under `root` with one table per dataset: every column text
    (`typed` False: as an export, tpmkit types it) or typed by DuckDB's reader."""
    import duckdb

    root.mkdir(parents=True, exist_ok=True)
    path = root / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    for table, file in TABLES.items():
        source = str(EXAMPLE / "data" / file)
        if file.endswith(".parquet"):
            reader = f"read_parquet('{source}')"
        else:
            reader = f"read_csv('{source}', all_varchar = {str(not typed).lower()})"
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM {reader}')
    con.close()
    return path


def table_project(root: Path, *, typed: bool = False) -> Path:
    """A copy of the example project whose sources are tables of warehouse.duckdb."""
    write_warehouse(root, typed=typed)
    shutil.copytree(EXAMPLE / "metrics", root / "metrics", dirs_exist_ok=True)
    # the notes beside the project file are not a table: the same file, as the example has it
    shutil.copy(EXAMPLE / "annotations.csv", root / "annotations.csv")
    text = (EXAMPLE / "tpmkit.yaml").read_text(encoding="utf-8")
    for table, file in TABLES.items():
        text = text.replace(f"path: data/{file}", f"table: {table}")
    assert "path:" not in re.sub(r"#.*", "", text)
    text = text.replace("sources:\n", "connection: duckdb://warehouse.duckdb\nsources:\n", 1)
    path = root / "tpmkit.yaml"
    path.write_text(text + "cache: false\n", encoding="utf-8")
    return path


def postgres_tables(con: object) -> None:
    """Create one table per dataset on an Ibis PostgreSQL connection `con`."""
    import polars as pl

    for table, file in TABLES.items():
        path = EXAMPLE / "data" / file
        frame = (
            pl.read_parquet(path)
            if file.endswith(".parquet")
            else pl.read_csv(path, infer_schema=False)
        )
        con.create_table(table, frame.to_arrow(), overwrite=True)  # type: ignore[attr-defined]


def postgres_project(root: Path, url: str) -> Path:
    """A copy of the example project whose sources are tables of the database at `url`."""
    path = table_project(root)
    text = path.read_text(encoding="utf-8").replace("duckdb://warehouse.duckdb", url)
    path.write_text(text, encoding="utf-8")
    return path


def loaded_frames() -> dict[str, object]:
    """The example's datasets as tpmkit's reader makes them (canonical names, contract
    types: instants with the project's zone, dates, booleans, numbers, text)."""
    from tpmkit.data import load_dataset
    from tpmkit.project import load

    project = load(EXAMPLE / "tpmkit.yaml").definitions
    return {
        name: load_dataset(name, project.spec.sources[name], EXAMPLE, project.spec.timezone).frame
        for name in TABLES
    }


def typed_project(root: Path, url: str | None = None) -> Path:
    """A copy of the example project whose sources are the example as loaded by tpmkit
    (`loaded_frames`), written as typed tables with canonical columns: of warehouse.duckdb,
    or (`url`) the tables `typed_<dataset>` of the PostgreSQL database at `url`
    (`postgres_typed_tables`)."""
    if url is None:
        import duckdb

        root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(root / "warehouse.duckdb"))
        for table, frame in loaded_frames().items():
            con.register("loaded", frame.to_arrow())  # type: ignore[attr-defined]
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM loaded')
            con.unregister("loaded")
        con.close()
    shutil.copytree(EXAMPLE / "metrics", root / "metrics", dirs_exist_ok=True)
    shutil.copy(EXAMPLE / "annotations.csv", root / "annotations.csv")
    text = (EXAMPLE / "tpmkit.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\n    # an ACD export.*\n", "\n", text)
    text = re.sub(r"\n    columns:\n(      .*\n)+", "\n", text)  # already canonical
    for table, file in TABLES.items():
        text = text.replace(f"path: data/{file}", f"table: {'typed_' if url else ''}{table}")
    connection = url or "duckdb://warehouse.duckdb"
    text = text.replace("sources:\n", f"connection: {connection}\nsources:\n", 1)
    path = root / "tpmkit.yaml"
    path.write_text(text + "cache: false\n", encoding="utf-8")
    return path


def postgres_typed_tables(con: object) -> None:
    """The example as loaded by tpmkit, as typed tables `typed_<dataset>` on an Ibis
    PostgreSQL connection `con` (timestamptz, date, boolean, double precision, text)."""
    for table, frame in loaded_frames().items():
        con.create_table(f"typed_{table}", frame.to_arrow(), overwrite=True)  # type: ignore[attr-defined]


def spark_project(root: Path, session: object, database: str) -> Path:
    """A copy of the example project on `engine: spark` with no `connection:`: its sources
    are the tables `<database>.<dataset>` of the Spark session's catalog, Parquet-backed
    tables over the example as loaded by tpmkit (`loaded_frames`; an instant is Spark's
    `TIMESTAMP`), as a Databricks job would find them."""
    lake = root / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    sql = session.sql  # type: ignore[attr-defined]
    sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    for table, frame in loaded_frames().items():
        path = lake / f"{table}.parquet"
        frame.write_parquet(path)  # type: ignore[attr-defined]
        sql(f"DROP TABLE IF EXISTS {database}.{table}")
        sql(f"CREATE TABLE {database}.{table} USING parquet LOCATION '{path}'")
    path = typed_project(root, url="unused")
    text = path.read_text(encoding="utf-8").replace("connection: unused\n", "engine: spark\n")
    text = text.replace("table: typed_", f"table: {database}.")
    path.write_text(text, encoding="utf-8")
    return path


def count_table_reads(monkeypatch: object) -> list[str]:
    """The datasets tpmkit's reader reads from a table (`read_table`) from now on, in
    order; a read of the columns alone as `<dataset> (columns)`."""
    import tpmkit.engines.backend as backend

    seen: list[str] = []
    real = backend.read_table

    def read_table(source, name, table, rows=None):  # type: ignore[no-untyped-def]
        seen.append(name if rows is None else f"{name} (columns)")
        return real(source, name, table, rows)

    monkeypatch.setattr(backend, "read_table", read_table)  # type: ignore[attr-defined]
    return seen
