"""The streaming check: every data rule over a dataset's typed source in one streaming
pass of aggregates, so that the rows are never held in memory.

A load that keeps the checked rows costs the whole dataset in memory (2.5 GiB at ten
million calls) and is then scanned by every metric pass anyway. Nearly always every row is
good, so the check asks only *whether* some rule is broken — one flag per row folded into
`any`, the ids' 64-bit hashes sorted (a repeat is a neighbour with the same hash), the
rows per local day for `check` — and the metric passes re-read the typed source (Parquet
directly, a CSV export through the cache). Only when a rule is broken (or a cell needs
the full coercion rules, or a hash repeats) does the load read the rows again the old
way, locating every problem with its file, line, column and value (`load.load_dataset`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from tpmkit.contract import DatasetContract
from tpmkit.data import coerce, rules
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.freshness import DayCounts
from tpmkit.data.read import collect_each
from tpmkit.data.sources import FILE, ROW, ScannedFile
from tpmkit.data.typed import all_numbers, as_number, number_evidence, untyped
from tpmkit.spec.models import Source

__all__ = ["UNCHECKED", "Checked", "check", "streamable"]

# a row's rule flags folded into one, left in the rows of a check whose flags query was
# deferred (`check(defer=True)`): the first metric pass over every row aggregates it
UNCHECKED = "__unchecked"
_BAD, _ROWS, _REPEAT, _HASH, _DAY, _LATEST = "__bad", "__rows", "__repeat", "__h", "__day", "__l"


@dataclass(frozen=True)
class Checked:
    """A dataset whose every row keeps every rule: the plan that reads it, and what the
    check counted on the way."""

    rows: pl.LazyFrame  # the typed columns, without the check's own columns
    height: int
    day_counts: DayCounts
    deferred: bool = False  # the rule flags are in `UNCHECKED`, not yet looked at


def streamable(scanned: list[ScannedFile], cached: bool) -> bool:
    """Whether re-reading the typed source is cheap: Parquet files, or CSV exports read
    through the cache (an uncached CSV would be parsed again by every pass; a workbook or
    an in-memory frame is held in memory by its reader anyway)."""
    return all(s.format == "parquet" or (s.format == "csv" and cached) for s in scanned)


def check(
    typed: pl.LazyFrame,
    name: str,
    scanned: list[ScannedFile],
    contract: DatasetContract | None,
    source: Source,
    wanted: list[str],
    types: dict[str, str],
    id_column: str | None,
    time_column: str | None,
    defer: bool = False,
) -> Checked | None:
    """The checked rows when no row breaks a rule, else None (read them again to locate
    the problems). Streaming queries, one after another; the id check holds one 64-bit
    hash a row. `defer`: for a small Parquet dataset whose columns all have a type, the
    rule flags are not looked at here but left in the rows as `UNCHECKED`, for a metric
    pass that reads every row to aggregate (10 M calls: the flags query read eight
    columns the calls pass reads anyway; `engine.compute.Input.check`), except the id's
    own (present, not empty), looked at beside its hashes, which read it anyway."""
    schema = typed.collect_schema()
    names = schema.names()
    problems = [c for c in names if c.startswith(PROBLEM)]
    retries = [c for c in names if c.startswith(coerce.RETRY)]
    flags = [pl.col(c).is_not_null() for c in (*problems, *retries)]  # a retry: full rules
    flags += [condition for _, condition, _ in rules.conditions(contract, source, wanted)]
    # the check's own columns (file, line, problems) are no data to read as numbers: their
    # evidence (a trim, a cast and a pattern over every row) was a third of the check
    internal = {*problems, *retries, FILE, ROW}
    text = [c for c in untyped(schema, types) if c not in internal]
    aggregates = [
        pl.len().alias(_ROWS),
        (pl.any_horizontal(flags).any() if flags else pl.lit(False)).alias(_BAD),
        *(e for c in text for e in number_evidence(c)),
    ]
    # the flags in one global aggregate: per local day (with the day counts) they cost
    # 60 % more (10 M calls: 2.4 s instead of 1.5 s of CPU for the whole check)
    together = _small_rows(scanned) is not None
    repeat = id_column is not None and id_column in names
    deferred = defer and together and bool(flags) and not text
    if deferred:  # the id's own rules here, beside its hashes; the others to the pass
        own = {str(id_column), *(p + str(id_column) for p in (PROBLEM, coerce.RETRY))}
        here = [f for f in flags if repeat and set(f.meta.root_names()) <= own]
        flags = [f for f in flags if not any(f.meta.eq(h) for h in here)]
        aggregates = [pl.len().alias(_ROWS), pl.any_horizontal([*here, False]).any().alias(_BAD)]
        deferred = bool(flags)
    shared = typed.cache() if together else typed  # read once for all the queries
    queries = [shared.select(aggregates)]
    day = _local_day(schema, time_column)
    if day is not None:  # the rows per local day for `check` and the roster's span
        queries.append(_per_day(shared, schema, str(time_column), day))
    if repeat:  # the ids' hashes sorted: a repeated id is a neighbour with the same hash
        # filtered, not `drop_nulls` in the select: that would hold the ids to drop them
        ids = shared.filter(pl.col(str(id_column)).is_not_null())
        hashes = ids.select(pl.col(str(id_column)).hash().alias(_HASH)).sort(_HASH)
        same = (pl.col(_HASH) == pl.col(_HASH).shift(1)).any()
        queries.append(hashes.select(same.alias(_REPEAT)))
    found = collect_each(queries, name, scanned, together)
    evidence = found[0].row(0, named=True)
    if evidence[_BAD] or (repeat and found[-1].item()):
        return None
    if day is not None and _QUARTER in found[1].columns:
        by_day = _days_of_quarters(found[1], schema[str(time_column)])
        if by_day is None:  # some quarter hour spans two local days: count by the day
            exact = _per_day(typed, schema, str(time_column), day, exact=True)
            by_day = collect_each([exact], name, scanned)[0]
        found[1] = by_day
    if deferred:
        typed = typed.with_columns(pl.any_horizontal(flags).alias(UNCHECKED))
    rows = typed.drop(*problems, *retries, FILE, ROW)
    numbers = [as_number(c) for c in text if all_numbers(evidence, c)]
    rows = rows.with_columns(numbers) if numbers else rows
    days = _day_counts(found[1] if day is not None else None)
    return Checked(rows, int(evidence[_ROWS]), days, deferred)


# rows up to which the check's queries run at once over one reading of the source:
# beyond, one after another, each holding less (see `read.collect_each`)
TOGETHER_ROWS = 12_000_000


def _small_rows(scanned: list[ScannedFile]) -> int | None:
    """The rows of a dataset of Parquet files with at most `TOGETHER_ROWS` of them
    (counted from the files' metadata, not read); None for a larger or another one."""
    paths = [s.path for s in scanned if s.format == "parquet" and s.path is not None]
    if len(paths) != len(scanned):
        return None
    try:
        rows = sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in paths)
    except (pl.exceptions.PolarsError, OSError):  # unreadable: reported by the queries
        return None
    return int(rows) if rows <= TOGETHER_ROWS else None


_QUARTER = "__quarter"  # a row's quarter hour of UTC time
_QUARTER_SECONDS = 900
_PER_SECOND = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000}


def _per_day(
    typed: pl.LazyFrame, schema: pl.Schema, column: str, day: pl.Expr, exact: bool = False
) -> pl.LazyFrame:
    """The query counting rows (and the latest time) per local day.

    A zoned time's local day converts every row to local time (10 M calls: 0.45 s of
    CPU). Every zone's offset from UTC has been a whole number of quarter hours since the
    1970s, so rows are counted per quarter hour of UTC time instead, which needs no
    conversion, and the few quarter hours are then put on their local days
    (`_days_of_quarters`), which checks that none spans two of them. `exact`: by the day
    itself."""
    stamped = typed.filter(pl.col(column).is_not_null())
    latest = pl.col(column).max().alias(_LATEST)
    dtype = schema[column]
    if exact or not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        return stamped.group_by(day.alias(_DAY)).agg(pl.len().alias(_ROWS), latest)
    unit = dtype.time_unit or "us"
    quarter = pl.col(column).dt.epoch(unit) // (_QUARTER_SECONDS * _PER_SECOND[unit])
    return stamped.group_by(quarter.alias(_QUARTER)).agg(pl.len().alias(_ROWS), latest)


def _days_of_quarters(counts: pl.DataFrame, dtype: pl.DataType) -> pl.DataFrame | None:
    """Counts per quarter hour of UTC time summed per local day (as `_per_day` would
    count them by day), or None when a quarter hour spans two local days."""
    assert isinstance(dtype, pl.Datetime)
    unit = dtype.time_unit or "us"
    length = _QUARTER_SECONDS * _PER_SECOND[unit]
    start = (pl.col(_QUARTER) * length).cast(pl.Datetime(unit, "UTC"))
    last = (pl.col(_QUARTER) * length + (length - 1)).cast(pl.Datetime(unit, "UTC"))

    def local_day(instant: pl.Expr) -> pl.Expr:
        return instant.dt.convert_time_zone(str(dtype.time_zone)).dt.date()

    days = counts.with_columns(local_day(start).alias(_DAY), local_day(last).alias("__to"))
    if days.filter(pl.col(_DAY) != pl.col("__to")).height:
        return None
    return days.group_by(_DAY).agg(pl.col(_ROWS).sum(), pl.col(_LATEST).max())


def _local_day(schema: pl.Schema, column: str | None) -> pl.Expr | None:
    """A row's local day (times are in the project time zone), or None when the time
    column is absent or no timestamp or date."""
    if not column or column not in schema:
        return None
    dtype = schema[column]
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    return pl.col(column) if isinstance(dtype, pl.Date) else None


def _day_counts(counts: pl.DataFrame | None) -> DayCounts:
    """The latest time and the rows per local day (as `freshness.day_counts` gives them)."""
    if counts is None:
        return None, {}
    latest: dt.datetime | dt.date | None = counts.get_column(_LATEST).max()  # type: ignore[assignment]
    daily = dict(
        zip(counts.get_column(_DAY).to_list(), counts.get_column(_ROWS).to_list(), strict=True)
    )
    return latest, daily
