"""Trend: least-squares slope of a series over its last 6 periods, in the metric's direction."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tpmkit.engine.trend import add_trend


def series(values, direction="higher_is_better", groups=None):
    starts = [dt.datetime(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(len(values))]
    frame = pl.DataFrame(
        {
            "metric": ["m"] * len(values),
            "g": groups or ["a"] * len(values),
            "period_start": starts,
            "value": values,
            "direction": [direction] * len(values),
            "target": [None] * len(values),
            "target_upper": [None] * len(values),
        },
        schema_overrides={"value": pl.Float64, "target": pl.Float64, "target_upper": pl.Float64},
    ).with_columns(pl.col("period_start").dt.replace_time_zone("Europe/Berlin"))
    return add_trend(frame, ["metric", "g"], "week")


def test_slope_is_least_squares_over_last_six():
    out = series([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 30.0])
    # first 6 points: slope exactly 1 per week
    assert out["slope"][5] == pytest.approx(1.0)
    # last window = 11..15, 30 at x = 1..6: slope = 3.3428571...
    xs, ys = [1, 2, 3, 4, 5, 6], [11, 12, 13, 14, 15, 30]
    mean_x, mean_y = sum(xs) / 6, sum(ys) / 6
    expected = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    assert out["slope"][6] == pytest.approx(expected)


def test_direction_and_tolerance():
    rising = [80.0, 81.0, 82.0, 83.0]
    assert series(rising)["trend"][3] == "improving"
    assert series(rising, "lower_is_better")["trend"][3] == "worsening"
    # 0.5 % of the level per period is within the 1 % tolerance
    flat = [100.0, 100.5, 101.0, 101.5]
    assert series(flat)["trend"][3] == "stable"


def test_needs_three_values_and_skips_nulls():
    out = series([1.0, 2.0, None, 4.0])
    assert out["trend"][0] is None and out["trend"][1] is None
    assert out["trend"][2] is None  # no value, no trend
    assert out["trend"][3] == "improving"  # three values: 1, 2, 4


def test_groups_are_separate_series():
    out = series([1.0, 10.0, 2.0, 9.0, 3.0, 8.0], groups=["a", "b"] * 3)
    by_group = {g: t for g, t in zip(out["g"], out["trend"], strict=True) if t}
    assert by_group == {"a": "improving", "b": "worsening"}
