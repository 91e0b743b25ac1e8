"""The terminal: `evaluate`'s one-screen summary of the latest complete period, and tables
that fit 80 or 120 columns without cutting a value (`--wide` shows every column)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import REPO
from tpmkit.cli import app

PROJECT = """
name: Terminal tests
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
# W02 (Jan 5-11) and W03 (Jan 12-18) are complete; W04 has only Jan 20 so far, so the
# latest complete period is W03 (the data do not reach W04's last day)
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds
c1,2026-01-05 09:00:00,a1,true,10,100
c2,2026-01-06 09:00:00,a2,true,10,100
c3,2026-01-13 09:00:00,a1,true,10,200
c4,2026-01-14 09:00:00,a2,true,40,100
c5,2026-01-15 09:00:00,a2,true,50,120
c6,2026-01-15 10:00:00,a1,true,5,192
c7,2026-01-20 09:00:00,a1,true,100,500
"""
ROSTER = """
agent_id,team
a1,Alpha Team With A Long Name
a2,Beta
"""
AHT = """
id: aht
name: Average handle time
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: "talk_seconds"}
target: {value: 140}
thresholds: {warning: 150, critical: 180}
"""
ASA = """
id: asa
name: Average speed of answer
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: "wait_seconds"}
target: {value: 30}
thresholds: {warning: 60, critical: 90}
"""
HANDLED = """
id: handled
name: Contacts handled
unit: count
direction: higher_is_better
dataset: calls
compute: {kind: count, where: answered}
"""
SL = """
id: sl
name: Service level within twenty seconds of waiting
unit: percent
direction: higher_is_better
dataset: calls
compute: {kind: ratio, where: answered, numerator: "wait_seconds <= 20"}
target: {value: 80}
thresholds: {warning: 80, critical: 60}
"""


@pytest.fixture
def project(make):
    return make.project(
        PROJECT,
        metrics={"aht": AHT, "asa": ASA, "handled": HANDLED, "sl": SL},
        files={"calls.csv": CALLS, "roster.csv": ROSTER},
    )


def run(*args: str, width: int = 80):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result


IDS = ("aht", "asa", "handled", "sl")


def metric_lines(output: str) -> dict[str, list[str]]:
    """The summary's line of each metric, split into words."""
    return {
        line.split()[0]: line.split()
        for line in output.splitlines()
        if line.split()[:1] in [[i] for i in IDS]
    }


def order(output: str) -> list[str]:
    """The metrics in the order the summary prints them."""
    return [
        line.split()[0] for line in output.splitlines() if line.split()[:1] in [[i] for i in IDS]
    ]


def fits(output: str, width: int) -> None:
    assert "…" not in output
    for line in output.splitlines():
        assert len(line) <= width, line


def test_summary_shows_the_latest_complete_period_breaches_first(project):
    out = run("evaluate", "-p", str(project)).stdout
    assert "2026-W03, the latest complete period" in out
    # W03: sl = 2 of 4 answered within 20 s = 50.0 % (critical, below 60); aht = (200 + 100
    # + 120 + 192) / 4 = 153 s (warning, above 150); asa = (10 + 40 + 50 + 5) / 4 = 26.25 s
    # (ok); handled = 4 (no thresholds: not judged); critical first, then warning, then the
    # rest in the metrics' order
    assert order(out) == ["sl", "aht", "asa", "handled"]
    rows = metric_lines(out)
    assert rows["sl"][1:4] == ["50.0%", "✖", "critical"] and rows["sl"][4] == "80.0%"
    assert rows["aht"][1:4] == ["153s", "▲", "warning"] and rows["aht"][4] == "140s"
    assert rows["asa"][1] == "26.2s" and rows["asa"][3] == "ok"
    assert rows["handled"][1] == "4"
    # W02 and the incomplete W04 (aht 500 s) are not in the summary
    assert "500s" not in out and "2026-W04" not in out and "2026-W02" not in out
    assert "4 metrics: 1 critical · 1 warning · 1 ok · 1 not judged" in out
    assert "all periods: --last N" in out
    fits(out, 80)


def test_summary_by_team_names_the_worst_group(project):
    out = run("evaluate", "-p", str(project), "--by", "team", width=120).stdout
    # W03 by team: aht Alpha (200 + 192) / 2 = 196 s critical, Beta 110 s ok; sl Alpha 100 %,
    # Beta 0 of 2 = 0.0 % critical; asa Alpha 7.5 s, Beta 45 s (the worse, both ok)
    assert order(out) == ["aht", "sl", "asa", "handled"]
    rows = metric_lines(out)
    assert rows["aht"][1:4] == ["196s", "✖", "critical"]
    assert rows["aht"][5:10] == ["Alpha", "Team", "With", "A", "Long"]
    assert rows["sl"][1:4] == ["0.0%", "✖", "critical"] and rows["sl"][5] == "Beta"
    assert rows["asa"][1] == "45.0s" and rows["asa"][5] == "Beta"
    fits(out, 120)


def test_metric_ids_or_a_range_give_every_period(project):
    for args in (["aht"], ["--last", "3"], ["--from", "2026-01-01"]):
        out = run("evaluate", "-p", str(project), *args).stdout
        assert "2026-W02" in out and "2026-W03" in out and "2026-W04" in out
        assert "latest complete period" not in out
        fits(out, 80)


def test_json_still_covers_every_period(project):
    records = json.loads(run("evaluate", "-p", str(project), "-f", "json").stdout)
    assert {(r["metric"], r["period"]) for r in records} == {
        (m, p)
        for m in ("aht", "asa", "handled", "sl")
        for p in ("2026-W02", "2026-W03", "2026-W04")
    }
    aht = {r["period"]: r["value"] for r in records if r["metric"] == "aht"}
    assert aht == {"2026-W02": 100.0, "2026-W03": 153.0, "2026-W04": 500.0}


@pytest.mark.parametrize("width", [80, 120])
def test_every_table_fits_without_cutting_values(project, width):
    path = str(project)
    commands = [
        ["evaluate", "-p", path],
        ["evaluate", "-p", path, "--by", "agent_id,team", "--last", "3"],
        ["trend", "aht", "sl", "-p", path, "--by", "team"],
        ["metrics", "list", "-p", path],
        ["metrics", "list"],
        ["evaluate", "-p", path, "--record", "-q"],
        ["history", "-p", path],
        ["history", "aht", "-p", path],
    ]
    for command in commands:
        out = run(*command, width=width).stdout
        fits(out, width)
    # the long team name wraps at a word boundary instead of ending in "…"
    out = run("evaluate", "-p", path, "--by", "team", "--last", "3", width=width).stdout
    fits(out, width)
    assert "Alpha" in out and "Long Name" in out


def test_wide_shows_every_column(project):
    path = str(project)
    narrow = run("trend", "aht", "-p", path, "--by", "team", width=80).stdout
    assert (
        "not shown at this width:" in narrow and "first warned" not in narrow.split("not shown")[0]
    )
    wide = run("trend", "aht", "-p", path, "--by", "team", "--wide", width=80).stdout
    header = next(line for line in wide.splitlines() if line.startswith("metric"))
    for column in ("series", "latest", "slope/period", "first warned", "target by", "control"):
        assert column in header
    assert "not shown" not in wide
    evaluate = run("evaluate", "aht", "-p", path, "--by", "agent_id,team", width=40).stdout
    assert "not shown at this width: trend, plan, gap" in " ".join(evaluate.split())
    wide = run("evaluate", "aht", "-p", path, "--by", "agent_id,team", "--wide", width=40).stdout
    header = next(line for line in wide.splitlines() if line.startswith("period"))
    assert header.split() == [
        "period", "agent_id", "team", "value", "n", "status", "target", "gap", "plan", "trend"
    ]  # fmt: skip
    listed = run("metrics", "list", "-p", path, "--wide", width=40).stdout
    assert "defined in" in listed and "not shown" not in listed


@pytest.mark.parametrize("width", [80, 120])
def test_the_example_scorecard_fits(width):
    example = str(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    out = run("scorecard", "-p", example, "-q", "--no-cache", width=width).stdout
    fits(out, width)
    assert "agent scorecard" in out and "individual goals" in out
    wide = run("scorecard", "-p", example, "-q", "--no-cache", "--wide", width=width).stdout
    header = next(line for line in wide.splitlines() if line.lstrip().startswith("rank"))
    # every scorecard metric is a column with --wide, whatever the width
    # (at 80 columns team, site, Δ, contacts_handled and schedule_adherence are left out)
    for column in ("team", "site", "Δ", "csat", "qa_score", "fcr", "aht", "contacts_handled"):
        assert column in header
    assert "schedule_adherence" in header
    assert "not shown" not in wide
