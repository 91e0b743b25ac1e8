"""The query of one pass of the Ibis engines: the metrics of one dataset and time column
aggregated on the backend into one row per period and group; the client reads it with
`tpmkit.engines.passes` (its metadata and finishing, which need no Ibis).

Periods are cut in the project time zone on the backend: the wall-clock time from the
backend's own local-time function (`Dialect.local`), truncated there and sent back as
epoch microseconds of that wall-clock time; the client makes the instant (as polars
does when it truncates a zoned time). An hour is cut from the instant itself (the hour a
DST change repeats stays two periods). The window is compared in epoch microseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from tpmkit.engine.kinds import Aggregation
from tpmkit.engine.window import Window, bounds
from tpmkit.engines.deferred import FLAGGED, SEEN
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds import ibis_kind
from tpmkit.engines.kinds.base import EPOCH, Rows
from tpmkit.engines.passes import PERIOD, pass_meta, to_instants, utc_instant
from tpmkit.spec.computes import Censor
from tpmkit.spec.models import MetricSpec, Override

__all__ = [
    "PERIOD",
    "censored",
    "epoch_us",
    "override_condition",
    "period_key",
    "plan_pass",
    "to_instants",
    "utc_instant",
]

_UNITS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_HOUR_US = 3_600_000_000


def epoch_us(moment: Any) -> int:
    """An aware datetime as epoch microseconds."""
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return int((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def period_key(ts: ir.Value, dialect: Dialect, grain: str, timezone: str) -> ir.Value:
    """The period the instant `ts` falls in (see `PERIOD`); null for the grain `all`."""
    if grain == "all":
        return ibis.null("int64")
    local = dialect.local(ts, timezone)
    if grain == "hour":
        into_hour = dialect.epoch_us(local) % _HOUR_US
        return dialect.epoch_us(ts) - into_hour
    return dialect.epoch_us(local.truncate(_UNITS[grain]))


def override_condition(table: ir.Table, override: Override) -> ir.BooleanValue:
    """True for rows in the override's segment (as `tpmkit.engine.in_force`)."""
    condition: Any = ibis.literal(True)
    for column, wanted in override.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        words = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        condition = condition & table[column].cast("string").isin(words)
    return condition.fill_null(False)


@dataclass
class Pass:
    """One pass planned on the backend: the grouped query and how to read its result."""

    query: ir.Table
    aliases: dict[str, str]  # SQL-safe column -> the polars plan's column
    results: dict[str, Aggregation]
    choices: dict[str, list[str]]  # metric -> its override condition columns
    flags: dict[str, list[str]]


def plan_pass(
    table: ir.Table,
    dialect: Dialect,
    metrics: list[MetricSpec],
    time_column: str,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
    unavailable: Mapping[str, str],
    segments: Mapping[str, Mapping[str, Override]] | None = None,
    censor: Censor | None = None,
    carry: str | None = None,
) -> Pass:
    """The query of one pass (see `passes.run_pass`), built but not run: `ibis.to_sql` shows it
    for any backend. `carry`: the column of the dataset's deferred rule flags, which the
    pass aggregates with the rows it groups (`tpmkit.engines.deferred`)."""
    columns = set(table.columns)
    meta = pass_meta(metrics, time_column, unavailable, segments, columns)
    if censor is not None:
        table = censored(table, dialect, censor)
    moment = table[time_column]
    if moment.type().is_date():  # a date time column other than the one uploaded as instants
        moment = dialect.midnight(moment, timezone)
    latest = _latest(table, dialect, moment)
    table = table.mutate(__ts=moment).filter(ibis._["__ts"].notnull())
    table = table.mutate(**{EPOCH: dialect.epoch_us(table["__ts"])})
    start, end = bounds(window, timezone)
    for spec in metrics:
        if spec.id not in unavailable:
            rows = Rows(table, dialect, time_column, timezone, latest)
            table = ibis_kind(spec.compute.kind).prepare(
                rows, spec.id, spec.compute, spec.parameters
            )
    if start is not None:
        table = table.filter(table[EPOCH] >= epoch_us(start))
    if end is not None:
        table = table.filter(table[EPOCH] < epoch_us(end))
    table = table.mutate(**{PERIOD: period_key(table["__ts"], dialect, grain, timezone)})
    rows = Rows(table, dialect, time_column, timezone)
    named: dict[str, Any] = {"__first": table[EPOCH].min(), "__last": table[EPOCH].max()}
    if carry is not None:  # every row with a time (EPOCH is never null here)
        named[FLAGGED] = table[carry].any()
        named[SEEN] = table[EPOCH].count()
    for spec in metrics:
        if spec.id in unavailable:
            continue
        named.update(
            ibis_kind(spec.compute.kind)
            .reductions(rows, spec.id, spec.compute, spec.parameters)
            .aggs
        )
        for name, override in zip(meta.choices.get(spec.id, []), spec.overrides, strict=True):
            named[name] = override_condition(table, override).all()
    for spec in metrics:
        for flag, segment in (segments or {}).get(spec.id, {}).items():
            if flag in meta.flags and flag not in named:
                named[flag] = override_condition(table, segment).all()
    aliases = {f"a{i}": name for i, name in enumerate(named)}
    grouped = table.group_by([PERIOD, *by]).aggregate(
        **{alias: dialect.real(named[name]) for alias, name in aliases.items()}
    )
    results, choices, flags = meta.results, meta.choices, meta.flags
    return Pass(grouped, aliases, results, choices, flags)


def _latest(table: ir.Table, dialect: Dialect, moment: ir.Value) -> Callable[[], Any]:
    """The pass's latest instant over its incoming rows, made (and, off DuckDB, queried)
    once, on first use. Over the rows as they came in, not the pass's own table: DuckDB
    materialises a subquery's table that the query also reads (the whole dataset, with
    every column: a gigabyte at 10 M calls)."""
    found: list[Any] = []

    def latest() -> Any:
        if not found:
            found.append(dialect.horizon(table, [dialect.epoch_us(moment).max()]))
        return found[0]

    return latest


def censored(table: ir.Table, dialect: Dialect, censor: Censor) -> ir.Table:
    """Rows whose `censor.column` is after the data horizon (the latest of the horizon
    columns present) left out; the horizon is one scalar (`Dialect.horizon`)."""
    present = [c for c in censor.horizon if c in table.columns]
    horizon = dialect.horizon(table, [dialect.epoch_us(table[c]).max() for c in present])
    if horizon is None:
        return table
    beyond = dialect.epoch_us(table[censor.column]) > horizon
    return table.filter(~beyond.fill_null(False))
