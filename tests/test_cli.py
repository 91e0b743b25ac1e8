"""The command line: exit codes, output formats, messages without tracebacks."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from tpmkit.cli import app
from tpmkit.records import RECORD_FIELDS

runner = CliRunner()

PROJECT = """
name: CLI tests
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds
c1,2026-01-05 09:00:00,=cmd|' /C calc'!A0,true,10,100
c2,2026-01-05 10:00:00,a2,true,30,200
c3,2026-01-13 11:00:00,a2,false,,
"""
ROSTER = """
agent_id,name,team
=cmd|' /C calc'!A0,"Smith, Jr.",+Team A
a2,Zoë,@Team B
"""
AHT = """
id: aht
name: AHT
unit: seconds
direction: lower_is_better
dataset: calls
owner: team_lead
roles: [agent, team_lead]
compute: {kind: mean, where: answered, expr: "talk_seconds"}
thresholds: {warning: 150, critical: 180}
"""
HANDLED = """
id: contacts_handled
name: Handled
unit: count
direction: higher_is_better
dataset: calls
aliases: [throughput]
compute: {kind: count, where: answered}
"""


@pytest.fixture
def project(make):
    return make.project(
        PROJECT,
        metrics={"aht": AHT, "handled": HANDLED},
        files={"calls.csv": CALLS, "roster.csv": ROSTER},
    )


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("evaluate", "validate", "metrics", "init"):
        assert command in result.output


def test_table_output(project):
    # with a range the table shows every period (without one, the terminal gets the summary
    # of the latest complete period: tests/test_terminal.py)
    result = run("evaluate", "-p", str(project), "--last", "2")
    assert result.exit_code == 0, result.output
    assert "2026-W02" in result.output and "2026-W03" in result.output
    # aht W02 = (100 + 200) / 2 = 150, exactly on the warning threshold: not a breach
    assert "150s" in result.output and "✓ ok" in result.output
    # W03 has only an abandon: no answered contact, no AHT
    assert "no_data" in result.output
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_json_follows_output_contract(project):
    result = run("evaluate", "-p", str(project), "--format", "json", "--by", "team")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert isinstance(records, list) and records
    for record in records:
        for field in RECORD_FIELDS:
            assert field in record
        assert "team" in record
    w02 = [r for r in records if r["metric"] == "aht" and r["period"] == "2026-W02"]
    assert {r["team"]: r["value"] for r in w02} == {"+Team A": 100.0, "@Team B": 200.0}
    first = w02[0]
    assert first["period_start"] == "2026-01-05T00:00:00+01:00"
    assert first["period_end"] == "2026-01-12T00:00:00+01:00"
    assert first["status"] == "ok" and first["warning"] == 150.0 and first["critical"] == 180.0


def test_csv_escapes_formulas(project):
    result = run("evaluate", "-p", str(project), "--format", "csv", "--by", "agent_id,team")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    agents = {r["agent_id"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in agents
    assert not any(a.startswith(("=", "+", "-", "@")) for a in agents)
    teams = {r["team"] for r in rows}
    assert {"'+Team A", "'@Team B"} <= teams
    # numbers are not mangled
    assert any(r["value"] == "100.0" for r in rows)


def test_markdown_and_parquet(project, tmp_path):
    md = run("evaluate", "-p", str(project), "--format", "markdown")
    assert md.exit_code == 0
    assert md.stdout.startswith("# CLI tests") and "| aht | 2026-W02 |" in md.stdout
    target = tmp_path / "out" / "records.parquet"
    pq = run("evaluate", "-p", str(project), "--format", "parquet", "--output", str(target))
    assert pq.exit_code == 0, pq.output
    frame = pl.read_parquet(target)
    assert set(RECORD_FIELDS) <= set(frame.columns)
    assert frame.schema["period_start"] == pl.Datetime("us", "Europe/Berlin")


def test_output_file_is_written(project, tmp_path):
    target = tmp_path / "records.json"
    result = run("evaluate", "-p", str(project), "-f", "json", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".records.json")]


def test_metric_selection_by_id_alias_and_role(project):
    result = run("evaluate", "throughput", "-p", str(project), "-f", "json")
    assert {r["metric"] for r in json.loads(result.stdout)} == {"contacts_handled"}
    result = run("evaluate", "-p", str(project), "-f", "json", "--role", "agent")
    assert {r["metric"] for r in json.loads(result.stdout)} == {"aht"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "ahtt"], "unknown metric `ahtt`; did you mean `aht`?"),
        (["evaluate", "--period", "wek"], "unknown period `wek`; did you mean `week`?"),
        (["evaluate", "--role", "agnet"], "unknown role `agnet`"),
        (["evaluate", "--from", "2026-13-01"], "is not a date"),
        (["evaluate", "--from", "2026-02-01", "--to", "2026-01-01"], "is before"),
        (["evaluate", "--last", "2", "--from", "2026-01-01"], "either --last or --from/--to"),
        (
            ["evaluate", "--by", "tema"],
            "no dataset these metrics read has a column `tema`; did you mean `team`?",
        ),
        (["evaluate", "-f", "parquet"], "needs --output"),
    ],
)
def test_usage_errors_exit_2_without_traceback(project, args, message):
    result = run(*args, "-p", str(project))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_project_file(tmp_path):
    result = run("evaluate", "-p", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "project file not found" in result.output


def test_bad_data_exit_2(make):
    path = make.project(
        PROJECT,
        metrics={"aht": AHT},
        files={"calls.csv": CALLS.replace("true,10,100", "maybe,10,100"), "roster.csv": ROSTER},
    )
    result = run("evaluate", "-p", str(path))
    assert result.exit_code == 2
    assert (
        "calls.csv:2:4: error: column `answered`" in result.output
        and "not a boolean" in result.output
    )
    assert "Traceback" not in result.output


def test_validate_points_at_the_line(make):
    path = make.project(
        PROJECT,
        metrics={"aht": AHT.replace("unit:", "unti:")},
        files={"calls.csv": CALLS, "roster.csv": ROSTER},
    )
    result = run("validate", "-p", str(path))
    assert result.exit_code == 2
    assert "metrics/aht.yaml:3:1: error: unknown key `unti`" in result.output
    assert "did you mean `unit`?" in result.output


def test_validate_clean_project(project):
    result = run("validate", "-p", str(project))
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_metrics_list_and_show(project):
    listed = run("metrics", "list", "-p", str(project))
    assert listed.exit_code == 0 and "aht" in listed.output and "contacts_handled" in listed.output
    shown = run("metrics", "show", "throughput", "-p", str(project))
    assert shown.exit_code == 0
    assert "Handled" in shown.output and "metrics/handled.yaml:1" in shown.output
    missing = run("metrics", "show", "nope", "-p", str(project))
    assert missing.exit_code == 2


def test_metrics_list_without_project_shows_builtin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("metrics", "list")
    assert result.exit_code == 0
    assert "service_level" in result.output and "built-in" in result.output


def test_init_starter_and_refuses_overwrite(tmp_path):
    target = tmp_path / "new"
    assert run("init", str(target)).exit_code == 0
    assert (target / "tpmkit.yaml").exists() and (target / "metrics").is_dir()
    again = run("init", str(target))
    assert again.exit_code == 2 and "already exists" in again.output


def test_internal_error_exit_3(project, monkeypatch):
    import tpmkit.project

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(tpmkit.project.Project, "evaluate", boom)
    result = run("evaluate", "-p", str(project))
    assert result.exit_code == 3
    assert "internal error" in result.output and "--debug" in result.output
    assert "Traceback" not in result.output
