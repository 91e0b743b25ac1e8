"""The arithmetic of `tpmkit explain` on hand-made records: Simpson's paradox (issue 16),
counts, a formula `a / b`, an order statistic, small segments, segments present in one
period only, and a property test that contributions add up to the change."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpmkit.errors import UsageError
from tpmkit.explain.decompose import decompose
from tpmkit.explain.drivers import driver_of, rank, score
from tpmkit.explain.words import verdict
from tpmkit.spec.models import MetricSpec


def spec(id_: str = "aht", kind: str = "mean", min_sample: int = 0, **extra: Any) -> MetricSpec:
    computes = {
        "mean": {"kind": "mean", "expr": "handle_seconds"},
        "ratio": {"kind": "ratio", "numerator": "resolved"},
        "count": {"kind": "count"},
        "sum": {"kind": "sum", "expr": "amount"},
        "median": {"kind": "median", "expr": "handle_seconds"},
        "formula": {"kind": "formula", "expr": "total_cost / contacts"},
    }
    unit = {"count": "count", "sum": "currency", "formula": "currency"}.get(kind, "seconds")
    return MetricSpec.model_validate(
        {
            "id": id_,
            "name": id_.upper(),
            "unit": unit,
            "compute": computes[kind],
            "min_sample": min_sample,
            **extra,
        }
    )


def records(rows: list[tuple[Any, ...]], metric: str = "aht", by: str = "queue") -> pl.DataFrame:
    """Records from (period, segment, numerator, denominator, n[, value]) rows; the value
    is numerator ÷ denominator unless given (None components: an order statistic)."""
    out = []
    for row in rows:
        period, segment, numerator, denominator, n = row[:5]
        if len(row) > 5:
            value = row[5]
        elif denominator is None:
            value = numerator
        else:
            value = numerator / denominator if denominator else None
        out.append(
            {
                "metric": metric,
                "period": period,
                by: segment,
                "numerator": None if value is None else numerator,
                "denominator": None if value is None else denominator,
                "scale": None if numerator is None or value is None else 1.0,
                "value": value,
                "n": n,
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "metric": pl.String,
            "period": pl.String,
            by: pl.String,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
            "scale": pl.Float64,
            "value": pl.Float64,
            "n": pl.Int64,
        },
    )


# Issue 16: queue A 90 calls at 100 s and B 10 at 400 s (AHT 130 s), then A 10 at 90 s
# and B 90 at 380 s (AHT 351 s). Weights 0.9/0.1 -> 0.1/0.9, R = 130.
SIMPSON = [
    ("W1", "A", 90 * 100.0, 90.0, 90),
    ("W1", "B", 10 * 400.0, 10.0, 10),
    ("W2", "A", 10 * 90.0, 10.0, 10),
    ("W2", "B", 90 * 380.0, 90.0, 90),
]


def test_simpsons_paradox_is_mostly_mix():
    d = decompose(records(SIMPSON), spec(), ["queue"], "W1", "W2")
    assert (d.before, d.after) == pytest.approx((130.0, 351.0))
    assert d.change == pytest.approx(221.0)
    # mix: A (0.1 − 0.9)·(100 − 130) = +24, B (0.9 − 0.1)·(400 − 130) = +216
    # rate: A 0.1·(90 − 100) = −1, B 0.9·(380 − 400) = −18
    segments = {s.label: s for s in d.segments}
    assert segments["A"].effects == pytest.approx({"mix": 24.0, "rate": -1.0})
    assert segments["B"].effects == pytest.approx({"mix": 216.0, "rate": -18.0})
    assert d.total("mix") == pytest.approx(240.0)
    assert d.total("rate") == pytest.approx(-19.0)
    assert d.explained == pytest.approx(221.0, rel=1e-12)
    assert [s.label for s in d.segments] == ["B", "A"]  # +198 before +23
    assert (segments["B"].weight_before, segments["B"].weight_after) == pytest.approx((0.1, 0.9))
    assert d.main_effect == "mix"
    assert "mostly mix" in verdict(d)
    assert "top segment B +198s (mix)" in verdict(d)
    driver = driver_of([d], {})
    assert driver is not None
    assert (driver.segment, driver.kind) == ("B", "mix")
    assert driver.contribution == pytest.approx(198.0)
    assert driver.text == "aht +221s: B +198s (mix)"


def test_a_segment_in_one_period_only_adds_its_mix_with_its_own_value():
    # W1: A 100 s × 50, B 200 s × 50 (R = 150); W2: A 100 s × 50, C 300 s × 50 (R' = 200)
    rows = [
        ("W1", "A", 5000.0, 50.0, 50),
        ("W1", "B", 10000.0, 50.0, 50),
        ("W2", "A", 5000.0, 50.0, 50),
        ("W2", "C", 15000.0, 50.0, 50),
    ]
    d = decompose(records(rows), spec(), ["queue"], "W1", "W2")
    segments = {s.label: s for s in d.segments}
    # A: (0.5 − 0.5)·(100 − 150) = 0, rate 0; B gone: (0 − 0.5)·(200 − 150) = −25;
    # C new: (0.5 − 0)·(300 − 150) = +75; total +50 = 200 − 150
    assert segments["A"].effects == pytest.approx({"mix": 0.0, "rate": 0.0})
    assert segments["B"].effects == pytest.approx({"mix": -25.0, "rate": 0.0})
    assert segments["C"].effects == pytest.approx({"mix": 75.0, "rate": 0.0})
    assert (segments["B"].only_in, segments["C"].only_in) == ("before", "after")
    assert d.explained == pytest.approx(d.change) == pytest.approx(50.0)


def test_a_small_segment_is_flagged_and_never_the_top_driver():
    # C moves most but has 5 calls, under min_sample 20: B is the top driver
    rows = [
        ("W1", "A", 100 * 100.0, 100.0, 100),
        ("W1", "B", 100 * 100.0, 100.0, 100),
        ("W1", "C", 5 * 100.0, 5.0, 5),
        ("W2", "A", 100 * 100.0, 100.0, 100),
        ("W2", "B", 100 * 110.0, 100.0, 100),
        ("W2", "C", 5 * 900.0, 5.0, 5),
    ]
    d = decompose(records(rows), spec(min_sample=20), ["queue"], "W1", "W2")
    first = d.segments[0]
    assert first.label == "C" and first.small
    assert d.top is not None and d.top.label == "B"
    assert "top segment B" in verdict(d)
    assert not any(s.small for s in d.segments if s.label != "C")


def test_counts_split_by_segment_difference():
    # contacts: W1 A 10, B 5 (15); W2 A 12, C 6 (18): A +2, B −5, C +6 = +3
    rows = [
        ("W1", "A", 10.0, None, 10),
        ("W1", "B", 5.0, None, 5),
        ("W2", "A", 12.0, None, 12),
        ("W2", "C", 6.0, None, 6),
    ]
    d = decompose(records(rows, "contacts"), spec("contacts", "count"), ["queue"], "W1", "W2")
    assert d.method == "difference"
    assert (d.before, d.after, d.change) == (15.0, 18.0, 3.0)
    assert {s.label: s.contribution for s in d.segments} == {"A": 2.0, "B": -5.0, "C": 6.0}
    assert d.top is not None and d.top.label == "C"  # the largest in the change's direction
    assert {s.label: s.weight_before for s in d.segments} == {"A": 10 / 15, "B": 5 / 15, "C": 0.0}
    assert verdict(d) == "contacts +3 from W1 to W2 by queue: top segment C +6, 200% of the change"


def test_sums_split_by_segment_difference():
    rows = [("W1", "A", 100.5, None, 3), ("W2", "A", 90.25, None, 2), ("W2", "B", 20.0, None, 1)]
    d = decompose(records(rows, "cost"), spec("cost", "sum"), ["queue"], "W1", "W2")
    assert d.change == pytest.approx(9.75)
    assert {s.label: s.contribution for s in d.segments} == pytest.approx({"A": -10.25, "B": 20.0})


def formula_records() -> pl.DataFrame:
    # cost per contact by site: W1 Berlin 1000/100, Lisbon 600/100 (8.00);
    # W2 Berlin 1200/100, Lisbon 600/150 (1800/250 = 7.20)
    return records(
        [
            ("W1", "Berlin", 1000.0, 100.0, 100),
            ("W1", "Lisbon", 600.0, 100.0, 100),
            ("W2", "Berlin", 1200.0, 100.0, 100),
            ("W2", "Lisbon", 600.0, 150.0, 150),
        ],
        "cpc",
        "site",
    )


def test_a_formula_a_over_b_splits_into_its_inputs_by_segment():
    specs = {
        "cpc": spec("cpc", "formula"),
        "total_cost": spec("total_cost", "sum"),
        "contacts": spec("contacts", "count"),
    }
    d = decompose(formula_records(), specs["cpc"], ["site"], "W1", "W2", specs=specs)
    assert d.method == "quotient"
    assert d.inputs == ("total_cost", "contacts")
    assert (d.before, d.after) == pytest.approx((8.0, 7.2))
    # cost: (a' − a) ÷ B' = Berlin 200/250 = +0.80, Lisbon 0
    # volume: −A·(b' − b) ÷ (B·B') = −1600·(b' − b)/50 000: Berlin 0, Lisbon −1.60
    segments = {s.label: s for s in d.segments}
    assert segments["Berlin"].effects == pytest.approx({"numerator": 0.8, "denominator": 0.0})
    assert segments["Lisbon"].effects == pytest.approx({"numerator": 0.0, "denominator": -1.6})
    assert d.explained == pytest.approx(-0.8, rel=1e-12)
    assert d.main_effect == "denominator"
    assert "mostly denominator: contacts" in verdict(d)
    assert "top segment Lisbon −1.60 (denominator: contacts)" in verdict(d)


def test_a_formula_of_a_mean_does_not_add_up():
    specs = {
        "cpc": spec("cpc", "formula"),
        "total_cost": spec("total_cost", "mean"),
        "contacts": spec("contacts", "count"),
    }
    d = decompose(formula_records(), specs["cpc"], ["site"], "W1", "W2", specs=specs)
    assert d.method == "own_shift" and not d.adds_up


def test_a_median_shows_own_shifts_and_says_they_do_not_add_up():
    rows = [
        ("W1", "A", None, None, 50, 300.0),
        ("W1", "B", None, None, 50, 400.0),
        ("W2", "A", None, None, 50, 320.0),
        ("W2", "B", None, None, 50, 390.0),
    ]
    d = decompose(
        records(rows, "median_aht"),
        spec("median_aht", "median"),
        ["queue"],
        "W1",
        "W2",
        totals=(350.0, 352.0),
    )
    assert d.method == "own_shift" and not d.adds_up
    assert {s.label: s.contribution for s in d.segments} == {"A": 20.0, "B": -10.0}
    assert d.change == 2.0
    assert "does not add up" in verdict(d)
    assert d.to_dict()["adds_up"] is False
    assert driver_of([d], {}) is None  # a shift that does not add up drives nothing


def test_no_value_in_a_period_is_a_usage_error():
    with pytest.raises(UsageError, match="has no value in W3"):
        decompose(records(SIMPSON), spec(), ["queue"], "W1", "W3")


def test_records_grouped_by_more_columns_are_refused():
    doubled = pl.concat([records(SIMPSON), records(SIMPSON)])
    with pytest.raises(UsageError, match="several groups per queue"):
        decompose(doubled, spec(), ["queue"], "W1", "W2")


def test_the_segments_total_is_compared_with_the_metrics_own():
    d = decompose(records(SIMPSON), spec(), ["queue"], "W1", "W2", totals=(130.0, 360.0))
    assert d.notes and "differs from the metric's" in d.notes[0]


def test_dimensions_rank_by_what_their_top_segment_explains_beyond_its_weight():
    by_queue = decompose(records(SIMPSON), spec(), ["queue"], "W1", "W2")
    flat = records(
        [
            ("W1", "X", 65 * 130.0, 65.0, 65),
            ("W1", "Y", 35 * 130.0, 35.0, 35),
            ("W2", "X", 65 * 351.0, 65.0, 65),
            ("W2", "Y", 35 * 351.0, 35.0, 35),
        ],
        by="site",
    )
    by_site = decompose(flat, spec(), ["site"], "W1", "W2")
    # site X: 65 % of the change at 65 % of the weight (0); queue B: 90 % at 50 % (0.4)
    assert score(by_site) == pytest.approx(0.0, abs=1e-12)
    assert score(by_queue) == pytest.approx(198 / 221 - 0.5)
    assert [d.dimensions for d in rank([by_site, by_queue])] == [("queue",), ("site",)]


# -- contributions add up, on random data -----------------------------------------------

segment_rows = st.lists(
    st.tuples(
        st.sampled_from(["W1", "W2"]),
        st.integers(0, 7),  # the segment
        st.floats(0, 5000, allow_nan=False),  # its value (a mean)
        st.integers(0, 300),  # its denominator; 0: a zero-weight segment with no value
    ),
    min_size=2,
    max_size=24,
    unique_by=lambda r: (r[0], r[1]),
)


def _close(explained: float, change: float, scale: float) -> bool:
    # 1e-9 relative to the change, or to the values when the change itself is ~0
    return math.isclose(explained, change, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(max_examples=300, deadline=None)
@given(segment_rows)
def test_mix_and_rate_add_up_to_the_change(rows):
    data = [(p, f"s{s}", v * n, float(n), n) for p, s, v, n in rows]
    frame = records(data)
    sides = [
        frame.filter((pl.col("period") == p) & pl.col("value").is_not_null()) for p in ("W1", "W2")
    ]
    if any(side.is_empty() for side in sides):
        return  # no value in a period: nothing to explain (a usage error, tested above)
    d = decompose(frame, spec(), ["queue"], "W1", "W2")
    assert d.change is not None
    scale = max(abs(d.before or 0), abs(d.after or 0), 1.0)
    assert _close(d.explained, d.change, scale)
    assert _close(d.total("mix") + d.total("rate"), d.change, scale)
    # weights of each period sum to 1 over the segments present in it
    for attribute in ("weight_before", "weight_after"):
        assert math.fsum(getattr(s, attribute) for s in d.segments) == pytest.approx(1.0)


@settings(max_examples=200, deadline=None)
@given(segment_rows)
def test_differences_and_quotients_add_up_to_the_change(rows):
    counts = records([(p, f"s{s}", float(n), None, n) for p, s, _, n in rows], "contacts")
    d = decompose(counts, spec("contacts", "count"), ["queue"], "W1", "W2")
    assert d.change is not None
    assert _close(d.explained, d.change, max(abs(d.before or 0), abs(d.after or 0), 1.0))
    quotient = records([(p, f"s{s}", v, float(n), n) for p, s, v, n in rows], "cpc", "queue")
    specs = {
        "cpc": spec("cpc", "formula"),
        "total_cost": spec("total_cost", "sum"),
        "contacts": spec("contacts", "count"),
    }
    try:
        q = decompose(quotient, specs["cpc"], ["queue"], "W1", "W2", specs=specs)
    except UsageError:
        return  # a period with no contacts has no value
    assert q.change is not None
    assert _close(q.explained, q.change, max(abs(q.before or 0), abs(q.after or 0), 1.0))


def test_a_shift_of_work_to_a_small_segment_can_drive_a_change():
    """Review of issue 16: with AHT's min_sample of 30 both queues are small on one side (10
    calls), so no segment could be named and driver search fell to agents. A small segment's
    own rate is noise; its weight, a count, is not: B's +198 s is mostly mix (+216), so B is
    the top segment and the driver, and the verdict says mix."""
    d = decompose(records(SIMPSON), spec(min_sample=30), ["queue"], "W1", "W2")
    segments = {s.label: s for s in d.segments}
    assert segments["A"].small and segments["B"].small
    assert d.top is segments["B"] and segments["B"].main_effect == "mix"
    assert "mostly mix" in verdict(d) and "top segment B +198s (mix)" in verdict(d)
    assert driver_of([d], {}).text == "aht +221s: B +198s (mix)"
    # a small segment whose change is its own rate is never the driver on its own
    rate_only = [
        ("W1", "A", 90 * 100.0, 90.0, 90),
        ("W1", "B", 10 * 100.0, 10.0, 10),
        ("W2", "A", 90 * 100.0, 90.0, 90),
        ("W2", "B", 10 * 400.0, 10.0, 10),  # +300 s on 10 calls: +30 s of rate, noise
    ]
    small = decompose(records(rate_only), spec(min_sample=30), ["queue"], "W1", "W2")
    assert small.change == pytest.approx(30.0) and small.top is None


def test_a_flat_change_whose_segments_offset_names_no_driver():
    """Review of issue 16: −0.01 s overall while A rose 5 s and B fell 5 s is "about
    unchanged", not a driver at 50,000 % of the change."""
    flat = [
        ("W1", "A", 50 * 100.0, 50.0, 50),
        ("W1", "B", 50 * 200.0, 50.0, 50),
        ("W2", "A", 50 * 105.0, 50.0, 50),
        ("W2", "B", 50 * 194.98, 50.0, 50),
    ]
    d = decompose(records(flat), spec(), ["queue"], "W1", "W2")
    # rate: A 0.5 × 5 = +2.5, B 0.5 × (−5.02) = −2.51; change −0.01 < 5 % of 5.01
    assert d.change == pytest.approx(-0.01)
    assert d.offsetting
    assert "about unchanged, its segments offset each other (largest: B −2.5s (rate))" in verdict(d)
    assert driver_of([d], {}) is None
