"""Issue 15 item 6: the scorecard lists scored agents by score (lowest first, ties by id,
small samples ranked among them with a flag) and the unscored apart with the reason; the
report's data-quality section counts the group cells too small to judge.

Hand-computed fixture (one week, 2026-W13, Mon 03-23 .. Sun 03-29):
  wait    mean of wait_seconds over answered calls, lower is better, target 20 s,
          critical 120 s, min_sample 2 -> points = 100 × (120 − wait) / (120 − 20)
  handled count of calls, no target or critical -> never scorable (dropped)
  scorecard: wait 60 %, handled 40 % -> every score is the wait points (60 % scored ≥ 50 %)

  agent team   answered waits  wait  n  status               points
  a1    Red    70, 90          80.0  2  warning (> 60)        40
  a5    Red    80, 80          80.0  2  warning               40
  a2    Blue   40, 60          50.0  2  ok                    70
  a3    Green  60              60.0  1  insufficient_sample   60 (small sample)
  a6    Gold   100             100.0 1  insufficient_sample   20 (small sample)
  a4    Gold   — (one call, not answered): no wait -> 0 % of the weight scored -> no score

Lowest first: a6 20†, a1 40, a5 40 (tie, by id), a3 60†, a2 70; then a4 unscored.
Ranks (1 the best, ties shared): a2 1, a3 2, a1 3, a5 3, a6 5.
Teams on wait: Red 4 calls (80.0), Blue 2 (50.0), Green 1 and Gold 1 -> 2 of 4 team cells
small sample; by team × agent_id the a3 and a6 cells are small and a4's is no_data (n 0).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.judge.scorecard import frame
from tpmkit.report.document import to_html
from tpmkit.report.markdown import to_markdown

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

PROJECT = """
name: Scorecard order
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
scorecards:
  agent:
    categories:
      service: {weight: 100, metrics: {wait: 60, handled: 40}}
"""
WAIT = """
id: wait
name: Average wait
unit: seconds
direction: lower_is_better
owner: team_lead
roles: [team_lead, agent]
cadence: weekly
dataset: calls
compute: {kind: mean, expr: wait_seconds, where: answered}
target: {value: 20}
thresholds: {warning: 60, critical: 120}
min_sample: 2
"""
HANDLED = """
id: handled
name: Handled
unit: count
direction: higher_is_better
owner: team_lead
roles: [team_lead]
cadence: weekly
dataset: calls
compute: {kind: count}
"""
ROSTER = "agent_id,team,team_lead,site\n" + "".join(
    f"{a},{t},lead {t},Berlin\n" for a, t in [("a1", "Red"), ("a5", "Red"), ("a2", "Blue"),
                                        ("a3", "Green"), ("a4", "Gold"), ("a6", "Gold")]
)  # fmt: skip
CALLS = [  # agent, answered, wait
    ("a1", "Y", 70),
    ("a1", "Y", 90),
    ("a5", "Y", 80),
    ("a5", "Y", 80),
    ("a2", "Y", 40),
    ("a2", "Y", 60),
    ("a3", "Y", 60),
    ("a6", "Y", 100),
    ("a4", "N", ""),
]


@pytest.fixture
def project_file(make):
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    lines += [
        f"c{i},2026-03-2{4 + i % 4} 10:00:00,{a},{y},{w}" for i, (a, y, w) in enumerate(CALLS)
    ]
    lines.append("x1,2026-03-30 10:00:00,a1,Y,5")  # W14 has begun, so W13 is complete
    return make.project(
        PROJECT,
        metrics={"wait": WAIT, "handled": HANDLED},
        files={"calls.csv": "\n".join(lines) + "\n", "roster.csv": ROSTER},
    )


UNSCORED = "no metric could be scored: wait no data, handled no target or critical level"


def test_scored_by_score_small_samples_flagged_unscored_apart(project_file):
    result = api.load(project_file).scorecard(role="agent", period="week", now=NOW, cache=False)
    assert result.period == "2026-W13"
    rows = [
        (g.group["agent_id"], None if g.score is None else round(g.score, 6), g.rank,
         g.small_sample, g.reason)
        for g in result.groups
    ]  # fmt: skip
    assert rows == [
        ("a6", 20.0, 5, ["wait"], None),
        ("a1", 40.0, 3, [], None),
        ("a5", 40.0, 3, [], None),
        ("a3", 60.0, 2, ["wait"], None),
        ("a2", 70.0, 1, [], None),
        ("a4", None, None, [], UNSCORED),
    ]
    assert [g.group["agent_id"] for g in result.scored] == ["a6", "a1", "a5", "a3", "a2"]
    assert [g.group["agent_id"] for g in result.unscored] == ["a4"]
    # a small sample scores its points but is never evidence: nobody is coached on it
    coached = {g.group["agent_id"] for items in result.coaching().values() for g, _ in items}
    assert not coached & {"a3", "a6"}
    # CSV/JSON: the flag and the reason on every row, in the same order
    table = frame(result).filter(frame(result)["metric"] == "wait")
    assert table.select("agent_id", "small_sample", "unscored_reason").rows() == [
        ("a6", True, None),
        ("a1", False, None),
        ("a5", False, None),
        ("a3", True, None),
        ("a2", False, None),
        ("a4", False, UNSCORED),
    ]


def test_the_reason_names_the_weight_when_under_half_was_scored():
    from tpmkit.judge.scorecard import MetricScore, unscored_reason

    scored = MetricScore("aht", 40.0, {"value": 300.0}, 80.0, None, None)
    empty = MetricScore("csat", 60.0, {"value": None}, None, None, None)
    assert unscored_reason([scored, empty]) == (
        "scored on 40 % of the weight (under 50 %): csat no data"
    )


def test_terminal_table_ranks_small_samples_and_lists_the_unscored(project_file):
    result = CliRunner().invoke(
        app,
        ["scorecard", "-p", str(project_file), "--period", "week", "--at", "2026-W13",
         "--no-cache"],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    order = [next(i for i, line in enumerate(lines) if f" {a} " in line) for a in
             ("a6", "a1", "a5", "a3", "a2")]  # fmt: skip
    assert order == sorted(order)
    assert "20 small sample" in lines[order[0]] and "small sample" not in lines[order[1]]
    assert f"not scored: a4 — {UNSCORED}" in " ".join(result.output.split())


def test_report_scorecard_and_data_quality_counts(project_file):
    report = api.load(project_file).report(role="team_lead", now=NOW, cache=False)
    counts = [(c.metric, c.grouping, c.groups, c.small, c.no_data) for c in report.sample_counts()]
    assert counts == [
        ("Average wait", "team", 4, 2, 0),
        ("Average wait", "team × agent_id", 6, 2, 1),
    ]
    # cells: wait 4 teams + 6 agents, handled 4 teams + 6 agents = 20, and since the view has
    # every level (issue 15) the one site, Berlin, for each: 22 in 6 tables; 4 small, 1 empty
    assert report.sample_summary() == [
        "Of 22 group cells in 6 metric × grouping tables, 4 had fewer rows than their "
        "metric's min_sample (small sample, too few to judge) and 1 had no data (2 tables "
        "affected).",
        'Agent scorecard: 2 of 5 scored agents rest on a small sample (ranked, flagged "small '
        'sample"); 1 not scored (listed with the reason).',
    ]
    text = to_markdown(report)
    assert "Every metric had enough data" not in text
    assert "## Agent scorecard — 2026-W13, lowest 5 of 5 scored" in text
    assert "| 5 | a6 | Gold | 20 small sample | — | 20† | — |" in text
    # a1's two waits (70, 90) leave the t interval across the target: "?"; a5's (80, 80)
    # have no spread, so the interval lies wholly above it: "▼" (and a5 is coached)
    assert "| 3 | a1 | Red | 40 | — | 40? | — |" in text
    assert "| 3 | a5 | Red | 40 | — | 40▼ | — |" in text
    section = text[text.index("## Agent scorecard") : text.index("### Not scored")]
    found = [section.index(f"| {a} |") for a in ("a6", "a1", "a5", "a3", "a2")]
    assert found == sorted(found) and "| a4 |" not in section
    assert (
        f"### Not scored (1)\n\n| agent | team | reason |\n|---|---|---|\n| a4 | Gold | {UNSCORED} |"
        in text
    )
    assert "| Average wait | team | 4 | 2 | 0 |" in text
    assert "| Average wait | team × agent_id | 6 | 2 | 1 |" in text
    html = to_html(report)
    assert "Every metric had enough data" not in html
    assert "lowest 5 of 5 scored</h2>" in html
    assert '<td class="num">20 small sample</td>' in html
    assert f"<td>a4</td><td>Gold</td><td>{UNSCORED}</td>" in html
    assert (
        '<tr><td>Average wait</td><td>team</td><td class="num">4</td><td class="num">2</td>'
        '<td class="num">0</td></tr>' in html
    )


def test_score_change_never_prints_minus_zero():
    from tpmkit.judge.scorecard import GroupScore
    from tpmkit.report.document import change_text

    def group(score, previous):
        return GroupScore({"agent_id": "a1"}, {}, score, previous, 1, [])

    # 40.0 − 40.3 = −0.3 rounds to 0: "+0", not "-0"; 43.6 − 40 = 3.6 → "+4"; 40 − 42 → "-2"
    assert [change_text(group(40.0, 40.3)), change_text(group(43.6, 40.0))] == ["+0", "+4"]
    assert [change_text(group(40.0, 42.0)), change_text(group(40.0, None))] == ["-2", "—"]
