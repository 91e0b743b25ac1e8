"""The built-in schedule metrics and the derived contacts_per_hour / cost_per_contact
against kpi-catalogue.md, values computed by hand."""

from __future__ import annotations

import pytest

from conftest import by_key, evaluate_records
from tpmkit.errors import UsageError

SCHEDULE_PROJECT = """
name: Schedule catalogue
timezone: UTC
metrics: [builtin]
sources:
  schedule: {path: schedule.csv}
"""

HEADER = (
    "agent_id,date,scheduled_seconds,adherent_seconds,logged_in_seconds,handle_seconds,"
    "available_seconds,paid_seconds\n"
)

# W02: three rows (a1 twice, a2 once); W03: one row with nothing but 0 scheduled seconds.
SCHEDULE = HEADER + (
    "a1,2026-01-05,28800,27000,27000,18000,6000,30000\n"
    "a1,2026-01-06,28800,,24000,,,30000\n"
    "a2,2026-01-07,28800,27360,,9000,3000,28800\n"
    "a3,2026-01-12,0,,,,,\n"
)

SCHEDULE_IDS = ["schedule_adherence", "occupancy", "utilization", "shrinkage"]
W02, W03 = "2026-W02", "2026-W03"


@pytest.fixture
def schedule(make):
    return make.project(SCHEDULE_PROJECT, files={"schedule.csv": SCHEDULE})


def test_schedule_ratios_of_sums(schedule):
    index = by_key(evaluate_records(schedule, SCHEDULE_IDS))
    # adherence: (27000 + empty 0 + 27360) / (3 x 28800)
    adherence = index[("schedule_adherence", W02)]
    assert adherence["value"] == pytest.approx(100 * (27000 + 27360) / (3 * 28800))
    # occupancy: (18000 + 9000) / (18000 + 6000 + 9000 + 3000) = 75 %
    occupancy = index[("occupancy", W02)]
    assert occupancy["value"] == pytest.approx(100 * 27000 / 36000)
    # utilization: (27000 + 24000 + empty 0) / (30000 + 30000 + 28800)
    utilization = index[("utilization", W02)]
    assert utilization["value"] == pytest.approx(100 * 51000 / 88800)
    # shrinkage: (88800 - 51000) / 88800
    shrinkage = index[("shrinkage", W02)]
    assert shrinkage["value"] == pytest.approx(100 * (88800 - 51000) / 88800)
    # n = schedule rows in the cell, whatever is empty in them
    for record in (adherence, occupancy, utilization, shrinkage):
        assert record["n"] == 3
        assert record["unit"] == "percent"


def test_schedule_zero_denominators_are_no_data(schedule):
    index = by_key(evaluate_records(schedule, SCHEDULE_IDS))
    # W03: a3 is scheduled 0 s and every other column is empty (sums of nulls are 0)
    for metric_id in SCHEDULE_IDS:
        record = index[(metric_id, W03)]
        assert record["value"] is None, metric_id
        # shrinkage is reviewed monthly: not judged on a week (issue 20 review; no_data
        # before), its reason still says why it has no value
        monthly = metric_id == "shrinkage"
        assert record["status"] == ("not_judged" if monthly else "no_data"), metric_id
        if monthly:
            assert record["reason"].startswith("judged monthly — "), metric_id
        assert record["n"] == 1, metric_id


def test_schedule_ratios_per_agent(schedule):
    index = by_key(evaluate_records(schedule, SCHEDULE_IDS, by=["agent_id"]), "agent_id")
    # a1: adherence 27000 / 57600; utilization 51000 / 60000 = 85; shrinkage 9000 / 60000
    assert index[("schedule_adherence", W02, "a1")]["value"] == pytest.approx(100 * 27000 / 57600)
    assert index[("utilization", W02, "a1")]["value"] == pytest.approx(85.0)
    assert index[("shrinkage", W02, "a1")]["value"] == pytest.approx(15.0)
    assert index[("occupancy", W02, "a1")]["value"] == pytest.approx(100 * 18000 / 24000)
    assert index[("occupancy", W02, "a1")]["n"] == 2
    # a2 logged in an unknown time (0) of 28800 paid: utilization 0 (not no data), shrinkage 100
    assert index[("utilization", W02, "a2")]["value"] == 0.0
    # utilization (0.0, below critical 75) is judged per team, not per agent (judged_at)
    assert index[("utilization", W02, "a2")]["status"] == "not_judged"
    assert index[("shrinkage", W02, "a2")]["value"] == pytest.approx(100.0)
    assert index[("occupancy", W02, "a2")]["value"] == pytest.approx(100 * 9000 / 12000)


# One row per agent: 10000 s scheduled and paid, available = 10000 - handle.
# columns: agent, adherent, logged_in, handle
LEVELS = [
    ("s1", 9000, 8500, 8000),
    ("s2", 8500, 8000, 8800),
    ("s3", 8450, 7950, 8900),
    ("s4", 8000, 7500, 9200),
    ("s5", 7900, 7400, 9300),
    ("s6", 10000, 6500, 7000),
    ("s7", 10000, 6450, 6900),
    ("s8", 10000, 6000, 6500),
    ("s9", 10000, 5900, 6400),
    ("s10", 10000, 10000, 7500),
    ("s11", 10000, 10000, 8500),
    ("s12", 10000, 10000, 7400),
]
LEVELS_CSV = HEADER + "".join(
    f"{a},2026-01-05,10000,{adh},{log},{h},{10000 - h},10000\n" for a, adh, log, h in LEVELS
)

EXPECTED_LEVELS = [
    # adherence, higher is better: target 90, warning 85, critical 80
    ("schedule_adherence", "s1", 90.0, "ok"),
    ("schedule_adherence", "s2", 85.0, "ok"),  # on the warning level: no breach
    ("schedule_adherence", "s3", 84.5, "warning"),
    ("schedule_adherence", "s4", 80.0, "warning"),  # on the critical level
    ("schedule_adherence", "s5", 79.0, "critical"),
    # utilization, higher is better: 85 / 80 / 75
    ("utilization", "s1", 85.0, "ok"),
    ("utilization", "s2", 80.0, "ok"),
    ("utilization", "s3", 79.5, "warning"),
    ("utilization", "s4", 75.0, "warning"),
    ("utilization", "s5", 74.0, "critical"),
    ("utilization", "s6", 65.0, "critical"),
    # shrinkage = (paid - logged in) / paid, lower is better: 30 / 35 / 40
    ("shrinkage", "s6", 35.0, "ok"),
    ("shrinkage", "s7", 35.5, "warning"),
    ("shrinkage", "s8", 40.0, "warning"),
    ("shrinkage", "s9", 41.0, "critical"),
    ("shrinkage", "s10", 0.0, "ok"),
    # occupancy, within band 75-85; warning outside 70-88; critical outside 65-92
    ("occupancy", "s1", 80.0, "ok"),
    ("occupancy", "s10", 75.0, "ok"),
    ("occupancy", "s11", 85.0, "ok"),
    ("occupancy", "s12", 74.0, "ok"),  # below the target band, inside the warning band
    ("occupancy", "s2", 88.0, "ok"),  # on the upper warning bound
    ("occupancy", "s3", 89.0, "warning"),
    ("occupancy", "s4", 92.0, "warning"),  # on the upper critical bound
    ("occupancy", "s5", 93.0, "critical"),
    ("occupancy", "s6", 70.0, "ok"),  # on the lower warning bound
    ("occupancy", "s7", 69.0, "warning"),
    ("occupancy", "s8", 65.0, "warning"),  # on the lower critical bound
    ("occupancy", "s9", 64.0, "critical"),
]


@pytest.fixture(scope="module")
def levels(tmp_path_factory):
    from conftest import ProjectFactory

    factory = ProjectFactory(tmp_path_factory.mktemp("levels"))
    # one row per "agent" stands for one case of the thresholds: occupancy, utilization and
    # shrinkage are judged per team, not per agent, so the cases are made judged at agent
    # shrinkage is reviewed monthly: its levels are tested on a week, so it is reviewed
    # weekly here (a week is not judged for a monthly metric, tests/test_cadence.py)
    judged = "\n".join(
        f"  {m}: {{judged_at: [agent]{', cadence: weekly' if m == 'shrinkage' else ''}}}"
        for m in ("occupancy", "utilization", "shrinkage")
    )
    project = SCHEDULE_PROJECT + "customize:\n" + judged + "\n"
    path = factory.project(project, files={"schedule.csv": LEVELS_CSV})
    return by_key(evaluate_records(path, SCHEDULE_IDS, by=["agent_id"]), "agent_id")


@pytest.mark.parametrize(("metric_id", "agent", "value", "status"), EXPECTED_LEVELS)
def test_schedule_levels(levels, metric_id, agent, value, status):
    record = levels[(metric_id, W02, agent)]
    assert record["value"] == pytest.approx(value)
    assert record["n"] == 1
    assert record["status"] == status


def test_occupancy_band_levels_and_gap(levels):
    record = levels[("occupancy", W02, "s1")]
    assert record["direction"] == "within_band"
    assert (record["target"], record["target_upper"]) == (75.0, 85.0)
    assert (record["warning"], record["warning_upper"]) == (70.0, 88.0)
    assert (record["critical"], record["critical_upper"]) == (65.0, 92.0)
    # gap: 0 inside the band, else the signed distance to the nearest bound
    assert record["gap_to_target"] == 0.0
    assert levels[("occupancy", W02, "s12")]["gap_to_target"] == pytest.approx(74 - 75)
    assert levels[("occupancy", W02, "s5")]["gap_to_target"] == pytest.approx(93 - 85)


# ---------------------------------------------------------------- derived metrics
DERIVED_PROJECT = """
name: Derived catalogue
timezone: {tz}
metrics: [builtin]
sources:
  calls: {{path: calls.csv}}
  schedule: {{path: schedule.csv}}
  costs: {{path: costs.csv}}
  agents: {{path: agents.csv}}
"""

AGENTS = """
agent_id,site
a1,Berlin
a2,Berlin
a3,Lisbon
"""

# W02: a1 answers 3, a2 1, a3 2, one abandon without agent; W03 (Mon 01-12): a1 answers 1.
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds
c1,2026-01-05 09:00:00,a1,true,5
c2,2026-01-06 09:00:00,a1,true,5
c3,2026-01-11 20:00:00,a1,true,5
c4,2026-01-06 10:00:00,a2,true,5
c5,2026-01-07 10:00:00,a3,true,5
c6,2026-01-08 10:00:00,a3,true,5
c7,2026-01-08 11:00:00,,false,40
c8,2026-01-12 09:00:00,a1,true,5
"""

# W02: a1 1 h + 2 h, a2 2 h, a3 4 h; W03: a1 1 h
SCHEDULE_HOURS = HEADER + (
    "a1,2026-01-05,28800,,3600,,,\n"
    "a1,2026-01-06,28800,,7200,,,\n"
    "a2,2026-01-06,28800,,7200,,,\n"
    "a3,2026-01-07,28800,,14400,,,\n"
    "a1,2026-01-12,28800,,3600,,,\n"
)

# Sunday 01-11 belongs to W02, Monday 01-12 to W03; costs carry their own site
COSTS = """
date,amount,site
2026-01-05,300,Lisbon
2026-01-11,900,Berlin
2026-01-12,50,Berlin
"""

FILES = {
    "calls.csv": CALLS,
    "schedule.csv": SCHEDULE_HOURS,
    "costs.csv": COSTS,
    "agents.csv": AGENTS,
}
DERIVED = ["contacts_per_hour", "cost_per_contact"]


def derived(make, tz: str = "UTC"):
    return make.project(DERIVED_PROJECT.format(tz=tz), files=FILES)


def test_contacts_per_hour(make):
    index = by_key(evaluate_records(derived(make), DERIVED))
    # W02: 6 answered / (1 + 2 + 2 + 4) h; n = 4 schedule rows
    w02 = index[("contacts_per_hour", W02)]
    assert w02["value"] == pytest.approx(6 / 9)
    assert w02["n"] == 4
    assert w02["unit"] == "count/hour"
    # W03: 1 answered / 1 h; n 1
    assert index[("contacts_per_hour", W03)]["value"] == pytest.approx(1.0)
    assert index[("contacts_per_hour", W03)]["n"] == 1


def test_cost_per_contact(make):
    index = by_key(evaluate_records(derived(make), DERIVED))
    # W02: (300 + 900, the Sunday cost included) / 6 answered = 200; n = 6 contacts handled
    w02 = index[("cost_per_contact", W02)]
    assert w02["value"] == pytest.approx((300 + 900) / 6)
    assert w02["n"] == 6
    assert w02["unit"] == "currency"
    # W03: 50 (Monday) / 1 answered; n 1
    assert index[("cost_per_contact", W03)]["value"] == pytest.approx(50.0)
    assert index[("cost_per_contact", W03)]["n"] == 1


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo"])
def test_cost_dated_on_a_day_lands_in_that_days_week(make, tz):
    # the same local dates and local call times in another zone: the Sunday cost stays in
    # W02 and the Monday cost in W03 (a date is that local day, not a UTC instant)
    index = by_key(evaluate_records(derived(make, tz), DERIVED))
    assert index[("cost_per_contact", W02)]["value"] == pytest.approx((300 + 900) / 6)
    assert index[("cost_per_contact", W03)]["value"] == pytest.approx(50.0)
    assert index[("contacts_per_hour", W02)]["value"] == pytest.approx(6 / 9)


def test_cost_per_contact_by_month(make):
    (record,) = evaluate_records(derived(make), ["cost_per_contact"], period="month")
    # January: (300 + 900 + 50) / 7 answered; n 7
    assert record["period"] == "2026-01"
    assert record["value"] == pytest.approx(1250 / 7)
    assert record["n"] == 7


def test_derived_by_site(make):
    records = evaluate_records(derived(make), DERIVED, by=["site"])
    index = by_key(records, "site")
    # calls and schedule get their site from the roster, costs carry their own
    # Berlin W02: (a1 3 + a2 1) / (3 h + 2 h) = 0.8, n 3 schedule rows
    berlin = index[("contacts_per_hour", W02, "Berlin")]
    assert berlin["value"] == pytest.approx(4 / 5)
    assert berlin["n"] == 3
    # Lisbon W02: a3 2 / 4 h, n 1
    assert index[("contacts_per_hour", W02, "Lisbon")]["value"] == pytest.approx(2 / 4)
    assert index[("contacts_per_hour", W02, "Lisbon")]["n"] == 1
    # cost per contact: Berlin 900 / 4 (n 4), Lisbon 300 / 2 (n 2); W03 Berlin 50 / 1
    assert index[("cost_per_contact", W02, "Berlin")]["value"] == pytest.approx(900 / 4)
    assert index[("cost_per_contact", W02, "Berlin")]["n"] == 4
    assert index[("cost_per_contact", W02, "Lisbon")]["value"] == pytest.approx(300 / 2)
    assert index[("cost_per_contact", W02, "Lisbon")]["n"] == 2
    assert index[("cost_per_contact", W03, "Berlin")]["value"] == pytest.approx(50.0)
    # the abandon (no agent, no site) has no hours and no cost: no data, never inf
    assert index[("contacts_per_hour", W02, None)]["value"] is None
    assert index[("cost_per_contact", W02, None)]["value"] is None
    # unassigned (no site), and cost_per_contact has no thresholds: not judged comes first
    assert index[("cost_per_contact", W02, None)]["status"] == "not_judged"
    assert index[("cost_per_contact", W02, None)]["reason"].startswith("unassigned: no site")


def test_contacts_per_hour_by_agent(make):
    index = by_key(
        evaluate_records(derived(make), ["contacts_per_hour"], by=["agent_id"]), "agent_id"
    )
    # a1: 3 / 3 h (n 2), a2: 1 / 2 h (n 1), a3: 2 / 4 h (n 1)
    assert index[("contacts_per_hour", W02, "a1")]["value"] == pytest.approx(3 / 3)
    assert index[("contacts_per_hour", W02, "a1")]["n"] == 2
    assert index[("contacts_per_hour", W02, "a2")]["value"] == pytest.approx(1 / 2)
    assert index[("contacts_per_hour", W02, "a3")]["value"] == pytest.approx(2 / 4)


def test_cost_per_contact_by_agent_is_a_usage_error(make):
    # costs have no agent_id: asked for explicitly, grouping by agent is an error
    with pytest.raises(UsageError) as caught:
        evaluate_records(derived(make), ["cost_per_contact"], by=["agent_id"])
    text = caught.value.render()
    assert "cost_per_contact" in text
    assert "agent_id" in text
