"""A pass that reads none of the columns the roster attributes is planned on the rows
without the roster's join (`engine.compute.Input.lean`); a pass that reads one keeps it,
and both give the values computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Lean
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
ROSTER = "agent_id,team\nA1,Blue\nA2,Blue\nP1,Red\n"
# ISO week 2026-W02 (5-11 January), and one call in W04 that sets the data's latest time
CALLS = """\
contact_id,offered_at,agent_id,customer_id,answered,wait_seconds
C1,2026-01-05 09:00:00,A1,X,true,5
C2,2026-01-06 09:00:00,A1,X,true,5
C3,2026-01-05 10:00:00,A2,Y,true,5
C4,2026-01-20 10:00:00,P1,Z,true,5
"""
# read in its own pass (it sorts the whole dataset): key and time, no roster column
REPEAT = """\
id: no_repeat
name: No repeat
unit: percent
dataset: calls
compute: {kind: no_repeat_within, where: answered, key: customer_id, window_days: 7}
"""
# the plain pass: reads the roster's team through its condition
BLUE = """\
id: blue_calls
name: Blue calls
unit: count
dataset: calls
compute: {kind: count, where: "team = 'Blue'"}
"""


@pytest.fixture
def project(make):
    return make.project(
        PROJECT,
        metrics={"no_repeat": REPEAT, "blue": BLUE},
        files={"calls.csv": CALLS, "roster.csv": ROSTER},
    )


def test_only_the_pass_reading_the_team_joins_the_roster(project, monkeypatch):
    joined: dict[str, bool] = {}  # metric -> whether its pass joins the roster
    collect_all = pl.collect_all

    def spy(frames, **options):  # type: ignore[no-untyped-def]
        for frame in frames:
            plan = frame.explain()
            for metric in ("no_repeat", "blue_calls"):
                if f'"{metric}".alias("metric")' in plan:
                    joined[metric] = "JOIN" in plan
        return collect_all(frames, **options)

    monkeypatch.setattr(pl, "collect_all", spy)
    records = by_key(
        evaluate_records(project, period="week", by=["agent_id"], cache=False), "agent_id"
    )
    assert joined == {"blue_calls": True, "no_repeat": False}
    # C1 is followed by C2 (same customer, a day later): repeated; C2 and C3 are not.
    # C4's seven days end after the data's latest time: left out.
    assert records[("no_repeat", "2026-W02", "A1")]["value"] == 50.0
    assert records[("no_repeat", "2026-W02", "A2")]["value"] == 100.0
    assert records[("blue_calls", "2026-W02", "A1")]["value"] == 2
    assert records[("blue_calls", "2026-W02", "A2")]["value"] == 1
    assert records[("blue_calls", "2026-W04", "P1")]["value"] == 0


def test_grouped_by_team_every_pass_joins_the_roster(project):
    records = by_key(evaluate_records(project, period="week", by=["team"], cache=False), "team")
    # Blue: C1 repeated, C2 and C3 not: 2 of 3 kept
    assert records[("no_repeat", "2026-W02", "Blue")]["value"] == pytest.approx(200 / 3)
    assert records[("blue_calls", "2026-W02", "Blue")]["value"] == 3
