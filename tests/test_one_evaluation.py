"""A report, scorecard or check evaluates each (grain, grouping, window) it needs once.

The engine's entry point is counted while the bundled example's reports run: before the
redesign a team-lead report ran it 12 times (8 distinct evaluations), an operations-manager
report 9 times."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tpmkit
import tpmkit.evaluation
from tpmkit.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"
NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)  # the judged week is 2026-W46 (Nov 9-15)
D = dt.date
SCORED = ("team_lead", "team", "site", "agent_id")  # the agent scorecard's grouping
# needs shared by every scored report: the view, the agent scorecard with its team and site
# averages, its baseline (the first 3 weeks of data: W34-W36), and the two goals' windows
# (each from its start to the judged week's last day, Nov 15; A024's goal is due then)
SHARED = {
    ("week", (), None, None),
    ("week", SCORED, None, None),
    ("week", ("team",), None, None),
    ("week", ("site",), None, None),
    ("all", SCORED, D(2026, 8, 17), D(2026, 9, 6)),
    ("all", ("agent_id",), D(2026, 10, 1), D(2026, 11, 15)),  # A038, csat
    ("all", ("agent_id",), D(2026, 10, 15), D(2026, 11, 15)),  # A024, aht
}


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Every engine run: (grain, grouping, window start, window end)."""
    seen: list[tuple[object, ...]] = []
    engine = tpmkit.evaluation.compute_records

    def counting(shown, inputs, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((request.grain, request.by, request.window.start, request.window.end))
        return engine(shown, inputs, request, *args, **kwargs)

    monkeypatch.setattr(tpmkit.evaluation, "compute_records", counting)
    return seen


def test_team_lead_report_evaluates_each_need_once(runs):
    tpmkit.load(EXAMPLE).report(role="team_lead", now=NOW, cache=False, why=False)
    # the team table is also the context of the agent table and the scorecard's team average;
    # every view has the levels (vendor, site, queue, team) for its breach list (issue 15)
    levels = {("week", (c,), None, None) for c in ("vendor", "queue")}
    assert set(runs) == SHARED | levels | {("week", ("team", "agent_id"), None, None)}
    assert len(runs) == 10  # 8 before the view had every level
    assert max(Counter(runs).values()) == 1


def test_operations_manager_report_evaluates_each_need_once(runs):
    tpmkit.load(EXAMPLE).report(role="operations_manager", now=NOW, cache=False, why=False)
    # the site table is the scorecard's site average too; the team and queue tables are the
    # levels of the breach list (issue 15); the workforce section (issue 20) adds the
    # agent metrics by tenure band, time to proficiency per agent (the not yet proficient)
    # and the leavers by reason (transfers reported apart). Attrition is reviewed monthly, so
    # the workforce trend and its leavers are by month — one evaluation more than when they
    # reused the weekly view's records (issue 20 review: judged on its cadence) — and the
    # agents without a proficient week carry their leave date (a leaver is listed apart)
    workforce = {
        ("week", ("tenure_band",), None, None),
        ("all", ("team", "agent_id", "hire_date", "leave_date"), None, None),
        ("month", (), None, None),
        ("month", ("leave_reason",), None, None),
    }
    levels = {("week", (c,), None, None) for c in ("vendor", "queue")}
    assert set(runs) == SHARED | levels | workforce
    assert len(runs) == 13  # 8 before the view had every level, 9 before the workforce
    assert max(Counter(runs).values()) == 1


def test_check_evaluates_once(runs):
    result = tpmkit.load(EXAMPLE).check(by=["team"], now=NOW, cache=False, why=False)
    assert result.period == "2026-W46"
    # once per level judged: the operation, and the team level asked for with --by
    assert runs == [("week", (), None, None), ("week", ("team",), None, None)]


# the dimensions a check's "why" searches that the example's data offer (issue 16)
WHY = ("vendor", "site", "team", "queue", "channel", "line_of_business", "agent_id")


def test_the_why_of_a_check_adds_one_evaluation_per_dimension(runs):
    # the drivers of every breaching metric share them: 10 breaches, still one evaluation
    # per dimension over the two weeks compared (W45-W46, Nov 2-15)
    result = tpmkit.load(EXAMPLE).check(now=NOW, cache=False)
    assert sum(1 for v in result.verdicts if v.driver) >= 5
    assert runs[0] == ("week", (), None, None)
    grouped = runs[1:]
    assert len(grouped) == len(set(grouped))
    assert {r[1] for r in grouped} >= {(d,) for d in WHY}
    assert {(r[2], r[3]) for r in grouped} == {(D(2026, 11, 2), D(2026, 11, 15))}


def test_the_why_of_a_report_adds_one_evaluation_per_dimension(runs):
    # every breached metric of the view (at any level) is explained against the previous
    # week; they share one evaluation per dimension over the two weeks (W45-W46, Nov 2-15)
    report = tpmkit.load(EXAMPLE).report(role="operations_manager", now=NOW, cache=False)
    assert set(report.moved) == {row.metric for row in report.breach_rows()}
    assert report.moved["aht"].best.dimensions == ("team",)
    assert report.moved["aht"].best.top.label == "Berlin Tech"
    explained = [r for r in runs if r[0] == "week" and r[2] is not None and r[1][0] in WHY]
    assert len(explained) == len(set(explained))
    assert {r[1] for r in explained} == {(d,) for d in WHY}
    assert {(r[2], r[3]) for r in explained} == {(D(2026, 11, 2), D(2026, 11, 15))}


@pytest.mark.parametrize(
    # the whole operation, vendor, site, queue and team: 5 for a trainer (2 before issue 15);
    # the operations manager's workforce section adds 4 (by tenure band, per agent, by month
    # and by leave reason: attrition's trend is by month, its cadence); the
    # trainer's coaching section 1 (team × agent: the coached agents and their teammates),
    # now that the example has a coaching log (issue 20)
    ("role", "distinct"),
    [("team_lead", 10), ("operations_manager", 13), ("trainer", 6)],
)
def test_cli_report_runs_the_engine_once_per_need(runs, tmp_path, role, distinct):
    output = tmp_path / "report.md"
    args = ["report", "-p", str(EXAMPLE), "--role", role, "-o", str(output), "--no-cache", "-q"]
    args.append("--no-why")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(runs) == len(set(runs)) == distinct


def test_cli_check_runs_the_engine_once(runs):
    args = ["check", "-p", str(EXAMPLE), "--no-cache", "-q", "--no-why"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    assert runs == [("week", (), None, None)]


def test_needs_sharing_a_grouping_are_merged():
    from tpmkit.needs import Need, merge

    table = Need(("aht", "csat"), "week", ("team",), explicit=False)
    average = Need(("fcr", "aht"), "week", ("team",))
    other = Need(("aht",), "week", ("site",))
    merged = merge([table, average, other])
    assert merged == [
        Need(("aht", "csat", "fcr"), "week", ("team",), explicit=False),
        other,
    ]
