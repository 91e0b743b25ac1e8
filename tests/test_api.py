"""The public Python API: `tpmkit.load`, `Project.evaluate`/`evaluate_many`, `tpmkit.check`
on an Evaluation, and errors that name parameters (the CLI names its flags)."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

import tpmkit
from tpmkit.cli import app

PROJECT = """
name: Api
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
WAIT = """
id: wait
name: Wait
unit: seconds
direction: lower_is_better
owner: team_lead
dataset: calls
compute: {kind: mean, expr: wait_seconds, where: answered}
thresholds: {warning: 30, critical: 60}
"""
# W10 (Mar 2-6): a1 (Red) waits 10 and 90, a2 (Blue) 20 and 30; one call in W11
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds
c1,2026-03-02 10:00:00,a1,Y,10
c2,2026-03-03 10:00:00,a2,Y,20
c3,2026-03-04 10:00:00,a1,Y,90
c4,2026-03-05 10:00:00,a2,Y,30
c5,2026-03-11 10:00:00,a1,Y,5
"""
ROSTER = "agent_id,team\na1,Red\na2,Blue\n"
NOW = dt.datetime(2026, 3, 12, tzinfo=dt.UTC)  # W10 complete, W11 in progress


@pytest.fixture
def project(make):
    path = make.project(
        PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS, "roster.csv": ROSTER}
    )
    return tpmkit.load(path)


def test_public_names():
    assert {"load", "check", "Project", "Evaluation", "DefinitionError"} <= set(tpmkit.__all__)
    assert tpmkit.Evaluation.__module__ == "tpmkit.records"


def test_evaluate_returns_records_in_the_output_contract(project):
    ev = project.evaluate(["wait"], period="week", by=["team"], cache=False)
    assert isinstance(ev, tpmkit.Evaluation)
    week10 = {
        r["team"]: (r["value"], r["n"], r["status"])
        for r in ev.records.to_dicts()
        if r["period"] == "2026-W10"
    }
    # Red: (10 + 90) / 2 = 50, past warning 30; Blue: (20 + 30) / 2 = 25
    assert week10 == {"Red": (50.0, 2, "warning"), "Blue": (25.0, 2, "ok")}
    assert ev.by == ["team"] and ev.grain == "week" and list(ev.definitions) == ["wait"]


def test_start_end_and_last(project):
    only = project.evaluate("wait", start=dt.date(2026, 3, 9), cache=False).records
    assert only.select("period", "value", "n").rows() == [("2026-W11", 5.0, 1)]
    last = project.evaluate("wait", last=1, cache=False).records
    assert last.get_column("period").to_list() == ["2026-W11"]


def test_check_judges_an_evaluation_without_reading_data(project):
    ev = project.evaluate(["wait"], by=["team"], cache=False)
    result = tpmkit.check(ev, fail_on="warning", now=NOW)
    assert result.period == "2026-W10"
    assert [(v.group["team"], v.status, v.failed) for v in result.verdicts] == [
        ("Blue", "ok", False),
        ("Red", "warning", True),
    ]
    assert not tpmkit.check(ev, now=NOW).failed  # gated at critical (60) by default


def test_evaluate_many_runs_each_grouping_once(project):
    team = project.need(["wait"], by=["team"])
    whole = project.need(["wait"])
    found = project.evaluate_many([team, whole, team], cache=False)
    assert list(found) == [team.key, whole.key]
    overall = found[whole.key].records.filter(period="2026-W10").row(0, named=True)
    assert (overall["value"], overall["n"]) == (37.5, 4)  # (10 + 20 + 90 + 30) / 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": dt.date(2026, 3, 9), "end": dt.date(2026, 3, 2)}, "end 2026-03-02 is before start 2026-03-09"),
        ({"last": 0}, "last must be 1 or more"),
        ({"last": 2, "start": dt.date(2026, 3, 2)}, "give either last or start/end, not both"),
        ({"period": "fortnight"}, "unknown period `fortnight`"),
        ({"by": ["tema"]}, "by tema: no dataset these metrics read has a column `tema`; did you mean `team`?"),
    ],
)  # fmt: skip
def test_errors_name_parameters_and_the_cli_names_flags(project, options, message):
    with pytest.raises(tpmkit.UsageError) as caught:
        project.evaluate("wait", cache=False, **options)
    assert caught.value.message == message
    assert "--" not in caught.value.message


def test_cli_maps_parameters_to_flags(project):
    args = ["evaluate", "-p", str(project.file), "--no-cache"]
    result = CliRunner().invoke(app, [*args, "--from", "2026-03-09", "--to", "2026-03-02"])
    assert "error: --to 2026-03-02 is before --from 2026-03-09" in result.output
    result = CliRunner().invoke(app, [*args, "--by", "tema"])
    assert "error: --by tema: no dataset these metrics read has a column `tema`" in result.output


def test_a_bad_definition_raises_definition_error(make):
    path = make.project(PROJECT, metrics={"wait": WAIT.replace("kind: mean", "kind: meen")})
    with pytest.raises(tpmkit.DefinitionError):
        tpmkit.load(path)


def test_import_and_the_cli_stay_light():
    import subprocess
    import sys

    code = (
        "import sys, tpmkit, tpmkit.cli\n"
        "heavy = [m for m in ('polars', 'rich', 'tpmkit.data', 'tpmkit.engine') if m in sys.modules]\n"
        "assert heavy == [], heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_notebook_shaped_arguments(project):
    # one grouping column as text, dates as ISO text or datetimes: as a notebook writes them
    ev = project.evaluate("wait", by="team", start="2026-03-02", end=dt.datetime(2026, 3, 8))
    week10 = {r["team"]: r["value"] for r in ev.records.to_dicts()}
    assert week10 == {"Red": 50.0, "Blue": 25.0}  # (10 + 90) / 2 and (20 + 30) / 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "2 March"}, "start must be a date such as 2026-11-09, not '2 March'"),
        ({"last": "4"}, "last must be a whole number of periods, not '4'"),
        ({"by": 3}, "by must be a name or a list of names, not 3"),
        ({"data": {"call": None}}, "data: no metric reads a dataset `call`"),
    ],
)
def test_wrong_argument_types_are_usage_errors_naming_the_parameter(project, options, message):
    with pytest.raises(tpmkit.UsageError) as caught:
        project.evaluate("wait", cache=False, **options)
    assert caught.value.message.startswith(message)


def test_a_misspelt_data_name_never_falls_back_to_the_files(project):
    import polars as pl

    frame = pl.DataFrame({"contact_id": ["x"], "offered_at": ["2026-03-02 10:00:00"]})
    with pytest.raises(tpmkit.UsageError, match="did you mean `calls`"):
        project.evaluate("wait", data={"call": frame})
    with pytest.raises(tpmkit.UsageError, match="data must map dataset names to frames"):
        project.evaluate("wait", data=frame)


def test_check_refuses_what_is_not_an_evaluation(project):
    with pytest.raises(tpmkit.UsageError, match="check takes an Evaluation"):
        tpmkit.check(project)
    ev = project.evaluate("wait", cache=False)
    with pytest.raises(tpmkit.UsageError, match="not a DataFrame"):
        tpmkit.check(ev.records)


def test_str_of_an_error_carries_its_located_issues(make):
    broken = WAIT.replace("wait_seconds", "wait_secnds")
    path = make.project(PROJECT, metrics={"wait": broken}, files={"calls.csv": CALLS})
    with pytest.raises(tpmkit.DefinitionError) as caught:
        tpmkit.load(path)
    text = str(caught.value)
    assert text.startswith("1 problem(s) in the definitions\n")
    assert "wait.yaml:7" in text and "wait_secnds" in text
