"""Work that finishing records does once and shares (engine/compute.py `_finish_part`):
the context's records found among the series once for the trend and the signals
(`trend.Placing`), the periods' ranks joined with their ends and labels
(`order.with_orders(periods=…)`), the labels of periods ahead looked up only for the rows
that have a k (`signals._ahead_labels`). Each gives what the unshared way gives."""

from __future__ import annotations

import polars as pl
from tests.test_trend_context import KEYS, START
from tests.test_trend_context import frame as weekly

from tpmkit.engine import order, signals
from tpmkit.engine.trend import Placing, add_slope, origin, trend


def frame(series: dict[str, list[float]], first_week: int = 0) -> pl.DataFrame:
    """Records of metric "m" per group in consecutive weeks from `first_week`, with the
    columns the signals read (`test_trend_context.frame`)."""
    weeks = {g: list(range(first_week, first_week + len(v))) for g, v in series.items()}
    return weekly(series, weeks)


def finished(
    records: pl.DataFrame, context: pl.DataFrame, first: float | None, placing: Placing | None
) -> pl.DataFrame:
    """Trend and signals as `compute._finish_part` adds them, sharing `placing`."""
    out = add_slope(records, KEYS, "week", origin=first, context=context, placing=placing)
    out = out.with_columns(trend().alias("trend"))
    return signals.add_signals(out, KEYS, "week", None, context, placing)


def test_the_context_found_once_gives_the_same_trend_and_signals():
    """A and B have earlier records in the context, C only there (left out), D none: with
    one `Placing` for both steps (one join of the context) every field is as with none,
    and the placing holds the context's records of A and B (6 + 4) and the 3 series."""
    old = frame({"A": [10, 12, 11, 13, 12, 14], "B": [40, 41, 39, 42], "C": [5, 6]})
    new = frame({"A": [13, 15, 14], "B": [70, 20, 43], "D": [1, 2, 3]}, first_week=6)
    context = old.select("metric", "g", "period_start", "value")
    first = origin(pl.concat([old, new]), "week")
    placing = Placing()
    shared = finished(new, context, first, placing)
    alone = finished(new, context, first, None)
    assert shared.equals(alone)
    assert placing.found is not None and placing.found.height == 10 and placing.series == 3
    # the slope of A's first new record is over its five before it and itself
    assert shared.row(0, named=True)["__points"] == 6


def test_the_context_found_once_when_the_trend_finds_the_first_position():
    """Without a first position given (`origin`) the trend takes it from the records and
    the context (the first of both): the placing found then serves the signals alike."""
    old = frame({"A": [10, 12, 11]})
    new = frame({"A": [13, 15]}, first_week=3)
    context = old.select("metric", "g", "period_start", "value")
    placing = Placing()
    assert finished(new, context, None, placing).equals(finished(new, context, None, None))
    assert placing.found is not None and placing.found.height == 3


def test_the_periods_ranks_given_order_as_those_found():
    """The ranks joined with the periods' ends (ascending, nulls last) give the same two
    orders as `with_orders` finding them itself."""
    table = frame({"b": [1, 2], "a": [3, 4, 5]}).select("metric", "g", "period_start")
    starts = table.select(pl.col("period_start").unique()).sort("period_start", nulls_last=True)
    starts = starts.with_row_index(order.PERIOD_RANK).with_columns(
        pl.col(order.PERIOD_RANK).cast(pl.UInt64)
    )
    given = table.join(starts, on="period_start", how="left")
    by_rank = order.with_orders(given, ["g"], {"m": 0}, pl.col, starts.height)
    found = order.with_orders(table, ["g"], {"m": 0}, pl.col)
    assert by_rank is not None and found is not None
    assert by_rank.select(order.SERIES, order.OUTPUT).equals(
        found.select(order.SERIES, order.OUTPUT)
    )
    # a before b, then weeks: a's three weeks are 0, 1, 2 in the series order
    ranked = found.sort(order.SERIES).get_column("g").to_list()
    assert ranked == ["a", "a", "a", "b", "b"]


def test_periods_ahead_are_labelled_only_where_there_is_a_k():
    """2026-W02 with k 3 is 2026-W05, with k 50 2026-W52 of the same ISO year, with k 52
    2027-W01; no k, or no period start, no label."""
    table = pl.DataFrame(
        {
            "period_start": [START, START, START, None, START, START],
            "__k": [3.0, None, 50.0, 2.0, 52.0, None],
        },
        schema_overrides={"period_start": pl.Datetime("us", "UTC")},
    )
    labels = signals._ahead_labels(table, "__k", "week")
    assert labels.to_list() == ["2026-W05", None, "2026-W52", None, "2027-W01", None]
    none = signals._ahead_labels(table.with_columns(pl.lit(None).alias("__k")), "__k", "week")
    assert none.dtype == pl.String and none.null_count() == 6
