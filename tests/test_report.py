"""tpmkit report: golden HTML and Markdown on a small fixed project, self-contained and
escaped HTML, charts with one point per value, role and cadence views, {period} file
names, atomic writes; and the HTML opened in headless Chromium when it is installed.

Update the golden files with:  TPMKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_report.py
(the `golden` fixture in conftest.py); the key facts are also pinned by hand below.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.errors import UsageError
from tpmkit.report import document as render_module
from tpmkit.report.document import to_html
from tpmkit.report.markdown import to_markdown

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
HOSTILE = "<script>alert(1)</script>"

PROJECT = """
name: Report <Fixture> & Co
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
cadence: weekly
dataset: calls
compute: {kind: mean, expr: wait_seconds, where: answered}
target: {value: 20}
thresholds: {warning: 30, critical: 60}
actions: {warning: "team lead: review staffing", critical: "team lead: add staff today"}
"""
HANDLED = """
id: handled
name: Handled
unit: count
direction: higher_is_better
owner: team_lead
roles: [team_lead]
cadence: daily
dataset: calls
compute: {kind: count, where: answered}
"""
ROSTER = f'agent_id,team\na1,Red\n"{HOSTILE}",Blue\n'
WAITS = {  # week -> waits of a1, and of the hostile agent
    "2026-03-02": (10, 12),
    "2026-03-09": (20, 25),
    "2026-03-16": (35, 40),
    "2026-03-23": (80, 50),
}


def calls() -> str:
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    for week, (a1, other) in WAITS.items():
        for i, (agent, wait) in enumerate((("a1", a1), (HOSTILE, other))):
            lines.append(f'c{week}{i},{week} 10:00:00,"{agent}",Y,{wait}')
    lines.append("x1,2026-03-30 10:00:00,a1,Y,5")  # W14 has begun: not complete on NOW
    return "\n".join(lines) + "\n"


@pytest.fixture
def project_file(make):
    return make.project(
        PROJECT,
        metrics={"wait": WAIT, "handled": HANDLED},
        files={"calls.csv": calls(), "roster.csv": ROSTER},
    )


def report_for(project_file, **options):
    loaded = api.load(project_file)
    return loaded.report(now=NOW, cache=False, **options)


def test_html_matches_the_golden_file(project_file, golden):
    html = to_html(report_for(project_file, role="team_lead"))
    golden("report.html", html)
    # Issue 15 item 3 changed the golden twice: no sideways scrolling at 390 px (each table
    # sits in its own scrolling box, a phone-width media query stacks the layout), then the
    # decision-first layout: tiles and the breach list (no tables), then two tables, the
    # metric × group grid and the agent grid, in place of one table per metric and grouping;
    # and "What moved" (issue 16): why wait rose
    assert html.count('<div class="scroll"><table class="grid">') == 2
    assert html.count('<div class="scroll"><table>') == 1 == html.count('id="moved"')
    assert html.count("<table") == 3 == html.count("</table></div>")
    tiles = html.count('<div class="tile"') + html.count('<div class="tile quiet"')
    assert tiles == 2 and html.count('<div class="breach"') == 1
    assert ".scroll { overflow-x: auto; max-width: 100%; }" in html
    assert "@media (max-width: 600px)" in html


def test_markdown_matches_the_golden_file(project_file, golden):
    text = to_markdown(report_for(project_file, role="team_lead"))
    golden("report.md", text)
    assert HOSTILE not in text and "&lt;script&gt;" in text  # no HTML from the data
    assert "data 2026-03-02 – 2026-04-05" in text  # the last day with data, not the end


# The golden report's key facts, computed by hand from WAITS (so a wrong number cannot be
# frozen into the golden files by TPMKIT_UPDATE_GOLDEN). The report judges 2026-W13
# (Mon 03-23 .. Sun 03-29), the last complete week on NOW; each team has one agent
# (Red: a1, Blue: the hostile id) and one answered call a week.
#   wait    W13: a1 80 s, other 50 s -> mean (80 + 50) / 2 = 65.0, n 2; lower is better,
#           65 > critical 60 -> critical; gap 65 - target 20 = +45; W12 (35 + 40) / 2 = 37.5,
#           change +27.5. Red = a1 = 80 > 60: critical, gap +60; Blue = 50: above warning
#           30, not above 60: warning, gap +30.
#   handled W13: 2 answered calls -> 2, n 2 (count: n = value), no thresholds -> ok; one
#           call per team and per agent -> 1, n 1, ok each.
# Overview: cards 1 critical (wait), 1 ok (handled). In the group tables `wait` breaches for
# Red/a1 (critical) and Blue/<hostile> (warning) — one metric, counted once at its worst:
# 1 critical, no warning (the team and its only agent are the same single call).
CARDS = {  # metric -> (value, n, status, gap, change)
    "handled": (2.0, 2, "not_judged", None, 0.0),  # no thresholds: shown, not judged
    "wait": (65.0, 2, "critical", 45.0, 27.5),
}
TABLES = {  # (metric, grouping) -> rows, worst first: (group values, value, n, status, context)
    # handled has no thresholds: its rows are shown, not judged (never "ok")
    ("handled", ("team",)): [
        (("Blue",), 1.0, 1, "not_judged", None),
        (("Red",), 1.0, 1, "not_judged", None),
    ],
    ("wait", ("team",)): [
        (("Red",), 80.0, 1, "critical", None),
        (("Blue",), 50.0, 1, "warning", None),
    ],
    ("handled", ("team", "agent_id")): [
        (("Blue", HOSTILE), 1.0, 1, "not_judged", 1.0),
        (("Red", "a1"), 1.0, 1, "not_judged", 1.0),
    ],
    ("wait", ("team", "agent_id")): [
        (("Red", "a1"), 80.0, 1, "critical", 80.0),
        (("Blue", HOSTILE), 50.0, 1, "warning", 50.0),
    ],
}


def test_golden_report_key_facts_by_hand(project_file):
    report = report_for(project_file, role="team_lead")
    assert report.period == "2026-W13"
    cards = {
        c.metric: (c.record["value"], c.record["n"], c.status, c.record["gap_to_target"], c.change)
        for c in report.cards
    }
    assert cards == CARDS
    assert report.counts() == {"critical": 1}  # handled is not judged, so never counted
    # The breach list (issue 15, item 3): `wait` once, with every group in breach in level
    # order. Each team has one agent, so team Red is agent a1 (the same single call) and is
    # named once, "team Red = agent a1"; handled is not judged, so never a breach.
    from tpmkit.report import places

    found = places.places(report.cards, report.tables)
    rows = places.breach_rows(found, report.cards, agents=True, reader="team_lead")
    assert [(r.metric, r.level, r.status, r.owner, r.action) for r in rows] == [
        ("wait", "operation", "critical", "team_lead", "team lead: add staff today")
    ]
    assert [(p.tagged, rec["value"], rec["status"]) for p, rec in rows[0].entries] == [
        ("operation", 65.0, "critical"),
        ("team Red = agent a1", 80.0, "critical"),
        (f"team Blue = agent {HOSTILE}", 50.0, "warning"),
    ]
    tables = {
        (t.metric, tuple(t.columns)): [
            (
                tuple(r.group[c] for c in t.columns),
                r.record["value"],
                r.record["n"],
                r.record["status"],
                r.context,
            )
            for r in t.rows
        ]
        for t in report.tables
    }
    assert tables == TABLES
    text = to_markdown(report)
    assert "## 2026-W13 at a glance\n\n1 critical\n" in text  # handled (not judged): uncounted
    assert "**Average wait** — owner team lead\naction: team lead: add staff today\n" in text
    assert "- CRITICAL team Red = agent a1 80.0s above critical 60.0s, n 1\n" in text
    assert "- WARNING team Blue = agent" in text and "50.0s above warning 30.0s, n 1" in text
    # Why (issue 16), by hand: W12 a1 35, Blue 40; W13 80, 50; one call each, so the weights
    # stay 1/2: no mix; rate Red 1/2 × (80 − 35) = +22.5, Blue 1/2 × (50 − 40) = +5.0
    assert "why: wait +27.5s: Red +22.5s (rate) (vs previous period)" in text
    assert "| Average wait | 37.5s → 65.0s | +27.5s | team | rate | Red +22.5s (rate); " in text
    # handled has no thresholds: shown with its value, marked not judged (goldens, issue 15)
    assert "| Handled | 2 | 2 | Not judged | — | — | ±0 | stable | ▁▁▁▁ |" in text
    # the status grid: the operation, then the teams (each its only agent) by name
    assert "| metric | operation | team Blue = agent" in text
    assert "| Average wait | 65.0s ✖ | 50.0s ▲ | 80.0s ✖ |" in text
    html = to_html(report)
    assert '<span class="badge s-not_judged">○ Not judged</span></h3>' in html
    assert '<p class="legend">no thresholds</p>' in html  # the card says why
    assert '<div class="breach" style="--c: var(--critical)" data-metric="wait">' in html


def test_a_level_without_its_column_is_left_out_and_said_once(project_file):
    """The fixture has teams and agents but no vendor, site or queue: the report shows the
    levels it has and says once which it cannot show."""
    report = report_for(project_file, role="team_lead")
    assert {tuple(t.columns) for t in report.tables} == {("team",), ("team", "agent_id")}
    said = [n for n in report.quality() if "column in the data" in n]
    assert len(said) == 1 and said[0].startswith("no vendor, site, queue column in the data:")


class Balanced(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "link", "br", "img", "input", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()


def test_html_is_well_formed_self_contained_and_escaped(project_file):
    text = to_html(report_for(project_file, role="team_lead"))
    parser = Balanced()
    parser.feed(text)
    parser.close()
    assert parser.stack == []
    assert not re.search(r"(?i)(https?:|//[a-z]|url\(|@import|<link|<script|<img|<iframe)", text)
    assert HOSTILE not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Report &lt;Fixture&gt; &amp; Co" in text


def test_report_content(project_file):
    report = report_for(project_file, role="team_lead")
    assert report.period == "2026-W13"  # W14 is still in progress
    wait = next(c for c in report.cards if c.metric == "wait")
    assert (wait.record["value"], wait.status) == ((80 + 50) / 2, "critical")
    assert wait.previous == (35 + 40) / 2 and wait.change == 65 - 37.5
    assert [p.period for p in wait.series] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert wait.action == "team lead: add staff today"
    assert [c.name for c in report.cards if c.status in ("critical", "warning")] == ["Average wait"]
    by_agent = next(
        t for t in report.tables if t.columns == ["team", "agent_id"] and t.metric == "wait"
    )
    assert [r.group["agent_id"] for r in by_agent.rows] == ["a1", HOSTILE]  # worst first
    assert by_agent.rows[0].context == 80.0  # team Red's value beside its agent


def test_chart_has_one_point_per_value(project_file):
    report = report_for(project_file, role="team_lead", last=3)
    text = to_html(report)
    wait_svg = text.split('aria-label="Average wait"')[1].split("</svg>")[0]
    assert wait_svg.count('<g class="point">') == 3
    assert "<title" in wait_svg and "<desc" in wait_svg  # a text alternative
    assert wait_svg.count("<rect x=") >= 1 and "2026-W13: 65.0s (Critical)" in wait_svg


def test_golden_charts_by_hand(project_file):
    """What the charts in report.html say (issue 15, item 4). Before: y labels only at the
    data's extremes (11.0s, 65.0s; 1, 3), x labels only for the first and last week, level
    lines without text. Now, worked out from CARDS above:
      wait    11–65 s with levels 20/30/60 s: 11 <= half of 65, so from 0; span 65 / 4
              rounds up to steps of 20 s -> 0s … 80s; each level named at its line's end.
      handled 2 every week: a count spans at least 20 % of 2 (1.8–2.2) in whole steps,
              which puts 0 one step away, so it is shown: 0 … 3.
    Every week is labelled; the year is said once."""
    html = to_html(report_for(project_file, role="team_lead"))
    charts = {
        root.findtext("title"): root
        for root in (
            ET.fromstring("<svg " + part.split("</svg>")[0] + "</svg>")
            for part in html.split("<svg ")[1:]
        )
    }
    wait, handled = charts["Average wait, last 4 periods"], charts["Handled, last 4 periods"]

    def said(root, anchor):
        return [t.text for t in root.iter("text") if t.get("text-anchor") == anchor]

    assert said(wait, "end") == ["0s", "20s", "40s", "60s", "80s"]
    assert said(handled, "end") == ["0", "1", "2", "3"]
    assert said(wait, "middle") == said(handled, "middle") == ["2026-W10", "W11", "W12", "W13"]
    assert said(wait, "start") == ["target 20.0s", "warning 30.0s", "critical 60.0s"]
    assert said(handled, "start") == []  # no levels, no note: the axis starts at 0


def test_role_and_cadence_views_show_only_their_metrics(project_file):
    assert [c.metric for c in report_for(project_file, role="agent", agent="a1").cards] == ["wait"]
    # the agent view is one agent's: without the agent it would name them all
    with pytest.raises(Exception, match="say whose report it is"):
        report_for(project_file, role="agent")
    assert [c.metric for c in report_for(project_file, cadence="daily").cards] == ["handled"]
    with pytest.raises(Exception, match="no metric in this view"):
        report_for(project_file, role="trainer")


def test_cli_writes_period_named_files_atomically(project_file, tmp_path, monkeypatch):
    runner = CliRunner()
    out = tmp_path / "reports" / "{period}.html"
    args = ["report", "-p", str(project_file), "-o", str(out), "--no-cache", "--at", "2026-W12"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = tmp_path / "reports" / "2026-W12.html"
    assert written.read_text().startswith("<!DOCTYPE html>")
    md = runner.invoke(app, [*args[:4], str(tmp_path / "r.md"), *args[5:]])
    assert md.exit_code == 0 and (tmp_path / "r.md").read_text().startswith("# Report")

    def broken(report):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(render_module, "to_html", broken)
    before = written.read_text()
    failed = runner.invoke(app, args)
    assert failed.exit_code == 3 and "internal error" in failed.output
    assert written.read_text() == before  # the previous report is untouched
    assert not list((tmp_path / "reports").glob(".*tmp"))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_html_renders_in_headless_chromium(project_file, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(to_html(report_for(project_file, role="team_lead")))
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--window-size=1280,1600", f"--screenshot={shot}", "--enable-logging=stderr",
            "--v=0", page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "rror" in line], console


def test_example_views_carry_scorecards_goals_and_partners_side_by_side():
    from conftest import REPO

    example = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    ops = example.report(role="operations_manager", cache=False)
    from tpmkit.report import places

    found = places.places(ops.cards, ops.tables)
    partner = next(p for p in found if p.value == "Northwind BPO")
    # the partner is its site: one population, one column of the grid, named once
    assert partner.tagged == "vendor Northwind BPO = site Lisbon"
    assert [p.tagged for p in places.grid_columns(found)][:3] == [
        "operation",
        "vendor Northwind BPO = site Lisbon",
        "vendor in-house = site Berlin",
    ]
    service = partner.record("service_level")
    assert service["status"] == "critical" and service["target"] == 75.0  # its contract
    assert next(p for p in found if p.value == "in-house").record("service_level")["target"] == 80.0
    html = to_html(ops)
    assert "Every metric, every group" in html and "Agent scorecard" in html
    lead = example.report(role="team_lead", cache=False)
    assert lead.scorecard is not None and lead.scorecard.coaching()
    assert [g.goal.agent for g in lead.goals] == ["A038", "A024"]
    assert "Individual goals" in to_markdown(lead) or "Individual goals" in to_html(lead)


def test_agent_view_for_one_agent():
    from conftest import REPO

    example = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    own = example.report(role="agent", agent="A038", period="month", cache=False)
    # the agent's own rows, and their team's (for the breach list and the grid)
    assert {r.group.get("agent_id") for t in own.tables for r in t.rows} == {"A038", None}
    assert {r.group["team"] for t in own.tables for r in t.rows} == {"Lisbon Billing"}
    assert [g.group["agent_id"] for g in own.scorecard.groups] == ["A038"]
    assert [g.goal.agent for g in own.goals] == ["A038"]
    with pytest.raises(Exception, match="no such agent"):
        example.report(role="agent", agent="Z999", period="month", cache=False)
    with pytest.raises(Exception, match="use it with role agent"):
        example.report(role="team_lead", agent="A038", cache=False)


def test_a_level_the_views_metrics_lack_is_left_out_though_the_project_has_it():
    """The example has queues (calls carry them), but quality evaluations do not: the quality
    specialist's view shows vendor, site and team, and says once that it leaves queue out;
    a `--by queue` the reader asks for stays an error."""
    from conftest import REPO

    example = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    view = example.report(role="quality_specialist", cache=False)
    assert {tuple(t.columns) for t in view.tables} == {
        ("vendor",),
        ("site",),
        ("team",),
        ("evaluator_id",),
    }
    assert [n for n in view.notes if "left out" in n] == [
        "no queue column in the data of this view's metrics: left out"
    ]
    with pytest.raises(UsageError, match="by queue"):
        example.report(role="quality_specialist", by=["queue"], cache=False)
