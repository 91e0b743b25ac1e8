"""Regressions from code review: each of these once gave a wrong number or exit code 3."""

from __future__ import annotations

import json
import os
import stat

from typer.testing import CliRunner

from conftest import by_key, evaluate_records
from tpmkit.cli import app

runner = CliRunner()
PROJECT = """
name: Review
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
ROSTER = "agent_id,team,hire_date\na1,T,2020-01-06\n"
ASA = """
id: asa
name: ASA
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: wait_seconds}
"""


def run(path, *args):
    return runner.invoke(app, ["evaluate", "-p", str(path), *args], catch_exceptions=False)


def calls(rows: str) -> str:
    return "contact_id,offered_at,agent_id,answered,wait_seconds,queue\n" + rows


def test_hourly_trend_uses_hours(make):
    rows = "".join(
        f"c{h},2026-01-05 {h:02d}:10:00,a1,true,{10 * (h - 7)},Q\n" for h in range(8, 16)
    )
    path = make.project(
        PROJECT, metrics={"asa": ASA}, files={"calls.csv": calls(rows), "roster.csv": ROSTER}
    )
    records = evaluate_records(path, period="hour")
    # ASA rises 10 s every hour: lower is better, so the trend is worsening
    assert records[-1]["trend"] == "worsening"


def test_division_by_zero_in_an_expression_is_no_data(make):
    metric = ASA.replace("expr: wait_seconds", 'expr: "wait_seconds / 0"')
    path = make.project(
        PROJECT,
        metrics={"asa": metric},
        files={"calls.csv": calls("c1,2026-01-05 10:00:00,a1,true,5,Q\n"), "roster.csv": ROSTER},
    )
    result = run(path, "-f", "json")
    assert result.exit_code == 0
    [record] = json.loads(result.stdout)
    # the metric has no thresholds: not judged comes before no data
    assert record["value"] is None and record["status"] == "not_judged"


def test_a_mean_of_text_is_located_not_a_crash(make):
    metric = ASA.replace("expr: wait_seconds", "expr: queue")
    path = make.project(
        PROJECT,
        metrics={"asa": metric},
        files={
            "calls.csv": calls("c1,2026-01-05 10:00:00,a1,true,5,Billing\n"),
            "roster.csv": ROSTER,
        },
    )
    result = run(path)
    assert result.exit_code == 2
    assert "metrics/asa.yaml:6:10: error: metric `asa` cannot be computed" in result.output


def test_unparseable_file_and_repeated_header(make):
    bad = b"contact_id,offered_at,answered,wait_seconds\n" + b"c1,2026-01-05 10:00:00,tru\xe9,4\n"
    path = make.project(
        PROJECT, metrics={"asa": ASA}, files={"calls.csv": bad, "roster.csv": ROSTER}
    )
    result = run(path)
    assert result.exit_code == 2 and "UTF-8" in result.output
    doubled = "contact_id,offered_at,answered,wait_seconds,wait_seconds\nc1,2026-01-05 10:00:00,true,4,5\n"
    path = make.project(
        PROJECT, metrics={"asa": ASA}, files={"calls.csv": doubled, "roster.csv": ROSTER}
    )
    result = run(path)
    assert result.exit_code == 2 and "column `wait_seconds` appears twice" in result.output


def test_group_options(make, tmp_path):
    path = make.project(
        PROJECT,
        metrics={"asa": ASA},
        files={"calls.csv": calls("c1,2026-01-05 10:00:00,a1,true,5,Q\n"), "roster.csv": ROSTER},
    )
    assert run(path, "--by", "status").exit_code == 2
    twice = run(path, "--by", "team,team", "-f", "json")
    assert twice.exit_code == 0 and len(json.loads(twice.stdout)) == 1
    dated = run(path, "--by", "hire_date", "-f", "json")
    assert json.loads(dated.stdout)[0]["hire_date"] == "2020-01-06"
    assert run(path, "-f", "json", "-o", str(tmp_path)).exit_code == 2


def test_output_file_mode_follows_umask(make, tmp_path):
    path = make.project(
        PROJECT,
        metrics={"asa": ASA},
        files={"calls.csv": calls("c1,2026-01-05 10:00:00,a1,true,5,Q\n"), "roster.csv": ROSTER},
    )
    old = os.umask(0o022)
    try:
        assert run(path, "-f", "json", "-o", str(tmp_path / "out.json")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o644


def test_qa_without_calibration_or_auto_fail_columns(make):
    project = PROJECT.replace("[metrics/]", "[builtin]").replace(
        "calls: {path: calls.csv}", "qa: {path: qa.csv}"
    )
    qa = "evaluation_id,agent_id,evaluated_at,score\ne1,a1,2026-01-05 10:00:00,80\ne2,a1,2026-01-06 10:00:00,90\n"
    path = make.project(project, files={"qa.csv": qa, "roster.csv": ROSTER})
    index = by_key(evaluate_records(path, ["qa_score"]))
    # no calibration_id column: no calibration rows; no auto_fail: nothing failed -> (80 + 90) / 2
    assert index[("qa_score", "2026-W02")]["value"] == 85.0
