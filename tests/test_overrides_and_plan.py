"""Segment overrides (a BPO's contractual levels), glide-path plan and definition hashes."""

from __future__ import annotations

import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Overrides
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: agents.csv}
"""

AGENTS = """
agent_id,name,team,site,vendor
a1,Ann,t1,Berlin,In-house
a2,Bob,t1,Berlin,Northwind BPO
a3,Cem,t2,Lisbon,Northwind BPO
"""

# W02: a1 85 s, a2 85 s, a3 125 s of talk, plus an abandon without agent
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds
c1,2026-01-05 09:00:00,a1,true,5,85
c2,2026-01-06 09:00:00,a2,true,5,85
c3,2026-01-07 09:00:00,a3,true,5,125
c4,2026-01-07 10:00:00,,false,40,
"""

HANDLE = """
id: handle
name: Handle time
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, expr: "talk_seconds", where: "answered"}
baseline: {value: 100, as_of: 2026-01-01}
target: {value: 60, by: 2026-01-30}
thresholds: {warning: 80, critical: 100}
overrides:
  - when: {vendor: Northwind BPO}
    target: {value: 70, by: 2026-01-30}
    thresholds: {warning: 90, critical: 120}
"""

DEFAULT = {"target": 60.0, "warning": 80.0, "critical": 100.0}
BPO = {"target": 70.0, "warning": 90.0, "critical": 120.0}


def levels(record):
    return {k: record[k] for k in ("target", "warning", "critical")}


@pytest.fixture
def project(make):
    return make.project(
        PROJECT, metrics={"handle": HANDLE}, files={"calls.csv": CALLS, "agents.csv": AGENTS}
    )


def test_override_by_vendor(project):
    index = by_key(evaluate_records(project, by=["vendor"]), "vendor")
    inhouse = index[("handle", "2026-W02", "In-house")]
    bpo = index[("handle", "2026-W02", "Northwind BPO")]
    assert levels(inhouse) == DEFAULT
    assert levels(bpo) == BPO
    # in-house 85 > 80 -> warning; gap 85 - 60
    assert inhouse["status"] == "warning"
    assert inhouse["gap_to_target"] == 25.0
    # BPO mean (85 + 125) / 2 = 105: warning under 90/120 (it would be critical under 80/100)
    assert bpo["value"] == 105.0
    assert bpo["status"] == "warning"
    assert bpo["gap_to_target"] == 35.0  # 105 - 70
    # the abandon has no agent, hence no vendor: default levels
    assert levels(index[("handle", "2026-W02", None)]) == DEFAULT


def test_override_by_agent(project):
    index = by_key(evaluate_records(project, by=["agent_id"]), "agent_id")
    a1, a2, a3 = (index[("handle", "2026-W02", a)] for a in ("a1", "a2", "a3"))
    assert levels(a1) == DEFAULT
    assert levels(a2) == BPO and levels(a3) == BPO
    # the same 85 s is a warning for the in-house agent and ok under the BPO contract
    assert (a1["value"], a1["status"]) == (85.0, "warning")
    assert (a2["value"], a2["status"]) == (85.0, "ok")
    assert a3["status"] == "critical"  # 125 > 120
    assert a2["gap_to_target"] == 15.0  # 85 - 70


def test_override_not_applied_to_mixed_groups(project):
    index = by_key(evaluate_records(project, by=["site"]), "site")
    berlin = index[("handle", "2026-W02", "Berlin")]  # a1 (in-house) and a2 (BPO)
    assert levels(berlin) == DEFAULT
    assert berlin["value"] == 85.0
    assert berlin["status"] == "warning"
    (overall,) = evaluate_records(project)  # ungrouped: all vendors together
    assert levels(overall) == DEFAULT
    # (85 + 85 + 125) / 3 = 98.33: warning under 80/100
    assert overall["value"] == pytest.approx(295 / 3)
    assert overall["status"] == "warning"


def test_plan_uses_override_target(project):
    # W02 ends 2026-01-12 00:00: 11 of the 30 days from 2026-01-01 00:00 to 2026-01-31 00:00
    index = by_key(evaluate_records(project, by=["vendor"]), "vendor")
    inhouse = index[("handle", "2026-W02", "In-house")]
    bpo = index[("handle", "2026-W02", "Northwind BPO")]
    assert inhouse["plan"] == pytest.approx(100 - 40 * 11 / 30)  # 85.33
    assert bpo["plan"] == pytest.approx(100 - 30 * 11 / 30)  # 89.0
    # lower is better: 85 < 85.33 is ahead; 105 > 89 is behind
    assert inhouse["plan_status"] == "ahead"
    assert bpo["plan_status"] == "behind"


PRECEDENCE = """
id: handle2
name: Handle time
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, expr: "talk_seconds", where: "answered"}
target: {value: 60}
thresholds: {warning: 80, critical: 100}
overrides:
  - when: {site: Lisbon}
    target: {value: 65}
  - when: {vendor: [Northwind BPO, Southwind BPO]}
    target: {value: 70}
    thresholds: {warning: 90, critical: 120}
    min_sample: 2
"""


def test_first_matching_override_wins_and_keeps_the_rest(make):
    path = make.project(
        PROJECT, metrics={"handle2": PRECEDENCE}, files={"calls.csv": CALLS, "agents.csv": AGENTS}
    )
    index = by_key(evaluate_records(path, by=["agent_id"]), "agent_id")
    a1, a2, a3 = (index[("handle2", "2026-W02", a)] for a in ("a1", "a2", "a3"))
    assert levels(a1) == DEFAULT
    # a2 (Berlin, BPO): the vendor override (listed values) with its min_sample 2 > n 1
    assert levels(a2) == BPO
    assert (a2["value"], a2["status"]) == (85.0, "insufficient_sample")
    # a3 (Lisbon, BPO): both match, the first wins; it overrides the target only,
    # so the metric's thresholds stay: 125 > 100 -> critical
    assert levels(a3) == {"target": 65.0, "warning": 80.0, "critical": 100.0}
    assert a3["status"] == "critical"


FORMULAS = {
    "talk_total": """
        id: talk_total
        name: Talk total
        unit: seconds
        dataset: calls
        compute: {kind: sum, expr: "talk_seconds", where: "answered"}
    """,
    "answered_count": """
        id: answered_count
        name: Answered
        unit: count
        dataset: calls
        compute: {kind: count, where: "answered"}
    """,
    "avg_talk": """
        id: avg_talk
        name: Average talk
        unit: seconds
        direction: lower_is_better
        compute: {kind: formula, expr: "talk_total / answered_count"}
        target: {value: 60}
        thresholds: {warning: 80, critical: 100}
        overrides:
          - when: {vendor: Northwind BPO}
            target: {value: 70}
            thresholds: {warning: 90, critical: 120}
    """,
}


@pytest.mark.parametrize("column", ["vendor", "agent_id"])
def test_override_applies_to_formula_metrics_like_plain_ones(make, column):
    path = make.project(PROJECT, metrics=FORMULAS, files={"calls.csv": CALLS, "agents.csv": AGENTS})
    index = by_key(evaluate_records(path, ["avg_talk"], by=[column]), column)
    bpo_key = "Northwind BPO" if column == "vendor" else "a2"
    inhouse_key = "In-house" if column == "vendor" else "a1"
    # the same segment rule as for plain metrics: BPO groups get the contract's levels
    assert levels(index[("avg_talk", "2026-W02", bpo_key)]) == BPO
    assert levels(index[("avg_talk", "2026-W02", inhouse_key)]) == DEFAULT
    # a2 talks 85 s: ok under the BPO contract (warning under the default 80)
    if column == "agent_id":
        assert index[("avg_talk", "2026-W02", "a2")]["status"] == "ok"


# ---- glide path ----------------------------------------------------------------------------

PLAN_PROJECT = """
name: Plan
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""

# one answered call per day listed, talk = the day's value
PLAN_CALLS = """
contact_id,offered_at,answered,wait_seconds,talk_seconds
c1,2025-12-30 12:00:00,true,1,100
c2,2026-01-10 12:00:00,true,1,80
c3,2026-01-20 12:00:00,true,1,80
c4,2026-01-30 12:00:00,true,1,60
c5,2026-02-05 12:00:00,true,1,70
"""


def glide(metric_id, direction, baseline, target):
    return (
        f"id: {metric_id}\nname: {metric_id}\nunit: seconds\ndirection: {direction}\n"
        f'dataset: calls\ncompute: {{kind: mean, expr: "talk_seconds"}}\n'
        f"baseline: {{value: {baseline}, as_of: 2026-01-01}}\n"
        f"target: {{value: {target}, by: 2026-01-30}}\n"
    )


PLAN_METRICS = {
    "down": glide("down", "lower_is_better", 100, 60),
    "up": glide("up", "higher_is_better", 60, 100),
}


@pytest.fixture
def plan_index(make):
    path = make.project(PLAN_PROJECT, metrics=PLAN_METRICS, files={"calls.csv": PLAN_CALLS})
    return by_key(evaluate_records(path, period="day"))


def test_plan_is_linear_between_baseline_and_target(plan_index):
    # baseline at 2026-01-01 00:00, target at the end of 2026-01-30 (= 2026-01-31 00:00): 30 days
    # day 2026-01-10 ends 2026-01-11 00:00: 10 days in -> 100 - 40 * 10/30
    assert plan_index[("down", "2026-01-10")]["plan"] == pytest.approx(100 - 40 / 3)
    # day 2026-01-20 ends 2026-01-21 00:00: 20 days in
    assert plan_index[("down", "2026-01-20")]["plan"] == pytest.approx(100 - 80 / 3)
    # the `by` day itself ends exactly at the target instant
    assert plan_index[("down", "2026-01-30")]["plan"] == pytest.approx(60.0)
    assert plan_index[("up", "2026-01-10")]["plan"] == pytest.approx(60 + 40 / 3)


def test_plan_is_flat_outside_the_glide_path(plan_index):
    # before as_of: the baseline; after `by`: the target
    assert plan_index[("down", "2025-12-30")]["plan"] == pytest.approx(100.0)
    assert plan_index[("down", "2026-02-05")]["plan"] == pytest.approx(60.0)
    assert plan_index[("up", "2025-12-30")]["plan"] == pytest.approx(60.0)
    assert plan_index[("up", "2026-02-05")]["plan"] == pytest.approx(100.0)


def test_plan_status_follows_direction(plan_index):
    status = {(m, p): r["plan_status"] for (m, p), r in plan_index.items()}
    # lower is better: 100 vs 100 on plan; 80 vs 86.7 ahead; 80 vs 73.3 behind;
    # 60 vs 60 on plan; 70 vs 60 behind
    assert status[("down", "2025-12-30")] == "on_plan"
    assert status[("down", "2026-01-10")] == "ahead"
    assert status[("down", "2026-01-20")] == "behind"
    assert status[("down", "2026-01-30")] == "on_plan"
    assert status[("down", "2026-02-05")] == "behind"
    # higher is better: 100 vs 60 ahead; 80 vs 73.3 ahead; 80 vs 86.7 behind;
    # 60 vs 100 behind; 70 vs 100 behind
    assert status[("up", "2025-12-30")] == "ahead"
    assert status[("up", "2026-01-10")] == "ahead"
    assert status[("up", "2026-01-20")] == "behind"
    assert status[("up", "2026-01-30")] == "behind"


def test_plan_at_week_and_month_end(make):
    path = make.project(PLAN_PROJECT, metrics=PLAN_METRICS, files={"calls.csv": PLAN_CALLS})
    weeks = by_key(evaluate_records(path, ["down"]))
    # W02 (2026-01-05..11) ends 2026-01-12 00:00: 11 days in
    assert weeks[("down", "2026-W02")]["plan"] == pytest.approx(100 - 40 * 11 / 30)
    months = by_key(evaluate_records(path, ["down"], period="month"))
    # January ends 2026-02-01, after the target date: flat at the target
    assert months[("down", "2026-01")]["plan"] == pytest.approx(60.0)
    # December 2025 ends 2026-01-01 00:00 = the baseline instant
    assert months[("down", "2025-12")]["plan"] == pytest.approx(100.0)


def test_no_plan_without_dates(make):
    metric = glide("down", "lower_is_better", 100, 60).replace(", as_of: 2026-01-01", "")
    path = make.project(PLAN_PROJECT, metrics={"down": metric}, files={"calls.csv": PLAN_CALLS})
    records = evaluate_records(path)
    assert records and all(r["plan"] is None and r["plan_status"] is None for r in records)
    assert all(r["target"] == 60.0 for r in records)


# ---- definition hash -----------------------------------------------------------------------


def test_definition_hash_stable_and_sensitive(make):
    files = {"calls.csv": PLAN_CALLS}
    path = make.project(PLAN_PROJECT, metrics=PLAN_METRICS, files=files)
    first = evaluate_records(path)
    second = evaluate_records(path)
    hashes = {r["metric"]: r["definition_hash"] for r in first}
    # one hash per metric, the same on every record and on a second run
    assert {(r["metric"], r["definition_hash"]) for r in first} == set(hashes.items())
    assert {(r["metric"], r["definition_hash"]) for r in second} == set(hashes.items())
    assert hashes["down"] != hashes["up"]
    assert all(len(h) >= 8 for h in hashes.values())
    # new data, same definition: same hash
    more = PLAN_CALLS + "c6,2026-02-06 12:00:00,true,1,50\n"
    make.write("calls.csv", more)
    assert {r["definition_hash"] for r in evaluate_records(path, ["down"])} == {hashes["down"]}
    # a changed definition (target value) gets a new hash; the other metric keeps its own
    make.write("metrics/down.yaml", glide("down", "lower_is_better", 100, 55))
    changed = {r["metric"]: r["definition_hash"] for r in evaluate_records(path)}
    assert changed["down"] != hashes["down"]
    assert changed["up"] == hashes["up"]
