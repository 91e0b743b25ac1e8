"""One pass of the Ibis engines: the metrics of one dataset and time column aggregated on
the backend into one row per period and group, then finished into cells on the client by
the kinds' own polars plans (`tpmkit.engine.cells.cell_frames`), so both engines turn the
same aggregates into values, n and components with the same code.

Periods are cut in the project time zone on the backend: the wall-clock time from the
backend's own local-time function (`Dialect.local`), truncated there and sent back as
epoch microseconds of that wall-clock time; the client makes the instant (as polars
does when it truncates a zoned time). An hour is cut from the instant itself (the hour a
DST change repeats stays two periods). The window is compared in epoch microseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import polars as pl

from tpmkit.engine.cells import cell_frames
from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds import Aggregation, kind_of
from tpmkit.engine.window import START, Window, bounds
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds import ibis_kind
from tpmkit.engines.kinds.base import EPOCH, Rows
from tpmkit.engines.results import collect
from tpmkit.spec.computes import Censor
from tpmkit.spec.models import MetricSpec, Override

__all__ = [
    "aggregate",
    "censored",
    "epoch_us",
    "override_condition",
    "period_key",
    "to_instants",
    "utc_instant",
]

PERIOD = "__p"  # the period key: epoch µs of the local start (an hour: of the instant)
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


def to_instants(frame: pl.DataFrame, column: str, grain: str, timezone: str) -> pl.Expr:
    """The period key as the period's start instant in `timezone`."""
    raw = pl.from_epoch(pl.col(column), time_unit="us")
    if grain == "all":
        return pl.lit(None, dtype=pl.Datetime("us", timezone))
    if grain == "hour":
        return raw.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)
    return raw.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")


def utc_instant(column: str, timezone: str) -> pl.Expr:
    """Epoch microseconds (an instant) as a time in `timezone`."""
    raw = pl.from_epoch(pl.col(column), time_unit="us")
    return raw.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)


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


def aggregate(
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
) -> pl.DataFrame:
    """Cells of every metric in `metrics` (one dataset and time column); as
    `tpmkit.engine.cells.aggregate`, computed on the backend."""
    planned = plan_pass(
        table,
        dialect,
        metrics,
        time_column,
        grain,
        by,
        timezone,
        window,
        unavailable,
        segments,
        censor,
    )
    frame = collect(planned.query).rename(planned.aliases)
    frame = frame.with_columns(
        to_instants(frame, PERIOD, grain, timezone).alias(START),
        utc_instant("__first", timezone).alias("__first"),
        utc_instant("__last", timezone).alias("__last"),
    ).drop(PERIOD)
    frame = frame.with_columns(
        choose_override([(i, pl.col(n)) for i, n in enumerate(names)]).alias(
            f"{metric_id}\x00override"
        )
        for metric_id, names in planned.choices.items()
    )
    return cell_frames(
        frame.lazy(), metrics, planned.results, unavailable, planned.flags, by, recheck=False
    ).collect()


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
) -> Pass:
    """The query of one pass (see `aggregate`), built but not run: `ibis.to_sql` shows it
    for any backend."""
    columns = set(table.columns)
    if censor is not None:
        table = censored(table, dialect, censor)
    moment = table[time_column]
    if moment.type().is_date():  # a date time column other than the one uploaded as instants
        moment = dialect.midnight(moment, timezone)
    table = table.mutate(__ts=moment).filter(ibis._["__ts"].notnull())
    table = table.mutate(**{EPOCH: dialect.epoch_us(table["__ts"])})
    start, end = bounds(window, timezone)
    for spec in metrics:
        if spec.id not in unavailable:
            rows = Rows(table, dialect, time_column, timezone)
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
    results: dict[str, Aggregation] = {}
    choices: dict[str, list[str]] = {}
    for spec in metrics:
        if spec.id in unavailable:
            continue
        kind = kind_of(spec.compute)
        results[spec.id] = kind.aggregation(spec.compute, spec.parameters, spec.id, time_column)
        named.update(
            ibis_kind(spec.compute.kind)
            .reductions(rows, spec.id, spec.compute, spec.parameters)
            .aggs
        )
        for index, override in enumerate(spec.overrides):
            name = f"{spec.id}\x00override {index}"
            named[name] = override_condition(table, override).all()
            choices.setdefault(spec.id, []).append(name)
    flags: dict[str, list[str]] = {}
    for spec in metrics:
        for flag, segment in (segments or {}).get(spec.id, {}).items():
            if set(segment.when) <= columns:
                if flag not in flags:
                    named[flag] = override_condition(table, segment).all()
                flags.setdefault(flag, []).append(spec.id)
    aliases = {f"a{i}": name for i, name in enumerate(named)}
    grouped = table.group_by([PERIOD, *by]).aggregate(
        **{alias: dialect.real(named[name]) for alias, name in aliases.items()}
    )
    return Pass(grouped, aliases, results, choices, flags)


def censored(table: ir.Table, dialect: Dialect, censor: Censor) -> ir.Table:
    """Rows whose `censor.column` is after the data horizon (the latest of the horizon
    columns present) left out; the horizon is one scalar computed first."""
    present = [c for c in censor.horizon if c in table.columns]
    if not present:
        return table
    values = [dialect.scalar(table, dialect.epoch_us(table[c]).max()) for c in present]
    known = [v for v in values if v is not None]
    if not known:
        return table
    beyond = dialect.epoch_us(table[censor.column]) > max(known)
    return table.filter(~beyond.fill_null(False))
