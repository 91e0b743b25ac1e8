"""A project with only a calls export (issue 17 items 7 and 8): metrics whose dataset or
column is absent are named once as not configured, never judged or gated, and a report or
scorecard without a roster skips the levels the data do not have."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import tpmkit
from conftest import ProjectFactory
from tpmkit.cli.app import app

UTC = ZoneInfo("UTC")
# one ISO week, 2026-W02 (Mon 5 .. Sun 11 January): 5 calls a day, 35 in all; the data
# reach the Sunday, so the week is complete from Monday 12 January
DAYS = [dt.date(2026, 1, 5) + dt.timedelta(days=d) for d in range(7)]
NOW = dt.datetime(2026, 1, 14, 9, 0, tzinfo=UTC)


def calls_csv(*, customer: bool = False) -> str:
    header = "Call Id,Start,Agent,Answered,Wait,Talk,Resolved,Rating"
    header += ",Customer" if customer else ""
    lines = [header]
    for d, day in enumerate(DAYS):
        for i in range(5):
            k = 5 * d + i
            row = f"C{k:03},{day} 09:{10 + i}:00,A{k % 3},Y,{10 + i},{200 + 10 * i},Y,{1 + k % 5}"
            lines.append(row + (f",K{k % 4}" if customer else ""))
    return "\n".join(lines) + "\n"


PROJECT = """\
name: Calls only
timezone: UTC
metrics: [builtin, metrics/]
sources:
  calls:
    path: calls.csv
    columns: {"Call Id": contact_id, "Start": offered_at, "Agent": agent_id,
              "Answered": answered, "Wait": wait_seconds, "Talk": talk_seconds,
              "Resolved": resolved, "Rating": csat}
"""

# a project metric on a dataset this project has no source for
BACKLOG_AGE = """\
id: ticket_age
name: Ticket age
owner: team_lead
unit: hours
direction: lower_is_better
dataset: tickets
compute: {kind: mean, expr: "1"}
thresholds: {warning: 24, critical: 48}
"""


@pytest.fixture
def calls_only(make: ProjectFactory) -> Path:
    return make.project(
        PROJECT, metrics={"ticket_age": BACKLOG_AGE}, files={"calls.csv": calls_csv()}
    )


def test_check_names_unconfigured_metrics_once_and_does_not_gate_them(calls_only: Path):
    result = tpmkit.load(calls_only).check(now=NOW)
    judged = {v.metric for v in result.verdicts}
    # no source for tickets: the project's own metric is not configured either
    assert "ticket_age" not in judged
    # the export has no customer_id, escalated, transferred, nps, dsat_root_cause columns
    for metric in ("fcr_repeat", "escalation_rate", "transfer_rate", "nps"):
        assert metric not in judged, metric
    assert not [v for v in result.verdicts if v.status == "no_data"]
    notes = [n for n in result.notes if "not configured" in n]
    assert len(notes) == 2, result.notes
    assert "no source for " in notes[0] and "tickets" in notes[0]
    assert "fcr_repeat (column `customer_id` is not in the `calls` export)" in notes[1]
    # what the export supports is judged: ASA, FCR, CSAT
    assert {"asa", "fcr", "csat"} <= judged


def test_check_cli_says_not_configured_only_in_the_note(calls_only: Path):
    run = CliRunner().invoke(app, ["check", "-p", str(calls_only)], catch_exceptions=False)
    out = run.stdout + run.stderr
    assert "no data" not in out
    assert out.count("fcr_repeat") == 1
    assert out.count("ticket_age") == 0  # counted in the no-source note, by dataset
    assert out.count("not configured") == 2


def test_a_metric_waiting_for_its_window_never_blocks_check_when_it_cannot_be_computed(
    calls_only: Path,
):
    # fcr_repeat waits 7 days after the week for repeat contacts; 2026-W02 ends on the
    # 11th, so on the 14th no week is complete for it. Without customer_id it can never
    # be computed: it must not hold up the check of the week the others judge.
    result = tpmkit.load(calls_only).check(["asa", "fcr_repeat"], now=NOW)
    verdicts = {v.metric: v for v in result.verdicts}
    assert verdicts["asa"].period == "2026-W02"
    assert verdicts["fcr_repeat"].period == "2026-W02"
    assert verdicts["fcr_repeat"].status == "no_data"  # named: shown, and it fails closed
    assert "customer_id" in str(verdicts["fcr_repeat"].reason)


def test_a_computable_repeat_metric_still_waits_for_its_window(make: ProjectFactory):
    project = make.project(
        PROJECT.replace('"Rating": csat}', '"Rating": csat, "Customer": customer_id}'),
        metrics={"ticket_age": BACKLOG_AGE},
        files={"calls.csv": calls_csv(customer=True)},
    )
    with pytest.raises(tpmkit.UsageError, match="no complete period yet for `fcr_repeat`"):
        tpmkit.load(project).check(["asa", "fcr_repeat"], now=NOW)


def test_aht_without_hold_and_wrap_up_columns_counts_them_as_zero(calls_only: Path):
    # talk 200, 210, 220, 230, 240 s each day, every call answered: mean 220 s
    evaluation = tpmkit.load(calls_only).evaluate(["aht"], period="week")
    (record,) = evaluation.records.to_dicts()
    assert record["value"] == pytest.approx(220.0)
    assert record["n"] == 35
    assert evaluation.notes == ["aht: hold_seconds, acw_seconds absent — counted as 0"]


# ------------------------------------------------------------------ item 8: no roster

LEFT_OUT = "column in the data: those levels are left out"


@pytest.mark.parametrize(
    ("role", "missing", "tables"),
    [
        # every level table needs a roster (or queues); nothing else to tabulate
        ("operations_manager", "no vendor, site, queue, team column", set()),
        # the level tables are skipped; the agents are listed without their team
        ("team_lead", "no vendor, site, queue, team column", {("agent_id",)}),
    ],
)
def test_report_without_roster_skips_the_levels_and_says_so_once(
    calls_only: Path, role: str, missing: str, tables: set[tuple[str, ...]]
):
    report = tpmkit.load(calls_only).report(role=role, now=NOW, cache=False)
    assert report.period == "2026-W02"
    assert {tuple(t.columns) for t in report.tables} == tables
    said = [n for n in report.notes if LEFT_OUT in n]
    assert len(said) == 1 and said[0].startswith(missing), report.notes
    # the agent scorecard is there, scored by agent alone
    assert report.scorecard is not None
    assert {tuple(g.group) for g in report.scorecard.groups} == {("agent_id",)}
    assert all(g.context == {} for g in report.scorecard.groups)
    # only metrics the data support are shown: no card for a metric not configured
    shown = {c.metric for c in report.cards}
    assert "fcr_repeat" not in shown and "ticket_age" not in shown


def test_report_cli_without_roster(calls_only: Path, tmp_path: Path):
    output = tmp_path / "report.md"
    for role in ("operations_manager", "team_lead", "director"):
        run = CliRunner().invoke(
            app, ["report", "-p", str(calls_only), "--role", role, "-o", str(output)]
        )
        assert run.exit_code == 0, run.output
        assert run.stderr.count(LEFT_OUT) == 1
        assert output.exists()


def test_scorecard_without_roster_scores_agents_alone(calls_only: Path):
    result = tpmkit.load(calls_only).scorecard(now=NOW, cache=False, period="week")
    # agents A0, A1, A2 (35 calls: 12, 12, 11)
    assert sorted(g.group["agent_id"] for g in result.groups) == ["A0", "A1", "A2"]
    notes = [n for n in result.notes if LEFT_OUT in n]
    assert notes == ["no team_lead, team, site " + LEFT_OUT + NOTE_TAIL]


NOTE_TAIL = " (a roster, `sources: agents:`, gives each agent's team, team lead and site)"


def test_a_grouping_asked_for_is_still_an_error_without_the_column(calls_only: Path):
    with pytest.raises(tpmkit.UsageError, match="by site"):
        tpmkit.load(calls_only).report(role="operations_manager", by=["site"], now=NOW)


def test_an_unread_source_that_cannot_be_read_does_not_stop_the_report(make: ProjectFactory):
    # the report looks at the exports' headers for the levels they have; a source no
    # metric of the view reads is not its business (the evaluation says so when it reads it)
    yaml = PROJECT + "  incidents: {path: missing.csv, time_column: opened_at}\n"
    path = make.project(yaml, metrics={"ticket_age": BACKLOG_AGE}, files={"calls.csv": calls_csv()})
    report = tpmkit.load(path).report(role="team_lead", now=NOW, cache=False)
    assert {tuple(t.columns) for t in report.tables} == {("agent_id",)}


def test_a_scorecard_metric_with_no_export_is_left_out_not_held_against_agents(calls_only: Path):
    """Review of issue 17: a calls-only scorecard listed every agent as not scored because of
    qa_score and schedule_adherence, metrics with no export ("not configured"). They are left
    out and the other weights scaled to 100 %: quality 60 over csat, qa_score, fcr (20 each),
    efficiency 40 over aht, schedule_adherence, contacts_handled (13.3 each); without qa_score
    and schedule_adherence (33.3) the rest is 66.7, so csat 30, fcr 30, aht 20,
    contacts_handled 20. A0: csat 41.7 % (0 points, below critical 75), fcr 100 % (100), aht
    219 s (100), contacts_handled no target (dropped, the others renormalised over 80):
    (30 × 0 + 30 × 100 + 20 × 100) ÷ 80 = 62.5."""
    result = tpmkit.load(calls_only).scorecard(now=NOW, cache=False, period="week")
    a0 = next(g for g in result.groups if g.group == {"agent_id": "A0"})
    weights = {m.metric: m.weight for m in a0.metrics}
    assert weights == pytest.approx(
        {"csat": 30.0, "fcr": 30.0, "aht": 20.0, "contacts_handled": 20.0}
    )
    assert a0.score == pytest.approx(62.5)
    assert [g.score for g in result.groups] == pytest.approx([62.5, 62.5, 62.5])
    said = [n for n in result.notes if "not configured" in n]
    assert said == [
        "scorecard: qa_score, schedule_adherence not configured (no export for it): the score "
        "rests on csat, fcr, aht, contacts_handled, their weights scaled to 100 %"
    ]
