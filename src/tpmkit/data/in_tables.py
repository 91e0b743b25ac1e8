"""`table:` sources checked and computed in the database that holds them, on the engine
that computes there (DuckDB with `connection: duckdb://file.duckdb` attached read-only;
PostgreSQL with `engine: postgres`; Spark, for the tables of its session's catalog): the
same columns, types and data rules as tpmkit's reader, checked by one aggregate query
built with Ibis, so the rows are not copied to the client. `tpmkit.data.in_duckdb` does
the same for Parquet files on DuckDB.

Only what the reader would pass through unchanged is read this way: columns already typed
as the contract wants them (an instant with a time zone, a date, a boolean, a number,
text), named as the contract names them or renamed by `columns:`, with no derivation, row
filter or deduplication (a read window, `--start`/`--end`, becomes a filter in SQL, as the
reader reads only the rows in it). The rules are those of `in_duckdb` (a value that is
not finite, too large, negative for a duration, outside the contract's range, not whole
for an integer, an empty required value, timestamps out of order, a score above its
maximum, a repeated id); when any row breaks one, `None` is returned and the reader reads
the table to the client, naming every bad cell with its table and row (or quarantining
it). A bad value is never dropped.

The dataset's `view` is an Ibis expression over the table; its `rows` a polars plan that
reads the table's columns to the client only if something in polars collects it (a pass
that needs a column the evaluation made on the client and
`tpmkit.data.backend_attribution` cannot make on the backend).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from tpmkit.contract import ATTRIBUTION, CANONICAL, DatasetContract
from tpmkit.data import coerce
from tpmkit.data import columns as cols
from tpmkit.data.checked import CheckedInEngine, defaults, derivable
from tpmkit.data.frames import scan_frame
from tpmkit.data.freshness import DayCounts
from tpmkit.data.read import RowWindow
from tpmkit.spec.models import Source

__all__ = ["CheckedTable", "fetch", "read_in_engine"]

_LOOKUPS = {lookup for lookup, _ in ATTRIBUTION}  # joined by polars in the evaluation
_NUMBERS = ("int", "float", "duration")


@dataclass
class CheckedTable(CheckedInEngine):
    """A `table:` dataset checked by the database: `view` is it as an Ibis expression on
    the engine's backend; `rows` its polars twin, read only if collected."""

    view: Any = None


@dataclass(frozen=True)
class _Column:
    """One column: its value in Ibis and in polars (from the raw column), and its rules
    (Ibis boolean scalars, true when some row breaks one)."""

    value: Any
    polars: pl.Expr
    problems: tuple[Any, ...] = ()


def in_place(backend: Any, tables: Any) -> bool:
    """True when the engine's backend holds the `table:` sources itself (a DuckDB file
    attached, the PostgreSQL database it computes in, or the Spark session whose catalog
    the tables are read from)."""
    name = str(backend.dialect.name)
    own = getattr(tables, "backend", None) is backend  # Spark: the session's catalog
    return (name == "duckdb" and bool(backend.attached)) or name == "postgres" or own


def read_in_engine(
    backend: Any,
    name: str,
    source: Source | None,
    data: Mapping[str, Any],
    timezone: str,
    needed: set[str] | None,
    rows_in: RowWindow | None = None,
) -> CheckedTable | None:
    """The `table:` dataset `name` as an expression on `backend`, checked (`needed`: the
    columns to read, None: all; `rows_in`: only the rows in that time range, as the
    reader reads them); None when the reader must read it (a frame given for it, not
    plain, not typed as the contract wants, or some row breaks a rule)."""
    from tpmkit.engines.backend import with_instants
    from tpmkit.engines.tables import TableFrames

    if not isinstance(data, TableFrames) or name not in data.tables:
        return None
    if not in_place(backend, data):
        return None
    if source is None or name in _LOOKUPS or not _plain(source):
        return None
    try:
        table = backend.table(data.tables[name])
    except Exception:  # each backend raises its own "no such table": the reader names it
        return None
    header = with_instants(backend, data.tables[name], fetch(table.limit(0)))
    scanned = scan_frame(header, source, name)
    if scanned.derive:
        return None
    contract = CANONICAL.get(name)
    cols.check_required(name, [scanned], contract, source)
    types = cols.column_types(name, source, contract)
    time_column = source.time_column or (contract.time_column if contract else None)
    wanted = cols.wanted_columns([scanned], contract, source, needed, time_column)
    raw = table.select(**{c: table[scanned.canonical[c]] for c in wanted})
    schema = {c: header.schema[scanned.canonical[c]] for c in wanted}
    if rows_in is not None:  # the reader reads (and checks) only the rows in the window
        keep = _window(backend, raw, schema, rows_in)
        if keep is None:
            return None
        raw = raw.filter(keep)
    columns: dict[str, _Column] = {}
    for column in wanted:
        spec = contract.column(column) if contract else None
        found = _column(raw[column], column, types.get(column), schema[column], timezone, spec)
        if found is None:
            return None
        columns[column] = found
    filled = _defaults(columns, contract)
    if filled is None or derivable(contract, set(filled)):
        return None
    id_column = source.id_column or (contract.id_column if contract else None)
    checked = _check(raw, columns, _rules(columns, contract, source), id_column)
    if checked is None:
        return None
    view = raw.select(**{c: value for c, (value, _) in filled.items()})
    twin = _twin(raw, schema).select(expr.alias(c) for c, (_, expr) in filled.items())
    missing = cols.missing_columns(name, [scanned], contract)
    missing = {k: v for k, v in missing.items() if k not in filled}
    return CheckedTable(
        name,
        twin,
        [scanned.display],
        time_column,
        missing,
        checked,
        view=view,
        names=tuple(filled),
        counts=_day_counts(backend, view, time_column, timezone),
    )


def _window(backend: Any, raw: Any, schema: Mapping[str, pl.DataType], rows_in: RowWindow) -> Any:
    """`RowWindow.keep` on the backend: a row with one of the window's columns in
    [start, end) or null (compared in epoch µs); None when such a column is not an instant
    with a time zone (the reader reads the table)."""
    import ibis

    from tpmkit.engines.cells import epoch_us

    present = [c for c in rows_in.columns if c in schema]
    if not present:
        return ibis.literal(True)
    keep: Any = ibis.literal(False)
    for column in present:
        dtype = schema[column]
        if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
            return None
        moment = backend.dialect.epoch_us(raw[column])
        inside: Any = ibis.literal(True)
        if rows_in.start is not None:
            inside = inside & (moment >= epoch_us(rows_in.start))
        if rows_in.end is not None:
            inside = inside & (moment < epoch_us(rows_in.end))
        keep = keep | raw[column].isnull() | inside
    return keep


def fetch(expr: Any) -> pl.DataFrame:
    """An Ibis expression's rows on the client (the only place this module reads rows)."""
    frame = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)  # a table, not a column
    return frame


def _plain(source: Source) -> bool:
    """A source the reader reads as it is, apart from a renaming `columns:` mapping (no
    filter, derivation, union, deduplication or read options)."""
    return not (
        source.derive
        or source.null_values
        or source.keep_rows is not None
        or source.clock_times
        or source.dedupe != "error"
        or source.union != "strict"
        or source.booleans is not None
        or source.format is not None
        or source.timestamp_format is not None
    )


def _column(
    value: Any, column: str, type_: str | None, dtype: pl.DataType, timezone: str, spec: Any
) -> _Column | None:
    """The column as the reader coerces a typed column of `dtype` to `type_`, when that
    coercion is a plain conversion (as `in_duckdb._column`); None otherwise."""
    import ibis

    if type_ is None:
        return None  # the reader infers untyped columns from their values
    polars = coerce.coerce(column, type_, dtype, timezone).value  # the reader's own
    if type_ == "timestamp":
        if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
            return None  # wall-clock times: the reader places them in the zone (DST gaps)
        return _Column(value, polars) if dtype.time_unit in ("us", "ms") else None
    if type_ == "date":
        return _Column(value, polars) if dtype == pl.Date else None
    if type_ == "bool":
        return _Column(value, polars) if dtype == pl.Boolean else None
    if type_ == "text":
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
            return _Column(value.cast("string").nullif(""), polars)
        return None
    if type_ not in _NUMBERS or not (dtype.is_integer() or dtype.is_float()):
        return None
    v = value.cast("float64")
    low, high, largest = v.min(), v.max(), coerce.LARGEST
    problems: list[Any] = []
    if dtype.is_float():  # NaN or infinity: "not a number"
        problems.append((v.isnan() | v.isinf()).any())
    if type_ == "duration":
        problems += [low < 0, high > largest]
    else:
        problems += [low < -largest, high > largest]
    if type_ == "int" and dtype.is_float():
        problems.append((v != v.round()).any())
    if spec is not None and spec.minimum is not None:
        problems.append(low < ibis.literal(float(spec.minimum)))
    if spec is not None and spec.maximum is not None:
        problems.append(high > ibis.literal(float(spec.maximum)))
    return _Column(v, polars, tuple(problems))


def _defaults(
    columns: dict[str, _Column], contract: DatasetContract | None
) -> dict[str, tuple[Any, pl.Expr]] | None:
    """Each column's final Ibis and polars values with the contract's defaults, as the
    reader applies them (`tpmkit.data.derive.apply_defaults`)."""
    import ibis

    given = defaults(contract)
    if given is None:
        return None
    out = {c: (k.value, k.polars) for c, k in columns.items()}
    for name, default in given:
        # pl.lit(0) is an Int32, as the reader adds it
        kind = {str: "string", int: "int32", float: "float64"}[type(default)]
        literal = ibis.literal(default, type=kind)
        if name in out:
            value, expr = out[name]
            out[name] = (ibis.coalesce(value, literal), expr.fill_null(default))
        else:
            out[name] = (literal, pl.lit(default))
    return out


def _rules(
    columns: dict[str, _Column], contract: DatasetContract | None, source: Source
) -> list[Any]:
    """The rules across columns (`tpmkit.data.rules.conditions`) as Ibis scalars that
    are true when some row breaks them, on the coerced values before defaults; with each
    column's own rules."""
    present = set(columns)
    value = {c: k.value for c, k in columns.items()}
    broken = [p for k in columns.values() for p in k.problems]
    may_be_empty = set(contract.may_be_empty) if contract else set()
    for column in cols.required(contract, source):
        if column in present and column not in may_be_empty:
            broken.append(value[column].isnull().any())
    for earlier, later in contract.ordered if contract else ():
        if earlier in present and later in present:
            broken.append((value[later] < value[earlier]).any())
    for column, limit, default in contract.not_above if contract else ():
        if column in present:
            import ibis

            bound = ibis.literal(float(default))
            if limit in present:
                bound = ibis.coalesce(value[limit], bound)
            broken.append((value[column] > bound).any())
    return broken


def _check(
    raw: Any, columns: dict[str, _Column], broken: list[Any], id_column: str | None
) -> int | None:
    """The rows, or None when some row breaks a rule or an id repeats: one query."""
    import ibis

    named: dict[str, Any] = {"rows": raw.count()}
    if broken:
        anything: Any = ibis.literal(False)
        for rule in broken:
            anything = anything | rule.fill_null(False)
        named["broken"] = anything
    if id_column and id_column in columns:
        ids = columns[id_column].value
        named["repeated"] = ids.count() > ids.nunique()
    row = fetch(raw.aggregate(**named)).row(0, named=True)
    if row.get("broken") or row.get("repeated"):
        return None
    return int(row["rows"])


def _twin(raw: Any, schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """The table's raw columns as a polars plan that reads them from the database only
    when it is collected, and only the columns the plan uses."""
    from polars.io.plugins import register_io_source

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        names = list(schema) if with_columns is None else with_columns
        expr = raw.select(*(names or list(schema)[:1]))
        if n_rows is not None:
            expr = expr.limit(n_rows)
        frame = fetch(expr).cast({c: schema[c] for c in names}).select(names)
        yield frame.filter(predicate) if predicate is not None else frame

    return register_io_source(source, schema=dict(schema))


def _day_counts(backend: Any, view: Any, column: str | None, timezone: str) -> DayCounts:
    """As `tpmkit.data.freshness.day_counts`: the latest time and rows per local day."""
    if not column or column not in view.columns:
        return None, {}
    kind = view[column].type()
    moment = view[column]
    if kind.is_date():
        day, latest = moment, moment.max()
    elif kind.is_timestamp():
        backend.local_times(timezone)  # DuckDB: the offset macro (ICU per row is slow)
        day = backend.dialect.local(moment, timezone).date()
        latest = backend.dialect.epoch_us(moment).max()
    else:
        return None, {}
    rows = fetch(
        view.filter(moment.notnull())
        .group_by(__day=day)
        .aggregate(__n=moment.count(), __latest=latest)
    )
    if rows.is_empty():
        return None, {}
    daily: dict[dt.date, int] = dict(zip(rows["__day"], rows["__n"], strict=True))
    last = rows["__latest"].max()
    if kind.is_date():
        return last, daily  # type: ignore[return-value]
    instant = pl.select(
        pl.from_epoch(pl.lit(last, dtype=pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
    ).item()
    return instant, daily
