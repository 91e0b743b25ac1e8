"""The records' two orders as packed integers (engine/order.py): sorting by them gives
the order of sorting by the columns themselves — metrics as listed, then period, then
group, nulls last, tenure bands by tenure — and keeps each series together."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tpmkit.engine.order import OUTPUT, SERIES, with_orders
from tpmkit.engine.tenure import in_tenure_order

UTC = dt.UTC
W1, W2 = dt.datetime(2026, 1, 5, tzinfo=UTC), dt.datetime(2026, 1, 12, tzinfo=UTC)


def table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "metric": ["b", "a", "b", "a", "b", "a", "b"],
            "period_start": [W2, W1, W1, W2, W1, None, W2],
            "team": ["x", "y", None, "x", "x", "x", None],
        },
        schema={"metric": pl.String, "period_start": pl.Datetime("us", "UTC"), "team": pl.String},
    )


def test_output_order_is_metric_as_listed_then_period_then_group() -> None:
    keyed = with_orders(table(), ["team"], {"b": 0, "a": 1}, in_tenure_order)
    assert keyed is not None
    rows = keyed.sort(OUTPUT).select("metric", "period_start", "team").rows()
    assert rows == [
        ("b", W1, "x"),
        ("b", W1, None),  # a null group after the others
        ("b", W2, "x"),
        ("b", W2, None),
        ("a", W1, "y"),
        ("a", W2, "x"),
        ("a", None, "x"),  # a null period last
    ]


def test_series_order_keeps_each_series_together_periods_ascending() -> None:
    keyed = with_orders(table(), ["team"], {"b": 0, "a": 1}, in_tenure_order)
    assert keyed is not None
    rows = keyed.sort(SERIES).select("metric", "team", "period_start").rows()
    series: dict[tuple[object, object], list[object]] = {}
    seen: list[tuple[object, object]] = []
    for metric, team, start in rows:
        if not seen or seen[-1] != (metric, team):
            assert (metric, team) not in series  # a series does not come back later
            seen.append((metric, team))
        series.setdefault((metric, team), []).append(start)
    assert series == {
        ("b", "x"): [W1, W2],
        ("b", None): [W1, W2],
        ("a", "y"): [W1],
        ("a", "x"): [W2, None],
    }


def test_tenure_bands_in_tenure_order_and_no_groups() -> None:
    bands = pl.DataFrame(
        {
            "metric": ["m"] * 4,
            "period_start": [W1] * 4,
            "tenure_band": ["181-365", "0-30", ">365", "31-90"],
        },
        schema={
            "metric": pl.String,
            "period_start": pl.Datetime("us", "UTC"),
            "tenure_band": pl.String,
        },
    )
    keyed = with_orders(bands, ["tenure_band"], {"m": 0}, in_tenure_order)
    assert keyed is not None
    assert keyed.sort(OUTPUT)["tenure_band"].to_list() == ["0-30", "31-90", "181-365", ">365"]
    plain = with_orders(table().drop("team"), [], {"b": 0, "a": 1}, in_tenure_order)
    assert plain is not None
    assert plain.sort(OUTPUT)["metric"].to_list() == ["b", "b", "b", "b", "a", "a", "a"]
