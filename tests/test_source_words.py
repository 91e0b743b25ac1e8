"""Issue 17 item 11 and the spec parts of 13: a source's own boolean words, thousands
separators with `decimal_comma`, and near misses (unit, direction, dataset name) that used
to be accepted silently."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()
HEADER = "contact_id,offered_at,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds"


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def records(path) -> dict[str, dict]:
    result = run("evaluate", "-p", str(path), "--format", "json", "--period", "all")
    assert result.exit_code == 0, result.output
    return {r["metric"]: r for r in json.loads(result.stdout)}


# item 11: boolean words ---------------------------------------------------------------

GERMAN = """
name: Deutsch
metrics: [builtin]
sources:
  calls:
    path: calls.csv
    booleans: {true: [Ja, J], false: [Nein, N]}
"""


def test_a_sources_own_boolean_words(make):
    calls = (
        f"{HEADER}\n"
        "c1,2026-01-05 10:00,Ja,10,100,0,0\n"
        "c2,2026-01-05 10:01,j,10,200,0,0\n"  # any case
        "c3,2026-01-05 10:02,NEIN,40,,,\n"
        "c4,2026-01-05 10:03,n,50,,,\n"
        "c5,2026-01-05 10:04,true,20,300,0,0\n"  # the standard words still count
    )
    path = make.project(GERMAN, files={"calls.csv": calls})
    found = records(path)
    assert found["contacts_offered"]["value"] == 5
    assert found["contacts_handled"]["value"] == 3
    assert found["abandon_rate"]["value"] == pytest.approx(40.0)  # 2 of 5, hand-computed
    assert found["aht"]["value"] == pytest.approx(200.0)  # (100 + 200 + 300) / 3


def test_the_keys_may_be_written_as_text_too(make):
    yaml_text = GERMAN.replace(
        "{true: [Ja, J], false: [Nein, N]}", '{"true": [Ja], "false": [Nein]}'
    )
    calls = f"{HEADER}\nc1,2026-01-05 10:00,Ja,10,100,0,0\nc2,2026-01-05 10:01,Nein,10,,,\n"
    path = make.project(yaml_text, files={"calls.csv": calls})
    assert records(path)["contacts_handled"]["value"] == 1


def test_a_word_outside_the_lists_is_a_located_error_naming_the_words(make):
    calls = f"{HEADER}\nc1,2026-01-05 10:00,Ja,10,100,0,0\nc2,2026-01-05 10:01,Vielleicht,10,,,\n"
    path = make.project(GERMAN, files={"calls.csv": calls})
    result = run("evaluate", "-p", str(path))
    assert result.exit_code == 2
    assert "calls.csv:3:3" in result.output and "'Vielleicht'" in result.output
    assert "ja/nein" in result.output


def test_a_word_in_both_lists_is_a_definition_error(make):
    yaml_text = GERMAN.replace("false: [Nein, N]", "false: [Nein, ja]")
    path = make.project(yaml_text, files={"calls.csv": f"{HEADER}\n"})
    result = run("validate", "-p", str(path))
    assert result.exit_code == 2 and "tpmkit.yaml:6:15" in result.output
    assert "both true and false: ja" in result.output


def test_unquoted_yes_no_words_ask_for_quotes(make):
    yaml_text = GERMAN.replace("false: [Nein, N]", "false: [Nein, No]")
    path = make.project(yaml_text, files={"calls.csv": f"{HEADER}\n"})
    result = run("validate", "-p", str(path))
    assert result.exit_code == 2 and 'quote words such as "Yes", "No"' in result.output


# item 11: thousands separators --------------------------------------------------------

EUROPEAN = """
name: Europa
metrics: [builtin]
sources:
  calls: {path: calls.csv, separator: ";", decimal_comma: true}
"""


@pytest.mark.parametrize(
    ("talk", "seconds"),
    [
        ('"1.234,5"', 1234.5),
        ("1.234,5", 1234.5),
        ("1.234.567,25", 1234567.25),
        ("1.234", 1234.0),  # a group of three after the first digits: thousands
        ("12,5", 12.5),
        ("1.5", 1.5),  # not a thousands group: a decimal point stays one
        ("1 234,5", 1234.5),
        ("-0,5", None),  # negative: a data error, not 0.5
    ],
)
def test_decimal_comma_removes_thousands_separators(make, talk, seconds):
    header = HEADER.replace(",", ";")
    calls = f"{header}\nc1;2026-01-05 10:00;Y;10;{talk};0;0\n"
    path = make.project(EUROPEAN, files={"calls.csv": calls})
    if seconds is None:
        result = run("evaluate", "-p", str(path))
        assert result.exit_code == 2 and "negative duration" in result.output
        return
    assert records(path)["aht"]["value"] == pytest.approx(seconds)


def test_thousands_group_that_is_not_one_is_an_error(make):
    header = HEADER.replace(",", ";")
    calls = f"{header}\nc1;2026-01-05 10:00;Y;10;1.23.4,5;0;0\n"
    result = run("evaluate", "-p", str(make.project(EUROPEAN, files={"calls.csv": calls})))
    assert result.exit_code == 2 and "'1.23.4,5'" in result.output


# item 13: near misses -----------------------------------------------------------------

METRIC = """
id: long_talks
name: Long talks
unit: {unit}
direction: {direction}
dataset: calls
compute: {{kind: mean, expr: talk_seconds}}
"""


def metric_project(make, unit: str = "seconds", direction: str = "lower_is_better"):
    return make.project(
        "name: Units\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n",
        metrics={"long_talks": METRIC.format(unit=unit, direction=direction)},
        files={"calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n"},
    )


def test_misspelt_unit_is_a_located_error_with_did_you_mean(make):
    result = run("validate", "-p", str(metric_project(make, unit="secnds")))
    assert result.exit_code == 2
    assert "long_talks.yaml:3:7" in result.output and "unknown unit `secnds`" in result.output
    assert "did you mean `seconds`?" in result.output


@pytest.mark.parametrize("unit", ["seconds", "percent", "tickets per agent", "ms", "points"])
def test_known_or_clearly_own_units_are_accepted(make, unit):
    result = run("validate", "-p", str(metric_project(make, unit=unit)))
    assert result.exit_code == 0, result.output


def test_misspelt_direction_says_did_you_mean(make):
    result = run("validate", "-p", str(metric_project(make, direction="lower_is_beter")))
    assert result.exit_code == 2
    assert (
        "long_talks.yaml:4:" in result.output and "did you mean `lower_is_better`?" in result.output
    )


def test_misspelt_dataset_name_is_not_silently_a_custom_dataset(make):
    path = make.project(
        "name: T\nmetrics: [builtin]\nsources:\n  calls: {path: calls.csv}\n"
        "  tickts: {path: tickets.csv}\n",
        files={
            "calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n",
            "tickets.csv": "ticket_id,created_at\nt1,2026-01-05 10:00\n",
        },
    )
    for command in ("validate", "evaluate"):
        result = run(command, "-p", str(path))
        assert result.exit_code == 2
        assert "tpmkit.yaml:5:3" in result.output and "did you mean `tickets`?" in result.output
        assert "custom: true" in result.output


def test_a_custom_dataset_close_to_a_canonical_name_says_so(make):
    path = make.project(
        "name: T\nmetrics: [builtin]\nsources:\n  calls: {path: calls.csv}\n"
        "  queue: {path: q.csv, custom: true, time_column: at}\n",
        files={
            "calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n",
            "q.csv": "at,depth\n2026-01-05 10:00,3\n",
        },
    )
    result = run("validate", "-p", str(path))
    assert result.exit_code == 0, result.output


def test_a_canonical_dataset_cannot_be_marked_custom(make):
    path = make.project(
        "name: T\nmetrics: [builtin]\nsources:\n  calls: {path: calls.csv, custom: true}\n",
        files={"calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n"},
    )
    result = run("validate", "-p", str(path))
    assert result.exit_code == 2 and "tpmkit.yaml:4:" in result.output
    assert "`calls` is a canonical dataset" in result.output
