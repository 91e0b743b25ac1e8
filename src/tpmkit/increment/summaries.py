"""Each series' summary of the last run's finished records, stored beside their segments,
so that an incremental run's context (`finishing.context`) needs no scan of them.

The context asks, per series (metric and groups) of the records before the first
recomputed period: its first period, how many records it has, its first
`signals.CONTROL_WINDOW` values (control limits) and its last `finishing.HISTORY` periods.
Reading 7.7 M records' keys and values and grouping them cost 0.8 s of CPU at 10 M calls
by agent. A summary keeps, per series of the records the segments serve: `first`,
`count`, `head` (the first values, in period order), `recent` (its last `RECENT`
periods) and `values` (their values: the context's own, given to the trend and the
signals of the new records instead of cells read and finished again; a summary written
before it had them lacks them, and the context then reads cells as before). A run that
keeps the records before its first recomputed period `cut`s the
summary there (the records after it are the ones it replaces) and `add`s its own records:
the summary of the new chain, with no old record read. A series whose `recent` periods do
not reach back to the cut is marked not `valid`: the context then scans, as before."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from tpmkit.engine import signals
from tpmkit.engine.window import START

RECENT = 16  # periods a series keeps: a cut up to about 10 periods back stays exact
HEAD = signals.CONTROL_WINDOW


def in_order(old: pl.DataFrame) -> bool:
    """True when each metric's rows (`metric`, `__at`) are in strictly later periods than
    its earlier rows' or in the same period (so each series' rows are in period order):
    within each run of a metric's rows, and from one run of it to its next (a segment
    after another). Two vectorised passes, not a check per series."""
    runs = old.select(pl.col("metric").rle_id().alias("__run"), "metric", "__at")
    same_run = pl.col("__run") == pl.col("__run").shift(1)
    if runs.select((same_run & (pl.col("__at").diff() < 0)).any()).item():
        return False
    spans = runs.group_by("__run", maintain_order=True).agg(
        pl.col("metric").first(), pl.col("__at").min().alias("__lo"), pl.col("__at").max()
    )
    before = pl.col("__at").shift(1).over("metric")
    return not spans.select((pl.col("__lo") <= before).any()).item()


def _keys(records: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The records' series keys, period (`__at`) and value, each series in period order."""
    keys = records.select("metric", *by, pl.col(START).dt.epoch("us").alias("__at"), "value")
    if not in_order(keys):
        keys = keys.sort(["metric", *by, "__at"], nulls_last=True, maintain_order=True)
    return keys


def of_records(records: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The summary of `records` (finished records, grouped by metric)."""
    return (
        _keys(records, by)
        .group_by(["metric", *by], maintain_order=True)
        .agg(
            pl.col("__at").first().alias("first"),
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("value").head(HEAD).alias("head"),
            pl.col("__at").tail(RECENT).alias("recent"),
            pl.col("value").tail(RECENT).alias("values"),
        )
        .with_columns(pl.lit(True).alias("valid"))
    )


def cut(summary: pl.DataFrame, first: int, firsts: Mapping[str, int] | None = None) -> pl.DataFrame:
    """The summary of the records before period `first` (epoch µs; a metric's own in
    `firsts`): a series whose `recent` periods do not hold all of its periods from its
    cut on is not `valid`."""
    if not firsts:
        return _cut(summary, first)
    metric = pl.col("metric")
    at: dict[int, list[str]] = {}
    for m, a in firsts.items():
        at.setdefault(int(a), []).append(m)
    named = pl.Series(sorted(firsts), dtype=pl.String).implode()
    parts = [_cut(summary.filter(~metric.is_in(named)), first)]
    for a, ms in sorted(at.items()):
        parts.append(_cut(summary.filter(metric.is_in(pl.Series(ms).implode())), a))
    return pl.concat(parts, how="vertical_relaxed")


def _cut(summary: pl.DataFrame, first: int) -> pl.DataFrame:
    recent = pl.col("recent")
    removed = recent.list.eval(pl.element() >= first).list.sum()
    # the periods not in `recent` are before its first: none is cut if that is not after;
    # `recent` holds every period of a series only when it holds `count` of them (a
    # short `recent` may be what an earlier cut left)
    covered = (recent.list.len() >= pl.col("count")) | (recent.list.min() <= first)
    count = pl.col("count") - removed
    # `recent` is in period order: the periods cut are its last ones, and their values
    values = [pl.col("values").list.head(recent.list.len() - removed)] if valued(summary) else []
    return summary.with_columns(
        count.alias("count"),
        recent.list.filter(pl.element() < first).alias("recent"),
        *values,
        pl.col("head").list.head(pl.min_horizontal(count, HEAD)).alias("head"),
        (pl.col("valid") & covered).alias("valid"),
    ).filter(pl.col("count") > 0)


def add(summary: pl.DataFrame, records: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The summary of the records `summary` describes followed by `records` (all in
    later periods)."""
    series = ["metric", *by]
    new = of_records(records, by).drop("valid")
    both = summary.join(new, on=series, how="full", coalesce=True, nulls_equal=True)
    empty = pl.lit([], dtype=pl.List(pl.Int64))
    values = pl.lit([], dtype=pl.List(pl.Float64))
    head = pl.col("head")
    # a summary without values (an older one) gets none: its context reads cells
    recent_values = (
        [
            pl.concat_list(
                pl.col("values").fill_null(values), pl.col("values_right").fill_null(values)
            )
            .list.tail(RECENT)
            .alias("values")
        ]
        if valued(summary)
        else []
    )
    return both.select(
        *series,
        pl.coalesce("first", "first_right").alias("first"),
        (pl.col("count").fill_null(0) + pl.col("count_right").fill_null(0)).alias("count"),
        pl.when(head.list.len() >= HEAD)  # a full head stays (most series)
        .then(head)
        .otherwise(
            pl.concat_list(
                head.fill_null(values), pl.col("head_right").fill_null(values)
            ).list.head(HEAD)
        )
        .alias("head"),
        pl.concat_list(pl.col("recent").fill_null(empty), pl.col("recent_right").fill_null(empty))
        .list.tail(RECENT)
        .alias("recent"),
        *recent_values,
        pl.col("valid").fill_null(True).alias("valid"),
    )


def valued(summary: pl.DataFrame) -> bool:
    """True when `summary` keeps its series' recent values (see the module docstring)."""
    return "values" in summary.columns
