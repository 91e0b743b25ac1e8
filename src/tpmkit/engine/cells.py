"""Aggregate every metric of one dataset into cells (period × group) in one pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from tpmkit.engine import local_periods, periods
from tpmkit.engine.in_force import NO_OVERRIDE, choose_override, override_condition
from tpmkit.engine.kinds import Aggregation, kind_of
from tpmkit.engine.kinds.base import Extent
from tpmkit.engine.kinds.rows import component_columns
from tpmkit.engine.window import START, Window, bounds, finite, latest_of
from tpmkit.spec.computes import Censor
from tpmkit.spec.models import MetricSpec, Override

__all__ = ["RECHECK", "aggregate", "cell_frames", "prepare_rows"]

RECHECK = "__recheck"


def _sd(result: Aggregation | None) -> pl.Expr:
    if result is None or result.sd is None:
        return pl.lit(None, dtype=pl.Float64)
    return finite(result.sd.cast(pl.Float64))  # values of inf make it NaN: no spread


def components(result: Aggregation | None, value: pl.Expr) -> list[pl.Expr]:
    """numerator, denominator and scale of a cell: null where the value is (no data),
    and where the kind has no such component."""
    parts = (result.numerator, result.denominator, result.scale) if result else (None, None, None)
    return component_columns(parts, value)


def prepare_rows(
    frame: pl.LazyFrame,
    metrics: list[MetricSpec],
    time_column: str,
    unavailable: Mapping[str, str],
    censor: Censor | None,
    exact: bool = False,
    extent: Extent | None = None,
) -> pl.LazyFrame:
    """Whole-dataset steps before rows are cut into periods: censoring at the horizon and
    the columns some kinds prepare (next repeat, group means); `extent`: what is known of
    the rows."""
    if censor is not None:
        horizon = latest_of(frame, list(censor.horizon))
        frame = frame.filter(~(pl.col(censor.column) > horizon).fill_null(False))
    ready = [m for m in metrics if m.id not in unavailable]
    for m in ready:
        kind = kind_of(m.compute)
        frame = kind.prepare(
            frame, m.id, m.compute, m.parameters, time_column, exact=exact, extent=extent
        )
    return frame


def aggregate(
    frame: pl.LazyFrame,
    metrics: list[MetricSpec],
    time_column: str,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
    unavailable: Mapping[str, str],
    segments: Mapping[str, Mapping[str, Override]] | None = None,
    censor: Censor | None = None,
    exact: bool = False,
    days: tuple[dt.date, dt.date] | None = None,
    row_count: int | None = None,
    carry: tuple[pl.Expr, ...] = (),
) -> pl.LazyFrame:
    """Cells of every metric in `metrics` (all on the same dataset and time column).

    `unavailable` names metrics whose columns are missing: they get cells with no value.
    `segments` asks, per metric, for flag columns telling whether every row of a cell is
    in a formula metric's override segment (so formulas apply overrides like plain ones).
    `censor` drops rows after the data horizon before any cell is formed. Cells of a
    metric whose fast preparation needs redoing carry `RECHECK` true (see `Kind.recheck`);
    `exact` prepares the slow, certain way. `days`: the first and last local day of the
    rows' times, when known: rows are then grouped by their local period as a number
    (`engine/local_periods.py`) and each cell's start truncated once. `row_count`: how
    many rows `frame` has, when known (with `days`, a kind's preparation can size its sort
    keys before it runs). `carry`: more aggregates over all the pass's rows, given with
    every cell (the load's deferred rule flags, `engine.compute.Input.check`).
    """
    schema = frame.collect_schema()
    extent = Extent(row_count, days)
    frame = prepare_rows(frame, metrics, time_column, unavailable, censor, exact, extent)
    ts = periods.instant(pl.col(time_column), schema[time_column], timezone)
    frame = frame.with_columns(ts.alias("__ts")).filter(pl.col("__ts").is_not_null())
    start, end = bounds(window, timezone)
    if start is not None:
        frame = frame.filter(pl.col("__ts") >= start)
    if end is not None:
        frame = frame.filter(pl.col("__ts") < end)
    aggs: list[pl.Expr] = [
        pl.col("__ts").min().alias("__first"),
        pl.col("__ts").max().alias("__last"),
    ]
    ts_type = frame.collect_schema()["__ts"]
    period = START  # the column cells are grouped by
    if grain == "all":
        frame = frame.with_columns(pl.lit(None, dtype=pl.Datetime("us", timezone)).alias(START))
    elif (
        days is not None
        and not exact
        and grain in local_periods.GRAINS
        and ts_type == pl.Datetime("us", timezone)
    ):
        key, outside = local_periods.period_key(pl.col("__ts"), grain, *days, timezone)
        frame = frame.with_columns(
            key.alias(local_periods.KEY), outside.alias(local_periods.OUTSIDE)
        )
        aggs.append(pl.col(local_periods.OUTSIDE).any().alias(local_periods.OUTSIDE))
        period = local_periods.KEY
    else:
        frame = frame.with_columns(periods.period_start(pl.col("__ts"), grain).alias(START))
    rows: dict[str, pl.Expr] = {}
    results: dict[str, Aggregation] = {}
    for spec in metrics:
        if spec.id in unavailable:
            continue
        kind = kind_of(spec.compute)
        agg = kind.aggregation(spec.compute, spec.parameters, spec.id, time_column)
        results[spec.id] = agg
        rows.update(agg.rows)
        aggs.extend(expr.alias(name) for name, expr in agg.aggs.items())
        check = kind.recheck(spec.id, spec.compute)
        if check is not None:
            aggs.append(check.alias(f"{spec.id}\x00recheck"))
        if spec.overrides:
            # an override applies to a cell when every row of the cell is in its segment
            chosen = choose_override(
                [(i, override_condition(o).all()) for i, o in enumerate(spec.overrides)]
            )
            aggs.append(chosen.alias(f"{spec.id}\x00override"))
    columns = set(schema.names())
    flags: dict[str, list[str]] = {}
    for spec in metrics:
        for flag, segment in (segments or {}).get(spec.id, {}).items():
            if set(segment.when) <= columns:
                if flag not in flags:
                    aggs.append(override_condition(segment).all().alias(flag))
                flags.setdefault(flag, []).append(spec.id)
    aggs.extend(carry)
    if rows:
        frame = frame.with_columns(expr.alias(name) for name, expr in rows.items())
    grouped = frame.group_by([period, *by]).agg(aggs)
    looked_up = period != START
    if looked_up:  # every row of a cell has its local period: truncate the first one
        first = periods.period_start(pl.col("__first"), grain).alias(START)
        grouped = grouped.with_columns(first).drop(period)
    carried = [e.meta.output_name() for e in carry]
    return cell_frames(
        grouped, metrics, results, unavailable, flags, by, outside=looked_up, carried=carried
    )


def cell_frames(
    grouped: pl.LazyFrame,
    metrics: list[MetricSpec],
    results: Mapping[str, Aggregation],
    unavailable: Mapping[str, str],
    flags: Mapping[str, list[str]],
    by: list[str],
    *,
    recheck: bool = True,
    outside: bool = False,
    carried: list[str] | None = None,
) -> pl.LazyFrame:
    """The cells of every metric from the aggregates of a pass (one row per period and
    group, with each kind's aggregate columns, overrides and flags): also used by the Ibis
    engines, whose aggregates are computed on the backend. `recheck` false: the aggregates
    were computed exactly (no `RECHECK` column). `outside`: the aggregates have
    `local_periods.OUTSIDE`, which asks for the pass again as `RECHECK` does. `carried`:
    more aggregate columns to keep with every metric's cells."""
    parts = []
    for spec in metrics:
        if spec.id in unavailable:
            value, n = pl.lit(None, dtype=pl.Float64), pl.lit(0, dtype=pl.Int64)
        else:
            value, n = results[spec.id].value, results[spec.id].n
        override = (
            pl.col(f"{spec.id}\x00override")
            if spec.overrides and spec.id not in unavailable
            else pl.lit(NO_OVERRIDE, dtype=pl.Int32)
        )
        value = finite(value.cast(pl.Float64))
        parts.append(
            grouped.select(
                pl.lit(spec.id).alias("metric"),
                START,
                *by,
                "__first",
                "__last",
                value.alias("value"),
                n.cast(pl.Int64).alias("n"),
                _sd(results.get(spec.id)).alias("sd"),
                *components(results.get(spec.id), value),
                override.cast(pl.Int32).alias("override"),
                *(flag for flag, users in flags.items() if spec.id in users),
                *_recheck(spec, results, recheck, outside),
                *(carried or ()),
            )
        )
    return pl.concat(parts, how="diagonal_relaxed")


def _recheck(
    spec: MetricSpec, results: Mapping[str, Aggregation], recheck: bool, outside: bool
) -> list[pl.Expr]:
    """The cell's `RECHECK` column: its kind's own (e.g. two keys hashed alike) or a row
    outside the range of known offsets; none when nothing can ask for the pass again."""
    flags = [pl.col(local_periods.OUTSIDE)] if outside else []
    if (
        recheck
        and spec.id in results
        and kind_of(spec.compute).recheck(spec.id, spec.compute) is not None
    ):
        flags.append(pl.col(f"{spec.id}\x00recheck"))
    return [pl.any_horizontal(flags).alias(RECHECK)] if flags else []
