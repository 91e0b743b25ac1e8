"""The CSV cache: converted once, reused while the export is unchanged, invalidated when it
changes, never a different number or a lost error, safe when runs fill it at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.data.cache import CsvCache
from tpmkit.errors import DataError

PROJECT = """
name: Cache
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls:
    path: calls.csv
    columns: {"Call Id": contact_id, "Start": offered_at, "Wait": wait_seconds}
"""
METRICS = {
    "offered": "id: offered\nname: Offered\nunit: count\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: count}\n",
    "asa": "id: asa\nname: ASA\nunit: seconds\ndirection: lower_is_better\n"
    "dataset: calls\ncompute: {kind: mean, expr: wait_seconds, where: answered}\n",
}
CALLS = (
    "Call Id,Start,answered,Wait\n"
    "c1,2026-03-02 09:00:00,Y,10\n"
    "c2,2026-03-02 10:00:00,Y,0:30\n"
    "c3,2026-03-03T11:00:00+01:00,N,\n"
    "c4,2026-03-10 09:00:00,yes,20\n"
)


@pytest.fixture
def project(make):
    return make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})


def run(project_file: Path, cache: Path | bool = True):
    loaded = api.load(project_file)
    return loaded.evaluate(period="week", cache=cache)


def values(result) -> dict[tuple[str, str], tuple[float | None, int]]:
    return {(r["metric"], r["period"]): (r["value"], r["n"]) for r in result.records.to_dicts()}


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def test_first_run_converts_second_run_reads_the_cache(project):
    fresh = values(run(project, cache=False))
    first = run(project)
    second = run(project)
    assert (first.cache_misses, first.cache_hits) == (1, 0)
    assert (second.cache_misses, second.cache_hits) == (0, 1)
    assert values(first) == values(second) == fresh
    assert fresh[("asa", "2026-W10")] == ((10 + 30) / 2, 2)
    assert len(entries(project.parent / ".tpmkit/cache")) == 1


def test_a_changed_export_is_converted_again_and_the_old_entry_removed(project):
    run(project)
    folder = project.parent / ".tpmkit/cache"
    old = entries(folder)
    calls = project.parent / "calls.csv"
    calls.write_text(CALLS + "c5,2026-03-11 09:00:00,Y,40\n")
    result = run(project)
    assert result.cache_misses == 1
    assert values(result)[("asa", "2026-W11")] == ((20 + 40) / 2, 2)
    new = entries(folder)
    assert len(new) == 1 and new != old


def test_same_size_and_time_but_rewritten_start_is_noticed(project):
    run(project)
    calls = project.parent / "calls.csv"
    stat = calls.stat()
    calls.write_text(CALLS.replace("c1,2026-03-02 09:00:00,Y,10", "c1,2026-03-02 09:00:00,Y,50"))
    os.utime(calls, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert calls.stat().st_size == stat.st_size
    result = run(project)
    assert result.cache_misses == 1
    assert values(result)[("asa", "2026-W10")] == ((50 + 30) / 2, 2)


def test_a_changed_mapping_or_time_zone_does_not_reuse_the_entry(make, project):
    run(project)
    make.write("tpmkit.yaml", PROJECT.replace("Europe/Berlin", "UTC"))
    result = run(project)
    assert result.cache_misses == 1
    # 2026-03-03T11:00+01:00 is 10:00 UTC, same week either way; the count is unchanged
    assert values(result)[("offered", "2026-W10")] == (3.0, 3)


def test_a_corrupt_entry_is_a_miss_and_is_rebuilt(project):
    run(project)
    (entry,) = entries(project.parent / ".tpmkit/cache")
    entry.write_bytes(b"not parquet")
    result = run(project)
    assert result.cache_misses == 1
    assert values(result)[("offered", "2026-W10")] == (3.0, 3)


def test_no_cache_and_cache_false_leave_no_cache_behind(make, project):
    run(project, cache=False)
    assert not (project.parent / ".tpmkit/cache").exists()
    make.write("tpmkit.yaml", PROJECT + "cache: false\n")
    result = run(project)
    assert (result.cache_hits, result.cache_misses) == (0, 0)
    assert not (project.parent / ".tpmkit/cache").exists()


def test_an_unwritable_cache_is_skipped_with_a_note(project, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = run(project, cache=blocker / "cache")
    assert values(result)[("offered", "2026-W10")] == (3.0, 3)
    assert any("cache not used" in note for note in result.notes)


def test_cache_dir_option_and_environment_variable(project, tmp_path, monkeypatch):
    runner = CliRunner()
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv("TPMKIT_CACHE_DIR", str(folder))
    result = runner.invoke(app, ["evaluate", "-p", str(project), "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    assert len(entries(folder)) == 1
    assert not (project.parent / ".tpmkit/cache").exists()
    result = runner.invoke(app, ["evaluate", "-p", str(project), "-f", "json", "--no-cache"])
    assert result.exit_code == 0


def test_data_errors_from_a_cached_file_name_the_csv_line(make):
    bad = CALLS + "c6,2026-03-12 09:00:00,maybe,12\n"
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": bad})
    messages = []
    for _ in range(2):  # the second run reads the converted file
        with pytest.raises(DataError) as caught:
            run(project_file)
        messages.append([(i.file, i.line, i.column, i.message) for i in caught.value.issues])
    assert messages[0] == messages[1]
    file, line, column, message = messages[0][0]
    assert (file.endswith("calls.csv"), line, column) == (True, 6, 3)
    assert "answered" in message and "maybe" in message


def test_quarantine_from_a_cached_file_keeps_original_values(make):
    bad = CALLS + "c6,2026-03-12 09:00:00,maybe,12\n"
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": bad})
    loaded = api.load(project_file)
    loaded.evaluate(on_bad_rows="quarantine")
    result = loaded.evaluate(on_bad_rows="quarantine")
    assert result.cache_hits == 1
    (summary,) = result.datasets
    assert summary.quarantined == 1
    rejects = pl.read_csv(summary.rejects_file, infer_schema=False)
    assert rejects.row(0, named=True)["answered"] == "maybe"


def test_fingerprint_hash_is_reused_only_while_the_file_is_unchanged(tmp_path):
    cache = CsvCache(tmp_path / "cache")
    export = tmp_path / "export.csv"
    export.write_text("a,b\n1,2\n")
    entry, fingerprint = cache.entry(export, {"shape": 1}) or (None, {})
    assert entry is not None
    assert cache.store(entry, fingerprint, pl.LazyFrame({"a": [1]}))
    again = cache.entry(export, {"shape": 1})
    assert again is not None and again[0] == entry
    assert cache.entry(export, {"shape": 2}) != again  # another conversion, another entry
    export.write_text("a,b\n1,3\n")
    changed = cache.entry(export, {"shape": 1})
    assert changed is not None and changed[0] != entry


def test_two_runs_filling_the_cache_at_once(project, tmp_path):
    folder = tmp_path / "shared-cache"
    outputs = [tmp_path / f"out{i}.json" for i in range(4)]
    command = [
        sys.executable, "-m", "tpmkit", "evaluate", "-p", str(project), "-f", "json",
        "--cache-dir", str(folder), "-q", "-o",
    ]  # fmt: skip
    processes = [subprocess.Popen([*command, str(o)]) for o in outputs]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    texts = {o.read_text() for o in outputs}
    assert len(texts) == 1  # every run computed the same records
    (entry,) = entries(folder)
    assert pl.read_parquet(entry).height == 4
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind


def test_quiet_drops_notes_and_no_progress_is_drawn_without_a_terminal(make):
    project_file = make.project(
        "name: Quiet\nmetrics: [builtin]\nsources:\n  calls: {path: calls.csv}\n",
        files={
            "calls.csv": "contact_id,offered_at,answered,wait_seconds\nc1,2026-03-02 09:00:00,Y,3\n"
        },
    )
    runner = CliRunner()
    loud = runner.invoke(app, ["evaluate", "-p", str(project_file), "-f", "json"])
    quiet = runner.invoke(app, ["evaluate", "-p", str(project_file), "-f", "json", "-q"])
    assert loud.exit_code == quiet.exit_code == 0
    assert "not evaluated: no source for" in loud.stderr
    assert quiet.stderr == ""  # no notes, and no spinner: stderr is not a terminal
    assert loud.stdout == quiet.stdout
