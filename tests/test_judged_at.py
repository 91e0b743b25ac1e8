"""Where a metric is judged (`judged_at`, issue 15): records at a level the metric is not
judged at, in an `unassigned` group or of a metric without thresholds are shown with status
not_judged and a reason; precedence not_judged, no_data, insufficient_sample, thresholds.
Every number below is computed by hand from CALLS."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import by_key, evaluate_records
from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.vocabulary import Level, level_of

PROJECT = """
name: Levels
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
# a3 has no team in the roster
ROSTER = "agent_id,team\na1,Red\na2,Blue\na3,\n"
# W10 (2026-03-02 .. 03-08): answered waits a1 10 and 130, a2 40 and 20, a3 50; c5 is an
# abandon no agent took. W11: one abandon only (the data reach 03-11, so W10 is judged).
CALLS = """contact_id,offered_at,agent_id,answered,wait_seconds,channel
c1,2026-03-02 10:00:00,a1,Y,10,phone
c2,2026-03-03 10:00:00,a1,Y,130,chat
c3,2026-03-03 11:00:00,a2,Y,40,phone
c4,2026-03-04 10:00:00,a2,Y,20,phone
c5,2026-03-05 10:00:00,,N,90,phone
c6,2026-03-06 10:00:00,a3,Y,50,chat
c7,2026-03-11 10:00:00,,N,15,phone
"""
W10, W11 = "2026-W10", "2026-W11"
MEAN_WAIT = "dataset: calls\ncompute: {kind: mean, expr: wait_seconds, where: answered}\n"


def wait_metric(id_: str, extra: str = "") -> str:
    return (
        f"id: {id_}\nname: {id_}\nunit: seconds\ndirection: lower_is_better\n"
        f"owner: team_lead\n{MEAN_WAIT}{extra}"
    )


LEVELS = "thresholds: {warning: 30, critical: 60}\njudged_at: [operation, team]\n"
METRICS = {
    "wait": wait_metric("wait", LEVELS),  # judged at the operation and teams only
    "wait_small": wait_metric("wait_small", LEVELS + "min_sample: 3\n"),
    "wait_info": wait_metric("wait_info"),  # no thresholds, every level
}
NOT_AT_AGENT = "wait is judged at operation, team — not at agent"


@pytest.fixture
def levels(make):
    def build(project: str = PROJECT, metrics: dict[str, str] | None = None):
        return make.project(
            project,
            metrics=METRICS if metrics is None else metrics,
            files={"calls.csv": CALLS, "roster.csv": ROSTER},
        )

    return build


def test_the_level_of_a_grouping_is_its_finest_level_column():
    assert level_of([]) == Level.OPERATION
    assert level_of(["vendor", "site"]) == Level.SITE
    assert level_of(["team", "agent_id"]) == Level.AGENT
    assert level_of(["agent_id", "team"]) == Level.AGENT  # finest, whatever the order
    assert level_of(["queue", "team"]) == Level.TEAM
    assert level_of(["team", "channel"]) is None  # any non-level column: not judged
    assert [str(level) for level in Level] == [
        "operation", "vendor", "site", "queue", "team", "agent",
    ]  # fmt: skip


def test_the_operation_and_teams_are_judged(levels):
    index = by_key(evaluate_records(levels(), ["wait"]), *())
    # (10 + 130 + 40 + 20 + 50) / 5 = 50: above warning 30, not above critical 60
    assert index[("wait", W10)]["value"] == pytest.approx(50.0)
    assert index[("wait", W10)]["status"] == "warning"
    assert index[("wait", W10)]["reason"] is None
    teams = by_key(evaluate_records(levels(), ["wait"], by=["team"]), "team")
    red, blue = teams[("wait", W10, "Red")], teams[("wait", W10, "Blue")]
    assert (red["value"], red["status"]) == (pytest.approx(70.0), "critical")  # (10+130)/2
    assert (blue["value"], blue["status"]) == (pytest.approx(30.0), "ok")  # on warning


def test_a_level_the_metric_is_not_judged_at_is_shown_not_judged(levels):
    agents = by_key(evaluate_records(levels(), ["wait"], by=["agent_id"]), "agent_id")
    a1 = agents[("wait", W10, "a1")]
    # 70 s is past critical 60, but no agent owns the wait: value kept, not judged
    assert (a1["value"], a1["n"], a1["status"]) == (pytest.approx(70.0), 2, "not_judged")
    assert a1["reason"] == NOT_AT_AGENT
    assert a1["target"] is None and a1["critical"] == 60.0  # the levels still shown
    # team × agent is the agent level too
    both = by_key(evaluate_records(levels(), ["wait"], by=["team", "agent_id"]), "team", "agent_id")
    assert both[("wait", W10, "Red", "a1")]["status"] == "not_judged"
    assert both[("wait", W10, "Red", "a1")]["reason"] == NOT_AT_AGENT


def test_a_grouping_with_a_non_level_column_is_not_judged(levels):
    channels = by_key(evaluate_records(levels(), ["wait"], by=["channel"]), "channel")
    chat = channels[("wait", W10, "chat")]
    # chat: (130 + 50) / 2 = 90, past critical, yet channel is no organisational level
    assert (chat["value"], chat["status"]) == (pytest.approx(90.0), "not_judged")
    assert chat["reason"] == "grouped by channel, which is not an organisational level"
    phone = channels[("wait", W10, "phone")]
    assert phone["value"] == pytest.approx(70 / 3)  # 10, 40, 20 (the abandon c5 is not answered)
    assert phone["status"] == "not_judged"


def test_an_unassigned_group_is_never_judged(levels):
    teams = by_key(evaluate_records(levels(), ["wait"], by=["team"]), "team")
    # no team reaches c5 (no agent) and c6 (a3 has no team): wait 50 from c6, n 1
    unassigned = teams[("wait", W10, None)]
    assert (unassigned["value"], unassigned["n"]) == (pytest.approx(50.0), 1)
    assert unassigned["status"] == "not_judged"
    assert unassigned["reason"] == "unassigned: no team reaches these rows, so no team owns them"


def test_a_metric_without_thresholds_is_not_judged_never_ok(levels):
    index = by_key(evaluate_records(levels(), ["wait_info"]))
    assert index[("wait_info", W10)]["value"] == pytest.approx(50.0)
    assert index[("wait_info", W10)]["status"] == "not_judged"
    assert index[("wait_info", W10)]["reason"] == "no thresholds"
    # W11 has no answered call: not judged comes before no data; the reason keeps both
    assert index[("wait_info", W11)]["value"] is None
    assert index[("wait_info", W11)]["status"] == "not_judged"
    assert index[("wait_info", W11)]["reason"] == (
        "no thresholds; no qualifying rows in this period and group"
    )


def test_precedence_not_judged_no_data_insufficient_sample_thresholds(levels):
    whole = by_key(evaluate_records(levels(), ["wait", "wait_small"]))
    # judged at the operation: W11 has no value -> no data, with its own reason
    assert whole[("wait", W11)]["status"] == "no_data"
    assert whole[("wait", W11)]["reason"] == "no qualifying rows in this period and group"
    assert whole[("wait_small", W10)]["status"] == "warning"  # n 5 >= 3, 50 > 30
    teams = by_key(evaluate_records(levels(), ["wait_small"], by=["team"]), "team")
    # Red: 70 s (critical) over n 2 < min_sample 3: the sample decides before the thresholds
    assert teams[("wait_small", W10, "Red")]["status"] == "insufficient_sample"
    # the unassigned group (n 1 < 3): not judged decides before the sample
    assert teams[("wait_small", W10, None)]["status"] == "not_judged"
    agents = by_key(evaluate_records(levels(), ["wait"], by=["agent_id"]), "agent_id")
    # c5's group (no agent, no answered call): not judged at agent comes before no data
    nobody = agents[("wait", W10, None)]
    assert (nobody["value"], nobody["status"]) == (None, "not_judged")
    assert nobody["reason"] == NOT_AT_AGENT + "; no qualifying rows in this period and group"


def test_customize_changes_where_a_metric_is_judged(levels):
    project = PROJECT + "customize:\n  wait: {judged_at: [operation, team, agent]}\n"
    agents = by_key(evaluate_records(levels(project), ["wait"], by=["agent_id"]), "agent_id")
    assert agents[("wait", W10, "a1")]["status"] == "critical"  # 70 > 60, now judged
    assert agents[("wait", W10, "a2")]["status"] == "ok"  # 30, on the warning threshold
    assert agents[("wait", W10, "a1")]["reason"] is None


def test_customize_a_built_in_metric(make):
    project = (
        "name: Built in\ntimezone: UTC\nmetrics: [builtin]\nsources:\n"
        "  calls: {path: calls.csv}\n  agents: {path: roster.csv}\n"
        "customize:\n  aht: {judged_at: [operation]}\n"
    )
    calls = (
        "contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,hold_seconds,"
        "acw_seconds\nc1,2026-03-02 10:00:00,a1,Y,5,300,0,60\n"
        "c2,2026-03-03 10:00:00,a2,Y,5,500,30,70\n"
    )
    path = make.project(project, files={"calls.csv": calls, "roster.csv": ROSTER})
    assert api.load(path).definitions.metrics["aht"].spec.judged_at == [Level.OPERATION]
    teams = by_key(evaluate_records(path, ["aht"], by=["team"]), "team")
    red = teams[("aht", W10, "Red")]
    assert (red["value"], red["status"]) == (pytest.approx(360.0), "not_judged")
    assert red["reason"] == "aht is judged at operation — not at team"
    whole = by_key(evaluate_records(path, ["aht"]))
    # (360 + 600) / 2 = 480: on the critical threshold, above warning 420; n 2 < min_sample 30
    assert whole[("aht", W10)]["status"] == "insufficient_sample"


@pytest.mark.parametrize(
    ("levels_text", "message"),
    [
        # an unknown level is worded like any other value outside a closed list (since
        # issue 17 item 13 gave enums, such as `direction`, the did-you-mean treatment)
        ("[operation, floor]", "`judged_at.1`: 'floor' is not allowed (expected operation, vendor"),
        ("[team, team]", "name each level once"),
        ("[]", "judged_at"),
    ],
)
def test_judged_at_is_validated(levels, levels_text, message):
    bad = wait_metric("wait", f"judged_at: {levels_text}\n")
    path = levels(metrics={"wait": bad})
    errors = [i.render() for i in api.validate(path) if i.severity == "error"]
    assert errors and message in "\n".join(errors)
    assert "wait.yaml" in "\n".join(errors)


def check(project_file, *args: str):
    runner = CliRunner()
    return runner.invoke(app, ["check", "-p", str(project_file), "--no-cache", *args])


def test_check_by_a_level_the_metric_is_not_judged_at_does_not_fail(levels):
    # a1's 70 s is past critical, but wait is not judged at agent; the operation (50 s,
    # warning) is below the default gate (critical)
    result = check(levels(metrics={"wait": METRICS["wait"]}), "--by", "agent_id", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["passed"] is True
    assert data["counts"] == {"warning": 1}  # only the operation is judged and counted
    by_group = {json.dumps(v["group"]): v for v in data["verdicts"]}
    assert by_group["{}"]["status"] == "warning"
    a1 = by_group['{"agent_id": "a1"}']
    assert (a1["status"], a1["failed"], a1["gate"]) == ("not_judged", False, None)
    assert a1["reason"] == NOT_AT_AGENT
    plain = check(levels(metrics={"wait": METRICS["wait"]}), "--by", "agent_id")
    assert plain.stdout.strip().endswith("PASS — 2026-W10: 1 judged (1 warning); 4 not judged")


def test_junit_skips_what_is_not_judged(levels, tmp_path):
    import xml.etree.ElementTree as ET

    report = tmp_path / "junit.xml"
    path = levels(metrics={"wait": METRICS["wait"]})
    assert check(path, "--by", "agent_id", "--junit", str(report)).exit_code == 0
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    # the operation, then a1, a2, a3 and the unassigned group: 4 not judged, skipped
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "0", "4")
    skipped = [c.get("name") for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert "wait [agent_id=a1] 2026-W10" in skipped
    assert "wait 2026-W10" not in skipped


def test_check_by_a_judged_level_still_fails(levels):
    result = check(levels(metrics={"wait": METRICS["wait"]}), "--by", "team")
    assert result.exit_code == 1
    assert "FAIL wait [team=Red] 2026-W10: 70.0s, above critical 60.0s" in result.stdout
    # the unassigned group is never a failure or a breach line
    assert "team=—" not in result.stdout


def test_fail_closed_still_holds_at_judged_levels(levels):
    # every judged team has too small a sample: the metric fails closed (nothing judged);
    # the operation (n 5 >= 3, 50 s: warning) passes the critical gate on its own
    small = {"wait_small": METRICS["wait_small"]}
    result = check(levels(metrics=small), "--by", "team")
    assert result.exit_code == 1
    assert "FAIL wait_small [team=Red] 2026-W10: insufficient sample" in result.stdout
    assert "FAIL wait_small [team=Blue] 2026-W10: insufficient sample" in result.stdout
    assert "FAIL wait_small 2026-W10" not in result.stdout
    assert check(levels(metrics=small), "--by", "team", "--allow-no-data").exit_code == 0


def test_check_never_fails_a_metric_without_thresholds_even_when_gated(levels):
    path = levels(metrics={"wait_info": METRICS["wait_info"]})
    result = check(path, "--gate", "wait_info=warning")
    assert result.exit_code == 0, result.output
    assert "0 judged" in result.stdout and "1 not judged" in result.stdout


def test_a_team_lead_column_is_the_team_level():
    from tpmkit.vocabulary import Level, level_column, level_of

    # the scorecard shows each agent's team lead, team and site: still the agent level
    assert level_of(["team_lead", "team", "site", "agent_id"]) == Level.AGENT
    assert level_column(["team_lead", "team", "site", "agent_id"]) == "agent_id"
    assert level_of(["team_lead"]) == Level.TEAM
    assert level_column(["team_lead"]) == "team_lead"
    assert level_of(["team_lead", "channel"]) is None


def test_a_metric_without_thresholds_is_not_judged_even_without_a_record():
    """Review of issue 15: check read the backlog (no thresholds; its stock has no record for
    the week that ends after the data) as `no_data`, counted among the judged. Precedence:
    not_judged before no_data."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import tpmkit
    from conftest import REPO

    example = tpmkit.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    result = example.check(["backlog", "aht"], now=now, cache=False, why=False)
    backlog = next(v for v in result.verdicts if v.metric == "backlog")
    assert (backlog.status, backlog.reason) == ("not_judged", "no thresholds")
    assert "no_data" not in result.counts()


def test_the_backlog_speaks_for_its_latest_known_week_everywhere():
    """Review of issue 15: the evaluate summary left the backlog out (its stock has no record
    for the week that ends after the data) while the report showed its W45 value; one rule
    now, in `gate.judged_periods`: a stock is judged on its latest period known."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import tpmkit
    from conftest import REPO

    example = tpmkit.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    result = example.check(["backlog", "aht"], now=now, cache=False, why=False)
    periods = {v.metric: v.period for v in result.verdicts}
    assert periods == {"backlog": "2026-W45", "aht": "2026-W46"}
    backlog = next(v for v in result.verdicts if v.metric == "backlog")
    assert backlog.value == 177.0  # 85 at W34 → 177: the planted signal, now shown
