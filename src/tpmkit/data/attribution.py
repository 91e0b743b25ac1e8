"""Attribute a dataset's rows to dimensions (team, site, vendor, ...): the row's own value
first, then each lookup in order (the roster by agent_id, the queues by queue), each
filling only what is still null. A row that no lookup reaches keeps a null value."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

LOOKUP = "__lookup_{key}_{column}"  # a joined column before it is merged into its dimension


def lookup_plan(
    present: set[str],
    dimensions: Sequence[str],
    lookups: Sequence[tuple[str, pl.DataFrame]],
) -> list[tuple[str, pl.DataFrame, dict[str, str]]]:
    """The joins that attribute `dimensions` to a dataset of columns `present`, in order of
    precedence: each lookup (key, table) whose key the dataset has and that supplies some
    dimension, with the temporary name each supplied dimension takes in the join."""
    plan = []
    for key, table in lookups:
        if key not in present or key not in table.columns:
            continue
        supplied = [d for d in dict.fromkeys(dimensions) if d != key and d in table.columns]
        if supplied:
            plan.append((key, table, {d: LOOKUP.format(key=key, column=d) for d in supplied}))
    return plan


def attribute(
    frame: pl.LazyFrame,
    dimensions: Sequence[str],
    lookups: Sequence[tuple[str, pl.DataFrame]],
) -> pl.LazyFrame:
    """`frame` with each of `dimensions` filled from `lookups` ((key column, table) in
    order of precedence), one lazy left join per lookup that supplies something."""
    present = set(frame.collect_schema().names())
    merged: dict[str, list[pl.Expr]] = {}  # dimension -> its sources, in order
    temporary: list[str] = []
    for key, table, names in lookup_plan(present, dimensions, lookups):
        supplied = list(names)
        right = table.select(key, *(pl.col(d).alias(names[d]) for d in supplied)).lazy()
        # a null key never matches: an abandoned call reaches no agent
        frame = frame.join(right, on=key, how="left", coalesce=True)
        for d in supplied:
            merged.setdefault(d, [pl.col(d)] if d in present else []).append(pl.col(names[d]))
        temporary.extend(names.values())
    if not merged:
        return frame
    return frame.with_columns(
        (pl.coalesce(sources) if len(sources) > 1 else sources[0]).alias(d)
        for d, sources in merged.items()
    ).drop(temporary)
