"""Effective-dated definitions: past periods are judged by the levels in force then."""

from __future__ import annotations

from conftest import by_key, evaluate_records
from tpmkit import project as api

PROJECT = """
name: Dated
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""
CSAT = """
id: csat
name: CSAT
unit: percent
direction: higher_is_better
owner: team_lead
dataset: calls
compute: {kind: ratio, numerator: "csat >= 4", where: "csat IS NOT NULL"}
target:
  - {value: 80}
  - {value: 85, from: 2026-04-01}
thresholds:
  - {warning: 75, critical: 70}
  - {warning: 80, critical: 75, from: 2026-04-06}
actions: {warning: review comments, critical: coach}
"""
# 78 % in every month: 39 of 50 surveys with csat >= 4
CALLS = "contact_id,offered_at,answered,wait_seconds,csat\n" + "".join(
    f"{month}{i},2026-{month}-0{1 + i % 5} 10:00:00,Y,5,{5 if i < 39 else 2}\n"
    for month in ("03", "04", "05")
    for i in range(50)
)


def test_each_period_is_judged_by_the_levels_in_force_then(make):
    project_file = make.project(PROJECT, metrics={"csat": CSAT}, files={"calls.csv": CALLS})
    months = by_key(evaluate_records(project_file, period="month"))
    march, april, may = (months[("csat", m)] for m in ("2026-03", "2026-04", "2026-05"))
    assert march["value"] == april["value"] == may["value"] == 78.0
    # March: target 80, warning 75 → ok, gap −2
    assert (march["target"], march["warning"], march["status"]) == (80.0, 75.0, "ok")
    assert march["gap_to_target"] == -2.0
    # April starts on the 1st: the new target applies; the new thresholds start on the 6th,
    # after the period's start, so April keeps the old ones
    assert (april["target"], april["warning"], april["status"]) == (85.0, 75.0, "ok")
    # May: both changed → 78 is below warning 80
    assert (may["target"], may["warning"], may["critical"], may["status"]) == (
        85.0, 80.0, 75.0, "warning",
    )  # fmt: skip
    assert march["definition_hash"] == may["definition_hash"]  # one definition, dated


def test_weekly_switch_happens_in_the_week_the_change_starts(make):
    project_file = make.project(PROJECT, metrics={"csat": CSAT}, files={"calls.csv": CALLS})
    weeks = by_key(evaluate_records(project_file, period="week"))
    # the thresholds change on Monday 2026-04-06 (2026-W15): W14 (Mar 30 – Apr 5) keeps
    # the old ones even though the new target applies from its Wednesday; W19 has the new
    assert weeks[("csat", "2026-W14")]["warning"] == 75.0
    assert weeks[("csat", "2026-W14")]["target"] == 80.0  # in force at the week's start
    assert weeks[("csat", "2026-W19")]["warning"] == 80.0


def test_dated_entries_are_validated(make):
    undated = CSAT.replace(
        "{warning: 80, critical: 75, from: 2026-04-06}", "{warning: 80, critical: 75}"
    )
    backwards = CSAT.replace("from: 2026-04-06", "from: 2026-01-01").replace(
        "- {warning: 75, critical: 70}", "- {warning: 75, critical: 70, from: 2026-02-01}"
    )
    swapped = CSAT.replace("{warning: 80, critical: 75, from", "{warning: 70, critical: 75, from")
    for text, message, line in (
        (undated, "every entry after the first needs `from:`", 1),
        (backwards, "`from:` dates must increase", 1),
        (swapped, "warning (70) is worse than critical (75)", 13),
    ):
        path = make.project(PROJECT, metrics={"csat": text}, files={"calls.csv": CALLS})
        issues = [i for i in api.validate(path) if i.severity == "error"]
        assert any(message in i.message for i in issues), [i.render() for i in issues]
        found = next(i for i in issues if message in i.message)
        assert found.line == line, found.render()
