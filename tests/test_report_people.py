"""The people sections of reports (issue 20): coaching for the trainer and the team lead,
the agent's own sessions in the agent view, the workforce for the operations manager —
HTML partials and their Markdown twin, on generated projects."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import tpmkit
from coaching_fixture import make_project
from tpmkit.report.document import to_html
from tpmkit.report.markdown import to_markdown

NOW = dt.datetime(2026, 5, 26, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # after week 20


@pytest.fixture
def coached(make):
    return tpmkit.load(make_project(make))


# the trainer's view has the same section (people.COACHING_ROLES); its metrics need QA
# data this generated project does not have, so the team lead's view stands for both
@pytest.mark.parametrize("role", ["team_lead"])
def test_trainer_and_team_lead_see_the_coaching_effect(coached, role):
    report = coached.report(role=role, now=NOW, cache=False)
    html = to_html(report)
    assert '<h2 id="coaching">Coaching effect</h2>' in html
    assert "<td>Ana</td>" in html and "<td>improved</td>" in html
    markdown = to_markdown(report)
    assert "## Coaching effect" in markdown
    ana = next(line for line in markdown.splitlines() if line.startswith("| Ana |"))
    assert "| improved |" in ana
    # Ben's sessions name no metric (a report has no --metric): named in a note, not
    # silently dropped
    assert "| Ben |" not in markdown
    assert any("4 session(s) name no metric" in n for n in report.notes)


def test_the_agent_view_shows_the_agents_own_sessions(coached):
    report = coached.report(role="agent", agent="n1", now=NOW, cache=False)
    html = to_html(report)
    assert '<h2 id="sessions">Your coaching sessions</h2>' in html
    assert "<td>k1</td>" in html and "<td>k2</td>" not in html  # only their own
    assert '<h2 id="coaching">' not in html  # not the coaches' summaries
    assert "## Your coaching sessions" in to_markdown(report)


def test_no_coaching_log_no_section(make):
    from coaching_fixture import PROJECT, agents, calls_csv

    roster = "agent_id,team\n" + "".join(f"{a},{t}\n" for a, t in agents())
    text = PROJECT.replace("  coaching: {path: coaching.csv}\n", "")
    path = make.project(text, files={"calls.csv": calls_csv(), "agents.csv": roster})
    html = to_html(tpmkit.load(path).report(role="team_lead", now=NOW, cache=False))
    assert 'id="coaching"' not in html


WORKFORCE_PROJECT = """
name: Workforce report
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
  agents: {path: agents.csv}
"""


def test_the_operations_manager_sees_the_workforce(make):
    from test_workforce import PROFICIENCY_ROSTER, _proficiency_calls

    # v3 leaves on Friday 2026-02-20 (week 8 of 2026)
    roster = PROFICIENCY_ROSTER.replace(
        "agent_id,team,hire_date", "agent_id,team,hire_date,leave_date"
    )
    roster = "\n".join(
        line + ("" if i == 0 else (",2026-02-20" if line.startswith("v3,") else ","))
        for i, line in enumerate(roster.strip().splitlines())
    )
    files = {"calls.csv": _proficiency_calls(), "agents.csv": roster + "\n"}
    path = make.project(WORKFORCE_PROJECT, files=files)
    # Saturday 02-28: W09 has not ended, so the latest complete week is W08 (a run time
    # decides it by the calendar: on Monday 03-02 it would be W09, whose data end on Friday)
    now = dt.datetime(2026, 2, 28, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    report = tpmkit.load(path).report(role="operations_manager", now=now, cache=False)
    people = report.people
    assert people is not None and people.workforce is not None
    view = people.workforce
    assert view.period == "2026-W08"
    # attrition is reviewed monthly: the weekly report shows its trend by month, up to the
    # month holding W08 (issue 20 review; the trend was weekly, W08 read 1 ÷ 7.5 × 365.25 ÷ 7
    # × 100 = 695.7 %)
    assert (view.grain, view.band_grain) == ("month", "week")
    trend = {row["period"]: row for row in view.trend}
    assert list(trend) == ["2026-01", "2026-02"]
    # February: 7 on the 1st (v1 v2 v3 h1 h2 h3 h4; h5 joins on the 2nd), 7 on the 28th (v3
    # left on the 20th); 1 leaver ÷ 7 × 365.25 ÷ 28 × 100 = 186.35 %
    february = trend["2026-02"]
    assert february["headcount"]["value"] == 7.0
    assert february["attrition_rate"]["value"] == pytest.approx(1 / 7 * 365.25 / 28 * 100)
    assert february["attrition_rate"]["status"] == "critical"  # judged: its own cadence
    # the censored agents are listed, never dropped
    assert [a.agent_id for a in view.not_proficient] == ["h3", "h5"]
    # AHT by tenure band in W08 (02-16 .. 02-22): h5 (hired 02-02, 14-18 days: 0-30, 600 s);
    # h1 h2 h3 h4 (35-48 days: 31-90; 300, 290, 600, 300 s, 30 calls each); the veterans
    # (>365: 300 s)
    aht = next(b for b in view.bands if b["metric"] == "aht")["bands"]
    assert aht["0-30"]["value"] == pytest.approx(600.0)
    assert aht["31-90"]["value"] == pytest.approx((300 + 290 + 600 + 300) / 4)
    assert aht[">365"]["value"] == pytest.approx(300.0)
    # first, how many people each band holds on W08's last day, Sunday 02-22: h5 (20
    # days); h1 h2 h3 h4 (41-48 days); v1 v2 (v3 left on the 20th)
    assert view.bands[0]["metric"] == "headcount"
    counts = {band: r["value"] for band, r in view.bands[0]["bands"].items()}
    assert counts == {"0-30": 1.0, "31-90": 4.0, "91-180": 0.0, "181-365": 0.0, ">365": 2.0}
    html = to_html(report)
    assert '<h2 id="workforce">Workforce</h2>' in html
    assert "h3 (A, hired 2026-01-05)" in html
    markdown = to_markdown(report)
    assert "## Workforce" in markdown and "### Not yet proficient" in markdown


def test_the_workforce_section_reports_transfers_apart():
    """kpi-catalogue.md: attrition counts leavers of any reason, "transfers also reported
    apart". The example's roster, read with the csv module: four leave on Friday
    2026-11-13 (W46) — A033, A038, A053 voluntary, A059 a transfer."""
    import csv
    import datetime as dt
    from zoneinfo import ZoneInfo

    import tpmkit
    from conftest import REPO
    from tpmkit.report.people import workforce_context

    example = REPO / "examples" / "contact-center"
    with (example / "data" / "roster.csv").open(encoding="utf-8") as handle:
        leavers = [r for r in csv.DictReader(handle) if r["leave_date"].startswith("2026-11-1")]
    reasons = sorted(r["leave_reason"] for r in leavers)
    assert reasons == ["transfer", "voluntary", "voluntary", "voluntary"]
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    report = tpmkit.load(example / "tpmkit.yaml").report(
        role="operations_manager", now=now, cache=False, why=False
    )
    context = workforce_context(report.people.workforce)
    rows = {r["Period"]: r for r in context["trend"]}
    # by month, attrition's cadence (issue 20 review; the rows were weeks, W46 the same 4)
    assert rows["2026-11"]["Leavers"] == "4 (1 transfer, 3 voluntary)"
    assert rows["2026-10"]["Leavers"] == "0"
    # November: 60 on the 1st, 56 on the 30th; 4 ÷ 58 × 365.25 ÷ 30 × 100 = 83.96 %
    assert rows["2026-11"]["Attrition (annualised)"] == "84.0%"
    assert context["trend_legend"].startswith("By month: attrition is reviewed monthly")


def test_the_example_report_carries_units_annotations_and_leavers_apart():
    """Issue 20 review, from the example: the time-to-proficiency tile names its unit
    (kpi-catalogue.md: weeks); the Markdown report lists the annotations the HTML charts
    mark; A053, hired 2026-08-17 and gone on 2026-11-13 before any proficient week, is
    censored by leaving — listed apart, not as "not yet proficient"."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import tpmkit
    from conftest import REPO
    from tpmkit.render.values import fmt_gap, fmt_value
    from tpmkit.report.people import workforce_context

    assert fmt_value(10.0, "weeks") == "10.0 weeks" and fmt_gap(2.0, "weeks") == "+2.0 weeks"
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    report = tpmkit.load(REPO / "examples" / "contact-center" / "tpmkit.yaml").report(
        role="operations_manager", now=now, cache=False, why=False
    )
    markdown = to_markdown(report)
    # judged monthly, so it is no tile of the weekly glance (the cadence line names it); its
    # value keeps its unit in the metrics table
    assert "| Time to proficiency (2026-W34) | 10.0 weeks | 5 | Not judged | 8.0 weeks |" in (
        markdown
    )
    assert "judged monthly — run with --period month or longer:" in markdown
    # the outage of 2026-W41 on system_response_p95, inside the 8 weeks the report shows
    assert "- System response time (p95) 2026-W41: CRM slowdown (excluded)" in markdown
    context = workforce_context(report.people.workforce)
    assert context["not_proficient"] == []
    assert context["left_before"] == [
        {"agent": "A053", "team": "Lisbon Tech", "hired": "2026-08-17", "left": "2026-11-13"}
    ]
    assert "### Not yet proficient" not in markdown
    assert "| A053 | Lisbon Tech | 2026-08-17 | 2026-11-13 |" in markdown
    html = to_html(report)
    assert "A053 (Lisbon Tech, hired 2026-08-17, left 2026-11-13)" in html


def test_a_weekly_trainer_report_says_its_monthly_metrics_are_judged_by_month():
    """The trainer's two metrics are reviewed monthly: a weekly report shows their values,
    judges neither, and says how to judge them (no empty count line)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import tpmkit
    from conftest import REPO

    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    example = tpmkit.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    weekly = to_markdown(example.report(role="trainer", now=now, cache=False, why=False))
    assert "\nnothing judged\n" in weekly
    assert (
        "Not judged by week — judged monthly — run with --period month or longer: "
        "DSAT traced to training, Errors traced to training." in weekly
    )
    assert "## Coaching effect" in weekly
    monthly = example.report(role="trainer", period="month", now=now, cache=False, why=False)
    assert {c.metric: c.status for c in monthly.cards}.keys() == {
        "dsat_training_share",
        "training_error_share",
    }
    assert all(c.status != "not_judged" for c in monthly.cards)
    assert "Not judged by month" not in to_markdown(monthly)
