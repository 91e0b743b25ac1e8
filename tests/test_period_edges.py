"""Issue 17 item 13 (the parts outside the spec): a period cut by --from/--to, the hour a
DST fall-back repeats, `--last` with a stock beside other metrics, and a closed pipe."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

import tpmkit
from conftest import ProjectFactory, by_key, evaluate_records

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"

WAIT = """\
id: wait_mean
name: Mean wait
owner: team_lead
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, expr: "wait_seconds"}
thresholds: {warning: 20, critical: 30}
"""


def two_weeks(make: ProjectFactory) -> Path:
    # W02 (Mon 5 .. Sun 11 Jan 2026): Monday 40 s, Thursday 10 s; W03: Tuesday 10 s
    calls = """\
    contact_id,offered_at,answered,wait_seconds,talk_seconds
    a,2026-01-05 09:00:00,true,40,100
    b,2026-01-08 09:00:00,true,10,100
    c,2026-01-13 09:00:00,true,10,100
    """
    yaml = "name: t\ntimezone: UTC\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n"
    return make.project(yaml, metrics={"wait_mean": WAIT}, files={"calls.csv": calls})


def test_a_period_cut_by_the_range_keeps_its_label_but_is_not_judged(make: ProjectFactory):
    path = two_weeks(make)
    whole = by_key(evaluate_records(path, period="week"))
    assert whole[("wait_mean", "2026-W02")]["value"] == 25.0  # (40 + 10) / 2
    assert whole[("wait_mean", "2026-W02")]["status"] == "warning"
    # --from Wednesday 7 Jan: W02 holds only Thursday's call, 10 s — it would read "ok"
    cut = by_key(evaluate_records(path, period="week", start=dt.date(2026, 1, 7)))
    partial = cut[("wait_mean", "2026-W02")]
    assert partial["value"] == 10.0
    assert partial["status"] == "not_judged"
    assert partial["reason"] == (
        "partial period: the range 2026-01-07 – … cuts this week; the value covers part of it"
    )
    assert cut[("wait_mean", "2026-W03")]["status"] == "ok"  # whole: judged
    assert cut[("wait_mean", "2026-W03")]["reason"] is None
    # --to Wednesday 14 Jan cuts W03; a range on week boundaries cuts nothing
    cut = by_key(evaluate_records(path, period="week", end=dt.date(2026, 1, 14)))
    assert cut[("wait_mean", "2026-W03")]["status"] == "not_judged"
    assert cut[("wait_mean", "2026-W02")]["status"] == "warning"
    aligned = evaluate_records(
        path, period="week", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 18)
    )
    assert [r["status"] for r in aligned] == ["warning", "ok"]
    # days and the `all` period are never cut: the range is whole days
    days = evaluate_records(path, period="day", start=dt.date(2026, 1, 7))
    assert {r["status"] for r in days} == {"ok"}


def test_the_repeated_dst_hour_is_labelled_with_its_offset(make: ProjectFactory):
    # Europe/Berlin falls back on Sun 25 Oct 2026: 02:00-03:00 happens at +02:00, then +01:00
    calls = """\
    contact_id,offered_at,answered,wait_seconds,talk_seconds
    c1,2026-10-25T01:30:00+02:00,true,10,100
    c2,2026-10-25T02:30:00+02:00,true,10,100
    c3,2026-10-25T02:10:00+01:00,true,10,100
    c4,2026-10-25T02:40:00+01:00,true,10,100
    c5,2026-10-25T03:30:00+01:00,true,10,100
    """
    yaml = (
        "name: t\ntimezone: Europe/Berlin\nmetrics: [builtin]\nsources:\n  calls: {path: c.csv}\n"
    )
    path = make.project(yaml, files={"c.csv": calls})
    records = evaluate_records(path, ["contacts_offered"], period="hour")
    # only the repeated hour carries its offset; the others keep the short label
    assert [(r["period"], r["value"]) for r in records] == [
        ("2026-10-25T01", 1.0),
        ("2026-10-25T02:00+02:00", 1.0),
        ("2026-10-25T02:00+01:00", 2.0),
        ("2026-10-25T03", 1.0),
    ]
    assert len({r["period"] for r in records}) == len(records)


def test_last_gives_a_stock_the_same_periods_alone_or_beside_others():
    project = tpmkit.load(EXAMPLE)

    def backlog(ids: list[str]) -> list[tuple[str, float]]:
        records = project.evaluate(ids, period="week", last=3, cache=False).records
        rows = records.filter(records["metric"] == "backlog").to_dicts()
        return [(r["period"], r["value"]) for r in rows]

    alone = backlog(["backlog"])
    assert len(alone) == 3
    # the calls reach a week further than the tickets' horizon: with aht beside it, the
    # backlog still shows its own last three weeks, and so it does among every metric
    assert backlog(["backlog", "aht"]) == alone
    assert backlog([]) == alone
    # and aht its own last three
    aht = project.evaluate(["backlog", "aht"], period="week", last=3, cache=False).records
    assert aht.filter(aht["metric"] == "aht").height == 3


@pytest.mark.parametrize(("fmt", "merged"), [("table", False), ("csv", False), ("table", True)])
def test_a_closed_pipe_exits_0_quietly(fmt: str, merged: bool):
    # far more output than a pipe buffers (every agent, every week), read one line of it;
    # `merged` is `2>&1 | head`: the notes go down the closed pipe too
    command = [sys.executable, "-m", "tpmkit", "evaluate", "-p", str(EXAMPLE), "aht"]
    command += ["--by", "agent_id", "-f", fmt, "--no-cache"]
    errors = subprocess.STDOUT if merged else subprocess.PIPE
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as process:
        assert process.stdout is not None
        process.stdout.readline()
        process.stdout.close()
        error = process.stderr.read().decode() if process.stderr else ""
        code = process.wait(timeout=120)
    assert code == 0, error
    assert "error" not in error.lower()


def test_a_closed_pipe_never_hides_a_breach_from_check(tmp_path):
    """Review of issue 17: `check | head -1` exited 0 with 5 critical metrics, so a
    `set -o pipefail` gate passed. The reader is gone but the gate is not: JUnit is still
    written and the breach still exits 1."""
    junit = tmp_path / "check.xml"
    command = [sys.executable, "-m", "tpmkit", "check", "-p", str(EXAMPLE), "--by", "agent_id"]
    command += ["--no-cache", "--no-why", "--now", "2026-11-20T09:00", "--junit", str(junit)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        error = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert code == 1, error
    assert "Traceback" not in error and junit.exists()
