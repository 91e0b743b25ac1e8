"""Opening an Ibis backend for an engine, the session pinned to UTC, and moving frames
and tables: `table:` sources are read from the project's `connection:` and go through
tpmkit's own reader (the same mapping, types and rules as an export), and the datasets an
evaluation reads are registered on the engine's backend.

Connections are Ibis URLs: `duckdb://warehouse.duckdb` (relative to the project file;
attached read-only, so tpmkit never writes into it), `duckdb://` (in memory),
`postgres://user@host:port/db` (the password from `TPMKIT_DB_PASSWORD`, never from the
project file). A password written in the URL is refused: project files are committed.
On Spark without a `connection:`, tables are the session's catalog's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from tpmkit.engine import periods
from tpmkit.engines.dialect import Dialect
from tpmkit.errors import DefinitionError, Issue, UsageError
from tpmkit.spec.engine import PASSWORD_VARIABLE

__all__ = ["PASSWORD_VARIABLE", "Backend", "open_backend", "read_table", "with_instants"]

_WAREHOUSE = "warehouse"  # the name an attached DuckDB file has
SESSION_ZONE = "spark.sql.session.timeZone"


def _missing(extra: str, what: str) -> UsageError:
    """The error for an optional dependency that is not installed."""
    return UsageError(f"{what} need the optional dependencies: pip install 'tpmkit[{extra}]'")


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
    """An open Ibis backend and the dialect of its functions. On DuckDB the backend holds
    DuckDB's own connection (`raw`) and makes the Ibis backend over it only when a query
    must be built with Ibis: a run whose SQL is compiled already (`tpmkit.engines.compiled`)
    never imports Ibis."""

    ibis_con: Any  # the Ibis backend; None on DuckDB until first needed
    dialect: Dialect
    attached: bool = False  # a DuckDB file attached read-only as `warehouse`
    uploaded: dict[str, str] = field(default_factory=dict)  # dataset -> its table
    raw: Any = None  # DuckDB's own connection
    made: dict[str, Any] = field(default_factory=dict)  # table -> its Ibis table, if made

    @property
    def con(self) -> Any:
        """The Ibis backend (on DuckDB, made over the connection on first use)."""
        if self.ibis_con is None:
            self.ibis_con = _ibis().duckdb.from_connection(self.raw)
        return self.ibis_con

    def close(self) -> None:
        """Close the connection (a database session: its temporary tables go with it)."""
        if self.raw is not None:
            self.raw.close()
        else:
            self.con.disconnect()

    @contextmanager
    def in_utc(self) -> Iterator[None]:
        """On Spark, the session's zone is UTC while tpmkit computes or reads (periods are
        cut in the project's zone explicitly; another session zone shifts DST-crossing
        differences and the instants Arrow brings), and the zone it had again after: a
        notebook's session is the user's. Nothing to do on other backends."""
        if self.dialect.name != "pyspark":
            yield
            return
        conf = self.con._session.conf
        before = conf.get(SESSION_ZONE)
        conf.set(SESSION_ZONE, "UTC")
        try:
            yield
        finally:
            conf.set(SESSION_ZONE, before)

    def local_times(self, zone: str, span: tuple[int, int] | None = None) -> None:
        """On DuckDB, the wall-clock time in `zone` by offset arithmetic from now on (a
        macro of `tpmkit.zone_offsets`, the same instants as `timezone()`, which goes
        through ICU for each row); `span`: the instants the next queries read (their
        macro then binds faster), None: any."""
        if self.dialect.name != "duckdb":
            return
        from tpmkit.zone_offsets import local_macro

        # made each time (~1 ms): the reader's day counts make it for one dataset's span
        self.raw.execute(local_macro(zone, span))  # the same name: compiled SQL uses it
        if zone not in self.dialect.zones:
            self.dialect = replace(self.dialect, zones=(*self.dialect.zones, zone))

    def span(self, view: str) -> tuple[int, int] | None:
        """The first and last instant of a view's time columns, as the reader that made it
        kept them beside it (`tpmkit.data.in_duckdb.SPAN`); None: not known."""
        if self.raw is None:
            return None
        name = "tpmkit_span_" + view  # the reader's SPAN (tpmkit.data is not imported here)
        found = self.raw.execute(f"SELECT getvariable('{_quoted(name)}')").fetchone()[0]
        return (int(found[0]), int(found[1])) if found else None

    def duckdb(self) -> Any:
        """The DuckDB connection itself, where tpmkit's reader reads Parquet exports in
        SQL (`tpmkit.data.in_duckdb`); None on any other backend."""
        return self.raw

    def view(self, name: str) -> Any:
        """A view or table of the connection (a dataset read and checked by DuckDB, or one
        uploaded), as an Ibis table."""
        if name not in self.made:
            self.made[name] = self.con.table(name)
        return self.made[name]

    def table(self, name: str) -> Any:
        """A table of the connection's database."""
        if self.attached:
            return self.con.table(name, database=_WAREHOUSE)
        if self.dialect.name == "pyspark" and "." in name:
            # a catalog's qualified name, `db.table` or `catalog.db.table`: Ibis would
            # quote it whole as one name
            *database, table = name.split(".")
            return self.con.table(table, database=tuple(database) if database[1:] else database[0])
        return self.con.table(name)

    def upload(self, name: str, frame: pl.LazyFrame, time_column: str, timezone: str) -> str:
        """A dataset's frame as a backend table, named; its time column an instant (a date
        column is local midnight, as the polars engine reads it)."""
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
            self.made[table_name] = self.con.table(table_name)
        elif self.dialect.name == "duckdb":
            # DuckDB scans the Arrow buffers in place: no copy of the rows; text goes as
            # Arrow string views, polars' own layout (the default, large strings, copies
            # every text column: a tenth of a second and its size again at 1 M calls)
            arrow = data.to_arrow(compat_level=pl.CompatLevel.newest())
            self.raw.register(table_name, arrow)
            self.made.pop(table_name, None)  # a new table under the name
        else:
            # a temporary table: gone with the session, never written into the database
            self.made[table_name] = self.con.create_table(
                table_name, data.to_arrow(), temp=True, overwrite=True
            )
        self.uploaded[name] = table_name
        return table_name

    def columns(self, name: str) -> list[tuple[str, str]]:
        """A DuckDB view's or table's columns and their types, as DuckDB describes them."""
        rows = self.raw.execute(f"DESCRIBE {_ident(name)}").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]


def open_backend(
    engine: str, connection: str | None, root: Path, spark: Any = None, session: Any = None
) -> Backend:
    """The backend for `engine` (duckdb, spark or postgres); `connection` names the
    database of `table:` sources (for postgres, also where the metrics are computed)."""
    if engine == "spark":
        return Backend(_spark(_ibis(), spark, session), Dialect("pyspark"))
    if engine == "postgres":
        if not connection or urlsplit(connection).scheme not in ("postgres", "postgresql"):
            raise DefinitionError(
                "engine: postgres computes in the project's PostgreSQL database",
                [Issue("set connection: postgres://user@host/db (password in the environment)")],
            )
        return connect_source(connection, root)
    if engine != "duckdb":
        raise UsageError(f"unknown engine `{engine}`: use polars, duckdb or spark")
    try:
        import duckdb
    except ImportError:
        raise _missing("duckdb", "engine: duckdb and duckdb:// connections") from None
    raw = duckdb.connect()
    raw.execute("SET TimeZone = 'UTC'")
    raw.execute("SET enable_progress_bar = false")  # stderr belongs to tpmkit
    raw.execute("SET python_enable_replacements = false")  # as Ibis sets it: no magic names
    backend = Backend(None, Dialect("duckdb"), raw=raw)
    if connection and connection.startswith("duckdb://") and connection != "duckdb://":
        path = _duckdb_path(connection, root)
        raw.execute(f"ATTACH '{_quoted(str(path))}' AS {_WAREHOUSE} (READ_ONLY)")
        backend.attached = True
    return backend


def connect_source(connection: str, root: Path) -> Backend:
    """The backend `table:` sources are read from."""
    ibis = _ibis()
    scheme = urlsplit(connection).scheme
    if scheme == "duckdb":
        return open_backend("duckdb", connection, root)
    if scheme in ("postgres", "postgresql"):
        parts = urlsplit(connection)  # no password in it: refused when the project loads
        try:
            import psycopg  # noqa: F401  (Ibis' PostgreSQL driver)
        except ImportError:
            raise _missing("postgres", "postgres:// connections") from None
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
    hint = f"check `sources.{name}.table`"
    if backend.dialect.name == "pyspark" and not _in_catalog(backend, table):
        raise DefinitionError(
            f"dataset `{name}`: no table `{table}` in the Spark session's catalog",
            [Issue(f"{hint}: a table, db.table or catalog.db.table the session can read")],
        )
    try:
        found = backend.table(table)
    except Exception as exc:  # each backend raises its own "no such table"
        first = (str(exc).strip().splitlines() or [""])[0]
        if not first or table.endswith(first):  # Ibis names only the table: say what
            first = "no such table"
        raise DefinitionError(
            f"dataset `{name}`: cannot read table `{table}`", [Issue(first, hint=hint)]
        ) from None
    if rows is not None:
        found = found.limit(rows)
    with backend.in_utc():
        frame = pl.from_arrow(found.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)  # a table, not a column
    return with_instants(backend, table, frame)


def _in_catalog(backend: Backend, table: str) -> bool:
    """Whether the Spark session can read `table` (an unknown catalog or database raises
    in Spark, with a message about its own internals)."""
    try:
        return bool(backend.con._session.catalog.tableExists(table))
    except Exception:
        return False


def with_instants(backend: Backend, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame`, read from `table`, with its instants zoned. Spark's `TIMESTAMP` is an
    instant, but Arrow brings it without its zone, as wall-clock time in the session's
    zone (UTC while tpmkit reads, `Backend.in_utc`): it is put back in UTC, so the reader
    does not take it for wall-clock time in the project's zone; a `TIMESTAMP_NTZ`
    (wall-clock time) stays as it is. Other backends give zoned instants already."""
    if backend.dialect.name != "pyspark":
        return frame
    fields = backend.con._session.table(table).schema.fields
    instants = {f.name for f in fields if type(f.dataType).__name__ == "TimestampType"}
    zoned = [
        pl.col(c).dt.replace_time_zone("UTC")
        for c, dtype in frame.schema.items()
        if c in instants and isinstance(dtype, pl.Datetime) and dtype.time_zone is None
    ]
    return frame.with_columns(zoned) if zoned else frame


def _duckdb_path(connection: str, root: Path) -> Path:
    text = connection.removeprefix("duckdb://")
    path = Path(text) if Path(text).is_absolute() else root / text
    if not path.exists():
        raise DefinitionError(
            f"connection: no DuckDB database at {path}",
            [Issue(f"no file {path}", hint="the path is relative to the project file")],
        )
    return path


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _spark(ibis: Any, settings: Any, session: Any) -> Any:
    """A Spark session: the given one, else the active one, else a new one in UTC."""
    if session is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise UsageError("engine: spark needs pip install 'tpmkit[spark]'") from None
        session = SparkSession.getActiveSession()  # a notebook's or spark-submit's
    if session is None:
        builder = SparkSession.builder.master(settings.master if settings else "local[2]")
        for key, value in (settings.conf if settings else {}).items():
            builder = builder.config(key, value)
        builder = builder.config(SESSION_ZONE, "UTC")
        # a session tpmkit starts draws no progress bars: stderr belongs to tpmkit
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")  # tpmkit's own session: quiet
    # a session tpmkit did not start keeps its zone: Ibis pins it to UTC on connecting,
    # so it is given back, and `Backend.in_utc` pins UTC only while tpmkit computes
    before = session.conf.get(SESSION_ZONE)
    con = ibis.pyspark.connect(session)
    session.conf.set(SESSION_ZONE, before)
    return con
