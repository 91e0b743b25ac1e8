"""Source options for exports that are not one clean row per record: `null_values` (a
marker text meaning empty), `keep_rows` (rows that are not records), `clock_times` (a date
column and a clock-time column, with a day roll-over). Figures are worked out by hand."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conftest import by_key, evaluate_records
from tpmkit.cli import app
from tpmkit.errors import DataError, TpmkitError

# A call log like an ACD/VRU export: tab-separated, CRLF, yymmdd dates, 0:00:00 = never.
# c1 answered after 10 s; c2 abandoned after 40 s; c3 a PHANTOM (not a call); c4 hung up
# in the VRU (never queued: not offered); c5 entered the VRU at 23:59:50 on the 1st and
# was queued at 0:00:04, answered after 6 s: offered on the 2nd.
HEADER = (
    "line\tcall\tcustomer\tdate\tvru_entry\tvru_exit\tq_start\tq_time\toutcome\tser_time\tserver"
)
ROWS = [
    "AA01\t1\t0\t990201\t9:00:00\t9:00:10\t9:00:10\t10\tAGENT\t100\tDORIT",
    "AA01\t2\t77\t990201\t9:05:00\t9:05:05\t9:05:05\t40\tHANG\t0\tNO_SERVER",
    "AA02\t1\t0\t990201\t9:06:00\t9:06:01\t0:00:00\t0\tPHANTOM\t5\tNO_SERVER",
    "AA02\t2\t0\t990201\t9:07:00\t9:07:30\t0:00:00\t0\tHANG\t0\tNO_SERVER",
    "AA02\t3\t77\t990201\t23:59:50\t0:00:04\t0:00:04\t6\tAGENT\t50\tNO_SERVER",
]
LOG = ("\r\n".join([HEADER, *ROWS]) + "\r\n").encode()

SOURCE = r"""
name: Calls
timezone: UTC
metrics: [builtin]
sources:
  calls:
    path: calls.txt
    separator: "\t"
    null_values: {customer: ["0"], server: [NO_SERVER]}
    keep_rows: "outcome = 'AGENT' OR (outcome = 'HANG' AND q_start <> '0:00:00')"
    columns: {server: agent_id, customer: customer_id, q_time: wait_seconds, ser_time: talk_seconds}
    derive:
      contact_id: "line || '/' || call"
      answered: "outcome = 'AGENT'"
    clock_times:
      offered_at: {date: date, date_format: "%y%m%d", time: q_start, after: vru_entry}
"""


def test_markers_filters_two_column_ids_and_clock_times(make):
    project_file = make.project(SOURCE, files={"calls.txt": LOG})
    days = by_key(evaluate_records(project_file, ["contacts_offered", "asa", "aht"], period="day"))
    # the 1st: c1 and c2 (c3 PHANTOM and c4 VRU-only are not calls); the 2nd: c5
    assert days[("contacts_offered", "1999-02-01")]["value"] == 2
    assert days[("contacts_offered", "1999-02-02")]["value"] == 1
    assert days[("asa", "1999-02-01")]["value"] == 10
    assert days[("asa", "1999-02-02")]["value"] == 6
    # NO_SERVER is empty: one agent (DORIT) handled one call
    agents = evaluate_records(project_file, ["contacts_handled"], period="all", by=["agent_id"])
    assert {r["agent_id"]: r["value"] for r in agents} == {"DORIT": 1, None: 1}


def test_a_marker_applies_to_every_column_when_given_as_a_list(make):
    tickets = (
        "number,opened_at,resolved_at,reopen_count\n"
        "INC1,29/2/2016 01:16,29/2/2016 11:29,?\n"
        "INC2,5/3/2016 12:00,?,1\n"
    )
    project_file = make.project(
        """
        name: Desk
        timezone: UTC
        metrics: [builtin]
        sources:
          tickets:
            path: incidents.csv
            null_values: ["?"]
            timestamp_format: "%d/%m/%Y %H:%M"
            columns: {number: ticket_id, opened_at: created_at, reopen_count: reopens}
        """,
        files={"incidents.csv": tickets},
    )
    index = by_key(
        evaluate_records(project_file, ["tickets_created", "tickets_resolved"], period="month")
    )
    assert index[("tickets_created", "2016-02")]["value"] == 1
    assert index[("tickets_created", "2016-03")]["value"] == 1
    assert index[("tickets_resolved", "2016-02")]["value"] == 1  # INC2 has no resolution


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("null_values: {sever: [NO_SERVER]}", "sever"),
        ("keep_rows: \"outcom = 'AGENT'\"", "outcom"),
        ("clock_times: {offered_at: {date: day, time: q_start}}", "day"),
    ],
)
def test_an_option_naming_a_column_the_export_lacks(make, option, named):
    text = (
        "name: Calls\ntimezone: UTC\nmetrics: [builtin]\nsources:\n  calls:\n"
        f'    path: calls.txt\n    separator: "\\t"\n    {option}\n'
    )
    project_file = make.project(text, files={"calls.txt": LOG})
    with pytest.raises(DataError) as caught:
        evaluate_records(project_file, ["contacts_offered"], period="all")
    issue = caught.value.issues[0]
    assert f"`{named}`" in issue.message and "calls.txt" in (issue.file or "")
    assert "`outcome`" in (issue.hint or "") or "`q_start`" in (issue.hint or "")


def test_an_unreadable_date_is_reported_with_its_line_and_values(make):
    bad = LOG.replace(b"990201\t9:05:00", b"99-02-01\t9:05:00")
    project_file = make.project(SOURCE, files={"calls.txt": bad})
    with pytest.raises(DataError) as caught:
        evaluate_records(project_file, ["contacts_offered"], period="all")
    issue = caught.value.issues[0]
    assert issue.line == 3 and "99-02-01 9:05:05" in issue.message
    assert "offered_at" in issue.message


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("keep_rows: \"outcome = 'AGENT'; DROP\"", "`;` is not allowed"),
        ('keep_rows: "system(outcome)"', "function `system` is not allowed"),
        ("null_values: [no]", "quote the marker"),
        ("clock_times: {offered_at: {date: date, time: q_start, when: x}}", "when"),
        ("clock_times: {offered_at: {date: date, time: q_start, date_format: '%H'}}", "no day"),
    ],
)
def test_options_are_validated_with_the_line(make, option, words):
    text = (
        "name: Calls\ntimezone: UTC\nmetrics: [builtin]\nsources:\n  calls:\n"
        f'    path: calls.txt\n    separator: "\\t"\n    {option}\n'
    )
    project_file = make.project(text, files={"calls.txt": LOG})
    result = CliRunner().invoke(app, ["validate", "-p", str(project_file)])
    assert result.exit_code == 2, result.output
    assert words in result.output and "tpmkit.yaml" in result.output
    with pytest.raises(TpmkitError):
        evaluate_records(project_file, ["contacts_offered"], period="all")


def test_the_cache_is_not_reused_when_the_filter_changes(make):
    project_file = make.project(SOURCE, files={"calls.txt": LOG})
    first = by_key(evaluate_records(project_file, ["contacts_offered"], period="all"))
    assert first[("contacts_offered", "all")]["value"] == 3
    text = project_file.read_text().replace("OR (outcome = 'HANG' AND q_start <> '0:00:00')", "")
    project_file.write_text(text)
    second = by_key(evaluate_records(project_file, ["contacts_offered"], period="all"))
    assert second[("contacts_offered", "all")]["value"] == 2


def test_the_documented_example_is_a_valid_source():
    import re
    from pathlib import Path

    import yaml

    from tpmkit.spec.models import Source

    doc = (Path(__file__).resolve().parents[1] / "docs" / "project-file.md").read_text()
    section = doc[doc.index("### Exports that are not one clean row per record") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    source = Source.model_validate(yaml.safe_load(block.group(1))["sources"]["calls"])
    assert source.null_values == {"customer_id": ["0"], "server": ["NO_SERVER"]}
    assert source.clock_times["offered_at"].after == "vru_entry"


def test_a_timestamp_defined_twice_is_an_error(make):
    text = SOURCE.replace(
        "      answered:", "      offered_at: \"date || ' ' || q_start\"\n      answered:"
    )
    project_file = make.project(text, files={"calls.txt": LOG})
    with pytest.raises(TpmkitError) as caught:
        evaluate_records(project_file, ["contacts_offered"], period="all")
    assert "`offered_at` is both derived and in `clock_times`" in caught.value.message
