"""The agent view is personal: the reader's own value per metric against their team's
median and the target, the team only as an anonymous distribution (min, Q1, median, Q3,
max), never another agent's id, and the playbook action addressed to the agent."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import tpmkit.evaluation
from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.report.document import to_html
from tpmkit.report.markdown import to_markdown
from tpmkit.report.personal import addressed, quartiles

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"

PROJECT = """
name: Agent view fixture
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
WAIT = """
id: wait
name: Average wait
unit: seconds
direction: lower_is_better
owner: team_lead
roles: [team_lead, agent]
dataset: calls
compute: {kind: mean, expr: wait_seconds, where: answered}
target: {value: 20}
thresholds: {warning: 30, critical: 60}
actions: {warning: "team lead: review staffing", critical: "team lead: add staff today"}
"""
# Team Red has five agents, X101 (the reader) and four others; team Blue has one, Y201.
# One answered call each in 2026-W13 (Mon 03-23 .. Sun 03-29, the last complete week on
# NOW), and the same in W12 so the week before has data too.
WAITS = {"X101": 80, "X102": 10, "X103": 20, "X104": 40, "X105": 60, "Y201": 5}
ROSTER = "agent_id,team\nX101,Red\nX102,Red\nX103,Red\nX104,Red\nX105,Red\nY201,Blue\n"
OTHERS = [a for a in WAITS if a != "X101"]


def calls() -> str:
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    for i, (agent, wait) in enumerate(WAITS.items()):
        lines.append(f"w12-{i},2026-03-17 10:00:00,{agent},Y,{wait}")
        lines.append(f"w13-{i},2026-03-24 10:00:00,{agent},Y,{wait}")
    lines.append("w14,2026-03-30 10:00:00,X101,Y,5")  # W14 has begun: W13 is complete
    return "\n".join(lines) + "\n"


@pytest.fixture
def report(make):
    path = make.project(
        PROJECT, metrics={"wait": WAIT}, files={"calls.csv": calls(), "roster.csv": ROSTER}
    )
    return api.load(path).report(role="agent", agent="X101", now=NOW, cache=False)


def test_the_agent_against_the_team_distribution_by_hand(report):
    # Red's values sorted: 10, 20, 40, 60, 80 -> min 10, Q1 20 (2nd), median 40 (3rd),
    # Q3 60 (4th), max 80; Blue's Y201 (5) is another team and is left out.
    assert report.period == "2026-W13"
    [own] = report.standing
    assert (own.metric, own.team, own.agents) == ("wait", "Red", 5)
    assert own.spread == (10.0, 20.0, 40.0, 60.0, 80.0)
    assert own.median == 40.0
    # X101's own row: 80 s against the target 20 s; 80 > critical 60 -> critical
    assert (own.record["value"], own.record["n"], own.record["status"]) == (80.0, 1, "critical")
    assert own.record["target"] == 20.0
    # the playbook's "team lead: add staff today", addressed to the agent who reads it
    assert own.action == "your team lead will: add staff today"
    # the operation's card (mean of the six, 215 / 6 = 35.8 s > warning 30) likewise
    [card] = report.cards
    assert card.action == "your team lead will: review staffing"


def test_no_other_agent_id_in_the_documents(report):
    markdown, html = to_markdown(report), to_html(report)
    for text in (markdown, html):
        assert "X101" in text
        assert [a for a in OTHERS if a in text] == []
        assert "add staff today" in text
    assert "| Average wait | 80.0s | 1 | Critical | 20.0s | 40.0s |" in markdown
    assert "10.0s · 20.0s · 40.0s · 60.0s · 80.0s" in markdown
    assert "- Average wait: your team lead will: add staff today" in markdown
    assert "10.0s · 20.0s · 40.0s · 60.0s · 80.0s" in html
    assert "### Average wait by team > agent_id" not in markdown  # the standing replaces it


def test_quartiles_interpolate_between_values():
    # 4 values: positions (n - 1) * p -> Q1 at 0.75: 1 + 0.75 * (2 - 1) = 1.75; median
    # (2 + 3) / 2 = 2.5; Q3 at 2.25: 3 + 0.25 * (4 - 3) = 3.25
    assert quartiles([4.0, 1.0, 3.0, 2.0]) == (1.0, 1.75, 2.5, 3.25, 4.0)
    assert quartiles([7.0]) == (7.0,) * 5  # a team of one: its only value everywhere


def test_actions_are_addressed_to_the_agent():
    assert addressed("team lead: coach", "quality_specialist") == "your team lead will: coach"
    assert addressed("quality specialist: re-evaluate", None) == (
        "the quality specialist will: re-evaluate"
    )
    assert addressed("check the queue", "team_lead") == "your team lead will: check the queue"
    assert addressed("agent: take the refresher", "team_lead") == "you: take the refresher"
    assert addressed("check the queue", "agent") == "you: check the queue"
    assert addressed("check the queue", None) == "check the queue"
    assert addressed(None, "team_lead") is None


def test_the_example_agent_view_names_no_other_agent(monkeypatch):
    runs: list[tuple[object, ...]] = []
    engine = tpmkit.evaluation.compute_records

    def counting(shown, inputs, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append((request.grain, request.by, request.window.start, request.window.end))
        return engine(shown, inputs, request, *args, **kwargs)

    monkeypatch.setattr(tpmkit.evaluation, "compute_records", counting)
    example = api.load(EXAMPLE)
    report = example.report(role="agent", agent="A047", period="month", cache=False)
    assert len(runs) == len(set(runs))  # the quartiles ran no evaluation of their own
    for text in (to_markdown(report), to_html(report)):
        assert set(re.findall(r"A0\d\d", text)) == {"A047"}
    assert {s.team for s in report.standing} == {"Lisbon Tech"}
    assert "## Your scorecard — 2026-10" in to_markdown(report)  # not "lowest 1 of 1"
    # 15 or 16 agents of Lisbon Tech have a value (an agent with no calls has no AHT)
    assert all(s.agents >= 15 for s in report.standing)


@pytest.mark.parametrize("name", ["own.md", "own.html"])
def test_the_example_agent_report_from_the_command_line(tmp_path, name):
    # the default period (the latest complete week), as a new user would run it
    out = tmp_path / name
    args = ["report", "--project", str(EXAMPLE), "--role", "agent", "--agent", "A047"]
    result = CliRunner().invoke(app, [*args, "--no-cache", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Your standing — agent A047, team Lisbon Tech" in text
    assert set(re.findall(r"A0\d\d", text)) == {"A047"}


def test_the_agent_view_without_an_agent_names_the_flag():
    """The agent view is one agent's; the CLI says which flag is missing, exit 2."""
    from typer.testing import CliRunner

    from tpmkit.cli.app import app

    args = ["report", "--project", str(EXAMPLE), "--role", "agent", "-o", "x.html", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--role agent: say whose report it is with --agent" in result.output
