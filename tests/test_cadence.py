"""Judged on its cadence (issue 20 review): a metric reviewed monthly is not judged on a
week. Annualised attrition over one week turns one leaver among 50 agents into 105 %, so a
weekly gate went critical whenever anyone left; the week's record keeps its value, says how
to judge it, and raises no early warning or control signal. Every figure by hand below."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from conftest import by_key, evaluate_records
from tpmkit import project as api
from tpmkit.engine import signals
from tpmkit.engine.status import cadence_reason, cadence_reasons, off_cadence
from tpmkit.render.ci import lines

PROJECT = """
name: Cadence
timezone: Europe/Berlin
metrics: [builtin]
sources:
  agents: {{path: agents.csv}}
  calls: {{path: calls.csv}}
{extra}"""

# 50 agents of one team, all hired in 2024; a01 leaves on Wednesday 2026-02-11 (2026-W07).
ROSTER = "agent_id,team,role,hire_date,leave_date,leave_reason\n" + "".join(
    f"a{i:02d},North,agent,2024-01-08,{'2026-02-11' if i == 1 else ''},"
    f"{'voluntary' if i == 1 else ''}\n"
    for i in range(1, 51)
)
# one answered call a day, 2026-02-01 … 2026-02-28: the data cover February
CALLS = "contact_id,offered_at,answered,wait_seconds,agent_id\n" + "".join(
    f"c{day},2026-02-{day:02d} 10:00:00,true,5,a02\n" for day in range(1, 29)
)
NOW = dt.datetime(2026, 3, 5, tzinfo=ZoneInfo("Europe/Berlin"))
MONTHLY = "judged monthly — run with --period month or longer"
# W07 (9–15 Feb): 50 on its first day, 49 on its last -> mean 49.5; one leaver, 7 days
WEEK = 1 / 49.5 * 365.25 / 7 * 100  # 105.41 %
# February (1–28): 50 on the 1st, 49 on the 28th -> 49.5; one leaver, 28 days
MONTH = 1 / 49.5 * 365.25 / 28 * 100  # 26.35 %


def project(make, extra=""):
    return make.project(
        PROJECT.format(extra=extra), files={"agents.csv": ROSTER, "calls.csv": CALLS}
    )


def test_the_hand_computed_figures():
    assert round(WEEK, 2) == 105.41 and round(MONTH, 2) == 26.35


def test_a_week_keeps_its_value_and_is_not_judged(make):
    index = by_key(evaluate_records(project(make), ["attrition_rate"], period="week"))
    week = index[("attrition_rate", "2026-W07")]
    assert week["value"] == pytest.approx(WEEK)
    assert week["n"] == 1
    assert week["status"] == "not_judged"  # it was critical (105 % > 50 %)
    assert week["reason"] == MONTHLY
    # no early warning, no control signal: the week's series is the noise a month averages
    assert week["projected_status"] is None and week["control_signal"] is None
    # a week without leavers is not judged either (0 %, not no data)
    quiet = index[("attrition_rate", "2026-W06")]
    assert (quiet["value"], quiet["status"], quiet["reason"]) == (0.0, "not_judged", MONTHLY)


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_its_month_or_longer_is_judged(make, period):
    index = by_key(evaluate_records(project(make), ["attrition_rate"], period=period))
    label = "2026-02" if period == "month" else "2026-Q1"
    record = index[("attrition_rate", label)]
    if period == "month":
        assert record["value"] == pytest.approx(MONTH)
    else:  # Q1: 50 on 1 January, 49 on 31 March; 90 days
        assert record["value"] == pytest.approx(1 / 49.5 * 365.25 / 90 * 100)
    assert record["status"] == "ok"  # under the 30 % target
    assert record["reason"] is None


def test_check_on_a_week_passes_and_says_why_it_did_not_judge(make):
    loaded = api.load(project(make))
    result = loaded.check(["attrition_rate"], at="2026-W07", fail_on="warning", now=NOW)
    verdict = result.verdicts[0]
    assert (verdict.status, verdict.failed, verdict.reason) == ("not_judged", False, MONTHLY)
    assert not result.failed
    log = lines(result)
    assert log[0] == (
        f"info attrition_rate 2026-W07: not judged: {MONTHLY} (owner: operations_manager; "
        "trend: worsening)"
    )
    assert log[-1] == "PASS — 2026-W07: 0 judged; 1 not judged"
    # the notification says it too
    message = loaded.notify(result, dry_run=True).message
    assert message.off_cadence == {"attrition_rate": MONTHLY}
    assert f"Not judged on this period ({MONTHLY}): attrition_rate." in message.text()


def test_check_on_its_month_judges_it(make):
    # alone: the roster is a state, known up to the run (its time column, the hire date,
    # is no horizon — before, this check failed with "no complete period yet")
    checked = api.load(project(make)).check(["attrition_rate"], period="month", now=NOW)
    verdict = checked.verdicts[0]
    assert verdict.period == "2026-02"
    assert verdict.status == "ok" and verdict.value == pytest.approx(MONTH)


def test_a_project_may_review_it_weekly(make):
    # `customize: {cadence: weekly}` makes the week its own cadence: judged, and critical
    extra = "customize:\n  attrition_rate: {cadence: weekly}\n"
    index = by_key(evaluate_records(project(make, extra), ["attrition_rate"], period="week"))
    assert index[("attrition_rate", "2026-W07")]["status"] == "critical"


def test_the_rule_per_cadence_and_period():
    from tpmkit.spec.loader import load_builtin

    specs = {m.id: m.spec for m in load_builtin()}
    chosen = [specs[i] for i in ("service_level", "aht", "attrition_rate")]  # daily … monthly
    assert cadence_reasons(chosen, "hour") == {
        "service_level": "judged daily — run with --period day or longer",
        "aht": "judged weekly — run with --period week or longer",
        "attrition_rate": MONTHLY,
    }
    assert set(cadence_reasons(chosen, "day")) == {"aht", "attrition_rate"}
    assert set(cadence_reasons(chosen, "week")) == {"attrition_rate"}
    for period in ("month", "quarter", "year", "all"):
        assert cadence_reasons(chosen, period) == {}
    assert cadence_reason("monthly") == MONTHLY and off_cadence(MONTHLY)
    assert not off_cadence("no thresholds") and not off_cadence(None)
    assert not off_cadence("attrition_rate is judged at operation, team — not at agent")


def test_quiet_takes_away_early_warnings_and_control_signals_of_those_metrics_only():
    table = pl.DataFrame(
        {
            "metric": ["attrition_rate", "aht"],
            "projected_status": ["critical", "critical"],
            "projected_breach_period": ["2026-W09", "2026-W09"],
            "control_signal": ["outside_limits", "run_above"],
        }
    )
    out = signals.quiet(table, ["attrition_rate"]).to_dicts()
    assert out[0] == {
        "metric": "attrition_rate",
        "projected_status": None,
        "projected_breach_period": None,
        "control_signal": None,
    }
    assert out[1] == table.to_dicts()[1]


def test_the_weekly_report_leads_with_no_off_cadence_tile(make):
    # a weekly report led its glance with "Attrition (annualised) 105.4 %, not judged": a
    # number nobody acts on this week (review of issue 20). The cadence line names it; the
    # tiles hold what the week judges.
    from tpmkit.report.document import first_screen

    loaded = api.load(project(make))
    report = loaded.report(
        metrics=["attrition_rate", "asa"], period="week", at="2026-W07", now=NOW, cache=False
    )
    screen = first_screen(report)
    assert [card.metric for card in screen["tiles"]] == ["asa"]
    assert screen["cadence_lines"] == [f"Not judged by week — {MONTHLY}: Attrition (annualised)."]
