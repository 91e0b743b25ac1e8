"""The history store: recorded runs, latest wins, restatements, definition changes, and
concurrent recorders that never lose or corrupt a run."""

from __future__ import annotations

import json
import multiprocessing

from typer.testing import CliRunner

from tpmkit import history
from tpmkit import project as api
from tpmkit.cli import app

PROJECT = """
name: History
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
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
actions: {warning: check staffing, critical: add staff}
"""
CALLS = "contact_id,offered_at,answered,wait_seconds\nc1,2026-03-02 10:00:00,Y,10\nc2,2026-03-09 10:00:00,Y,20\n"


def evaluate_and_record(project_file, command="evaluate"):
    loaded = api.load(project_file)
    result = loaded.evaluate(period="week", cache=False)
    return history.record(loaded, result, command), loaded


def test_latest_run_wins_and_a_changed_past_value_is_restated(make):
    project_file = make.project(PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS})
    first, loaded = evaluate_and_record(project_file)
    make.write(
        "calls.csv", CALLS.replace("c1,2026-03-02 10:00:00,Y,10", "c1,2026-03-02 10:00:00,Y,14")
    )
    second, loaded = evaluate_and_record(project_file)
    recorded = history.load(loaded)
    assert [r["run_id"] for r in recorded.runs] == [first, second]
    latest = {r["period"]: r for r in recorded.latest().to_dicts()}
    assert latest["2026-W10"]["value"] == 14.0 and latest["2026-W10"]["run_id"] == second
    assert latest["2026-W10"]["restated_from"] == 10.0
    assert latest["2026-W10"]["first_run_id"] == first
    assert latest["2026-W11"]["restated_from"] is None  # unchanged: not a restatement


def test_definition_changes_are_listed_field_by_field(make):
    project_file = make.project(PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS})
    evaluate_and_record(project_file)
    make.write("metrics/wait.yaml", WAIT.replace("warning: 30", "warning: 25"))
    second, loaded = evaluate_and_record(project_file)
    changes = history.load(loaded).definition_changes("wait")
    assert [(c["run_id"], c["field"], c["old"], c["new"]) for c in changes] == [
        (second, "thresholds.warning", 30.0, 25.0)
    ]
    result = CliRunner().invoke(
        app, ["history", "wait", "-p", str(project_file)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0 and "thresholds.warning" in result.stdout
    runs = CliRunner().invoke(app, ["history", "-p", str(project_file)], env={"COLUMNS": "200"})
    assert runs.exit_code == 0 and second in runs.stdout


def test_a_run_without_its_manifest_is_ignored(make):
    project_file = make.project(PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS})
    run_id, loaded = evaluate_and_record(project_file)
    manifest = history.folder(loaded) / "runs" / f"{run_id}.json"
    data = json.loads(manifest.read_text())
    assert data["inputs"][0]["size"] == len(CALLS) and "sample_blake2b" in data["inputs"][0]
    assert data["definitions"]["wait"]["hash"]
    manifest.unlink()
    assert history.load(loaded).runs == []


def test_evaluate_record_option(make):
    project_file = make.project(PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS})
    result = CliRunner().invoke(
        app, ["evaluate", "-p", str(project_file), "-f", "json", "--record", "--no-cache"]
    )
    assert result.exit_code == 0 and "recorded run" in result.stderr
    assert len(history.load(api.load(project_file)).runs) == 1


def _recorder(project_file: str, count: int) -> None:
    loaded = api.load(project_file)
    result = loaded.evaluate(period="week", cache=False)
    for _ in range(count):
        history.record(loaded, result, "test")


def test_two_concurrent_recorders_lose_nothing(make):
    project_file = make.project(PROJECT, metrics={"wait": WAIT}, files={"calls.csv": CALLS})
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_recorder, args=(str(project_file), 50)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    recorded = history.load(api.load(project_file))
    assert len(recorded.runs) == 100
    assert len({r["run_id"] for r in recorded.runs}) == 100
    assert recorded.records.height == 100 * 2  # two weeks each, every file readable
    assert not list((history.folder(api.load(project_file)) / "runs").glob(".*"))
