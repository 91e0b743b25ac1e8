"""Issue 17 items 1-6: hostile or everyday-broken input ends as a located message with
exit 2 (file, line, column, value, what is wrong, how to fix) or a correct result; never an
internal error, never inf/NaN in any output."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()
HEADER = "contact_id,offered_at,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds"
PROJECT = """
name: Hostile
metrics: [builtin]
sources:
  calls: {path: calls.csv}
"""


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def project(make, calls: str | bytes, yaml_text: str = PROJECT):
    return make.project(yaml_text, files={"calls.csv": calls})


def assert_located_exit_2(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.output


# item 1 -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_header_only_export_with_period_all_gives_no_data_records(make, fmt):
    path = project(make, HEADER + "\n")
    result = run("evaluate", "-p", str(path), "--period", "all", "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        records = json.loads(result.stdout)
        aht = next(r for r in records if r["metric"] == "aht")
        assert aht["status"] == "no_data" and aht["value"] is None and aht["n"] == 0
        assert aht["period"] == "all"
    else:
        assert "aht" in result.stdout and "no_data" in result.stdout


def test_header_only_export_is_a_warning_in_validate(make):
    path = project(make, HEADER + "\n")
    result = run("validate", "-p", str(path))
    assert result.exit_code == 0
    assert "no data rows" in result.output and "warning" in result.output


# item 2 -------------------------------------------------------------------------------

HUGE = f"{HEADER}\nc1,2026-01-05 10:00,Y,10,1e308,0,0\nc2,2026-01-05 10:05,Y,10,1e308,0,0\n"


def test_durations_that_would_overflow_are_data_errors(make):
    path = project(make, HUGE)
    out = assert_located_exit_2(run("evaluate", "-p", str(path), "--format", "json"))
    # file:line:column, the column, the value and what is wrong
    assert "calls.csv:2:5" in out and "2 rows with this problem (lines 2, 3)" in out
    assert "talk_seconds" in out and "'1e308'" in out and "implausibly large" in out


@pytest.mark.parametrize("value", ["1e16", "-2e15", "1e308"])
def test_huge_numbers_are_data_errors(make, value):
    path = make.project(
        PROJECT + "  costs: {path: costs.csv}\n",
        files={
            "calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n",
            "costs.csv": f"date,amount,category\n2026-01-05,{value},salaries\n",
        },
    )
    out = assert_located_exit_2(run("evaluate", "-p", str(path)))
    assert "costs.csv:2:2" in out and "amount" in out and f"'{value}'" in out


def test_large_but_plausible_values_stay_finite_in_every_output(make, tmp_path):
    # 1e15 is the largest accepted value: sums, means and squares stay finite
    rows = [f"c{i},2026-01-05 10:{i:02d},Y,10,1e15,1e15,1e15" for i in range(40)]
    path = project(make, HEADER + "\n" + "\n".join(rows) + "\n")
    for fmt in ("json", "csv", "table"):
        result = run("evaluate", "-p", str(path), "--format", fmt, "--period", "all")
        assert result.exit_code == 0, result.output
        lowered = result.stdout.lower()
        assert "inf" not in lowered.replace("info", "") and "nan" not in lowered
    records = json.loads(run("evaluate", "-p", str(path), "--format", "json").stdout)
    aht = next(r for r in records if r["metric"] == "aht")
    assert aht["value"] == pytest.approx(3e15)  # talk + hold + acw, hand-computed
    assert all(
        v is None or not isinstance(v, float) or math.isfinite(v)
        for r in records
        for v in r.values()
    )


def test_untyped_custom_column_of_inf_is_not_a_number(tmp_path):
    from tpmkit.data.load import load_dataset
    from tpmkit.spec.models import Source

    (tmp_path / "latency.csv").write_text("at,ms\n2026-01-05 10:00,inf\n2026-01-05 10:01,5\n")
    source = Source(path="latency.csv", time_column="at")
    data = load_dataset("latency", source, tmp_path, "UTC")
    assert data.frame.schema["ms"] == pl.String  # "inf" is no number to add up: text


# item 3 -------------------------------------------------------------------------------


def test_row_with_more_fields_than_the_header_names_line_and_counts(make):
    calls = (
        f"{HEADER}\n"
        "c1,2026-01-05 10:00,Y,10,100,0,0\n"
        '"c\n2",2026-01-05 10:01,Y,10,100,0,0\n'  # a quoted newline: lines 3-4
        "c3,2026-01-05 10:05,Y,10,1,234,0,0\n"  # line 5: 1,234 unquoted
    )
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "calls.csv:5:" in out
    assert "8 fields, but the header has 7" in out and "quote" in out


# item 4 -------------------------------------------------------------------------------


def test_min_sample_that_is_no_integer_quotes_the_value(make):
    path = project(
        make,
        f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n",
        PROJECT + "customize:\n  aht: {min_sample: thirty}\n",
    )
    out = assert_located_exit_2(run("validate", "-p", str(path)))
    assert "tpmkit.yaml:6:" in out and "'thirty'" in out and "min_sample" in out


def test_two_export_columns_mapped_to_one_name_are_both_named(make):
    yaml_text = """
    name: Clash
    metrics: [builtin]
    sources:
      calls:
        path: calls.csv
        columns:
          Talk: talk_seconds
    """
    path = project(make, f"{HEADER},Talk\nc1,2026-01-05 10:00,Y,10,100,0,0,100\n", yaml_text)
    for command in ("evaluate", "validate"):
        out = assert_located_exit_2(run(command, "-p", str(path)))
        assert "`talk_seconds` (column 5) and `Talk` (column 8)" in out
        assert "tpmkit.yaml:7:7" in out  # the line of the mapping
        assert "calls.csv:1:8" in out


# item 5 -------------------------------------------------------------------------------


def test_zero_byte_file_says_it_is_empty(make):
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, b""))))
    assert "calls.csv is empty" in out and "columns found" not in out


def test_tab_in_yaml_indentation_says_tab(make):
    path = make.write(
        "tpmkit.yaml", "name: t\nmetrics: [builtin]\nsources:\n  calls:\n  \tpath: calls.csv\n"
    )
    out = assert_located_exit_2(run("validate", "-p", str(path)))
    assert "tpmkit.yaml:5:3" in out and "a tab character in the indentation" in out


def test_non_utf8_file_names_the_first_bad_line_and_suggests_cp1252(make):
    calls = (
        f"{HEADER},queue\n".encode()
        + b"c1,2026-01-05 10:00,Y,10,100,0,0,Berlin\n"
        + b"c2,2026-01-05 10:05,Y,10,100,0,0,M\xfcnchen\n"
    )
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "calls.csv:3:35" in out and "encoding: cp1252" in out


def test_cp1252_file_reads_once_the_encoding_is_set(make):
    calls = f"{HEADER},queue\n".encode() + b"c1,2026-01-05 10:00,Y,10,100,0,0,M\xfcnchen\n"
    yaml_text = PROJECT.replace("{path: calls.csv}", "{path: calls.csv, encoding: cp1252}")
    result = run("evaluate", "-p", str(project(make, calls, yaml_text)), "--by", "queue")
    assert result.exit_code == 0 and "München" in result.stdout


@pytest.mark.parametrize(("mark", "shown"), [(";", '";"'), ("\t", '"\\t"')])
def test_header_with_another_separator_suggests_separator(make, mark, shown):
    calls = HEADER.replace(",", mark) + "\n" + "c1;2026-01-05 10:00;Y;10;100;0;0\n"
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "calls.csv:1" in out and f"separator: {shown}" in out


def test_custom_dataset_with_a_semicolon_header_suggests_separator(make):
    path = make.project(
        PROJECT + "  latency: {path: latency.csv, time_column: at}\n",
        files={
            "calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,10,100,0,0\n",
            "latency.csv": "at;ms\n2026-01-05 10:00;5\n",
        },
    )
    out = assert_located_exit_2(run("validate", "-p", str(path)))
    assert "latency.csv:1" in out and 'separator: ";"' in out


# item 6 -------------------------------------------------------------------------------


def _slashed(days: list[int]) -> str:
    rows = [f"c{i},{d:02d}/01/2026 10:{i % 60:02d},Y,10,100,0,0" for i, d in enumerate(days)]
    return HEADER + "\n" + "\n".join(rows) + "\n"


def test_identical_problems_collapse_into_one_line_with_a_format_hint(make):
    calls = _slashed([13 + i % 10 for i in range(300)])  # 13..22: day first, unambiguous
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    problem_lines = [line for line in out.splitlines() if "calls.csv:" in line]
    assert len(problem_lines) == 1
    [line] = problem_lines
    assert "calls.csv:2:2" in line and "300 rows with this problem (lines 2, 3, 4, …)" in line
    assert "'13/01/2026 10:00'" in line
    assert 'timestamp_format: "%d/%m/%Y %H:%M"' in line


def test_month_first_values_suggest_the_month_first_format(make):
    rows = [f"c{i},01/{13 + i % 10}/2026 10:00,Y,10,100,0,0" for i in range(5)]
    calls = HEADER + "\n" + "\n".join(rows) + "\n"
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert 'timestamp_format: "%m/%d/%Y %H:%M"' in out and "%d/%m" not in out


def test_values_that_read_both_ways_are_never_guessed(make):
    calls = _slashed([5] * 30)  # 05/01/2026: 5 January or 1 May
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "does not guess" in out
    assert '"%d/%m/%Y %H:%M"' in out and '"%m/%d/%Y %H:%M"' in out


def test_ambiguous_values_read_as_the_format_set(make):
    yaml_text = PROJECT.replace(
        "{path: calls.csv}", '{path: calls.csv, timestamp_format: "%m/%d/%Y %H:%M"}'
    )
    path = project(make, _slashed([5] * 3), yaml_text)
    records = json.loads(run("evaluate", "-p", str(path), "--format", "json").stdout)
    offered = next(r for r in records if r["metric"] == "contacts_offered")
    assert offered["value"] == 3 and offered["period_start"].startswith("2026-04-27")  # 1 May


def test_timestamp_format_applies_when_the_first_values_are_empty(make):
    # the first 500 values choose a fast coercion; when all are empty the full rules read
    # the rest, and they must know the source's format too
    rows = [f"c{i},,Y,10,100,0,0" for i in range(600)] + ["c9,13/01/2026 10:00,Y,10,100,0,0"]
    yaml_text = PROJECT.replace(
        "{path: calls.csv}", '{path: calls.csv, timestamp_format: "%d/%m/%Y %H:%M"}'
    )
    path = project(make, HEADER + "\n" + "\n".join(rows) + "\n", yaml_text)
    out = assert_located_exit_2(run("evaluate", "-p", str(path)))
    assert "13/01/2026" not in out  # the one timestamp read; the empty ones are the problem
    assert "offered_at" in out and "600 rows" in out


def test_a_quote_never_closed_names_the_line_it_opens_on(make):
    # found by tests/test_csv_fuzz.py: polars said "could not parse `"Y` as dtype `str`"
    calls = (
        f"{HEADER}\n"
        "c1,2026-01-05 10:00,Y,10,100,0,0\n"
        'c2,2026-01-05 10:01,"Y,10,100,0,0\n'  # line 3: the quote runs to the end
        "c3,2026-01-05 10:02,Y,10,100,0,0\n"
    )
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "calls.csv:3:" in out and "never closed" in out


def test_a_comma_separated_file_read_with_semicolons_suggests_the_comma(make):
    # found by the fuzz test: a quoted header read with the wrong separator is one column
    calls = (
        '"contact_id","offered_at","answered","wait_seconds"\n"c1","2026-01-05 10:00","Y","10"\n'
    )
    yaml_text = PROJECT.replace("{path: calls.csv}", '{path: calls.csv, separator: ";"}')
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls, yaml_text))))
    assert "calls.csv:1" in out and 'separator: ","' in out


def test_a_utf8_file_declared_cp1252_says_it_is_utf8(make):
    calls = ("\ufeff" + HEADER + "\nc1,2026-01-05 10:00,Y,10,100,0,0\n").encode("utf-8")
    yaml_text = PROJECT.replace("{path: calls.csv}", "{path: calls.csv, encoding: cp1252}")
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls, yaml_text))))
    assert "calls.csv:1:1" in out and "is UTF-8, not cp1252" in out and "remove `encoding:`" in out


NON_FINITE = """
- id: talk_per_wait
  name: Talk per second of wait
  unit: count
  dataset: calls
  compute: {kind: mean, expr: "talk_seconds / wait_seconds"}
- id: talk_power
  name: Talk to the eighth
  unit: count
  dataset: calls
  compute: {kind: mean, expr: "talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds * talk_seconds"}
"""


def test_an_expression_that_divides_by_zero_or_overflows_is_no_data_in_every_output(make):
    # the spread of such values was NaN: `--format json` and `--record` ended in exit 3
    # ("Out of range float values are not JSON compliant"), the CSV held "NaN"
    path = make.project(
        "name: T\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n",
        metrics={"odd": NON_FINITE},
        files={
            "calls.csv": f"{HEADER}\nc1,2026-01-05 10:00,Y,0,1e15,0,0\nc2,2026-01-05 10:05,Y,0,0,0,0\n"
        },
    )
    result = run("evaluate", "-p", str(path), "--format", "json", "--record")
    assert result.exit_code == 0, result.output
    for record in json.loads(result.stdout):
        assert record["value"] is None and record["sd"] is None and record["n"] == 2
        assert "no finite value" in record["reason"]
    csv_out = run("evaluate", "-p", str(path), "--format", "csv").stdout
    assert "nan" not in csv_out.lower() and "inf" not in csv_out.lower()
    assert run("history", "-p", str(path)).exit_code == 0


def test_a_project_file_that_is_not_utf8_names_the_line(make):
    path = make.write("tpmkit.yaml", b"name: M\xfcnchen\nmetrics: [builtin]\n")
    out = assert_located_exit_2(run("validate", "-p", str(path)))
    assert "tpmkit.yaml:1:8" in out and "not UTF-8" in out


def test_a_header_only_custom_dataset_with_period_all(make):
    path = make.project(
        """
        name: Custom
        metrics: [metrics/]
        sources:
          latency: {path: latency.csv, time_column: at, types: {ms: float}}
        """,
        metrics={
            "p95": "id: p95\nname: P95\nunit: ms\ndataset: latency\n"
            "compute: {kind: percentile, expr: ms, p: 95}\n"
        },
        files={"latency.csv": "at,ms\n"},
    )
    result = run("evaluate", "-p", str(path), "--period", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)
    assert record["value"] is None and record["n"] == 0 and "no rows" in record["reason"]


def test_a_semicolon_file_whose_header_holds_a_comma_suggests_the_semicolon(make):
    # read with commas the header splits in two at "Queue, name": still a semicolon file
    header = HEADER.replace(",", ";") + ";Queue, name"
    calls = header + "\nc1;2026-01-05 10:00;Y;10;100;0;0;Sales\n"
    out = assert_located_exit_2(run("evaluate", "-p", str(project(make, calls))))
    assert "required column" in out and 'separator: ";"' in out
