"""An evaluation's datasets — read, mapped, typed, checked and attributed by tpmkit's own
reader, or read and checked by DuckDB itself (`tpmkit.data.in_duckdb`) — on the engine's
backend, and computed there.

A dataset DuckDB read is used as its view, with no copy of its rows, for every pass whose
columns the evaluation did not change: attributing roster columns (team, hire date, tenure
band) or adding an absent optional column makes new columns on the polars side only. A
pass that reads such a column, or is grouped by it, gets the dataset as the evaluation
made it, uploaded from polars (which then reads the files). Datasets no pass reads (the
roster, for the kinds computed with polars) are not uploaded at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from tpmkit.contract import CANONICAL, QUEUE_DIMENSIONS, ROSTER_DIMENSIONS
from tpmkit.engine.compute import Input, Request, UncheckedRows, segment_flags
from tpmkit.engine.kinds import columns_used, horizon_columns, kind_of
from tpmkit.engines import compiled
from tpmkit.engines.backend import Backend
from tpmkit.engines.compute import TableInput, compute_records_ibis
from tpmkit.engines.deferred import DeferredChecks
from tpmkit.engines.queries import CompiledRunner
from tpmkit.spec.computes import OpenAtEndCompute, ProficiencyCompute
from tpmkit.spec.models import MetricSpec

if TYPE_CHECKING:
    from tpmkit.spec.loader import Definitions

# columns the evaluation may add to a dataset or fill from a lookup (data/attribution.py)
_ATTRIBUTED = {*ROSTER_DIMENSIONS, *QUEUE_DIMENSIONS}


def compute_on(
    backend: Backend,
    metrics: list[MetricSpec],
    inputs: Mapping[str, Input],
    request: Request,
    project: Definitions,
    *,
    unavailable: Mapping[str, str],
    helpers: list[MetricSpec],
    views: Mapping[str, tuple[str, set[str]]] | None = None,
    ready: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Records of `metrics` computed on `backend` (see `compute_records_ibis`); `views`:
    dataset -> (its DuckDB view, the view's columns), for datasets DuckDB read; `ready`:
    dataset -> its backend table as the evaluation made it (a `table:` source checked in
    the database, `tpmkit.data.in_tables`)."""
    timezone = project.spec.timezone
    used = backend_columns([*metrics, *helpers], inputs, request, project.aliases, unavailable)
    # the rule flags the views DuckDB read carry (`tpmkit.data.in_duckdb`, `defer`)
    deferred = DeferredChecks(
        {n: i.check for n, i in inputs.items() if i.check is not None and n in (views or {})}
    )
    tables: dict[str, TableInput] = {}
    described: dict[str, tuple[str, str, str, list[tuple[str, str]]]] = {}
    spans: list[tuple[int, int] | None] = []  # of the instants the queries read
    for name, i in inputs.items():
        if name not in used:
            continue
        read = (views or {}).get(name)
        if name in (ready or {}):
            # an Ibis expression over a database table (renamed, attributed): built with
            # Ibis, so the queries over it are too (the compiled SQL is keyed by tables
            # DuckDB describes, see below)
            made = _instants(backend, (ready or {})[name], i.time_column, timezone)
            tables[name] = TableInput(_given(made), i.time_column, set(made.columns), made)
            continue
        if read is not None and unchanged(name, i.frame, read[1], used[name]):
            how, table_name = "view", read[0]
            spans.append(backend.span(table_name))
        else:
            how, table_name = "upload", backend.upload(name, i.frame, i.time_column, timezone)
            spans.append(None)
        make = _maker(backend, table_name, i.time_column, timezone, how == "view")
        if backend.raw is None:  # Spark, PostgreSQL: the table itself, now
            made = make()
            tables[name] = TableInput(make, i.time_column, set(made.columns), made)
            continue
        columns = backend.columns(table_name)
        described[name] = (table_name, how, i.time_column, columns)
        tables[name] = TableInput(make, i.time_column, {c for c, _ in columns})
    # the local-time macro for the instants read, when every table's are known (a table
    # uploaded or checked in the database: any instant); before the key, which has the zones
    known = [s for s in spans if s is not None]
    whole = bool(known) and len(known) == len(spans) and not ready
    span = (min(a for a, _ in known), max(b for _, b in known)) if whole else None
    backend.local_times(timezone, span)
    # a pass over a dataset's own view looks at its flags; the rest after the passes
    viewed = {n for n, (_, how, _, _) in described.items() if how == "view"}
    carrying = DeferredChecks({n: c for n, c in deferred.checks.items() if n in viewed})
    carrying.looked = deferred.looked
    arguments: dict[str, Any] = {
        "aliases": project.aliases,
        "unavailable": unavailable,
        "helpers": helpers,
        "local": inputs,
        "checks": carrying if carrying.checks else None,
    }
    names = {n: (views or {})[n][0] for n in deferred.checks}
    try:
        records = _records(backend, metrics, tables, request, project, described, ready, arguments)
    except UncheckedRows:
        raise
    except Exception:
        # a value a deferred rule flag would have caught may have failed a query: the
        # flags first (a flag up: the evaluation is run again, checked as it reads)
        deferred.rest(backend.raw, names)
        raise
    deferred.rest(backend.raw, names)
    return records


def _records(
    backend: Backend,
    metrics: list[MetricSpec],
    tables: dict[str, TableInput],
    request: Request,
    project: Definitions,
    described: dict[str, tuple[str, str, str, list[tuple[str, str]]]],
    ready: Mapping[str, Any] | None,
    arguments: dict[str, Any],
) -> pl.DataFrame:
    """The records of `compute_on`: through Ibis, or compiled SQL on DuckDB's own
    connection (`described`: the tables that SQL reads, for its key)."""
    timezone = project.spec.timezone
    helpers, unavailable = arguments["helpers"], arguments["unavailable"]
    if backend.raw is None or ready:
        return compute_records_ibis(
            metrics, tables, backend.dialect, request, timezone, **arguments
        )
    key = compiled.cache_key(
        dialect=backend.dialect.name,
        zones=backend.dialect.zones,
        timezone=timezone,
        grain=request.grain,
        by=list(request.by),
        window=(_iso(request.window.start), _iso(request.window.end)),
        metrics=metrics,
        helpers=helpers,
        aliases=project.aliases,
        unavailable=unavailable,
        tables=described,
    )
    runner = CompiledRunner(backend.raw, compiled.load(key))
    records = compute_records_ibis(
        metrics, tables, backend.dialect, request, timezone, runner=runner, **arguments
    )
    if runner.added:
        compiled.store(key, runner.known)
    return records


def _maker(
    backend: Backend, table_name: str, time_column: str, timezone: str, view: bool
) -> Callable[[], Any]:
    """What makes a table's Ibis table (a view DuckDB read: its time column an instant)."""
    if view:
        return lambda: _instants(backend, backend.view(table_name), time_column, timezone)
    return lambda: backend.view(table_name)


def _given(table: Any) -> Callable[[], Any]:
    """A maker of a table already made."""
    return lambda: table


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def backend_columns(
    everything: list[MetricSpec],
    inputs: Mapping[str, Input],
    request: Request,
    aliases: Mapping[str, str],
    unavailable: Mapping[str, str],
) -> dict[str, set[str]]:
    """For each dataset a pass or a stock reads on the backend, the columns it reads
    (with the group columns)."""
    flags = segment_flags(everything, aliases, list(request.by))
    used: dict[str, set[str]] = {}
    for spec in everything:
        kind = kind_of(spec.compute)
        on_backend = kind.plan == "rows" or isinstance(
            spec.compute, OpenAtEndCompute | ProficiencyCompute
        )
        if spec.id in unavailable or not on_backend or spec.dataset not in inputs:
            continue
        columns = used.setdefault(str(spec.dataset), set(request.by))
        columns |= columns_used(spec.compute, spec.parameters) | set(horizon_columns(spec.compute))
        if isinstance(spec.compute, ProficiencyCompute):
            # the hire date and team come from the roster: a Parquet view without them
            # stays the passes' table (the kind then computes with polars from the files)
            columns -= {spec.compute.hired, spec.compute.team} - set(request.by)
        columns.add(spec.time_column or inputs[str(spec.dataset)].time_column)
        for override in [*spec.overrides, *flags.get(spec.id, {}).values()]:
            columns |= set(override.when)
    return used


def unchanged(name: str, frame: pl.LazyFrame, view: set[str], used: set[str]) -> bool:
    """True when the columns `used` are in the view as the evaluation has them: none was
    added by the evaluation or filled from a lookup (the lookups join on unique ids, so
    the rows are the view's)."""
    present = set(frame.collect_schema().names())
    contract = CANONICAL.get(name)
    own = set(contract.names) if contract else set()
    changed = (present - view) | ((present & _ATTRIBUTED) - own)
    return used <= view and not (used & changed)


def _instants(backend: Backend, table: Any, time_column: str, timezone: str) -> Any:
    """The view with its time column an instant (a date: local midnight), as `upload`."""
    if time_column in table.columns and table[time_column].type().is_date():
        midnight = backend.dialect.midnight(table[time_column], timezone)
        return table.mutate(**{time_column: midnight})
    return table
