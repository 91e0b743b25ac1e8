"""Scorecards: points per metric, weights and renormalisation, intervals and the fairness
rule, the coaching list, and the scorecard configuration."""

from __future__ import annotations

import pytest

from tpmkit import project as api
from tpmkit.judge.evidence import evidence, interval, points, t975, wilson
from tpmkit.spec.models import Scorecard


def record(value, direction="higher_is_better", target=90.0, critical=70.0, **extra):
    return {"value": value, "direction": direction, "target": target, "critical": critical, **extra}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(95, 100.0), (90, 100.0), (80, 50.0), (70, 0.0), (60, 0.0), (85, 75.0)],
)
def test_points_higher_is_better_clamped(value, expected):
    assert points(record(value)) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [(300, 100.0), (360, 50.0), (420, 0.0), (500, 0.0)])
def test_points_lower_is_better(value, expected):
    assert points(record(value, "lower_is_better", target=300.0, critical=420.0)) == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (80, 100.0),
        (75, 100.0),
        (85, 100.0),
        (70, 50.0),
        (65, 0.0),
        (88.5, 50.0),
        (92, 0.0),
        (95, 0.0),
    ],
)
def test_points_within_band(value, expected):
    band = record(
        value, "within_band", target=75.0, critical=65.0, target_upper=85.0, critical_upper=92.0
    )
    assert points(band) == pytest.approx(expected)


def test_points_need_a_value_a_target_and_a_critical_level():
    assert points(record(None)) is None
    assert points(record(80, target=None)) is None
    assert points(record(80, critical=None)) is None


def test_weights_sum_to_100_and_renormalise():
    card = Scorecard.model_validate(
        {"categories": {"quality": {"weight": 60, "metrics": {"csat": 50, "fcr": 50}},
                        "efficiency": {"weight": 40, "metrics": ["aht", "adherence"]}}}
    )  # fmt: skip
    assert card.weights() == {"csat": 30.0, "fcr": 30.0, "aht": 20.0, "adherence": 20.0}
    with pytest.raises(ValueError, match="category weights must sum to 100"):
        Scorecard.model_validate({"categories": {"q": {"weight": 60, "metrics": ["csat"]}}})
    with pytest.raises(ValueError, match="metric weights must sum to 100"):
        Scorecard.model_validate(
            {"categories": {"q": {"weight": 100, "metrics": {"csat": 60, "fcr": 30}}}}
        )


def test_wilson_interval_known_values():
    low, high = wilson(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    low, high = wilson(0, 2)
    assert (round(low, 3), round(high, 3)) == (0.0, 0.658)
    assert wilson(0, 0) is None


def test_t_quantiles():
    # exact since issue 20 (tpmkit.stats): the table's 3-decimal values and the
    # Cornish–Fisher tail are gone; tests/test_stats.py checks 8 digits
    assert t975(1) == pytest.approx(12.706, abs=0.0005)
    assert t975(10) == pytest.approx(2.228, abs=0.0005)
    assert t975(30) == pytest.approx(2.042, abs=0.001)
    assert t975(120) == pytest.approx(1.980, abs=0.001)


def rate(hits, size, scale=100.0):
    """A rate record's components."""
    return {"numerator": float(hits), "denominator": float(size), "scale": scale}


def test_small_samples_are_not_flagged_but_strong_evidence_is():
    target = {"target": 85.0, "direction": "higher_is_better", "status": "warning"}
    # 0 % of 2 surveys is below csat's min_sample (20): insufficient_sample, never flagged
    two = {**target, "value": 0.0, "n": 2, "status": "insufficient_sample", **rate(0, 2)}
    assert evidence(two, interval(two, rate=True)) is None
    many = {**target, "value": 60.0, "n": 200, **rate(120, 200)}
    assert evidence(many, interval(many, rate=True)) == "significantly_worse"
    near = {**target, "value": 80.0, "n": 30, **rate(24, 30)}
    assert evidence(near, interval(near, rate=True)) == "not_enough_evidence"
    top = {**target, "value": 97.0, "n": 200, **rate(194, 200)}
    assert evidence(top, interval(top, rate=True)) == "significantly_better"


def test_rate_intervals_come_from_the_components_in_the_metrics_scale():
    # 8 of 10 as a fraction (scale 1): Wilson [0.490, 0.943], not that range / 100
    low, high = interval({"value": 0.8, "n": 10, **rate(8, 10, 1.0)}, rate=True)
    assert (low, high) == (pytest.approx(0.490, abs=5e-4), pytest.approx(0.943, abs=5e-4))
    # the denominator is the rows the ratio divides by, which may be fewer than n
    low, high = interval({"value": 80.0, "n": 12, **rate(8, 10)}, rate=True)
    assert (low, high) == (pytest.approx(49.0, abs=0.05), pytest.approx(94.3, abs=0.05))
    assert interval({"value": 80.0, "n": 10}, rate=True) is None  # no components: no interval


def test_mean_metrics_use_the_t_interval():
    aht = {"value": 450.0, "n": 25, "sd": 50.0, "target": 420.0, "direction": "lower_is_better"}
    low, high = interval(aht, rate=False)
    half = 2.064 * 50 / 5  # t(24) = 2.064
    assert (low, high) == pytest.approx((450 - half, 450 + half), abs=0.05)
    assert evidence(aht, (low, high)) == "significantly_worse"  # 429.4 > 420
    assert interval({"value": 450.0, "n": 1, "sd": None}, rate=False) is None


def test_example_scorecard_ranks_agents_and_coaches_on_evidence():
    from conftest import REPO

    project = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    result = project.scorecard(role="agent", period="month", cache=False)
    assert result.period == "2026-10"
    scores = [g.score for g in result.groups if g.score is not None]
    assert scores == sorted(scores)  # lowest first
    # competition ranks (issue 15 item 6): equal scores share a rank, so A019 and A026 (the
    # same 84.6) are both 11th and the next one down is 13th — before, ties got 11 and 12
    # in whatever order the groups came
    for group in result.scored:
        assert group.rank == 1 + sum(1 for s in scores if s > group.score)
    tied = [g for g in result.scored if g.group["agent_id"] in ("A019", "A026")]
    assert [(g.group["agent_id"], g.rank) for g in tied] == [("A019", 11), ("A026", 11)]
    assert all("contacts_handled" in g.dropped for g in result.groups)  # no target: dropped
    for items in result.coaching().values():
        for _group, metric in items:
            assert metric.evidence == "significantly_worse"
            assert metric.record["status"] != "insufficient_sample"
    # the agent with few surveys is never coached on CSAT
    coached = {(g.group["agent_id"], m.metric) for i in result.coaching().values() for g, m in i}
    assert ("A047", "csat") not in coached


def test_goal_progress_at_start_middle_and_after_due():
    import datetime as dt

    from tpmkit.judge.goals import judge, plan_value
    from tpmkit.spec.models import Goal

    goal = Goal.model_validate(
        {"agent": "A1", "metric": "csat", "from": 75, "target": 85,
         "start": "2026-11-01", "due": "2026-12-01"}
    )  # fmt: skip
    start, middle, after = dt.date(2026, 11, 1), dt.date(2026, 11, 16), dt.date(2026, 12, 5)
    assert plan_value(goal, start) == 75 and plan_value(goal, middle) == 80
    assert plan_value(goal, after) == 85 and plan_value(goal, dt.date(2026, 10, 1)) == 75
    at_start = judge(goal, 75.0, 10, start, "higher_is_better", "percent")
    assert (at_start.status, at_start.progress, at_start.days_left) == ("on_track", 0.0, 30)
    behind = judge(goal, 78.0, 40, middle, "higher_is_better", "percent")
    assert (behind.status, behind.progress, behind.plan) == ("behind", 30.0, 80.0)
    ahead = judge(goal, 81.0, 40, middle, "higher_is_better", "percent")
    assert ahead.status == "on_track" and ahead.progress == pytest.approx(60.0)
    assert judge(goal, 86.0, 90, after, "higher_is_better", "percent").status == "met"
    assert judge(goal, 84.0, 90, after, "higher_is_better", "percent").status == "missed"
    aht = Goal.model_validate(
        {"agent": "A1", "metric": "aht", "from": 450, "target": 400,
         "start": "2026-11-01", "due": "2026-12-01"}
    )  # fmt: skip
    assert judge(aht, 420.0, 50, middle, "lower_is_better", "seconds").status == "on_track"
    with pytest.raises(ValueError, match="`due` must be after `start`"):
        Goal.model_validate({**goal.model_dump(by_alias=True), "due": "2026-10-01"})
