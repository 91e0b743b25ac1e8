"""Every computation kind on a tiny calls export, values computed by hand."""

from __future__ import annotations

import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Kinds
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""

# W02 (2026-01-05 .. 01-11): c1-c3 answered, c4 abandon with unknown wait, c5 short abandon.
# W03 (2026-01-12 ..): one abandon only (no answered row).
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds,resolved,csat
c1,2026-01-05 09:00:00,a1,true,10,100,0,20,true,5
c2,2026-01-05 10:00:00,a1,true,30,200,,40,false,3
c3,2026-01-06 11:00:00,a2,true,50,,60,0,,4
c4,2026-01-06 12:00:00,,false,,,,,,
c5,2026-01-07 12:00:00,,false,3,,,,,
c6,2026-01-12 09:00:00,,false,40,,,,,
"""


def metric(metric_id: str, compute: str, extra: str = "") -> str:
    return (
        f"id: {metric_id}\nname: {metric_id}\nunit: x\ndirection: higher_is_better\n"
        f"dataset: calls\ncompute: {compute}\n{extra}"
    )


METRICS = {
    "offered": metric("offered", "{kind: count}"),
    "handled": metric("handled", '{kind: count, where: "answered"}'),
    "talk_sum": metric("talk_sum", '{kind: sum, expr: "talk_seconds", where: "answered"}'),
    "talk_mean": metric("talk_mean", '{kind: mean, expr: "talk_seconds", where: "answered"}'),
    "hold_median": metric("hold_median", '{kind: median, expr: "hold_seconds"}'),
    "fcr": metric("fcr", '{kind: ratio, where: "answered", numerator: "resolved"}'),
    "fcr_small": metric(
        "fcr_small",
        '{kind: ratio, where: "answered", numerator: "resolved"}',
        # thresholds, so that the sample rule is what decides (no thresholds: not judged)
        "min_sample: 3\nthresholds: {warning: 40, critical: 30}\n",
    ),
    "long_wait": metric(
        "long_wait", '{kind: ratio, where: "wait_seconds >= 20", numerator: "answered"}'
    ),
    "talk_per_hold": metric(
        "talk_per_hold",
        '{kind: ratio_of_sums, numerator: "talk_seconds", denominator: "hold_seconds"}',
    ),
    "talk_per_acw": metric(
        "talk_per_acw",
        '{kind: ratio_of_sums, numerator: "talk_seconds", denominator: "acw_seconds", scale: 1}',
    ),
    "sl30": metric(
        "sl30",
        '{kind: ratio, where: "answered", numerator: "wait_seconds <= {t}"}',
        "parameters: {t: 30}\n",
    ),
    "sl10": metric(
        "sl10",
        '{kind: ratio, where: "answered", numerator: "wait_seconds <= {t}"}',
        "parameters: {t: 10}\n",
    ),
}


@pytest.fixture
def index(make):
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    return by_key(evaluate_records(path))


def test_count_with_and_without_where(index):
    # W02 has 5 rows, 3 of them answered; count metrics report n = value
    assert index[("offered", "2026-W02")]["value"] == 5.0
    assert index[("offered", "2026-W02")]["n"] == 5
    assert index[("handled", "2026-W02")]["value"] == 3.0
    assert index[("handled", "2026-W02")]["n"] == 3
    # W03: one abandon -> offered 1, handled 0 (a count of nothing is 0, not no data)
    assert index[("offered", "2026-W03")]["value"] == 1.0
    assert index[("handled", "2026-W03")]["value"] == 0.0
    assert index[("handled", "2026-W03")]["n"] == 0


def test_sum_counts_nulls_as_zero(index):
    # answered talk: 100 + 200 + (null -> 0) = 300 over 3 rows
    record = index[("talk_sum", "2026-W02")]
    assert record["value"] == 300.0
    assert record["n"] == 3


def test_mean_skips_nulls(index):
    # answered talk 100, 200 and a null: mean of the two known values = 150 (not 300/3 = 100)
    record = index[("talk_mean", "2026-W02")]
    assert record["value"] == 150.0
    assert record["n"] == 2
    # W03: no answered row -> no value, n 0
    assert index[("talk_mean", "2026-W03")]["value"] is None
    assert index[("talk_mean", "2026-W03")]["n"] == 0


def test_median_skips_nulls(index):
    # hold over all W02 rows: 0 (c1), 60 (c3); c2, c4, c5 null -> median of [0, 60] = 30
    record = index[("hold_median", "2026-W02")]
    assert record["value"] == 30.0
    assert record["n"] == 2


def test_ratio_null_flag_leaves_denominator(index):
    # answered: c1 resolved, c2 not, c3 unknown (leaves) -> 1 / 2 = 50 %
    record = index[("fcr", "2026-W02")]
    assert record["value"] == 50.0
    assert record["n"] == 2
    # the fixture's metrics have no thresholds: shown, not judged (never "ok")
    assert record["status"] == "not_judged"
    assert record["reason"] == "no thresholds"


def test_ratio_null_where_does_not_select(index):
    # wait >= 20: c2 (30), c3 (50) selected, both answered; c4 has unknown wait and is NOT
    # selected (else 2 / 3); c1 (10) and c5 (3) are not selected -> 2 / 2 = 100 %
    record = index[("long_wait", "2026-W02")]
    assert record["value"] == 100.0
    assert record["n"] == 2
    # W03: c6 waited 40 s and was not answered -> 0 / 1 = 0 %
    assert index[("long_wait", "2026-W03")]["value"] == 0.0
    assert index[("long_wait", "2026-W03")]["n"] == 1


def test_ratio_without_qualifying_rows_is_no_data(index):
    # W03 holds only an abandon: the cell exists (a calls row falls in it) but no answered row
    record = index[("fcr", "2026-W03")]
    assert record["value"] is None
    assert record["n"] == 0
    # not judged (no thresholds) comes before no data; the reason keeps both
    assert record["status"] == "not_judged"
    assert record["reason"] == "no thresholds; no qualifying rows in this period and group"


def test_ratio_of_sums_and_zero_denominator(index):
    # W02: talk 100 + 200 = 300, hold 0 + 60 = 60 (nulls add 0) -> 500 %, n = 5 rows
    record = index[("talk_per_hold", "2026-W02")]
    assert record["value"] == pytest.approx(500.0)
    assert record["n"] == 5
    # scale 1: talk 300 / acw (20 + 40 + 0) = 5.0
    assert index[("talk_per_acw", "2026-W02")]["value"] == pytest.approx(5.0)
    # W03: hold sums to 0 -> no data (never 0, NaN or inf); n still counts the one row
    empty = index[("talk_per_hold", "2026-W03")]
    assert empty["value"] is None
    assert empty["status"] == "not_judged"  # no thresholds: not judged comes before no data
    assert empty["n"] == 1


def test_parameters_are_substituted(index):
    # answered waits 10, 30, 50: <= 30 -> 2 of 3; <= 10 -> 1 of 3
    assert index[("sl30", "2026-W02")]["value"] == pytest.approx(200 / 3)
    assert index[("sl10", "2026-W02")]["value"] == pytest.approx(100 / 3)
    assert index[("sl10", "2026-W02")]["n"] == 3


def test_min_sample_keeps_value(index):
    # same as fcr (50 %, n 2) but min_sample 3: value still shown
    record = index[("fcr_small", "2026-W02")]
    assert record["value"] == 50.0
    assert record["n"] == 2
    assert record["status"] == "insufficient_sample"
    # no data beats insufficient sample
    assert index[("fcr_small", "2026-W03")]["status"] == "no_data"


def test_cells_exist_only_where_rows_fall(index):
    # data in W02 and W03 only: no record for other weeks, one per metric and week
    periods = {period for (metric_id, period) in index if metric_id == "offered"}
    assert periods == {"2026-W02", "2026-W03"}
    assert len(index) == len(METRICS) * 2


def test_null_group_is_its_own_group(make):
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    records = evaluate_records(path, ["offered", "fcr"], by=["agent_id"])
    index = by_key(records, "agent_id")
    # abandons c4, c5 (W02) and c6 (W03) have no agent: they form the agent_id None group
    assert index[("offered", "2026-W02", None)]["value"] == 2.0
    assert index[("offered", "2026-W03", None)]["value"] == 1.0
    assert index[("offered", "2026-W02", "a1")]["value"] == 2.0
    assert index[("offered", "2026-W02", "a2")]["value"] == 1.0
    # a1: c1 resolved, c2 not -> 50 %; a2: c3 unknown -> no data, n 0
    assert index[("fcr", "2026-W02", "a1")]["value"] == 50.0
    assert index[("fcr", "2026-W02", "a2")]["value"] is None
    assert index[("fcr", "2026-W02", "a2")]["n"] == 0
    # the None group has rows but no answered one: unassigned, so not judged (before no data)
    unassigned = index[("fcr", "2026-W02", None)]
    assert unassigned["status"] == "not_judged"
    assert unassigned["reason"].startswith("unassigned: no agent_id reaches these rows")
    assert len(records) == 2 * 4  # (a1, a2, None in W02) + (None in W03), for each metric


EVENTS_PROJECT = """
name: Latency
timezone: UTC
metrics: [metrics/]
sources:
  system_events: {path: events.csv, time_column: at, types: {response_ms: float}}
"""


def latency(metric_id: str, compute: str) -> str:
    return (
        f"id: {metric_id}\nname: {metric_id}\nunit: ms\ndirection: lower_is_better\n"
        f"dataset: system_events\ncompute: {compute}\n"
    )


# values 1..10 plus one row with unknown response time (skipped), all on one day
EVENTS = (
    "at,response_ms,component\n"
    + "".join(f"2026-01-05 10:{i:02d}:00,{i},api\n" for i in range(1, 11))
    + "2026-01-05 11:00:00,,api\n"
)

LATENCY = {
    "p95": latency("p95", '{kind: percentile, expr: "response_ms", p: 95}'),
    "p50": latency("p50", '{kind: percentile, expr: "response_ms", p: 50}'),
    "p90": latency("p90", '{kind: percentile, expr: "response_ms", p: 90}'),
    "med": latency("med", '{kind: median, expr: "response_ms"}'),
    "avg": latency("avg", '{kind: mean, expr: "response_ms"}'),
    "slow_med": latency(
        "slow_med", '{kind: median, expr: "response_ms", where: "response_ms > 7"}'
    ),
}


def test_percentiles_interpolate_linearly(make):
    path = make.project(EVENTS_PROJECT, metrics=LATENCY, files={"events.csv": EVENTS})
    index = by_key(evaluate_records(path, period="day"))
    day = "2026-01-05"
    # sorted 1..10, position p/100 * (10 - 1):
    # p95 -> 8.55, between 9 and 10 -> 9 + 0.55 = 9.55
    assert index[("p95", day)]["value"] == pytest.approx(9.55)
    # p50 -> 4.5, between 5 and 6 -> 5.5 (same as the median)
    assert index[("p50", day)]["value"] == pytest.approx(5.5)
    # p90 -> 8.1, between 9 and 10 -> 9.1
    assert index[("p90", day)]["value"] == pytest.approx(9.1)
    assert index[("med", day)]["value"] == pytest.approx(5.5)
    # mean 55 / 10 = 5.5; the null row is skipped, n is the non-null count
    assert index[("avg", day)]["value"] == pytest.approx(5.5)
    for metric_id in ("p95", "p50", "p90", "med", "avg"):
        assert index[(metric_id, day)]["n"] == 10
    # median over the rows matching `where`: 8, 9, 10 -> 9, n 3
    assert index[("slow_med", day)]["value"] == pytest.approx(9.0)
    assert index[("slow_med", day)]["n"] == 3
