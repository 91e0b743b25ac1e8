"""--on-bad-rows quarantine: bad rows are left out, counted, and written to a rejects file with
their original values, so nothing is dropped silently."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import by_key, evaluate_records
from tpmkit.cli import app
from tpmkit.errors import DataError

PROJECT = """
name: Quarantine
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv, columns: {"Call Id": contact_id, "Talk Time": talk_seconds}}
  tickets: {path: tickets.csv}
"""


def metric(id_: str, dataset: str | None, compute: str) -> str:
    head = f"id: {id_}\nname: {id_}\nunit: x\ndirection: higher_is_better\n"
    return head + (f"dataset: {dataset}\n" if dataset else "") + f"compute: {compute}\n"


METRICS = {
    "offered": metric("offered", "calls", "{kind: count}"),
    "handled": metric("handled", "calls", "{kind: count, where: answered}"),
    "talk": metric("talk", "calls", "{kind: sum, expr: talk_seconds}"),
    "wait": metric("wait", "calls", "{kind: mean, expr: wait_seconds}"),
    "csat": metric("csat", "calls", "{kind: mean, expr: csat}"),
    "tickets": metric("tickets", "tickets", '{kind: count, where: "resolved_at IS NOT NULL"}'),
    "per_ticket": metric("per_ticket", None, '{kind: formula, expr: "offered / tickets"}'),
}
CALLS = """
Call Id,offered_at,agent_id,answered,wait_seconds,Talk Time,csat
k1,2026-01-05 09:00:00,a1,true,10,100,5
k2,2026-01-05 10:00:00,a1,true,20,abc,4
k3,2026-01-05 11:00:00,a2,true,30,300,6
k4,2026-01-05 12:00:00,a2,false,40,,
k5,2026-01-12 09:00:00,a1,maybe,50,-5,3
k6,2026-01-12 10:00:00,a2,true,60,600,2
k1,2026-01-12 11:00:00,a2,true,70,700,1
"""
# line 3 k2: talk "abc"; line 4 k3: csat 6; line 6 k5: answered "maybe" and talk -5;
# line 8: k1 a second time. Good rows: k1 and k4 (W02), k6 (W03).
TICKETS = """
ticket_id,created_at,resolved_at
t1,2026-01-05 09:00:00,2026-01-05 10:00:00
t2,2026-01-05 09:00:00,2026-01-04 10:00:00
t3,2026-01-06 09:00:00,2026-01-07 10:00:00
t4,2026-01-13 09:00:00,2026-01-13 09:30:00
"""
# t2 is resolved before it was created: left out. W02 keeps t1, t3; W03 keeps t4.


@pytest.fixture
def project(make):
    return make.project(
        PROJECT, metrics=METRICS, files={"calls.csv": CALLS, "tickets.csv": TICKETS}
    )


def read_rejects(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_default_is_fail(project):
    with pytest.raises(DataError):
        evaluate_records(project)
    assert not (project.parent / ".tpmkit" / "rejects").exists()


def test_values_from_good_rows_only(project):
    index = by_key(evaluate_records(project, on_bad_rows="quarantine"))
    # W02 good calls: k1 (talk 100, wait 10, csat 5) and k4 (abandon, wait 40)
    assert index[("offered", "2026-W02")]["value"] == 2
    assert index[("handled", "2026-W02")]["value"] == 1
    assert index[("talk", "2026-W02")]["value"] == 100.0
    assert index[("wait", "2026-W02")]["value"] == 25.0  # (10 + 40) / 2
    assert index[("csat", "2026-W02")]["value"] == 5.0  # k3's 6 is not averaged in
    # W03: only k6 (k5 bad, the second k1 a duplicate)
    assert index[("offered", "2026-W03")]["value"] == 1
    assert index[("talk", "2026-W03")]["value"] == 600.0
    assert index[("csat", "2026-W03")]["value"] == 2.0
    # tickets: W02 t1, t3 resolved (t2 out); W03 t4
    assert index[("tickets", "2026-W02")]["value"] == 2
    assert index[("tickets", "2026-W03")]["value"] == 1
    # formula: W02 2 / 2 = 1, W03 1 / 1 = 1
    assert index[("per_ticket", "2026-W02")]["value"] == 1.0


def test_records_count_rows_left_out_of_their_dataset(project):
    records = evaluate_records(project, on_bad_rows="quarantine")
    counts = {r["metric"]: r["quarantined"] for r in records}
    # calls: k2, k3, k5 and the second k1 -> 4 rows (k5 counts once for its two bad cells)
    for name in ("offered", "handled", "talk", "wait", "csat"):
        assert counts[name] == 4, name
    assert counts["tickets"] == 1  # t2
    assert counts["per_ticket"] == 5  # both datasets behind the formula
    # every record of a metric carries the count, not only the first period
    assert {r["quarantined"] for r in records if r["metric"] == "talk"} == {4}


def test_nothing_quarantined_reports_zero(make):
    clean = "\n".join(
        line for line in CALLS.splitlines() if line[:3] in ("Cal", "k1,", "k4,", "k6,")
    )
    clean = clean.replace("k1,2026-01-12 11:00:00", "k7,2026-01-12 11:00:00")
    path = make.project(
        PROJECT,
        metrics=METRICS,
        files={
            "calls.csv": clean + "\n",
            "tickets.csv": TICKETS.replace("2026-01-04", "2026-01-06"),
        },
    )
    records = evaluate_records(path, on_bad_rows="quarantine")
    assert {r["quarantined"] for r in records} == {0}
    assert not (make.root / ".tpmkit" / "rejects").exists()


def test_rejects_file_keeps_original_values_and_headers(project):
    evaluate_records(project, on_bad_rows="quarantine")
    rejects = project.parent / ".tpmkit" / "rejects" / "calls.rejects.csv"
    rows = read_rejects(rejects)
    assert list(rows[0]) == [
        "Call Id",
        "offered_at",
        "agent_id",
        "answered",
        "wait_seconds",
        "Talk Time",
        "csat",
        "_source_file",
        "_line",
        "_reason",
    ]
    assert [r["Call Id"] for r in rows] == ["k2", "k3", "k5", "k1"]
    assert [r["_line"] for r in rows] == ["3", "4", "6", "8"]
    assert all(r["_source_file"].endswith("calls.csv") for r in rows)
    k2, k3, k5, dup = rows
    # original text as exported, not the coerced values
    assert k2["Talk Time"] == "abc" and k2["offered_at"] == "2026-01-05 10:00:00"
    assert "Talk Time" in k2["_reason"] and "not a duration" in k2["_reason"]
    assert k3["csat"] == "6" and "out of range 1..5" in k3["_reason"]
    assert k5["answered"] == "maybe" and k5["Talk Time"] == "-5"
    assert "not a boolean" in k5["_reason"] and "negative duration" in k5["_reason"]
    assert dup["offered_at"] == "2026-01-12 11:00:00" and "duplicate" in dup["_reason"]
    # the first k1 is kept: it is not in the rejects
    assert "2026-01-05 09:00:00" not in {r["offered_at"] for r in rows}
    tickets = read_rejects(project.parent / ".tpmkit" / "rejects" / "tickets.rejects.csv")
    assert [(t["ticket_id"], t["resolved_at"], t["_line"]) for t in tickets] == [
        ("t2", "2026-01-04 10:00:00", "3")
    ]
    assert "before" in tickets[0]["_reason"]


def test_rejects_dir_option(project, tmp_path):
    folder = tmp_path / "elsewhere" / "rejects"
    evaluate_records(project, on_bad_rows="quarantine", rejects_dir=folder)
    assert [r["Call Id"] for r in read_rejects(folder / "calls.rejects.csv")] == [
        "k2",
        "k3",
        "k5",
        "k1",
    ]
    assert (folder / "tickets.rejects.csv").exists()
    assert not (project.parent / ".tpmkit" / "rejects").exists()


def test_rejects_line_after_embedded_newline_and_quoted_values(make):
    raw = (
        "\ufeffcontact_id,offered_at,queue,answered,wait_seconds\r\n"  # line 1
        'k1,2026-01-05 09:00:00,"Sales\r\nEU",true,10\r\n'  # lines 2-3
        'k2,2026-01-05 10:00:00,"Billing, ""VIP""",nope,20\r\n'  # line 4: bad boolean
        "k3,2026-01-05 11:00:00,Billing,false,30\r\n"  # line 5
    ).encode()
    yaml = "name: Q\ntimezone: UTC\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n"
    path = make.project(
        yaml,
        metrics={"handled": METRICS["handled"], "wait": METRICS["wait"]},
        files={"calls.csv": raw},
    )
    index = by_key(evaluate_records(path, period="day", on_bad_rows="quarantine"))
    assert index[("handled", "2026-01-05")]["value"] == 1  # k1 (k3 not answered, k2 out)
    assert index[("wait", "2026-01-05")]["value"] == 20.0  # (10 + 30) / 2
    assert index[("wait", "2026-01-05")]["quarantined"] == 1
    [row] = read_rejects(make.root / ".tpmkit" / "rejects" / "calls.rejects.csv")
    assert row["contact_id"] == "k2"  # header without the byte-order mark
    assert row["queue"] == 'Billing, "VIP"' and row["answered"] == "nope"
    assert row["_line"] == "4"


def test_all_rows_bad_gives_no_data_not_a_crash(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds
    k1,2026-01-05 09:00:00,maybe,10
    k2,2026-01-05 10:00:00,true,-1
    """
    yaml = "name: Q\ntimezone: UTC\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n"
    path = make.project(yaml, metrics={"handled": METRICS["handled"]}, files={"calls.csv": calls})
    [record] = evaluate_records(path, ["handled"], on_bad_rows="quarantine")
    # `handled` has no thresholds: not judged comes before no data
    assert record["status"] == "not_judged" and record["value"] is None
    assert record["reason"].startswith("no thresholds; ")
    assert record["quarantined"] == 2


def test_rejects_from_several_files_of_a_glob(make):
    header = "contact_id,offered_at,answered,wait_seconds\n"
    files = {
        "calls/a.csv": header + "k1,2026-01-05 09:00:00,true,10\nk2,2026-01-05 10:00:00,ja,20\n",
        "calls/b.csv": header + "k3,2026-01-05 11:00:00,false,-4\nk4,2026-01-05 12:00:00,true,30\n",
    }
    yaml = "name: Q\ntimezone: UTC\nmetrics: [metrics/]\nsources:\n  calls: {path: calls/*.csv}\n"
    path = make.project(yaml, metrics={"wait": METRICS["wait"]}, files=files)
    [record] = evaluate_records(path, period="day", on_bad_rows="quarantine")
    assert record["value"] == 20.0 and record["quarantined"] == 2  # (10 + 30) / 2 from k1, k4
    rows = read_rejects(make.root / ".tpmkit" / "rejects" / "calls.rejects.csv")
    found = {(r["_source_file"].rsplit("/", 1)[-1], r["_line"], r["contact_id"]) for r in rows}
    assert found == {("a.csv", "3", "k2"), ("b.csv", "2", "k3")}


def test_rejects_from_parquet_name_the_row(make):
    frame = pl.DataFrame(
        {
            "contact_id": ["k1", "k2", "k3"],
            "offered_at": [dt.datetime(2026, 1, 5, h) for h in (9, 10, 11)],
            "answered": [True, True, False],
            "wait_seconds": [10.0, -3.0, 4.0],
        }
    )
    frame.write_parquet(make.root / "calls.parquet")
    yaml = "name: Q\ntimezone: UTC\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.parquet}\n"
    path = make.project(yaml, metrics={"wait": METRICS["wait"]})
    [record] = evaluate_records(path, period="day", on_bad_rows="quarantine")
    assert record["value"] == 7.0 and record["quarantined"] == 1  # (10 + 4) / 2
    [row] = read_rejects(make.root / ".tpmkit" / "rejects" / "calls.rejects.csv")
    assert row["contact_id"] == "k2" and row["_line"] == "2"  # the second row of the file
    assert float(row["wait_seconds"]) == -3.0 and "negative duration" in row["_reason"]


runner = CliRunner()


def test_cli_quarantine_notes_and_exit_0(project):
    result = runner.invoke(
        app, ["evaluate", "-p", str(project), "--on-bad-rows", "quarantine"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    flat = " ".join(result.output.split())  # the table may wrap the note
    assert "4 row(s) of `calls` were quarantined" in flat
    assert "1 row(s) of `tickets` were quarantined" in flat
    assert "calls.rejects.csv" in flat


def test_cli_quarantine_json_carries_counts(project):
    result = runner.invoke(
        app,
        ["evaluate", "-p", str(project), "--on-bad-rows", "quarantine", "--format", "csv"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "note: 4 row(s) of `calls` were quarantined" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["quarantined"] for r in rows if r["metric"] == "talk"} == {"4"}
    assert {r["quarantined"] for r in rows if r["metric"] == "tickets"} == {"1"}


def test_cli_rejects_option(project, tmp_path):
    folder = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "-p",
            str(project),
            "--on-bad-rows",
            "quarantine",
            "--rejects",
            str(folder),
            "-f",
            "json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert len(read_rejects(folder / "calls.rejects.csv")) == 4
