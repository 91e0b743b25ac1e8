"""Attribution of contacts to dimensions: the dataset's own column, then the roster (by
agent_id), then the `queues` dataset (by queue); rows none of them reaches are the null
group, labelled `unassigned` in displays."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import evaluate_records
from tpmkit import project as api
from tpmkit.cli.app import app
from tpmkit.data.attribution import attribute
from tpmkit.errors import DataError
from tpmkit.render.values import UNASSIGNED, group_label

PROJECT = """\
name: attribution
timezone: UTC
metrics: [builtin]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
  queues: {path: queues.csv}
customize:
  service_level:
    parameters: {answer_within_seconds: 20, short_abandon_seconds: 5}
"""

# Six contacts in ISO week 2026-W02. P1 and P2 work for the partner; C5 is an abandon
# (no agent) on the partner's queue Q-BPO; C6 is an abandon on Q-X, a queue nobody owns.
CALLS = """\
contact_id,offered_at,channel,queue,agent_id,answered,wait_seconds
C1,2026-01-05 09:00:00,voice,Q-IN,A1,true,10
C2,2026-01-05 09:05:00,voice,Q-IN,A2,true,30
C3,2026-01-05 09:10:00,voice,Q-BPO,P1,true,10
C4,2026-01-05 09:15:00,voice,Q-BPO,P2,true,15
C5,2026-01-05 09:20:00,voice,Q-BPO,,false,40
C6,2026-01-05 09:25:00,voice,Q-X,,false,50
"""
ROSTER = """\
agent_id,team,team_lead,site,vendor
A1,Blue,Hanna,Berlin,in-house
A2,Blue,Hanna,Berlin,in-house
P1,Red,Rita,Lisbon,Partner
P2,Red,Rita,Lisbon,Partner
"""
QUEUES = """\
queue,team,site,vendor,line_of_business
Q-IN,Blue,Berlin,in-house,billing
Q-BPO,Red,Lisbon,Partner,billing
"""


def _project(make, calls: str = CALLS, queues: str = QUEUES):
    return make.project(
        PROJECT, files={"calls.csv": calls, "roster.csv": ROSTER, "queues.csv": queues}
    )


def _by_vendor(records):
    return {(r["metric"], r["vendor"]): r for r in records}


def test_an_abandon_on_the_partners_queue_lowers_the_partners_service_level(make):
    records = evaluate_records(
        _project(make), ["service_level", "abandon_rate"], by=["vendor"], period="all"
    )
    index = _by_vendor(records)
    # Partner: C3 (10 s) and C4 (15 s) answered within 20 s; C5 abandoned after 40 s
    # (>= 5 s, so it counts against): 2 / 3 = 66.67 %. Through the roster alone C5 has
    # no vendor and the partner would show 2 / 2 = 100 %.
    partner = index[("service_level", "Partner")]
    assert partner["n"] == 3 and partner["value"] == pytest.approx(200 / 3)
    # in-house: C1 within 20 s, C2 at 30 s: 1 / 2 = 50 %
    inhouse = index[("service_level", "in-house")]
    assert inhouse["n"] == 2 and inhouse["value"] == pytest.approx(50.0)
    # C6's queue Q-X has no owner: the null group, 0 of 1 answered within 20 s
    nobody = index[("service_level", None)]
    assert nobody["n"] == 1 and nobody["value"] == pytest.approx(0.0)
    # abandon rate: the partner's 1 abandon of 3 = 33.33 %, in-house 0 of 2
    assert index[("abandon_rate", "Partner")]["value"] == pytest.approx(100 / 3)
    assert index[("abandon_rate", "in-house")]["value"] == pytest.approx(0.0)
    assert len(records) == 6  # 2 metrics x (Partner, in-house, null)


def test_a_dimension_only_the_queues_have_groups_every_owned_queue(make):
    records = evaluate_records(
        _project(make), ["contacts_offered"], by=["line_of_business"], period="all"
    )
    counts = {r["line_of_business"]: r["value"] for r in records}
    # C1-C5 are on billing queues; C6's queue has no row in queues.csv
    assert counts == {"billing": 5.0, None: 1.0}


def test_own_column_beats_roster_beats_queues(make):
    # C1: own vendor "Own" beats the roster's in-house; C2: no own vendor, the roster's
    # in-house beats the queue's "QueueCo"; C3: agent X9 is not in the roster, so the
    # queue's "QueueCo"; C4: abandoned, no own vendor, the queue's "QueueCo".
    calls = """\
contact_id,offered_at,queue,agent_id,answered,wait_seconds,vendor
C1,2026-01-05 09:00:00,Q-Q,A1,true,10,Own
C2,2026-01-05 09:05:00,Q-Q,A1,true,10,
C3,2026-01-05 09:10:00,Q-Q,X9,true,10,
C4,2026-01-05 09:15:00,Q-Q,,false,40,
"""
    queues = "queue,vendor\nQ-Q,QueueCo\n"
    records = evaluate_records(
        _project(make, calls, queues), ["contacts_offered"], by=["vendor"], period="all"
    )
    counts = {r["vendor"]: r["value"] for r in records}
    assert counts == {"Own": 1.0, "in-house": 1.0, "QueueCo": 2.0}


def test_attribute_fills_only_what_is_still_null():
    frame = pl.LazyFrame(
        {
            "row": [1, 2, 3, 4],
            "agent_id": ["A", "A", None, "B"],
            "queue": ["Q", "Q", "Q", None],
            "team": ["own", None, None, None],
        }
    )
    roster = pl.DataFrame({"agent_id": ["A", "B"], "team": ["roster", None], "site": ["S", None]})
    queues = pl.DataFrame({"queue": ["Q"], "team": ["queue"], "site": ["QS"]})
    lookups = [("agent_id", roster), ("queue", queues)]
    out = attribute(frame, ["team", "site"], lookups).collect().sort("row")  # joins may reorder
    # row 4: agent B has no team in the roster and no queue: null stays null
    assert out.get_column("team").to_list() == ["own", "roster", "queue", None]
    assert out.get_column("site").to_list() == ["S", "S", "QS", None]
    assert out.columns == ["row", "agent_id", "queue", "team", "site"]  # no helper columns left


def test_unassigned_is_null_in_data_and_labelled_in_displays(make):
    path = _project(make)
    base = ["evaluate", "-p", str(path), "service_level", "--by", "vendor", "--period", "all"]
    runner = CliRunner()
    shown = runner.invoke(app, [*base, "--no-cache", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    rows = rows["records"] if isinstance(rows, dict) else rows
    assert sorted(str(r["vendor"]) for r in rows) == ["None", "Partner", "in-house"]
    markdown = runner.invoke(app, [*base, "--no-cache", "--format", "markdown"])
    assert markdown.exit_code == 0, markdown.output
    line = next(x for x in markdown.output.splitlines() if "| unassigned |" in x)
    assert "0.0%" in line  # C6: 0 of 1
    assert "(none)" not in markdown.output and "None" not in markdown.output
    table = runner.invoke(app, [*base, "--no-cache", "--format", "table"])
    assert table.exit_code == 0, table.output
    assert UNASSIGNED in table.output and "(none)" not in table.output
    assert group_label(None) == "unassigned" and group_label("Partner") == "Partner"


def test_the_queues_are_not_read_when_nothing_needs_them(make):
    # a queues file that breaks the contract (Q-IN twice): reading it is a data error
    path = _project(make, queues=QUEUES + "Q-IN,Green,Porto,Other,billing\n")
    project = api.load(path)
    for by in ([], ["channel"], ["agent_id"], ["queue"]):
        result = project.evaluate(["service_level"], by=by, period="all", cache=False)
        assert "queues" not in {d.name for d in result.datasets}, by
    # a roster-only column: the roster supplies it, the queues are not read either
    result = project.evaluate(["service_level"], by=["team_lead"], period="all", cache=False)
    assert {d.name for d in result.datasets} == {"calls", "agents"}
    # a dimension the queues supply: now they are read (and their error shows)
    with pytest.raises(DataError, match="queues"):
        project.evaluate(["service_level"], by=["vendor"], period="all", cache=False)


def test_the_queues_may_be_given_as_a_frame(make):
    # the project has no queues source: the frame is used, like a file would be
    path = make.project(
        PROJECT.replace("  queues: {path: queues.csv}\n", ""),
        files={"calls.csv": CALLS, "roster.csv": ROSTER},
    )
    queues = pl.DataFrame({"queue": ["Q-BPO"], "vendor": ["Partner"]})
    result = api.load(path).evaluate(
        ["service_level"], by=["vendor"], period="all", data={"queues": queues}, cache=False
    )
    values = {r["vendor"]: r["value"] for r in result.records.to_dicts()}
    # as with the file: the partner 2 of 3, in-house 1 of 2, C6 (queue Q-X) unassigned 0 of 1
    assert values == pytest.approx({"Partner": 200 / 3, "in-house": 50.0, None: 0.0})
