"""Status from thresholds (a value exactly on a threshold is not a breach) and gap to target."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import by_key, evaluate_records
from tpmkit.engine.status import gap_to_target, status

SCHEMA = {
    "value": pl.Float64,
    "n": pl.Int64,
    "min_sample": pl.Int64,
    "direction": pl.String,
    "warning": pl.Float64,
    "warning_upper": pl.Float64,
    "critical": pl.Float64,
    "critical_upper": pl.Float64,
    "target": pl.Float64,
    "target_upper": pl.Float64,
}
RANK = {"ok": 0, "warning": 1, "critical": 2}


def statuses(values, direction, warning=None, critical=None, **columns):
    """Status of each value with the given levels (n 100, min_sample 0 unless given)."""
    rows = [
        {
            "value": v,
            "n": columns.get("n", 100),
            "min_sample": columns.get("min_sample", 0),
            "direction": direction,
            "warning": warning,
            "warning_upper": columns.get("warning_upper"),
            "critical": critical,
            "critical_upper": columns.get("critical_upper"),
            "target": columns.get("target"),
            "target_upper": columns.get("target_upper"),
        }
        for v in values
    ]
    frame = pl.DataFrame(rows, schema=SCHEMA)
    return frame.select(status().alias("s"))["s"].to_list()


def gaps(values, target, target_upper=None, direction="higher_is_better"):
    """gap_to_target(); a within_band direction here means a {lower, upper} target."""
    band = direction == "within_band"
    rows = [
        {
            "value": v,
            "target": target,
            "target_upper": target_upper,
            "direction": direction,
            "target_is_band": band,  # internal column of the levels table
        }
        for v in values
    ]
    schema = {**SCHEMA, "target_is_band": pl.Boolean}
    return (
        pl.DataFrame(rows, schema={k: schema[k] for k in rows[0]})
        .select(gap_to_target().alias("g"))["g"]
        .to_list()
    )


def test_higher_is_better_boundaries():
    # warning when value < 80, critical when value < 70; exactly on a level is not a breach
    values = [100.0, 80.0, 79.999, 70.0, 69.999, 0.0]
    expected = ["ok", "ok", "warning", "warning", "critical", "critical"]
    assert statuses(values, "higher_is_better", 80.0, 70.0) == expected


def test_lower_is_better_boundaries():
    # warning when value > 420, critical when value > 480
    values = [0.0, 420.0, 420.001, 480.0, 480.001, 1e6]
    expected = ["ok", "ok", "warning", "warning", "critical", "critical"]
    assert statuses(values, "lower_is_better", 420.0, 480.0) == expected


def test_within_band_boundaries():
    # occupancy: warning outside 70-88, critical outside 65-92; the bounds themselves are inside
    values = [80.0, 70.0, 88.0, 69.9, 88.1, 65.0, 92.0, 64.9, 92.1]
    expected = ["ok", "ok", "ok", "warning", "warning", "warning", "warning"]
    expected += ["critical", "critical"]
    out = statuses(values, "within_band", 70.0, 65.0, warning_upper=88.0, critical_upper=92.0)
    assert out == expected


def test_within_band_one_sided():
    # only a lower bound: nothing above it is a breach
    assert statuses([1e9, 70.0, 69.0], "within_band", 70.0, None) == ["ok", "ok", "warning"]
    # only an upper bound (lower null): nothing below it is a breach
    out = statuses([-1e9, 88.0, 89.0], "within_band", None, None, warning_upper=88.0)
    assert out == ["ok", "ok", "warning"]


def test_only_critical_level():
    # no warning level: between "fine" and critical is ok
    assert statuses([75.0, 69.0], "higher_is_better", None, 70.0) == ["ok", "critical"]


@pytest.mark.parametrize("direction", ["higher_is_better", "lower_is_better", "within_band", None])
def test_no_thresholds_is_ok(direction):
    assert statuses([-1e9, 0.0, 1e9], direction) == ["ok", "ok", "ok"]


def test_precedence_no_data_then_sample_then_thresholds():
    # value null: no_data whatever n and min_sample say
    assert statuses([None], "higher_is_better", 80.0, 70.0, n=0, min_sample=5) == ["no_data"]
    assert statuses([None], "higher_is_better", 80.0, 70.0, n=50, min_sample=5) == ["no_data"]
    # a critical value on too few rows: insufficient_sample (value still shown elsewhere)
    out = statuses([10.0], "higher_is_better", 80.0, 70.0, n=4, min_sample=5)
    assert out == ["insufficient_sample"]
    # n == min_sample is enough
    assert statuses([10.0], "higher_is_better", 80.0, 70.0, n=5, min_sample=5) == ["critical"]


def test_gap_to_target_single_value():
    # value - target, whatever the direction: 85 vs 80 -> +5, 330 vs 360 -> -30
    assert gaps([85.0, 80.0], 80.0) == [5.0, 0.0]
    assert gaps([330.0], 360.0, direction="lower_is_better") == [-30.0]
    assert gaps([None], 80.0) == [None]  # no value, no gap
    assert gaps([85.0], None) == [None]  # no target, no gap


def test_gap_to_target_band():
    # band 75-85: 0 inside (bounds included), signed distance to the nearest bound outside
    values = [80.0, 75.0, 85.0, 70.0, 90.0]
    assert gaps(values, 75.0, 85.0, "within_band") == [0.0, 0.0, 0.0, -5.0, 5.0]
    # upper bound only: 0 below it
    assert gaps([-100.0, 90.0], None, 85.0, "within_band") == [0.0, 5.0]


# ---- end to end: levels from a metric file -------------------------------------------------

PROJECT = """
name: Status
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""

# W02: talk 70 and 90 -> mean exactly 80; W03: talk 79.5 -> mean 79.5
CALLS = """
contact_id,offered_at,answered,wait_seconds,talk_seconds
c1,2026-01-05 09:00:00,true,1,70
c2,2026-01-06 09:00:00,true,1,90
c3,2026-01-13 09:00:00,true,1,79.5
"""


def talk(metric_id, direction, levels):
    return (
        f"id: {metric_id}\nname: {metric_id}\nunit: seconds\ndirection: {direction}\n"
        f'dataset: calls\ncompute: {{kind: mean, expr: "talk_seconds"}}\n{levels}\n'
    )


METRICS = {
    "hi": talk("hi", "higher_is_better", "thresholds: {warning: 80, critical: 70}"),
    "lo": talk("lo", "lower_is_better", "thresholds: {warning: 79.5, critical: 80}"),
    "band": talk(
        "band",
        "within_band",
        "target: {lower: 82, upper: 85}\n"
        "thresholds: {warning: {lower: 80, upper: 88}, critical: {lower: 75, upper: 92}}",
    ),
    "onesided": talk("onesided", "within_band", "target: {lower: 75}"),
    "point": talk("point", "within_band", "target: {value: 79}"),
}


def test_levels_from_metric_files(make):
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    index = by_key(evaluate_records(path))
    # W02 mean 80: exactly on hi's warning (ok), on lo's critical (warning, not critical),
    # on band's lower warning bound (ok)
    assert index[("hi", "2026-W02")]["status"] == "ok"
    assert index[("lo", "2026-W02")]["status"] == "warning"
    assert index[("band", "2026-W02")]["status"] == "ok"
    # W03 mean 79.5: below hi's warning, exactly on lo's warning, below band's warning band
    assert index[("hi", "2026-W03")]["status"] == "warning"
    assert index[("lo", "2026-W03")]["status"] == "ok"
    assert index[("band", "2026-W03")]["status"] == "warning"
    band = index[("band", "2026-W02")]
    assert (band["warning"], band["warning_upper"]) == (80.0, 88.0)
    assert (band["critical"], band["critical_upper"]) == (75.0, 92.0)
    assert (band["target"], band["target_upper"]) == (82.0, 85.0)
    # band target 82-85: 80 is 2 below it
    assert band["gap_to_target"] == pytest.approx(-2.0)


def test_one_sided_band_target_gap(make):
    # target {lower: 75} on a within_band metric = "at least 75": 80 and 79.5 are inside -> 0
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    index = by_key(evaluate_records(path, ["onesided"]))
    assert index[("onesided", "2026-W02")]["gap_to_target"] == 0.0
    assert index[("onesided", "2026-W03")]["gap_to_target"] == 0.0


def test_point_target_on_band_metric_gap(make):
    # a single target value (allowed for within_band) is not a band: gap = value - target
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    index = by_key(evaluate_records(path, ["point"]))
    assert index[("point", "2026-W02")]["gap_to_target"] == pytest.approx(1.0)  # 80 - 79
    assert index[("point", "2026-W03")]["gap_to_target"] == pytest.approx(0.5)  # 79.5 - 79


# ---- properties ----------------------------------------------------------------------------

levels = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
values = st.lists(levels, min_size=2, max_size=30)


def _ordered(a, b, higher):
    """(warning, critical) consistent with the direction: critical is the worse one."""
    if a is None or b is None:
        return a, b
    return (max(a, b), min(a, b)) if higher else (min(a, b), max(a, b))


@settings(max_examples=200, deadline=None, database=None)
@given(values, st.one_of(st.none(), levels), st.one_of(st.none(), levels))
def test_higher_is_better_never_improves_as_value_falls(xs, a, b):
    warning, critical = _ordered(a, b, higher=True)
    xs = sorted(xs, reverse=True)  # value decreasing
    ranks = [RANK[s] for s in statuses(xs, "higher_is_better", warning, critical)]
    assert ranks == sorted(ranks)
    if warning is not None:  # on the warning level: never a breach of it
        assert statuses([warning], "higher_is_better", warning, critical)[0] != "warning"


@settings(max_examples=200, deadline=None, database=None)
@given(values, st.one_of(st.none(), levels), st.one_of(st.none(), levels))
def test_lower_is_better_never_improves_as_value_rises(xs, a, b):
    warning, critical = _ordered(a, b, higher=False)
    xs = sorted(xs)  # value increasing
    ranks = [RANK[s] for s in statuses(xs, "lower_is_better", warning, critical)]
    assert ranks == sorted(ranks)
    if critical is not None:
        assert statuses([critical], "lower_is_better", warning, critical)[0] != "critical"


@settings(max_examples=100, deadline=None, database=None)
@given(values, levels, st.floats(0, 1e5), st.floats(0, 1e5))
def test_within_band_never_improves_moving_away(xs, middle, half_warning, extra):
    # warning band middle ± half_warning, critical band wider by `extra`
    w_lo, w_hi = middle - half_warning, middle + half_warning
    c_lo, c_hi = w_lo - extra, w_hi + extra
    kw = {"warning_upper": w_hi, "critical_upper": c_hi}
    distance = sorted(xs, key=lambda v: abs(v - middle))
    for side in (1, -1):
        moved = [middle + side * abs(v - middle) for v in distance]
        ranks = [RANK[s] for s in statuses(moved, "within_band", w_lo, c_lo, **kw)]
        assert ranks == sorted(ranks)
