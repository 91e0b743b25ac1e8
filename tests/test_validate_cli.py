"""tpmkit validate on a corpus of broken definitions: exit 2, the file, line and column of
each problem and what is wrong; --strict; data values checked on a sample of rows."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()

PROJECT = """
name: Validate
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""
CALLS = "contact_id,offered_at,answered,wait_seconds\nc1,2026-03-02 09:00:00,Y,3\n"
GOOD = """\
id: asa
name: ASA
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, expr: wait_seconds, where: answered}
thresholds: {warning: 30, critical: 60}
owner: operations_manager
actions: {warning: "check staffing", critical: "re-plan shifts"}
"""

# (metric file text, line, column, words of the message)
CORPUS = {
    "unknown key": (GOOD.replace("unit:", "unti:"), 3, 1, "did you mean `unit`"),
    "unknown column": (
        GOOD.replace("expr: wait_seconds", "expr: wait_secs"),
        6,
        29,
        "did you mean `wait_seconds`",
    ),
    "expression syntax": (
        GOOD.replace("expr: wait_seconds", 'expr: "wait_seconds +"'),
        6,
        30,
        "invalid SQL expression",
    ),
    "thresholds order": (
        GOOD.replace("warning: 30, critical: 60", "warning: 60, critical: 30"),
        7,
        23,
        "critical must be above warning",
    ),
    "target before baseline": (
        GOOD + "baseline: {value: 40, as_of: 2026-06-01}\ntarget: {value: 20, by: 2026-01-01}\n",
        11,
        25,
        "before the baseline date",
    ),
    "function outside the allow-list": (
        GOOD.replace("expr: wait_seconds", "expr: \"read_csv('x')\""),
        6,
        30,
        "function `read_csv` is not allowed",
    ),
    "a query in an expression": (
        GOOD.replace("where: answered", 'where: "answered AND 1 IN (SELECT 1)"'),
        6,
        70,
        "`SELECT` is not allowed: an expression is not a query",
    ),
    "unknown formula input": (
        "id: ratio\nname: R\nunit: x\ncompute: {kind: formula, expr: asa / nope}\n",
        4,
        38,
        "unknown metric id `nope`",
    ),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_broken_definition_is_located(make, case):
    text, line, column, words = CORPUS[case]
    project_file = make.project(PROJECT, metrics={"broken": text}, files={"calls.csv": CALLS})
    result = runner.invoke(app, ["validate", "-p", str(project_file)])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert re.search(rf"broken\.yaml:{line}:{column}\b", output), output
    assert words in output


def test_formula_cycle_and_duplicate_ids_show_every_location(make):
    cycle_a = "id: a\nname: A\nunit: x\ncompute: {kind: formula, expr: b + 1}\n"
    cycle_b = "id: b\nname: B\nunit: x\ncompute: {kind: formula, expr: a + 1}\n"
    project_file = make.project(
        PROJECT,
        metrics={"a": cycle_a, "b": cycle_b, "asa": GOOD, "asa_copy": GOOD},
        files={"calls.csv": CALLS},
    )
    result = runner.invoke(app, ["validate", "-p", str(project_file)])
    output = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "cycle" in output
    assert "asa.yaml:1" in output and "asa_copy.yaml:1" in output


def test_strict_turns_warnings_into_errors(make):
    project = PROJECT.replace(
        "{path: calls.csv}", "{path: calls.csv, columns: {Waited: wait_seconds}}"
    )
    project_file = make.project(project, metrics={"asa": GOOD}, files={"calls.csv": CALLS})
    relaxed = runner.invoke(app, ["validate", "-p", str(project_file)])
    assert relaxed.exit_code == 0 and "1 warning" in relaxed.output
    strict = runner.invoke(app, ["validate", "-p", str(project_file), "--strict"])
    assert strict.exit_code == 2


def test_data_values_are_checked_on_the_first_rows(make):
    rows = [f"c{i},2026-03-02 09:00:00,Y,3" for i in range(50)] + ["bad,2026-03-02 09:00:00,Y,x"]
    calls = "contact_id,offered_at,answered,wait_seconds\n" + "\n".join(rows) + "\n"
    project_file = make.project(PROJECT, metrics={"asa": GOOD}, files={"calls.csv": calls})
    sampled = runner.invoke(app, ["validate", "-p", str(project_file), "--rows", "20"])
    assert sampled.exit_code == 0, sampled.output
    everything = runner.invoke(app, ["validate", "-p", str(project_file), "--rows", "0"])
    assert everything.exit_code == 2
    assert "calls.csv:52" in " ".join(everything.output.split())
