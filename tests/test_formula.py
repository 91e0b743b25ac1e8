"""Formula metrics across datasets: outer join on period and group, missing inputs, errors."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from conftest import by_key, evaluate_records
from tpmkit.errors import UsageError

PROJECT = """
name: Formula
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  schedule: {path: schedule.csv}
  costs: {path: costs.csv}
  agents: {path: agents.csv}
"""

AGENTS = """
agent_id,site,vendor
a1,Berlin,In-house
a2,Berlin,In-house
a3,Lisbon,Northwind BPO
a4,Lisbon,Northwind BPO
a5,Lisbon,Northwind BPO
"""

# W02: a1 answers 3, a2 1, a4 2; two abandons without agent. a3 and a5 take no call.
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds
c1,2026-01-05 09:00:00,a1,true,5
c2,2026-01-05 10:00:00,a1,true,5
c3,2026-01-06 09:00:00,a1,true,5
c4,2026-01-06 10:00:00,a2,true,5
c5,2026-01-07 09:00:00,a4,true,5
c6,2026-01-07 10:00:00,a4,true,5
c7,2026-01-07 11:00:00,,false,30
c8,2026-01-08 11:00:00,,false,
"""

# W02: a1 1 h + 2 h; a2 0 h; a3 1 h; a5 0 h. a4 has no schedule row.
SCHEDULE = """
agent_id,date,scheduled_seconds,logged_in_seconds
a1,2026-01-05,28800,3600
a1,2026-01-06,28800,7200
a2,2026-01-05,28800,0
a3,2026-01-06,28800,3600
a5,2026-01-07,28800,
"""

# costs carry their own site; Porto has no agent and no contact
COSTS = """
date,amount,site
2026-01-07,400,Berlin
2026-01-08,100,Lisbon
2026-01-09,50,Porto
"""

METRICS = {
    "contacts_handled": """
        id: contacts_handled
        name: Contacts handled
        unit: count
        direction: higher_is_better
        dataset: calls
        compute: {kind: count, where: "answered"}
    """,
    "logged_in_hours": """
        id: logged_in_hours
        name: Logged-in hours
        unit: hours
        dataset: schedule
        compute: {kind: sum, expr: "logged_in_seconds / 3600.0"}
    """,
    "contacts_per_hour": """
        id: contacts_per_hour
        name: Contacts per logged-in hour
        unit: count/hour
        direction: higher_is_better
        compute: {kind: formula, expr: "contacts_handled / logged_in_hours", n_from: logged_in_hours}
    """,
    "contacts_per_shift": """
        id: contacts_per_shift
        name: Contacts per 8 h shift
        unit: count
        direction: higher_is_better
        compute: {kind: formula, expr: "contacts_per_hour * 8"}
    """,
    "total_cost": """
        id: total_cost
        name: Cost
        unit: currency
        dataset: costs
        compute: {kind: sum, expr: "amount"}
    """,
    "cost_per_contact": """
        id: cost_per_contact
        name: Cost per contact
        unit: currency
        direction: lower_is_better
        compute: {kind: formula, expr: "total_cost / contacts_handled", n_from: contacts_handled}
    """,
}

FILES = {"calls.csv": CALLS, "schedule.csv": SCHEDULE, "costs.csv": COSTS, "agents.csv": AGENTS}
W = "2026-W02"


@pytest.fixture
def project(make):
    return make.project(PROJECT, metrics=METRICS, files=FILES)


def finite_or_none(records):
    """Formula values are numbers or null, never inf or NaN."""
    return all(r["value"] is None or math.isfinite(r["value"]) for r in records)


def test_contacts_per_hour_by_agent(project):
    records = evaluate_records(project, ["contacts_per_hour"], by=["agent_id"])
    index = by_key(records, "agent_id")
    # a1: 3 contacts / (1 h + 2 h) = 1.0; n = 2 schedule rows (n_from logged_in_hours)
    a1 = index[("contacts_per_hour", W, "a1")]
    assert a1["value"] == pytest.approx(1.0)
    assert a1["n"] == 2
    # contacts_per_hour has no thresholds: shown, not judged (never "ok")
    assert a1["status"] == "not_judged" and a1["reason"] == "no thresholds"
    # a3: no call at all -> contacts_handled missing counts as 0 -> 0 / 1 h = 0, n 1
    a3 = index[("contacts_per_hour", W, "a3")]
    assert a3["value"] == 0.0
    assert a3["n"] == 1
    assert finite_or_none(records)


def test_division_by_zero_is_no_data(project):
    index = by_key(evaluate_records(project, ["contacts_per_hour"], by=["agent_id"]), "agent_id")
    # a2: 1 contact / 0 h -> would be inf: no data, n 1 (one schedule row)
    a2 = index[("contacts_per_hour", W, "a2")]
    assert a2["value"] is None
    assert a2["status"] == "not_judged"  # no thresholds: not judged comes before no data
    assert a2["n"] == 1
    # a5: 0 contacts / 0 h (null seconds sum to 0) -> would be NaN: no data
    a5 = index[("contacts_per_hour", W, "a5")]
    assert a5["value"] is None
    assert a5["status"] == "not_judged"  # no thresholds: not judged comes before no data


def test_missing_sum_input_is_no_data(project):
    index = by_key(evaluate_records(project, ["contacts_per_hour"], by=["agent_id"]), "agent_id")
    # a4 took 2 calls but has no schedule row: the hours are unknown, not 0
    a4 = index[("contacts_per_hour", W, "a4")]
    assert a4["value"] is None
    assert a4["status"] == "not_judged"  # no thresholds: not judged comes before no data
    assert a4["n"] == 0
    # the abandons' agent_id None group exists in calls only: no data either
    none = index[("contacts_per_hour", W, None)]
    assert none["value"] is None
    assert none["n"] == 0
    # the outer join: every agent seen in either input has a record
    agents = {k[2] for k in index}
    assert agents == {"a1", "a2", "a3", "a4", "a5", None}


def test_ungrouped_formula(project):
    index = by_key(evaluate_records(project, ["contacts_per_hour", "cost_per_contact"]))
    # 6 answered contacts / (1 + 2 + 0 + 1 + 0) h = 1.5; n = 5 schedule rows
    cph = index[("contacts_per_hour", W)]
    assert cph["value"] == pytest.approx(1.5)
    assert cph["n"] == 5
    # (400 + 100 + 50) / 6 contacts = 91.67; n = 6 contacts handled
    cpc = index[("cost_per_contact", W)]
    assert cpc["value"] == pytest.approx(550 / 6)
    assert cpc["n"] == 6


def test_formula_of_a_formula(project):
    records = evaluate_records(project, ["contacts_per_shift"], by=["agent_id"])
    index = by_key(records, "agent_id")
    # 8 x contacts_per_hour; n follows the first input (contacts_per_hour -> schedule rows)
    assert index[("contacts_per_shift", W, "a1")]["value"] == pytest.approx(8.0)
    assert index[("contacts_per_shift", W, "a1")]["n"] == 2
    assert index[("contacts_per_shift", W, "a3")]["value"] == 0.0
    assert index[("contacts_per_shift", W, "a2")]["value"] is None
    # no thresholds: not judged comes before no data
    assert index[("contacts_per_shift", W, "a4")]["status"] == "not_judged"
    # only the asked metric is reported, not its inputs
    assert {r["metric"] for r in records} == {"contacts_per_shift"}
    (overall,) = evaluate_records(project, ["contacts_per_shift"])
    assert overall["value"] == pytest.approx(12.0)  # 8 x 1.5


def test_cost_per_contact_by_site(project):
    records = evaluate_records(project, ["cost_per_contact"], by=["site"])
    index = by_key(records, "site")
    # calls get their site from the roster; costs carry their own
    # Berlin: 400 / (a1 3 + a2 1) = 100, n 4
    berlin = index[("cost_per_contact", W, "Berlin")]
    assert berlin["value"] == pytest.approx(100.0)
    assert berlin["n"] == 4
    # Lisbon: 100 / (a4 2) = 50, n 2
    assert index[("cost_per_contact", W, "Lisbon")]["value"] == pytest.approx(50.0)
    # Porto: 50 / (missing count = 0) -> no data, never inf; n 0
    porto = index[("cost_per_contact", W, "Porto")]
    assert porto["value"] is None
    assert porto["status"] == "not_judged"  # no thresholds: not judged comes before no data
    assert porto["n"] == 0
    # abandons without agent (site None): no cost row -> no data
    assert index[("cost_per_contact", W, None)]["value"] is None
    assert finite_or_none(records)


def test_cost_dated_on_a_day_lands_in_its_month(make):
    costs = "date,amount,site\n2026-01-31,300,Berlin\n2026-02-01,90,Berlin\n"
    calls = CALLS + "c9,2026-02-02 09:00:00,a1,true,5\n"
    files = {**FILES, "costs.csv": costs, "calls.csv": calls}
    path = make.project(PROJECT.replace("UTC", "Europe/Berlin"), metrics=METRICS, files=files)
    index = by_key(evaluate_records(path, ["cost_per_contact"], period="month"))
    # January: 300 / 6 contacts = 50; February: 90 / 1 contact = 90
    assert index[("cost_per_contact", "2026-01")]["value"] == pytest.approx(50.0)
    assert index[("cost_per_contact", "2026-02")]["value"] == pytest.approx(90.0)


def test_grouping_an_input_lacks_is_an_error(project):
    # costs have no agent_id (nor a roster link): cost per agent cannot be computed
    with pytest.raises(UsageError) as caught:
        evaluate_records(project, ["cost_per_contact"], by=["agent_id"])
    text = caught.value.render()
    assert "cost_per_contact" in text
    assert "agent_id" in text
    # the same for a plain metric on that dataset
    with pytest.raises(UsageError):
        evaluate_records(project, ["total_cost"], by=["agent_id"])


def test_grouping_an_input_lacks_without_ids_gives_no_wrong_number(project):
    # not asked explicitly: no error, but never a silently wrong number
    records = evaluate_records(project, by=["agent_id"])
    cost = [r for r in records if r["metric"] == "cost_per_contact"]
    assert cost
    # cost_per_contact is not judged at agent (nor has thresholds): not judged before no data
    assert all(r["value"] is None and r["status"] == "not_judged" for r in cost)
    assert all("agent_id" in (r["reason"] or "") for r in cost)
    # the other formula is still computed per agent
    cph = by_key([r for r in records if r["metric"] == "contacts_per_hour"], "agent_id")
    assert cph[("contacts_per_hour", W, "a1")]["value"] == pytest.approx(1.0)


def test_grouping_by_an_unknown_column_is_an_error(project):
    with pytest.raises(UsageError):
        evaluate_records(project, ["contacts_per_hour"], by=["agnet_id"])


def test_input_without_rows_in_the_window_counts_as_zero(make):
    # a1 is logged in 2 h on 2026-01-13 (W03) and takes no call that week
    files = {**FILES, "schedule.csv": SCHEDULE + "a1,2026-01-13,28800,7200\n"}
    path = make.project(PROJECT, metrics=METRICS, files=files)
    # unwindowed, the outer join gives W03: 0 contacts (missing count = 0) / 2 h = 0, n 1
    index = by_key(evaluate_records(path, ["contacts_per_hour"], by=["agent_id"]), "agent_id")
    assert index[("contacts_per_hour", "2026-W03", "a1")]["value"] == 0.0
    # the same week selected with --from: calls has no row in the range at all, but the
    # missing count is still 0 and the hours are known -> the same record
    records = evaluate_records(
        path, ["contacts_per_hour"], by=["agent_id"], start=dt.date(2026, 1, 12)
    )
    index = by_key(records, "agent_id")
    w03 = index[("contacts_per_hour", "2026-W03", "a1")]
    assert w03["value"] == 0.0
    assert w03["n"] == 1
    assert w03["status"] == "not_judged"  # no thresholds: shown, not judged (never "ok")
