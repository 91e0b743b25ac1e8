"""Early warnings, target projections and control signals on series with known answers."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from tpmkit.engine import signals
from tpmkit.engine.trend import add_slope, trend

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday: 2026-W02


def series(values, *, direction="lower_is_better", warning=30.0, critical=60.0, **levels):
    rows = []
    for i, value in enumerate(values):
        start = START + dt.timedelta(weeks=i)
        rows.append(
            {
                "metric": "m",
                "g": "x",
                "period_start": start,
                "period_end": start + dt.timedelta(weeks=1),
                "value": None if value is None else float(value),
                "direction": direction,
                "status": "ok",
                "warning": warning,
                "warning_upper": levels.get("warning_upper"),
                "critical": critical,
                "critical_upper": levels.get("critical_upper"),
                "target": levels.get("target"),
                "target_upper": levels.get("target_upper"),
                "target_is_band": levels.get("target_upper") is not None,
                "target_by": levels.get("target_by"),
                "baseline": levels.get("baseline"),
            }
        )
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("period_start", "period_end").cast(pl.Datetime("us", "UTC")),
        pl.col("target_by").cast(pl.Date),
        *(
            pl.col(c).cast(pl.Float64)
            for c in ("warning_upper", "critical_upper", "target", "target_upper", "baseline")
        ),
    )
    status = _status(frame)
    frame = frame.with_columns(status.alias("status"))
    frame = add_slope(frame, ["metric", "g"], "week").with_columns(trend().alias("trend"))
    return signals.add_signals(frame, ["metric", "g"], "week").sort("period_start")


def _status(frame: pl.DataFrame) -> pl.Expr:
    value = pl.col("value")
    lower = pl.col("direction") == "lower_is_better"
    return (
        pl.when(value.is_null())
        .then(pl.lit("no_data"))
        .when(lower & (value > pl.col("critical")) | ~lower & (value < pl.col("critical")))
        .then(pl.lit("critical"))
        .when(lower & (value > pl.col("warning")) | ~lower & (value < pl.col("warning")))
        .then(pl.lit("warning"))
        .otherwise(pl.lit("ok"))
    )


def last(frame: pl.DataFrame) -> dict:
    return frame.row(-1, named=True)


def test_linear_rise_projects_the_warning_period():
    # 10, 12, 14, 16, 18: slope 2 per week; at 18 the line passes 30 (strictly) after
    # (30 - 18) / 2 = 6 weeks -> beyond the 4-week horizon: no warning yet
    frame = series([10, 12, 14, 16, 18])
    assert last(frame)["projected_status"] is None
    # 10, 15, 20, 25, 28 → fit at the last point: mean 19.6 + slope 4.6 * 2 = 28.8;
    # passes 30 strictly at k = floor((30 - 28.8) / 4.6) + 1 = 1 → next week, 2026-W07
    frame = series([10, 15, 20, 25, 28])
    row = last(frame)
    assert row["slope"] == pytest.approx(4.6)
    assert (row["projected_status"], row["projected_breach_period"]) == ("warning", "2026-W07")


def test_a_line_landing_exactly_on_the_threshold_is_not_a_breach():
    # slope 5, fit 20 at the last point: 30 is reached at k = 2 exactly, passed at k = 3
    frame = series([0, 5, 10, 15, 20])
    assert last(frame)["projected_breach_period"] == "2026-W09"  # W06 + 3


def test_flat_and_improving_series_raise_nothing():
    assert last(series([20, 20, 20, 20, 20]))["projected_status"] is None
    assert last(series([28, 26, 24, 22, 20]))["projected_status"] is None  # moving away


def test_from_warning_the_projection_is_critical_and_higher_is_better_mirrors():
    row = last(series([40, 44, 48, 52, 56]))  # warning now, slope 4: passes 60 at k = 2
    assert (row["status"], row["projected_status"], row["projected_breach_period"]) == (
        "warning",
        "critical",
        "2026-W08",
    )
    row = last(series([90, 88, 86, 84, 82], direction="higher_is_better", warning=80, critical=70))
    assert (row["projected_status"], row["projected_breach_period"]) == ("warning", "2026-W08")


def test_too_few_points_or_noise_raise_nothing():
    assert last(series([10, 20, 28]))["projected_status"] is None  # 3 points: not trusted
    rng = random.Random(7)
    noisy = [20 + rng.uniform(-2, 2) for _ in range(12)]
    assert all(v is None for v in series(noisy)["projected_status"].to_list())


def test_target_projection_and_required_improvement():
    by = dt.date(2026, 3, 1)  # Sunday of 2026-W09
    frame = series([50, 48, 46, 44, 42], warning=60, critical=70, target=36.0, target_by=by)
    row = last(frame)  # 2026-W06 ends Monday 2026-02-09; 3 weeks remain to the end of Mar 1
    assert row["projected_target_period"] == "2026-W09"  # 42 - 2k <= 36 → k = 3
    assert row["required_per_period"] == pytest.approx((36 - 42) / 3)


def test_control_limits_flag_a_point_outside_and_a_run():
    values = [20, 21, 19, 20, 21, 19, 20, 21, 60]
    assert last(series(values, warning=100, critical=200))["control_signal"] == "outside_limits"
    run = [20, 22, 18, 21, 19, 20, 22, 18] + [20.5] * 7
    signals_seen = series(run, warning=100, critical=200)["control_signal"].to_list()
    assert signals_seen[-1] == "run_above" and signals_seen[-2] is None


def test_change_against_previous_and_baseline():
    row = last(series([10, 12, 15], baseline=10.0))
    assert row["change_pct"] == pytest.approx(25.0)
    assert row["change_vs_baseline_pct"] == pytest.approx(50.0)
