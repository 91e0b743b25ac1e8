"""Which records annotations touch (tpmkit.annotations gives them as a table of spans).

A span [start, end) touches a record whose period [period_start, period_end) it overlaps,
when its metric is null or the record's, and its group is null or a column the records
are grouped by with the record's value in it (a note on team Berlin Tech does not mark
the whole center's records). Records × spans is small: a few notes, one row per series
period."""

from __future__ import annotations

import polars as pl

EXCLUDED = "__excluded"  # the record's period is kept out of fits, limits and warnings


def touching(records: pl.DataFrame, spans: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """One row per (record, span) that touch: the record's `__row` (its position in
    `records`) and the span's text, kind and exclude."""
    if records.is_empty() or spans.is_empty():
        return pl.DataFrame(
            schema={"__row": pl.UInt32, "text": pl.String, "kind": pl.String, "exclude": pl.Boolean}
        )
    keys = ["metric", "period_start", "period_end", *by]
    left = records.select(keys).with_row_index("__row")
    right = spans.rename({c: f"__note_{c}" for c in spans.columns})
    group, wanted = pl.col("__note_group"), pl.col("__note_value")
    in_group: pl.Expr = pl.lit(False)
    for column in reversed(by):
        own = pl.col(column).cast(pl.String)
        in_group = pl.when(group == column).then(own.eq_missing(wanted)).otherwise(in_group)
    in_group = pl.when(group.is_null()).then(True).otherwise(in_group)
    metric = pl.col("__note_metric")
    hit = (
        (pl.col("__note_start") < pl.col("period_end"))
        & (pl.col("__note_end") > pl.col("period_start"))
        & (metric.is_null() | (metric == pl.col("metric")))
        & in_group
    )
    return (
        left.lazy()
        .join(right.lazy(), how="cross")
        .filter(hit)
        .select(
            "__row",
            pl.col("__note_text").alias("text"),
            pl.col("__note_kind").alias("kind"),
            pl.col("__note_exclude").alias("exclude"),
        )
        .collect()
    )


def mark_excluded(records: pl.DataFrame, spans: pl.DataFrame | None, by: list[str]) -> pl.DataFrame:
    """`records` with `EXCLUDED`: true where an `exclude` span touches the record."""
    if spans is None or records.is_empty():
        return records.with_columns(pl.lit(False).alias(EXCLUDED))
    hits = touching(records, spans.filter(pl.col("exclude")), by)
    rows = hits.get_column("__row").unique()
    flags = pl.int_range(pl.len(), dtype=pl.UInt32).is_in(rows.implode())
    return records.with_columns(flags.alias(EXCLUDED))


def notes_by_record(
    records: pl.DataFrame, spans: pl.DataFrame | None, by: list[str]
) -> pl.DataFrame:
    """metric, groups, period and every note that touches it (texts in span order, with
    `(excluded)` after a note that keeps the period out) — for tables and check lines."""
    keys = ["metric", *by, "period"]
    if spans is None or spans.is_empty() or records.is_empty():
        schema = {k: records.schema.get(k, pl.String) for k in keys}
        return pl.DataFrame(schema={**schema, "notes": pl.List(pl.String)})
    hits = touching(records, spans, by)
    said = pl.when(pl.col("exclude")).then(pl.col("text") + " (excluded)").otherwise(pl.col("text"))
    located = records.select(keys).with_row_index("__row")
    return (
        hits.with_columns(said.alias("__said"))
        .group_by("__row", maintain_order=True)
        .agg(pl.col("__said").unique(maintain_order=True).alias("notes"))
        .join(located, on="__row", how="left")
        .sort("__row")
        .select(*keys, "notes")
    )
