"""Opening an Ibis backend for an engine, the session pinned to UTC, and moving frames
and tables: `table:` sources are read from the project's `connection:` and go through
tpmkit's own reader (the same mapping, types and rules as an export), and the datasets an
evaluation reads are registered on the engine's backend.

Connections are Ibis URLs: `duckdb://warehouse.duckdb` (relative to the project file;
attached read-only, so tpmkit never writes into it), `duckdb://` (in memory),
`postgres://user@host:port/db` (the password from `TPMKIT_DB_PASSWORD`, never from the
project file). A password written in the URL is refused: project files are committed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from tpmkit.engine import periods
from tpmkit.engines.dialect import Dialect
from tpmkit.errors import DefinitionError, Issue, UsageError

__all__ = ["PASSWORD_VARIABLE", "Backend", "open_backend", "read_table"]

PASSWORD_VARIABLE = "TPMKIT_DB_PASSWORD"
_WAREHOUSE = "warehouse"  # the name an attached DuckDB file has


def _ibis() -> Any:
    try:
        import ibis
    except ImportError:
        raise UsageError(
            "the Ibis engines need the optional dependencies: pip install 'tpmkit[duckdb]' "
            "(or tpmkit[spark], tpmkit[postgres])"
        ) from None
    return ibis


@dataclass
class Backend:
    """An open Ibis backend and the dialect of its functions."""

    con: Any
    dialect: Dialect
    attached: bool = False  # a DuckDB file attached read-only as `warehouse`
    uploaded: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Close the connection (a database session: its temporary tables go with it)."""
        self.con.disconnect()

    def local_times(self, zone: str) -> None:
        """On DuckDB, the wall-clock time in `zone` by offset arithmetic from now on (a
        macro of `tpmkit.zone_offsets`, the same instants as `timezone()`, which goes
        through ICU for each row)."""
        if self.dialect.name != "duckdb" or zone in self.dialect.zones:
            return
        from tpmkit.zone_offsets import local_macro

        self.con.raw_sql(local_macro(zone))
        self.dialect = replace(self.dialect, zones=(*self.dialect.zones, zone))

    def duckdb(self) -> Any:
        """The DuckDB connection itself, where tpmkit's reader reads Parquet exports in
        SQL (`tpmkit.data.in_duckdb`); None on any other backend."""
        return self.con.con if self.dialect.name == "duckdb" else None

    def view(self, name: str) -> Any:
        """A view of the connection (a dataset read and checked by DuckDB)."""
        return self.con.table(name)

    def table(self, name: str) -> Any:
        """A table of the connection's database."""
        if self.attached:
            return self.con.table(name, database=_WAREHOUSE)
        return self.con.table(name)

    def upload(self, name: str, frame: pl.LazyFrame, time_column: str, timezone: str) -> Any:
        """A dataset's frame as a backend table; its time column an instant (a date column
        is local midnight, as the polars engine reads it)."""
        schema = frame.collect_schema()
        casts = [
            pl.col(c).cast(pl.String)
            for c, t in schema.items()
            if isinstance(t, pl.Categorical | pl.Enum)
        ]
        if time_column in schema:
            casts.append(periods.instant(pl.col(time_column), schema[time_column], timezone))
        data = frame.with_columns(casts).collect() if casts else frame.collect()
        table_name = f"tpmkit_{name}"
        if self.dialect.name == "pyspark":
            # a temporary view from Arrow: nothing is written to a warehouse folder, and
            # pandas would turn a missing number into NaN, which Spark keeps as a number
            session = self.con._session
            session.createDataFrame(data.to_arrow()).createOrReplaceTempView(table_name)
            self.uploaded[name] = self.con.table(table_name)
        elif self.dialect.name == "duckdb":
            # DuckDB scans the Arrow buffers in place: no copy of the rows; text goes as
            # Arrow string views, polars' own layout (the default, large strings, copies
            # every text column: a tenth of a second and its size again at 1 M calls)
            arrow = data.to_arrow(compat_level=pl.CompatLevel.newest())
            self.con.con.register(table_name, arrow)
            self.uploaded[name] = self.con.table(table_name)
        else:
            # a temporary table: gone with the session, never written into the database
            self.uploaded[name] = self.con.create_table(
                table_name, data.to_arrow(), temp=True, overwrite=True
            )
        return self.uploaded[name]


def open_backend(
    engine: str, connection: str | None, root: Path, spark: Any = None, session: Any = None
) -> Backend:
    """The backend for `engine` (duckdb, spark or postgres); `connection` names the
    database of `table:` sources (for postgres, also where the metrics are computed)."""
    ibis = _ibis()
    if engine == "spark":
        return Backend(_spark(ibis, spark, session), Dialect("pyspark"))
    if engine == "postgres":
        if not connection or urlsplit(connection).scheme not in ("postgres", "postgresql"):
            raise DefinitionError(
                "engine: postgres computes in the project's PostgreSQL database",
                [Issue("set connection: postgres://user@host/db (password in the environment)")],
            )
        return connect_source(connection, root)
    if engine != "duckdb":
        raise UsageError(f"unknown engine `{engine}`: use polars, duckdb or spark")
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    con.raw_sql("SET enable_progress_bar = false")  # stderr belongs to tpmkit
    backend = Backend(con, Dialect("duckdb"))
    if connection and connection.startswith("duckdb://") and connection != "duckdb://":
        path = _duckdb_path(connection, root)
        con.raw_sql(f"ATTACH '{_quoted(str(path))}' AS {_WAREHOUSE} (READ_ONLY)")
        backend.attached = True
    return backend


def connect_source(connection: str, root: Path) -> Backend:
    """The backend `table:` sources are read from."""
    ibis = _ibis()
    scheme = urlsplit(connection).scheme
    if scheme == "duckdb":
        return open_backend("duckdb", connection, root)
    if scheme in ("postgres", "postgresql"):
        parts = urlsplit(connection)
        if parts.password:
            raise DefinitionError(
                "the connection URL holds a password",
                [
                    Issue(
                        "a password in tpmkit.yaml would be committed with it",
                        hint=f"remove it and set the environment variable {PASSWORD_VARIABLE}",
                    )
                ],
            )
        con = ibis.postgres.connect(
            user=parts.username,
            password=os.environ.get(PASSWORD_VARIABLE),
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            database=parts.path.lstrip("/") or None,
        )
        con.raw_sql("SET TIME ZONE 'UTC'")
        return Backend(con, Dialect("postgres"))
    raise DefinitionError(
        f"unknown connection `{scheme}://`",
        [Issue("use duckdb://file.duckdb or postgres://user@host/db")],
    )


def read_table(backend: Backend, name: str, table: str, rows: int | None = None) -> pl.DataFrame:
    """A `table:` source's rows as a frame for tpmkit's reader (which maps, types and
    checks it as it does an export); `rows`: only the first ones (0: the columns)."""
    try:
        found = backend.table(table)
    except Exception as exc:  # each backend raises its own "no such table"
        raise DefinitionError(
            f"dataset `{name}`: cannot read table `{table}`",
            [Issue(str(exc).splitlines()[0], hint=f"check `sources.{name}.table`")],
        ) from None
    if rows is not None:
        found = found.limit(rows)
    frame = pl.from_arrow(found.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)  # a table, not a column
    return frame


def _duckdb_path(connection: str, root: Path) -> Path:
    text = connection.removeprefix("duckdb://")
    path = Path(text) if Path(text).is_absolute() else root / text
    if not path.exists():
        raise DefinitionError(
            f"connection: no DuckDB database at {path}",
            [Issue(f"no file {path}", hint="the path is relative to the project file")],
        )
    return path


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _spark(ibis: Any, settings: Any, session: Any) -> Any:
    """A Spark session (the given one, else a new one), its zone pinned to UTC."""
    if session is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UsageError("engine: spark needs pip install 'tpmkit[spark]'") from None
        builder = SparkSession.builder.master(settings.master if settings else "local[2]")
        for key, value in (settings.conf if settings else {}).items():
            builder = builder.config(key, value)
        builder = builder.config("spark.sql.session.timeZone", "UTC")
        session = builder.getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return ibis.pyspark.connect(session)
