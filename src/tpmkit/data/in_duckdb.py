"""Parquet exports read by DuckDB itself, for the DuckDB engine: the same columns, types
and data rules as tpmkit's reader (`load_dataset`), checked in SQL in the engine that
then computes on them, so the rows are never copied into Python.

Only what the reader would pass through unchanged is read this way: Parquet files whose
columns already have their contract types (an instant with a time zone, a date, a
boolean, a number, text), named as the contract names them, with no mapping, derivation,
row filter, deduplication or read window. The rules are one aggregate query over the
files (a value that is not finite, too large, negative for a duration, outside the
contract's range, not whole for an integer, an empty required value, timestamps out of
order, a score above its maximum, a repeated id), less the rules the files' own Parquet
statistics prove (`tpmkit.data.parquet_stats`: a range, a required value present), which
need no read; when any row breaks one, `None` is
returned and the reader reads the dataset again, naming every bad cell with its file and
row (or quarantining it), exactly as without the engine. A bad value is never dropped.

A whole run may defer the rules of every column but the id (`defer`, as the polars engine
defers its flags, `tpmkit.data.stream`): the query above then looks only for a repeated or
empty id, and the view gains one flag a row, `UNCHECKED`, true where the row breaks a
deferred rule. The first metric pass over the view aggregates it with the rows it saw
(1 M calls: the check read four float columns, 0.07 s of CPU, that the calls pass reads
anyway), or one query does where no pass saw every row (`tpmkit.engines.deferred`); a flag
up raises `UncheckedRows`, and the evaluation runs again with every rule checked here,
which sends the dataset to the reader as above.

The dataset's `frame` is then a polars *lazy* twin of the view (the same files, the same
coercions as the reader's, see `tpmkit.data.coerce`): whatever the evaluation does with it
in polars (attributing roster columns, kinds computed with polars, the span of the data)
reads the files only when it runs, and only the columns it needs.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.contract import ATTRIBUTION, CANONICAL, DatasetContract
from tpmkit.data import coerce
from tpmkit.data import columns as cols
from tpmkit.data.checked import CheckedInEngine, defaults, derivable
from tpmkit.data.freshness import DayCounts
from tpmkit.data.parquet_stats import Rule, holds, span, statistics
from tpmkit.data.read import scan
from tpmkit.data.sources import FILE, ROW
from tpmkit.data.stream import UNCHECKED
from tpmkit.duckdb_memory import release
from tpmkit.spec.models import Source
from tpmkit.zone_offsets import local_macro, local_macro_name

__all__ = ["SPAN", "CheckedParquet", "read_in_duckdb"]

_LOOKUPS = {lookup for lookup, _ in ATTRIBUTION}  # joined by polars in the evaluation
_NUMBERS = ("int", "float", "duration")
_views = itertools.count()
# a DuckDB variable beside each view: the first and last instant of its time columns, by
# the files' statistics, for the local-time macro of the queries over it (`Backend.span`)
SPAN = "tpmkit_span_"


@dataclass
class CheckedParquet(CheckedInEngine):
    """A dataset read and checked by DuckDB: `view` names it in the connection; `rows`
    is its polars twin, a plan over the same files (see module doc); `span`: the first
    and last instant of its time columns by the files' statistics (None: not known)."""

    view: str = ""
    span: tuple[int, int] | None = None


@dataclass(frozen=True)
class _Problem:
    """A data rule in SQL: as an aggregate over the rows (`rule`, with what the files'
    statistics must show to prove it holds) and as a condition on one row (`row`: true
    or null when the row breaks it, null read as not), and the columns it reads."""

    rule: Rule
    row: str
    columns: frozenset[str]


@dataclass(frozen=True)
class _Column:
    """One column: its value in SQL and in polars, and its rules in SQL."""

    sql: str
    polars: pl.Expr
    dtype: pl.DataType
    problems: tuple[_Problem, ...] = ()


def read_in_duckdb(
    con: Any,
    name: str,
    source: Source | None,
    root: Path,
    timezone: str,
    needed: set[str] | None,
    defer: bool = False,
) -> CheckedParquet | None:
    """The dataset as a DuckDB view over its Parquet files, checked (`needed`: the columns
    to read, None: all); None when the reader must read it (not plain Parquet, or some row
    breaks a rule: the reader then names it). `defer`: the rules of other columns than the
    id are left to the view's `UNCHECKED` flags (`unchecked` is then True), which the
    evaluation looks at (`tpmkit.engines.deferred`)."""
    if source is None or source.table or name in _LOOKUPS or not _plain(source):
        return None
    contract = CANONICAL.get(name)
    scanned = scan(name, source, root)  # a missing file: the reader's own located error
    if any(item.format != "parquet" or item.derive for item in scanned):
        return None
    cols.check_required(name, scanned, contract, source)
    types = cols.column_types(name, source, contract)
    time_column = source.time_column or (contract.time_column if contract else None)
    wanted = cols.wanted_columns(scanned, contract, source, needed, time_column)
    schemas = [item.frame.collect_schema() for item in scanned]
    first = {c: t for c, t in schemas[0].items() if c not in (ROW, FILE)}
    if any({c: t for c, t in s.items() if c not in (ROW, FILE)} != first for s in schemas):
        return None  # files that differ: the reader unites them
    if any(item.canonical.get(c) != c for item in scanned for c in wanted):
        return None  # a mapped header
    columns: dict[str, _Column] = {}
    for column in wanted:
        spec = contract.column(column) if contract else None
        found = _column(column, types.get(column), first[column], timezone, spec)
        if found is None:
            return None
        columns[column] = found
    filled = _defaults(columns, contract)
    if filled is None or derivable(contract, set(filled)):
        return None
    files = [str(item.path) for item in scanned]
    scan_sql = "read_parquet([" + ", ".join(_text(f) for f in files) + "])"
    id_column = source.id_column or (contract.id_column if contract else None)
    proofs = statistics(con, files)
    unproven = [p for p in _rules(columns, contract, source) if not holds(p.rule, proofs)]
    # deferred: the rules of other columns than the id left to the rows (see module doc)
    later = [p for p in unproven if not p.columns <= {id_column}] if defer else []
    now = [p.rule.sql for p in unproven if p not in later]
    checked = _check(con, scan_sql, columns, now, id_column)
    if checked is None:
        return None
    view = f"tpmkit_read_{name}_{next(_views)}"
    selects = [f"{sql} AS {_ident(c)}" for c, (sql, _) in filled.items()]
    if later:  # one flag a row: null (no rule broken) read as false, as the aggregates do
        flags = " OR ".join(f"COALESCE({p.row}, false)" for p in later)
        selects.append(f"({flags}) AS {_ident(UNCHECKED)}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {_ident(view)} AS SELECT {', '.join(selects)} FROM {scan_sql}"
    )
    twin = pl.scan_parquet(files).select(expr.alias(c) for c, (_, expr) in filled.items())
    missing = cols.missing_columns(name, scanned, contract)
    missing = {k: v for k, v in missing.items() if k not in filled}
    times = [c for c, k in columns.items() if isinstance(k.dtype, pl.Datetime | pl.Date)]
    instants = span(proofs, times)
    if instants is not None:
        con.execute(f"SET VARIABLE {_ident(SPAN + view)} = [{instants[0]}, {instants[1]}]")
    final = filled_types(columns, filled)
    counts = _day_counts(con, view, time_column, final, timezone, instants)
    release(con)  # the check's buffers (90 MB at 1 M calls) are not kept for the passes
    return CheckedParquet(
        name,
        twin,  # the rows as a plan: polars reads them only where a kind needs polars
        [item.display for item in scanned],
        time_column,
        missing,
        checked,
        view=view,
        names=tuple(filled),
        counts=counts,
        unchecked=bool(later),
        span=instants,
    )


def _plain(source: Source) -> bool:
    """A source the reader reads as it is (no mapping, filter, derivation, union or
    deduplication)."""
    return not (
        source.columns
        or source.derive
        or source.null_values
        or source.keep_rows is not None
        or source.clock_times
        or source.dedupe != "error"
        or source.union != "strict"
        or source.booleans is not None
        or (source.format not in (None, "parquet"))
    )


def _column(
    column: str, type_: str | None, dtype: pl.DataType, timezone: str, spec: Any
) -> _Column | None:
    """The column as the reader coerces a Parquet column of `dtype` to `type_`, when that
    coercion is a plain conversion; None otherwise (the reader reads it)."""
    if type_ is None:
        return None  # the reader infers untyped columns from their values
    value = coerce.coerce(column, type_, dtype, timezone).value  # the reader's own
    q = _ident(column)
    if type_ == "timestamp":
        if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
            return None  # wall-clock times: the reader places them in the zone (DST gaps)
        if dtype.time_unit not in ("us", "ms"):
            return None
        return _Column(f"CAST({q} AS TIMESTAMPTZ)", value, pl.Datetime("us", timezone))
    if type_ == "date":
        return _Column(q, value, pl.Date()) if dtype == pl.Date else None
    if type_ == "bool":
        return _Column(q, value, pl.Boolean()) if dtype == pl.Boolean else None
    if type_ == "text":
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
            return _Column(f"NULLIF(CAST({q} AS VARCHAR), '')", value, pl.String())
        return None
    if type_ not in _NUMBERS or not (dtype.is_integer() or dtype.is_float()):
        return None
    v = f"CAST({q} AS DOUBLE)"
    # the rules as aggregates over the whole column (min and max are cheap, vectorised):
    # DuckDB orders NaN above every number, so a NaN makes max() NaN, not finite
    low, high, largest = f"min({v})", f"max({v})", coerce.LARGEST
    problems = []
    own = frozenset({column})
    if dtype.is_float():  # NaN or infinity: "not a number" (never proven by statistics)
        rule = Rule(f"NOT isfinite({high}) OR NOT isfinite({low})")
        problems.append(_Problem(rule, f"NOT isfinite({v})", own))
    bounds: list[tuple[float | None, float | None]] = [
        (0.0 if type_ == "duration" else -largest, largest)
    ]
    if spec is not None:
        bounds.append((_float(spec.minimum), _float(spec.maximum)))
    for below, above in bounds:
        if below is not None:
            rule = Rule(f"{low} < {below!r}", column, below=below)
            problems.append(_Problem(rule, f"{v} < {below!r}", own))
        if above is not None:
            rule = Rule(f"{high} > {above!r}", column, above=above)
            problems.append(_Problem(rule, f"{v} > {above!r}", own))
    if type_ == "int" and dtype.is_float():
        rule = Rule(f"count_if({v} <> round({v})) > 0")
        problems.append(_Problem(rule, f"{v} <> round({v})", own))
    return _Column(v, value, pl.Float64(), tuple(problems))


def _defaults(
    columns: dict[str, _Column], contract: DatasetContract | None
) -> dict[str, tuple[str, pl.Expr]] | None:
    """Each column's final SQL and polars values, with the contract's defaults as the
    reader applies them (`tpmkit.data.derive.apply_defaults`): an empty value filled, a
    column the read lacks added as the default itself."""
    given = defaults(contract)
    if given is None:
        return None
    out = {c: (k.sql, k.polars) for c, k in columns.items()}
    for name, default in given:
        literal = _literal(default)
        if name in out:
            sql, expr = out[name]
            out[name] = (f"COALESCE({sql}, {literal})", expr.fill_null(default))
        else:
            out[name] = (literal, pl.lit(default))
    return out


def filled_types(
    columns: dict[str, _Column], filled: dict[str, tuple[str, pl.Expr]]
) -> dict[str, pl.DataType]:
    """The polars type of each final column (a default added as a literal: its own)."""
    return {
        c: columns[c].dtype if c in columns else pl.select(expr).to_series().dtype
        for c, (_, expr) in filled.items()
    }


def _rules(
    columns: dict[str, _Column], contract: DatasetContract | None, source: Source
) -> list[_Problem]:
    """The rules across columns (`tpmkit.data.rules.conditions`) as aggregates that are
    true when some row breaks them (and as conditions on a row), on the coerced values
    before defaults, as the reader checks them; with each column's own rules."""
    present = set(columns)
    value = {c: k.sql for c, k in columns.items()}
    broken = [p for k in columns.values() for p in k.problems]
    may_be_empty = set(contract.may_be_empty) if contract else set()
    for column in cols.required(contract, source):
        if column in present and column not in may_be_empty:
            text = columns[column].dtype == pl.String  # an empty text is a missing value
            sql = f"count({value[column]}) < count(*)"
            rule = Rule(sql, column, filled=True, text=text)
            broken.append(_Problem(rule, f"{value[column]} IS NULL", frozenset({column})))
    for earlier, later in contract.ordered if contract else ():
        if earlier in present and later in present:
            row = f"{value[later]} < {value[earlier]}"
            broken.append(_Problem(Rule(f"count_if({row}) > 0"), row, frozenset({earlier, later})))
    for column, limit, default in contract.not_above if contract else ():
        if column in present:
            bound = f"COALESCE({value[limit]}, {default!r})" if limit in present else repr(default)
            row = f"{value[column]} > {bound}"
            reads = frozenset({column, limit} & present)
            broken.append(_Problem(Rule(f"count_if({row}) > 0"), row, reads))
    return broken


def _check(
    con: Any, scan_sql: str, columns: dict[str, _Column], broken: list[str], id_column: str | None
) -> int | None:
    """The rows, or None when some row breaks a rule or an id repeats: one query. Ids are
    compared by their 64-bit hashes (an eighth of the memory of the texts at 10 M rows):
    a collision can only claim a repeat that is not there, which sends the dataset to the
    reader, which compares the ids themselves and finds none — never a wrong number.
    DuckDB hashes NULL to a value of its own, which would hide one repeat among empty ids
    ('a', 'a', NULL: two ids, two hashes); the id column is required (`columns.required`),
    so an empty id already breaks a rule here and the reader reads the dataset."""
    parts = ["count(*)"]
    if broken:
        parts.append(" OR ".join(f"COALESCE({b}, false)" for b in broken))
    if id_column and id_column in columns:
        ids = columns[id_column].sql
        parts.append(f"count({ids}) > count(DISTINCT hash({ids}))")
    row = con.execute(f"SELECT {', '.join(parts)} FROM {scan_sql}").fetchone()
    if any(row[1:]):
        return None
    return int(row[0])


def _day_counts(
    con: Any,
    view: str,
    column: str | None,
    types: dict[str, pl.DataType],
    timezone: str,
    instants: tuple[int, int] | None,
) -> DayCounts:
    """As `tpmkit.data.freshness.day_counts`: the latest time and rows per local day."""
    if not column or column not in types:
        return None, {}
    q = _ident(column)
    if types[column] == pl.Date:
        day, latest = q, f"max({q})"
    elif isinstance(types[column], pl.Datetime):
        con.execute(local_macro(timezone, instants))  # ICU's timezone() per row is slow
        day = f"CAST({local_macro_name(timezone)}({q}) AS DATE)"
        latest = f"max(epoch_us({q}))"
    else:
        return None, {}
    rows = con.execute(
        f"SELECT {day}, count(*), {latest} FROM {_ident(view)} WHERE {q} IS NOT NULL GROUP BY 1"
    ).fetchall()
    if not rows:
        return None, {}
    daily: dict[dt.date, int] = {d: int(n) for d, n, _ in rows}
    last = max(r[2] for r in rows)
    if types[column] == pl.Date:
        return last, daily
    moment = pl.select(
        pl.from_epoch(pl.lit(last, dtype=pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
    ).item()
    return moment, daily


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _literal(value: str | int | float) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int):
        return f"CAST({value} AS INTEGER)"  # pl.lit(0) is an Int32, as the reader adds it
    return f"CAST({value!r} AS DOUBLE)"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
