"""Data errors stop the run: DataError (exit 2 on the command line) naming file, line, column,
value and rule, never a silent drop."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import evaluate_records
from tpmkit.cli import app
from tpmkit.errors import DataError

PROJECT = """
name: Errors
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""


def metric(id_: str, dataset: str, compute: str) -> str:
    return f"id: {id_}\nname: {id_}\nunit: x\ndirection: higher_is_better\ndataset: {dataset}\ncompute: {compute}\n"


# every calls column of the test export is used by a metric, so every column is read and checked
CALL_METRICS = {
    "offered": metric("offered", "calls", "{kind: count}"),
    "handled": metric("handled", "calls", "{kind: count, where: answered}"),
    "wait": metric("wait", "calls", "{kind: mean, expr: wait_seconds}"),
    "talk": metric("talk", "calls", "{kind: sum, expr: talk_seconds}"),
    "csat": metric("csat", "calls", "{kind: mean, expr: csat}"),
    "nps": metric("nps", "calls", "{kind: mean, expr: nps}"),
}
HEADER = [
    "contact_id",
    "offered_at",
    "agent_id",
    "answered",
    "wait_seconds",
    "talk_seconds",
    "csat",
    "nps",
]
GOOD = {
    "contact_id": "k2",
    "offered_at": "2026-01-05 10:00:00",
    "agent_id": "a2",
    "answered": "true",
    "wait_seconds": "20",
    "talk_seconds": "200",
    "csat": "4",
    "nps": "7",
}


def calls_csv(bad: dict[str, str]) -> str:
    """Header (line 1), a good row (line 2), the row under test (line 3), a good row (line 4)."""
    row = {**GOOD, **bad}
    lines = [
        ",".join(HEADER),
        "k1,2026-01-05 09:00:00,a1,true,10,100,5,9",
        ",".join(row[h] for h in HEADER),
        "k3,2026-01-05 11:00:00,,false,30,,,",
    ]
    return "\n".join(lines) + "\n"


def raises_data_error(path) -> DataError:
    with pytest.raises(DataError) as caught:
        evaluate_records(path)
    return caught.value


CASES = [
    # (column, bad value, words of the rule)
    ("offered_at", "2026-13-45 09:00:00", "not a timestamp"),
    ("offered_at", "yesterday", "not a timestamp"),
    ("csat", "five", "not a number"),
    ("csat", "4.5", "whole number"),
    ("answered", "maybe", "not a boolean"),
    ("talk_seconds", "-5", "negative duration"),
    ("talk_seconds", "-0:01:00", "negative duration"),
    ("wait_seconds", "1:75", "not a duration"),
    ("csat", "6", "out of range 1..5"),
    ("csat", "0", "out of range 1..5"),
    ("nps", "11", "out of range 0..10"),
    ("offered_at", "2026-03-29 02:30:00", "DST gap"),  # Berlin skips 02:00-03:00 that night
    # text that is no number of seconds must not slip through as NaN, infinity or a sign flip
    ("talk_seconds", "inf", "not a duration"),
    ("wait_seconds", "nan", "not a duration"),
    ("wait_seconds", "1:-30", "not a duration"),
]


@pytest.mark.parametrize(("column", "value", "rule"), CASES)
def test_each_bad_value_stops_the_run(make, column, value, rule):
    path = make.project(
        PROJECT, metrics=CALL_METRICS, files={"calls.csv": calls_csv({column: value})}
    )
    error = raises_data_error(path)
    assert error.total == 1
    [issue] = error.issues
    assert issue.file is not None and issue.file.endswith("calls.csv")
    assert issue.line == 3  # header is line 1, the bad row is the second data row
    assert issue.column == HEADER.index(column) + 1
    assert f"`{column}`" in issue.message
    assert value in issue.message
    assert rule in issue.message
    assert "calls" in error.message


@pytest.mark.parametrize("column", ["contact_id", "offered_at"])
def test_required_value_empty(make, column):
    path = make.project(PROJECT, metrics=CALL_METRICS, files={"calls.csv": calls_csv({column: ""})})
    error = raises_data_error(path)
    [issue] = error.issues
    assert issue.line == 3 and issue.column == HEADER.index(column) + 1
    assert "required value is empty" in issue.message and f"`{column}`" in issue.message


def test_duplicate_id(make):
    path = make.project(
        PROJECT, metrics=CALL_METRICS, files={"calls.csv": calls_csv({"contact_id": "k1"})}
    )
    error = raises_data_error(path)
    [issue] = error.issues
    # the second copy (line 3) is the error; the message points back to the first copy
    assert issue.line == 3 and issue.column == 1
    assert "duplicate" in issue.message and "k1" in issue.message


def test_duplicate_id_across_files_of_a_glob(make):
    header = ",".join(HEADER)
    files = {
        "calls/a.csv": header + "\nk1,2026-01-05 09:00:00,a1,true,10,100,5,9\n",
        "calls/b.csv": header
        + "\nk2,2026-01-06 09:00:00,a1,true,10,100,5,9\nk1,2026-01-06 10:00:00,a1,true,10,100,5,9\n",
    }
    path = make.project(
        PROJECT.replace("calls.csv", "calls/*.csv"), metrics=CALL_METRICS, files=files
    )
    error = raises_data_error(path)
    [issue] = error.issues
    assert issue.file.endswith("b.csv") and issue.line == 3
    assert "duplicate" in issue.message and "a.csv" in issue.message


def test_answered_before_offered(make):
    csv = """
    contact_id,offered_at,answered_at
    k1,2026-01-05 09:00:00,2026-01-05 09:00:30
    k2,2026-01-05 10:00:00,2026-01-05 09:59:00
    """
    path = make.project(
        PROJECT, metrics={"handled": CALL_METRICS["handled"]}, files={"calls.csv": csv}
    )
    [issue] = raises_data_error(path).issues
    assert issue.line == 3 and issue.column == 3
    assert "answered_at is before offered_at" in issue.message and "09:59:00" in issue.message


TICKETS_PROJECT = """
name: Tickets
timezone: UTC
metrics: [metrics/]
sources:
  tickets: {path: tickets.csv}
"""


def test_ticket_resolved_before_created(make):
    csv = """
    ticket_id,created_at,resolved_at
    t1,2026-01-05 09:00:00,2026-01-05 12:00:00
    t2,2026-01-05 09:00:00,
    t3,2026-01-06 09:00:00,2026-01-05 17:00:00
    """
    metrics = {
        "resolved": metric("resolved", "tickets", '{kind: count, where: "resolved_at IS NOT NULL"}')
    }
    path = make.project(TICKETS_PROJECT, metrics=metrics, files={"tickets.csv": csv})
    error = raises_data_error(path)
    [issue] = error.issues  # t2 (still open) is fine
    assert issue.file.endswith("tickets.csv") and issue.line == 4 and issue.column == 3
    assert "resolved_at is before created_at" in issue.message
    assert "2026-01-05 17:00:00" in issue.message


QA_PROJECT = """
name: QA
timezone: UTC
metrics: [metrics/]
sources:
  qa: {path: qa.csv}
"""
QA_SCORE = {
    "qa": metric(
        "qa_score", "qa", '{kind: mean, expr: "100.0 * score / coalesce(max_score, 100.0)"}'
    )
}


def test_qa_score_above_max_score(make):
    csv = """
    evaluation_id,agent_id,evaluated_at,score,max_score
    e1,a1,2026-01-05 09:00:00,40,50
    e2,a1,2026-01-05 10:00:00,55,50
    """
    path = make.project(QA_PROJECT, metrics=QA_SCORE, files={"qa.csv": csv})
    [issue] = raises_data_error(path).issues
    assert issue.line == 3 and issue.column == 4
    assert "score above max_score" in issue.message and "55" in issue.message


@pytest.mark.parametrize(
    "csv",
    [
        # no max_score column: the contract default max_score is 100
        "evaluation_id,agent_id,evaluated_at,score\ne1,a1,2026-01-05 09:00:00,80\ne2,a1,2026-01-05 10:00:00,120\n",
        # max_score column present but empty on the bad row: default 100 again
        "evaluation_id,agent_id,evaluated_at,score,max_score\ne1,a1,2026-01-05 09:00:00,80,\ne2,a1,2026-01-05 10:00:00,120,\n",
    ],
    ids=["no-column", "empty-value"],
)
def test_qa_score_above_default_max_score(make, csv):
    # a metric on score alone, so a missing max_score column does not disable it
    metrics = {"qa": metric("qa_mean", "qa", "{kind: mean, expr: score}")}
    path = make.project(QA_PROJECT, metrics=metrics, files={"qa.csv": csv})
    error = raises_data_error(path)
    [issue] = error.issues
    assert issue.line == 3 and issue.column == 4 and "120" in issue.message


COSTS_PROJECT = """
name: Costs
timezone: UTC
metrics: [metrics/]
sources:
  costs: {path: costs.csv}
"""


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity"])
def test_non_finite_amount_is_not_a_number(make, value):
    csv = f"date,amount\n2026-01-05,100.5\n2026-01-06,{value}\n"
    metrics = {"cost": metric("cost", "costs", "{kind: sum, expr: amount}")}
    path = make.project(COSTS_PROJECT, metrics=metrics, files={"costs.csv": csv})
    [issue] = raises_data_error(path).issues
    assert issue.line == 3 and issue.column == 2
    assert "not a number" in issue.message and value in issue.message


def test_mapped_column_is_reported_by_its_export_header(make):
    yaml = PROJECT.replace(
        "{path: calls.csv}", '{path: calls.csv, columns: {"Satisfaction (1-5)": csat}}'
    )
    csv = calls_csv({"csat": "7"}).replace(",csat,", ",Satisfaction (1-5),", 1)
    path = make.project(yaml, metrics=CALL_METRICS, files={"calls.csv": csv})
    [issue] = raises_data_error(path).issues
    assert "Satisfaction (1-5)" in issue.message and "7" in issue.message
    assert issue.line == 3 and issue.column == 7


def test_embedded_newline_pushes_later_lines_down(make):
    raw = (
        b"contact_id,offered_at,queue,answered,wait_seconds\r\n"  # line 1
        b'k1,2026-01-05 09:00:00,"Sales\r\nsecond line\r\nthird, with comma",true,10\r\n'  # lines 2-4
        b"k2,2026-01-05 10:00:00,Billing,true,20\r\n"  # line 5
        b"k3,2026-01-05 11:00:00,Billing,sometimes,30\r\n"  # line 6
    )
    metrics = {"handled": CALL_METRICS["handled"], "wait": CALL_METRICS["wait"]}
    path = make.project(PROJECT, metrics=metrics, files={"calls.csv": raw})
    [issue] = raises_data_error(path).issues
    assert issue.line == 6 and issue.column == 4
    assert "sometimes" in issue.message


def test_bad_row_before_embedded_newline_keeps_its_line(make):
    raw = (
        b"contact_id,offered_at,queue,answered,wait_seconds\n"  # line 1
        b"k0,2026-01-05 08:00:00,Billing,nope,10\n"  # line 2
        b'k1,2026-01-05 09:00:00,"Sales\nsecond line",true,10\n'  # lines 3-4
        b"k2,2026-01-05 10:00:00,Billing,never,20\n"  # line 5
    )
    metrics = {"handled": CALL_METRICS["handled"]}
    path = make.project(PROJECT, metrics=metrics, files={"calls.csv": raw})
    error = raises_data_error(path)
    # one column, one rule: one line (issue 17 item 6), naming both physical lines
    [issue] = error.issues
    assert issue.line == 2 and "2 rows with this problem (lines 2, 5)" in issue.message


def test_a_problem_repeated_on_many_rows_is_one_line_with_its_count(make):
    # issue 17 item 6: identical problems (one column, one rule) used to print one line per
    # row, 20 of them; now one line with the count, the first lines and an example value
    lines = [",".join(HEADER)]
    for i in range(27):  # 27 rows, csat 9 on each: 27 bad cells
        lines.append(f"k{i},2026-01-05 09:{i:02d}:00,a1,true,10,100,9,5")
    lines.append("k99,2026-01-05 10:00:00,a1,true,10,100,5,5")  # one good row
    path = make.project(PROJECT, metrics=CALL_METRICS, files={"calls.csv": "\n".join(lines) + "\n"})
    error = raises_data_error(path)
    [issue] = error.issues
    assert error.total == 27 and error.omitted == 0
    assert issue.line == 2 and issue.column == 7
    assert "out of range 1..5: '9' — 27 rows with this problem (lines 2, 3, 4, …)" in issue.message
    assert "27 bad value(s) in 27 row(s)" in error.render()
    assert "more" not in error.render().split("\n", 1)[1]  # nothing left unlisted


def test_total_counts_every_bad_cell_of_a_row(make):
    lines = [",".join(HEADER)]
    for i in range(12):  # 12 rows with two bad cells each (csat 9, nps 12): 24 problems
        lines.append(f"k{i},2026-01-05 09:{i:02d}:00,a1,true,10,100,9,12")
    path = make.project(PROJECT, metrics=CALL_METRICS, files={"calls.csv": "\n".join(lines) + "\n"})
    error = raises_data_error(path)
    # one line per column and rule (issue 17 item 6), each counting its 12 rows
    assert len(error.issues) == 2 and error.total == 24 and error.omitted == 0
    assert ["12 rows with this problem" in i.message for i in error.issues] == [True, True]


def test_parquet_bad_value_names_the_row(make):
    frame = pl.DataFrame(
        {
            "contact_id": ["k1", "k2", "k3"],
            "offered_at": [
                dt.datetime(2026, 1, 5, 9),
                dt.datetime(2026, 1, 5, 10),
                dt.datetime(2026, 1, 5, 11),
            ],
            "answered": [True, True, False],
            "wait_seconds": [10.0, -3.0, 4.0],
        }
    )
    frame.write_parquet(make.root / "calls.parquet")
    path = make.project(
        PROJECT.replace("calls.csv", "calls.parquet"), metrics={"wait": CALL_METRICS["wait"]}
    )
    [issue] = raises_data_error(path).issues
    assert issue.file.endswith("calls.parquet") and issue.line is None
    assert (
        "row 2" in issue.message and "negative duration" in issue.message and "-3" in issue.message
    )


def test_parquet_naive_time_in_dst_gap(make):
    frame = pl.DataFrame(
        {
            "contact_id": ["k1", "k2"],
            "offered_at": [dt.datetime(2026, 3, 29, 1, 30), dt.datetime(2026, 3, 29, 2, 30)],
            "answered": [True, True],
            "wait_seconds": [1.0, 2.0],
        }
    )
    frame.write_parquet(make.root / "calls.parquet")
    path = make.project(
        PROJECT.replace("calls.csv", "calls.parquet"), metrics={"offered": CALL_METRICS["offered"]}
    )
    [issue] = raises_data_error(path).issues
    assert "row 2" in issue.message and "DST gap" in issue.message


def test_derived_column_error_shows_the_value(make):
    yaml = PROJECT.replace(
        "{path: calls.csv}",
        """{path: calls.csv, derive: {offered_at: "\\"Date\\" || ' ' || \\"Time\\""}}""",
    )
    csv = """
    contact_id,Date,Time,answered,wait_seconds
    k1,2026-01-05,9:12:58,true,5
    k2,2026-01-05,25:61:00,true,5
    """
    path = make.project(
        yaml, metrics={"offered": CALL_METRICS["offered"]}, files={"calls.csv": csv}
    )
    [issue] = raises_data_error(path).issues
    assert issue.line == 3 and "offered_at" in issue.message and "not a timestamp" in issue.message
    assert "25:61:00" in issue.message  # the value that failed, not None


runner = CliRunner()


@pytest.mark.parametrize(("column", "value", "rule"), [CASES[4], CASES[8], CASES[11]])
def test_cli_exit_2_with_message_and_no_traceback(make, column, value, rule):
    path = make.project(
        PROJECT, metrics=CALL_METRICS, files={"calls.csv": calls_csv({column: value})}
    )
    result = runner.invoke(app, ["evaluate", "-p", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert f"calls.csv:3:{HEADER.index(column) + 1}" in result.output
    assert rule in result.output and value in result.output
    assert "--on-bad-rows quarantine" in result.output
    assert "Traceback" not in result.output


def test_cli_reports_the_total_beyond_twenty(make):
    # 23 files with one bad row each: 23 distinct problems (a repeated one in one file is
    # one line since issue 17 item 6), the first 20 listed and the rest counted
    files = {
        f"calls/{i:02d}.csv": f"{','.join(HEADER)}\nk{i},2026-01-05 09:{i:02d}:00,a1,true,10,100,5,11\n"
        for i in range(23)
    }
    project = PROJECT.replace("{path: calls.csv}", "{path: calls/*.csv}")
    path = make.project(project, metrics=CALL_METRICS, files=files)
    result = runner.invoke(app, ["evaluate", "-p", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.output.count("out of range 0..10") == 20
    assert "23" in result.output and "3 more (23 in all)" in result.output
    assert "Traceback" not in result.output


def test_a_value_a_keep_rows_cast_cannot_convert_is_located(tmp_path):
    """A `keep_rows` that casts a column (issue 17): a value it cannot convert is exit 2 at
    its file, line and column, not 'check that it is UTF-8'."""
    from typer.testing import CliRunner

    from tpmkit.cli.app import app

    (tmp_path / "tpmkit.yaml").write_text(
        "name: KR\ntimezone: Europe/Berlin\nsources:\n  calls:\n    path: calls.csv\n"
        '    keep_rows: "CAST(q_time AS INT) > 0"\n    columns: {q_time: wait_seconds}\n'
    )
    (tmp_path / "calls.csv").write_text(
        "contact_id,offered_at,answered,q_time\n"
        "c1,2026-01-05 10:00:00,Y,5\nc2,2026-01-05 10:01:00,Y,forty\nc3,2026-01-05 10:02:00,N,3\n"
    )
    args = ["evaluate", "contacts_offered", "--period", "all", "-p", str(tmp_path / "tpmkit.yaml")]
    result = CliRunner().invoke(app, [*args, "--no-cache"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "calls.csv:3:4: error: column `q_time`: 'forty' is not a whole number" in text
    assert "null_values" in text and "UTF-8" not in text
