"""The two orders records are finished in, each as one packed integer to sort by.

Finishing sorts each part of the records twice: by series and period (for the trend and
the signals, `trend.add_slope`), then by metric, period and group (the records' own
order). A sort by several columns, text among them, costs 25-60 ms of CPU per 200,000
records; the ranks of the part's few metrics, periods and groups packed into one 64-bit
integer sort in a few. The ranks follow the records' order (metrics as listed, periods
and groups ascending, nulls last), so sorting by `OUTPUT` gives the order of sorting by
the columns themselves; any order that keeps a series together and its periods ascending
serves `SERIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from tpmkit.engine.window import START

__all__ = ["OUTPUT", "PERIOD_RANK", "SERIES", "with_orders"]

SERIES = "__series_order"  # metric, group, period
OUTPUT = "__output_order"  # metric, period, group: the records' order
PERIOD_RANK = _P = "__period_rank"  # a period's place among the table's (UInt64, from 0)
_G = "__group_rank"


def with_orders(
    table: pl.DataFrame,
    by: list[str],
    metrics: Mapping[str, int],
    sort_key: Callable[[str], pl.Expr],
    periods: int | None = None,
) -> pl.DataFrame | None:
    """`table` with `SERIES` and `OUTPUT`; `metrics` ranks each metric, `sort_key` gives
    the value a group column is ordered by. None when the ranks need more than 64 bits.
    `periods`: the table already ranks its `periods` distinct starts in `PERIOD_RANK`
    (ascending, nulls last), joined with other values of each period (compute.finish)."""
    if periods is None:
        starts = table.select(pl.col(START).unique()).sort(START, nulls_last=True)
        starts = starts.with_row_index(_P).with_columns(pl.col(_P).cast(pl.UInt64))
        table = table.join(starts, on=START, how="left", nulls_equal=True)
        periods = starts.height
    groups = 1
    if by:
        found = table.select(by).unique().sort([sort_key(c) for c in by], nulls_last=True)
        found = found.with_row_index(_G).with_columns(pl.col(_G).cast(pl.UInt64))
        table = table.join(found, on=by, how="left", nulls_equal=True)
        groups = found.height
    else:
        table = table.with_columns(pl.lit(0, dtype=pl.UInt64).alias(_G))
    m_bits, p_bits, g_bits = (max(1, n.bit_length()) for n in (len(metrics), periods, groups))
    if m_bits + p_bits + g_bits > 64:
        return None
    rank = pl.col("metric").replace_strict(metrics, return_dtype=pl.UInt64)
    m, p, g = rank * 2 ** (p_bits + g_bits), pl.col(_P), pl.col(_G)
    return table.with_columns(
        (m + g * 2**p_bits + p).alias(SERIES), (m + p * 2**g_bits + g).alias(OUTPUT)
    ).drop(_P, _G)
