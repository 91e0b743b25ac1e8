"""tpmkit check: the CI gate. Exit codes for each situation, the judged period, gating
policy, JUnit XML, GitHub annotations and step summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()

PROJECT = """
name: Gate
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
ROSTER = "agent_id,team\na1,Red\na2,Blue\n"


def metric(id_: str, warning: float, critical: float, extra: str = "") -> str:
    return (
        f"id: {id_}\nname: {id_}\nunit: seconds\ndirection: lower_is_better\nowner: team_lead\n"
        "dataset: calls\ncompute: {kind: mean, expr: wait_seconds, where: answered}\n"
        f"thresholds: {{warning: {warning}, critical: {critical}}}\n{extra}"
    )


def calls(week10_waits: list[int], week11_waits: list[int] = (5,)) -> str:
    """Week 2026-W10 is complete; the data stop on Wednesday of W11 (in progress)."""
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    for i, wait in enumerate(week10_waits):
        lines.append(f"a{i},2026-03-0{2 + i % 5} 10:00:00,a{1 + i % 2},Y,{wait}")
    for i, wait in enumerate(week11_waits):
        lines.append(f"b{i},2026-03-11 10:00:00,a1,Y,{wait}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def gate_project(make):
    def build(waits: list[int], metrics: dict[str, str] | None = None, week11=(5,)):
        return make.project(
            PROJECT,
            metrics=metrics or {"wait": metric("wait", 30, 60)},
            files={"calls.csv": calls(waits, list(week11)), "roster.csv": ROSTER},
        )

    return build


def run(project_file, *args: str):
    return runner.invoke(app, ["check", "-p", str(project_file), "--no-cache", *args])


def test_ok_exits_0_and_judges_the_latest_complete_week(gate_project):
    result = run(gate_project([10, 20]))
    assert result.exit_code == 0, result.output
    assert "PASS — 2026-W10: 1 judged (1 ok)" in result.stdout  # W11 is still in progress


def test_a_warning_below_fail_on_passes_and_is_noted(gate_project):
    result = run(gate_project([40, 40]))
    assert result.exit_code == 0
    assert "note wait 2026-W10: 40.0s, above warning 30.0s (owner: team_lead)" in result.stdout


def test_a_warning_at_fail_on_warning_fails(gate_project):
    result = run(gate_project([40, 40]), "--fail-on", "warning")
    assert result.exit_code == 1
    assert "FAIL wait 2026-W10: 40.0s, above warning 30.0s" in result.stdout
    assert "FAIL: 1 failing — 2026-W10: 1 judged (1 warning)" in result.stdout


def test_a_critical_fails(gate_project):
    result = run(gate_project([70, 90]))
    assert result.exit_code == 1
    assert "FAIL wait 2026-W10: 80.0s, above critical 60.0s (owner: team_lead)" in result.stdout


def test_no_data_fails_closed_unless_allowed(gate_project):
    no_value = metric("wait_unanswered", 30, 60).replace("where: answered", "where: NOT answered")
    project_file = gate_project([10, 20], {"wait": metric("wait", 30, 60), "u": no_value})
    result = run(project_file)
    assert result.exit_code == 1
    assert "FAIL wait_unanswered 2026-W10: no data" in result.stdout
    assert "fails closed" in result.stdout
    allowed = run(project_file, "--allow-no-data")
    assert allowed.exit_code == 0
    assert "2 judged (1 ok, 1 no data)" in allowed.stdout


def test_a_group_without_data_does_not_fail_the_metric(gate_project):
    # by team: one team has values; the gate judges the metric, not every empty group
    result = run(gate_project([10, 20]), "--by", "team", "--at", "2026-W11")
    assert result.exit_code == 0, result.output


def test_gate_policy_in_the_file_and_on_the_command_line(gate_project):
    informational = metric("wait", 30, 60, "gate: false\n")
    assert run(gate_project([90], {"wait": informational})).exit_code == 0
    strict = metric("wait", 30, 60, "gate: warning\n")
    assert run(gate_project([40], {"wait": strict})).exit_code == 1
    assert run(gate_project([40], {"wait": strict}), "--fail-on", "critical").exit_code == 0
    assert run(gate_project([90]), "--gate", "wait=off").exit_code == 0
    assert run(gate_project([40]), "--gate", "wait=warning").exit_code == 1
    bad = run(gate_project([40]), "--gate", "wiat=warning")
    assert bad.exit_code == 2 and "did you mean" in bad.output


def test_customize_can_set_the_gate(make):
    project_file = make.project(
        PROJECT + "customize:\n  wait: {gate: false}\n",
        metrics={"wait": metric("wait", 30, 60)},
        files={"calls.csv": calls([90]), "roster.csv": ROSTER},
    )
    assert run(project_file).exit_code == 0


def test_at_judges_a_named_period_even_in_progress(gate_project):
    result = run(gate_project([10], week11=[99]), "--at", "2026-W11")
    assert result.exit_code == 1 and "FAIL wait 2026-W11: 99.0s" in result.stdout
    unknown = run(gate_project([10]), "--at", "2026-W12")
    assert unknown.exit_code == 2 and "no such period" in unknown.output
    # a whole label of another year is not "meant" as a look-alike week (review of issue 18)
    next_year = run(gate_project([10]), "--at", "2027-W10")
    assert next_year.exit_code == 2 and "no such period" in next_year.output
    assert "did you mean" not in next_year.output and "2026-W10" in next_year.output


def test_bad_definition_and_bad_data_exit_2(gate_project, make):
    broken = metric("wait", 60, 30)  # critical better than warning
    result = run(gate_project([10], {"wait": broken}))
    assert result.exit_code == 2 and "wait.yaml:" in result.output
    project_file = gate_project([10])
    make.write("calls.csv", calls([10]) + "z1,yesterday,a1,Y,3\n")
    result = run(project_file)
    assert (
        result.exit_code == 2 and "calls.csv" in result.output and "Traceback" not in result.output
    )


def test_junit_xml_counts_tests_and_failures(gate_project, tmp_path):
    report = tmp_path / "out" / "junit.xml"
    project_file = gate_project([70, 10, 90, 20])  # a1: 80 (critical), a2: 15 (ok)
    result = run(project_file, "--by", "agent_id", "--junit", str(report))
    assert result.exit_code == 1
    suites = ET.parse(report).getroot()
    suite = suites.find("testsuite")
    assert suite is not None
    # check judges the operation (mean 47.5, ok) besides the two agents
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(cases) == 3 and len(failed) == 1
    failure = failed[0].find("failure")
    assert failure is not None and "above critical 60.0s" in (failure.get("message") or "")
    assert "agent_id=a1" in (failed[0].get("name") or "")


def test_github_annotations_and_step_summary(gate_project, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project_file = gate_project([70, 10, 40, 40])  # a1: 55 warning, a2: 25 ok
    result = run(project_file, "--by", "agent_id", "--github", "--fail-on", "warning")
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    # check judges the operation too: (70 + 10 + 40 + 40) / 4 = 40 s is above warning 30
    assert annotations == [
        "::error title=wait warning 2026-W10::wait 2026-W10: 40.0s, "
        "above warning 30.0s (owner: team_lead)",
        "::error title=wait warning 2026-W10::wait [agent_id=a1] 2026-W10: 55.0s, "
        "above warning 30.0s (owner: team_lead)",
    ]
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, not replaced
    assert "### tpmkit check — Gate, 2026-W10: ❌ 2 failing" in text  # operation and a1
    assert "| ❌ | wait | agent_id=a1 | 55.0s | above warning 30.0s | team_lead | — |" in text


def test_json_format(gate_project):
    result = run(gate_project([70, 90]), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False and data["period"] == "2026-W10"
    (verdict,) = data["verdicts"]
    assert verdict["failed"] and verdict["gate"] == "critical" and verdict["value"] == 80.0


def test_example_project_has_real_breaches():
    from conftest import REPO

    example = REPO / "examples" / "contact-center" / "tpmkit.yaml"
    result = run(example, "-q")
    assert result.exit_code == 1
    assert "FAIL resolution_sla 2026-W46" in result.stdout
    healthy = run(example, "aht", "asa", "fcr", "--fail-on", "critical", "-q")
    assert healthy.exit_code == 0, healthy.stdout


def test_too_small_a_sample_fails_closed_unless_allowed(gate_project):
    small = metric("wait", 30, 60, "min_sample: 5\n")
    project_file = gate_project([10, 20], {"wait": small})
    result = run(project_file)
    assert result.exit_code == 1
    assert "FAIL wait 2026-W10: insufficient sample: only n=2, too few to judge" in result.stdout
    assert run(project_file, "--allow-no-data").exit_code == 0


def test_early_warning_fails_a_metric_projected_to_pass_its_warning(make):
    weeks = ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    lines += [f"c{i},{day} 10:00:00,a1,Y,{10 + 4 * i}" for i, day in enumerate(weeks)]
    project_file = make.project(
        PROJECT,
        metrics={"wait": metric("wait", 30, 60)},
        files={"calls.csv": "\n".join(lines) + "\n", "roster.csv": ROSTER},
    )
    args = ["--at", "2026-W14", "--fail-on", "warning"]
    plain = run(project_file, *args)
    assert plain.exit_code == 0  # 26 s is still ok
    assert (
        "note wait 2026-W14: 26.0s (owner: team_lead; trend: worsening; projected warning by 2026-W16)"
        in plain.stdout
    )
    early = run(project_file, *args, "--early-warning")
    assert early.exit_code == 1 and "FAIL wait 2026-W14" in early.stdout


def test_empty_groups_are_shown_not_judged(make):
    # the abandon has no agent, hence no team: its group must not fail the gate
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds",
             "a1,2026-03-02 10:00:00,a1,Y,5", "a2,2026-03-03 10:00:00,,N,"]  # fmt: skip
    project_file = make.project(
        PROJECT,
        metrics={"wait": metric("wait", 30, 60)},
        files={"calls.csv": "\n".join(lines) + "\n", "roster.csv": ROSTER},
    )
    result = run(project_file, "--by", "team", "--at", "2026-W10")
    assert result.exit_code == 0, result.stdout


def test_unusable_paths_are_user_errors(gate_project, tmp_path):
    project_file = gate_project([10])
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = run(project_file, "--junit", str(blocker / "j.xml"))
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    folder = run(project_file, "--junit", str(tmp_path))
    assert folder.exit_code == 2 and "--junit" in folder.output


def test_no_complete_period_hint_names_a_real_period(make):
    project_file = make.project(
        PROJECT,
        metrics={
            "wait": metric("wait", 30, 60),
            "u": "id: unused\nname: U\nunit: count\ndataset: tickets\ncompute: {kind: count}\n",
        },
        files={"calls.csv": calls([], [5]), "roster.csv": ROSTER},
    )
    result = run(project_file)
    assert result.exit_code == 2
    assert "--at 2026-W11" in result.output and "--at all" not in result.output


def test_a_gated_metric_with_no_record_fails_closed_under_by_too(make):
    # tickets stop in 2026-W09: the judged week W10 has no ticket, so no record, no group
    tickets = (
        "ticket_id,created_at,agent_id\nt1,2026-02-24 10:00:00,a1\nt2,2026-02-25 10:00:00,a2\n"
    )
    count = (
        "id: opened\nname: Tickets opened\nunit: count\ndirection: higher_is_better\n"
        "owner: team_lead\ndataset: tickets\ncompute: {kind: count}\n"
        "thresholds: {warning: 1, critical: 0}\n"
    )
    text = PROJECT + "  tickets: {path: tickets.csv}\n"
    files = {"calls.csv": calls([10, 20]), "roster.csv": ROSTER, "tickets.csv": tickets}
    metrics = {"wait": metric("wait", 30, 60), "opened": count}
    project_file = make.project(text, metrics=metrics, files=files)
    for args in ([], ["--by", "team"]):
        result = run(project_file, "--at", "2026-W10", *args)
        assert result.exit_code == 1, (args, result.output)
        assert "FAIL opened 2026-W10: no data" in result.stdout


def test_a_formula_whose_input_cannot_be_grouped_is_shown_not_judged(make):
    # the tickets export has no agent_id, so neither `opened` nor a formula over it can be
    # grouped by team: both are shown with the reason and neither fails the gate
    tickets = "ticket_id,created_at\nt1,2026-03-03 10:00:00\n"
    count = (
        "id: opened\nname: Tickets opened\nunit: count\ndirection: higher_is_better\n"
        "owner: team_lead\ndataset: tickets\ncompute: {kind: count}\n"
        "thresholds: {warning: 5, critical: 3}\n"
    )
    per_wait = (
        "id: opened_per_wait\nname: per wait\nunit: ratio\ndirection: higher_is_better\n"
        "owner: team_lead\ncompute: {kind: formula, expr: opened / wait}\n"
        "thresholds: {warning: 5, critical: 3}\n"
    )
    text = PROJECT + "  tickets: {path: tickets.csv}\n"
    files = {"calls.csv": calls([10, 20]), "roster.csv": ROSTER, "tickets.csv": tickets}
    metrics = {"wait": metric("wait", 30, 60), "opened": count, "per": per_wait}
    project_file = make.project(text, metrics=metrics, files=files)
    result = run(project_file, "--by", "team", "--at", "2026-W10", "--format", "json")
    # check judges the operation too: `opened` is 1 ticket and opened / wait = 1 / 15 s,
    # both below critical 3
    assert result.exit_code == 1, result.output
    everything = json.loads(result.stdout)["verdicts"]
    failing = [(v["metric"], v["group"], v["value"]) for v in everything if v["failed"]]
    assert failing == [("opened", {}, 1.0), ("opened_per_wait", {}, pytest.approx(1 / 15))]
    verdicts = {v["metric"]: v for v in everything if v["group"] or v["gate"] is None}
    assert verdicts["opened"]["gate"] is None and not verdicts["opened"]["failed"]
    assert verdicts["opened_per_wait"]["gate"] is None
    assert not verdicts["opened_per_wait"]["failed"]
    assert verdicts["opened_per_wait"]["reason"].startswith("input `opened`: cannot group by")
