"""Incremental runs (issue 21 item 3): with sources that are globs of weekly files, the
cells of closed periods come from the records cache and only the periods new or changed
files touch — widened by a repeat window and its horizon — are recomputed, from the
files holding their rows. The records equal a full run's; a changed, removed or
redefined input is never served stale."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import polars as pl
import pytest

from tpmkit import project as api
from tpmkit.errors import DataError

PROJECT = """
name: Weekly exports
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: "calls/*.csv"}
  tickets: {path: "tickets/*.csv"}
"""
METRICS = {
    "offered": "id: offered\nname: Offered\nunit: count\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: count}\n",
    "asa": "id: asa\nname: ASA\nunit: seconds\ndirection: lower_is_better\n"
    "dataset: calls\ncompute: {kind: mean, expr: wait_seconds, where: answered}\n",
    "fcr": "id: fcr\nname: FCR\nunit: percent\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: no_repeat_within, where: answered, key: customer_id, "
    "window_days: 10}\n",
    "backlog": "id: backlog\nname: Backlog\nunit: count\ndirection: lower_is_better\n"
    "dataset: tickets\ncompute: {kind: open_at_period_end, opened: created_at, "
    "closed: resolved_at, horizon: [created_at, resolved_at]}\n",
}
HEADER = "contact_id,offered_at,customer_id,answered,wait_seconds\n"
# weeks start on Monday: W10 = 2 March 2026, W11 = 9 March, W12 = 16 March, W13 = 23 March
CALLS = {
    "calls/2026-W10.csv": "c01,2026-03-02 09:00:00,K1,Y,10\nc02,2026-03-04 09:00:00,K2,Y,20\n",
    # c04 on Saturday: its 10-day window ends 24 March 12:00, after the first run's horizon
    "calls/2026-W11.csv": "c03,2026-03-10 09:00:00,K3,Y,30\nc04,2026-03-14 12:00:00,K4,Y,40\n",
    "calls/2026-W12.csv": "c06,2026-03-17 09:00:00,K5,Y,50\nc07,2026-03-22 18:00:00,K6,Y,60\n",
}
# the week added: K4 calls again within c04's window, in the next period but one
NEW_WEEK = (
    "calls/2026-W13.csv",
    "c08,2026-03-23 10:00:00,K4,Y,70\nc09,2026-03-27 09:00:00,K7,Y,80\n",
)
TICKET_HEADER = "ticket_id,created_at,resolved_at\n"
TICKETS = {
    "tickets/2026-W10.csv": "t1,2026-03-02 10:00:00,2026-03-10 10:00:00\nt2,2026-03-05 10:00:00,\n",
    "tickets/2026-W11.csv": "t3,2026-03-11 10:00:00,2026-03-12 10:00:00\n",
    "tickets/2026-W12.csv": "t4,2026-03-18 10:00:00,\n",
}
NEW_TICKETS = ("tickets/2026-W13.csv", "t5,2026-03-24 10:00:00,\n")


@pytest.fixture
def weekly(make):
    files = {name: HEADER + rows for name, rows in CALLS.items()}
    files.update({name: TICKET_HEADER + rows for name, rows in TICKETS.items()})
    return make.project(PROJECT, metrics=METRICS, files=files)


def add(project: Path, name: str, rows: str, header: str = HEADER) -> None:
    (project.parent / name).write_text(header + rows)


def run(project: Path, cache: bool = True, steps: list[str] | None = None):
    return api.load(project).evaluate(
        period="week", cache=cache, progress=(steps.append if steps is not None else None)
    )


def values(result) -> dict[tuple[str, str], tuple[float | None, int]]:
    return {(r["metric"], r["period"]): (r["value"], r["n"]) for r in result.records.to_dicts()}


def same_records(ours: pl.DataFrame, full: pl.DataFrame) -> None:
    """Every column equal; floats to 1e-9 relative (two full runs of the streaming engine
    differ in the last bits of sums, so exact equality is not a property of the engine)."""
    assert ours.columns == full.columns
    assert ours.height == full.height
    key = ["metric", "period", *[c for c in ("team", "queue") if c in ours.columns]]
    joined = ours.join(full, on=key, how="full", suffix="__full", nulls_equal=True)
    assert joined.height == full.height
    for column, dtype in full.schema.items():
        if column in key:
            continue
        a, b = pl.col(column), pl.col(f"{column}__full")
        if dtype == pl.Float64:
            differ = (a.is_null() != b.is_null()) | (
                (a - b).abs() > 1e-9 * pl.max_horizontal(a.abs(), b.abs(), pl.lit(1e-300))
            )
        else:
            differ = a.ne_missing(b)
        bad = joined.filter(differ)
        assert bad.is_empty(), f"{column}: {bad.select(*key, column, f'{column}__full')}"


def test_adding_a_week_recomputes_only_the_periods_it_reaches(weekly):
    first = values(run(weekly))
    # the first run, by hand (horizon 22 March 18:00: a contact counts for FCR when its
    # 10-day window ends by then, i.e. at or before 12 March 18:00)
    assert first[("fcr", "2026-W10")] == (100.0, 2)
    assert first[("fcr", "2026-W11")] == (100.0, 1)  # c03 kept; c04 not yet observable
    assert first[("backlog", "2026-W10")] == (2.0, 2)  # t1, t2
    assert first[("backlog", "2026-W11")] == (1.0, 1)  # t2 (t1 and t3 resolved)
    assert ("backlog", "2026-W12") not in first  # ends after the horizon (18 March)

    add(weekly, *NEW_WEEK)
    add(weekly, *NEW_TICKETS, header=TICKET_HEADER)
    steps: list[str] = []
    incremental = run(weekly, steps=steps)
    full = run(weekly, cache=False)
    same_records(incremental.records, full.records)
    got = values(incremental)
    # horizon now 27 March 09:00: contacts up to 17 March 09:00 count; c04 (W11, a cached
    # week) is repeated by c08 in W13, so W11 is recomputed: 1 kept of 2
    assert got[("fcr", "2026-W11")] == (50.0, 2)
    assert got[("fcr", "2026-W12")] == (100.0, 1)  # c06 exactly at the horizon: counted
    assert got[("fcr", "2026-W10")] == (100.0, 2)
    assert got[("asa", "2026-W13")] == (75.0, 2)
    assert got[("backlog", "2026-W12")] == (2.0, 2)  # t2, t4; horizon 24 March
    # W10 was served from the cache: its file is not read
    assert "records cache: reading 3 of 4 files of calls" in steps
    # the summaries still describe every file
    calls = next(d for d in incremental.datasets if d.name == "calls")
    assert calls.rows_read == 8 and len(calls.files) == 4
    assert calls == next(d for d in full.datasets if d.name == "calls")


def cache_folder(project: Path) -> Path:
    return project.parent / ".tpmkit/cache/records"


def poison(project: Path, metric: str, period_start: str, value: float) -> None:
    """Overwrite one cached cell's value and its finished record in place (to see whether
    the cache is served)."""
    found = 0
    for chunk in cache_folder(project).glob("*/*/*.*"):  # chunks/ (Parquet), finished/ (IPC)
        if chunk.suffix == ".summary":  # the records' series summary: no cell, no record
            continue
        arrow = chunk.suffix == ".arrow"
        cells = pl.read_ipc(chunk) if arrow else pl.read_parquet(chunk)
        hit = (pl.col("metric") == metric) & (
            pl.col("period_start").dt.strftime("%Y-%m-%d") == period_start
        )
        if not cells.filter(hit).is_empty():
            poisoned = cells.with_columns(
                pl.when(hit).then(pl.lit(value)).otherwise(pl.col("value")).alias("value")
            )
            poisoned.write_ipc(chunk) if arrow else poisoned.write_parquet(chunk)
            found += 1
    assert found == 2, f"cached cell and record of {metric} at {period_start}: {found}"


def test_the_cache_is_served_and_a_version_change_invalidates_it(weekly, monkeypatch):
    run(weekly)
    poison(weekly, "asa", "2026-03-02", 999.0)
    assert values(run(weekly))[("asa", "2026-W10")] == (999.0, 2)  # served from the cache
    monkeypatch.setattr("tpmkit.increment.planner.__version__", "99.0.0")
    steps: list[str] = []
    assert values(run(weekly, steps=steps))[("asa", "2026-W10")] == (15.0, 2)
    assert not any(s.startswith("records cache: reading") for s in steps)  # all files read


def test_a_changed_old_file_with_same_size_and_time_is_never_served_stale(weekly):
    run(weekly)
    old = weekly.parent / "calls/2026-W10.csv"
    before = old.stat()
    text = old.read_text()
    old.write_text(text.replace("K2,Y,20", "K2,Y,30"))  # same size
    os.utime(old, ns=(before.st_atime_ns, before.st_mtime_ns))  # same modification time
    assert old.stat().st_size == before.st_size
    assert old.stat().st_mtime_ns == before.st_mtime_ns
    got = run(weekly)
    assert values(got)[("asa", "2026-W10")] == (20.0, 2)  # (10 + 30) / 2, not 15
    same_records(got.records, run(weekly, cache=False).records)


def test_a_removed_file_takes_its_periods_out(weekly):
    run(weekly)
    (weekly.parent / "calls/2026-W11.csv").unlink()
    got = run(weekly)
    same_records(got.records, run(weekly, cache=False).records)
    assert ("asa", "2026-W11") not in values(got)


def test_a_changed_definition_is_recomputed(weekly):
    run(weekly)
    asa = weekly.parent / "metrics/asa.yaml"
    asa.write_text(asa.read_text().replace("expr: wait_seconds", "expr: wait_seconds * 2"))
    got = run(weekly)
    assert values(got)[("asa", "2026-W10")] == (30.0, 2)
    same_records(got.records, run(weekly, cache=False).records)


def test_a_late_file_for_a_closed_week_is_counted(weekly):
    run(weekly)
    add(weekly, "calls/2026-W10-late.csv", "c10,2026-03-03 09:00:00,K9,Y,60\n")
    got = run(weekly)
    assert values(got)[("asa", "2026-W10")] == (30.0, 3)  # (10 + 20 + 60) / 3
    same_records(got.records, run(weekly, cache=False).records)


def test_a_duplicate_id_between_a_new_and_an_old_file_is_a_located_error(weekly):
    run(weekly)
    add(weekly, "calls/2026-W13.csv", "c01,2026-03-23 10:00:00,K1,Y,70\n")
    with pytest.raises(DataError) as cached:
        run(weekly)
    with pytest.raises(DataError) as full:
        run(weekly, cache=False)
    assert str(cached.value) == str(full.value)
    text = " ".join(f"{i.message} {i.file}" for i in cached.value.issues)
    assert "2026-W10.csv" in text and "2026-W13.csv" in text


def test_no_cache_and_cache_false_use_no_records_cache(weekly):
    run(weekly, cache=False)
    assert not cache_folder(weekly).exists()
    weekly.write_text(PROJECT + "cache: false\n")
    run(weekly)
    assert not cache_folder(weekly).exists()


def test_the_open_period_is_never_cached(weekly):
    run(weekly)
    (state,) = cache_folder(weekly).glob("*/state.json")
    periods = json.loads(state.read_text())["metrics"]["asa"]["periods"]
    starts = sorted(pl.Series([int(p) for p in periods]).cast(pl.Datetime("us")).dt.date())
    assert [d.isoformat() for d in starts] == ["2026-03-01", "2026-03-08"]  # UTC of W10, W11


def test_runs_saving_at_once_leave_a_usable_cache(weekly):
    run(weekly)
    add(weekly, *NEW_WEEK)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            run(weekly)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    same_records(run(weekly).records, run(weekly, cache=False).records)


def test_the_example_split_into_weekly_files_gives_a_full_runs_records(tmp_path):
    example = Path(__file__).resolve().parents[1] / "examples/contact-center"
    root = tmp_path / "example"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".tpmkit"))
    data = root / "data"
    weeks = []
    for name, column, folder in (
        ("acd_calls.csv", "Start Time", "calls"),
        ("tickets.csv", "created_at", "tickets"),
        ("qa.csv", "evaluated_at", "qa"),
    ):
        frame = pl.read_csv(data / name, infer_schema=False)
        week = pl.col(column).str.slice(0, 10).str.to_date().dt.truncate("1w")
        (data / folder).mkdir()
        for (start,), rows in (
            frame.group_by(week.alias("w"))
            .agg(pl.all())
            .explode(pl.exclude("w"))
            .partition_by("w", as_dict=True)
            .items()
        ):
            rows.drop("w").write_csv(data / folder / f"{start}.csv")
            weeks.append(data / folder / f"{start}.csv")
        (data / name).unlink()
    text = (root / "tpmkit.yaml").read_text()
    text = text.replace("path: data/acd_calls.csv", "path: data/calls/*.csv")
    text = text.replace("{path: data/tickets.csv}", "{path: data/tickets/*.csv}")
    text = text.replace("{path: data/qa.csv,", "{path: data/qa/*.csv,")
    project = root / "tpmkit.yaml"
    project.write_text(text)
    last = sorted(p for p in weeks if p.parent.name == "calls")[-1]
    held = last.read_bytes()
    last.unlink()
    loaded = api.load(project)
    loaded.evaluate(by="team", cache=True)
    last.write_bytes(held)
    steps: list[str] = []
    ours = api.load(project).evaluate(by="team", cache=True, progress=steps.append)
    full = api.load(project).evaluate(by="team", cache=False)
    assert any(s.startswith("records cache: reading 3 of 13 files of calls") for s in steps)
    same_records(ours.records, full.records)
    assert ours.records.height > 400


def test_twenty_five_weeks_with_trends_and_control_signals_finish_like_a_full_run(make):
    """Records before the first recomputed week come from the last run; the weeks after
    are finished with their series' first records (control limits) and last records
    (trend window, runs) as context — the result equals a full run, signals included."""
    import datetime as dt

    files = {}
    start = dt.datetime(2026, 1, 5, 9)
    for week in range(25):
        rows = []
        for i in range(12):
            at = start + dt.timedelta(weeks=week, hours=i * 11)
            queue = "A" if i % 2 else "B"
            step = 40 if week >= 15 and queue == "A" else 0  # a shift: runs and limits
            wait = 20 + (week * 7 + i * 3) % 11 + step
            customer = f"K{(week * 12 + i) % 50}"
            rows.append(f"w{week}-{i},{at:%Y-%m-%d %H:%M:%S},{customer},Y,{wait},{queue}")
        files[f"calls/{week:02d}.csv"] = HEADER.strip() + ",queue\n" + "\n".join(rows) + "\n"
    project = make.project(
        "name: Thirty weeks\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={k: v for k, v in METRICS.items() if k != "backlog"},
        files={k: v for k, v in files.items() if k != "calls/24.csv"},
    )
    loaded = api.load(project)
    loaded.evaluate(period="week", by="queue")
    add(
        project,
        "calls/24.csv",
        files["calls/24.csv"].split("\n", 1)[1],
        HEADER.strip() + ",queue\n",
    )
    steps: list[str] = []
    ours = api.load(project).evaluate(period="week", by="queue", progress=steps.append)
    full = api.load(project).evaluate(period="week", by="queue", cache=False)
    assert any(s.startswith("records cache: reading") for s in steps)
    assert full.records.filter(pl.col("control_signal").is_not_null()).height > 0
    assert full.records.filter(pl.col("slope").is_not_null()).height > 0
    same_records(ours.records.drop("period_start"), full.records.drop("period_start"))
    assert ours.records.get_column("period_start").equals(full.records.get_column("period_start"))


def test_a_lost_chunk_is_a_miss_not_a_wrong_number(weekly):
    run(weekly)
    add(weekly, *NEW_WEEK)
    for chunk in cache_folder(weekly).glob("*/chunks/*.parquet"):
        chunk.unlink()
    steps: list[str] = []
    got = run(weekly, steps=steps)
    assert not any(s.startswith("records cache: reading") for s in steps)  # all files read
    same_records(got.records, run(weekly, cache=False).records)


def test_unreadable_finished_records_are_a_miss_not_a_wrong_number(weekly):
    """The last run's finished records are read late, after the cells are finished: when
    they cannot be read then, every record is finished from the cells instead."""
    run(weekly)
    add(weekly, *NEW_WEEK)
    (finished,) = cache_folder(weekly).glob("*/finished/*.parquet")
    finished.write_bytes(b"not parquet at all")
    steps: list[str] = []
    got = run(weekly, steps=steps)
    assert "records cache: reading 3 of 4 files of calls" in steps  # the cells still served
    same_records(got.records, run(weekly, cache=False).records)
    assert not list(cache_folder(weekly).glob("*/finished/.*"))  # no hold left behind
    (again,) = cache_folder(weekly).glob("*/finished/*.parquet")  # replaced, readable
    assert pl.read_parquet(again).height == got.records.height


def test_finished_records_deleted_after_the_state_was_read_are_still_read(tmp_path):
    """A concurrent save deletes the finished records the state named; the run holds a
    link to them from the moment it decides to use them, so it still reads them."""
    from tpmkit.increment import store

    folder = tmp_path / "context"
    records = pl.DataFrame({"metric": ["a", "b"], "value": [1.0, 2.0]})
    store.write_atomically(folder / "finished" / "r.parquet", records)
    held = store.hold(folder, "r.parquet")
    assert held is not None
    (folder / "finished" / "r.parquet").unlink()  # the other run's clean-up
    assert pl.read_parquet(held).equals(records)
    store.release(held)
    assert not list((folder / "finished").iterdir())
    assert store.hold(folder, "r.parquet") is None  # gone before the hold: a miss


def test_a_save_waits_for_another_runs_save_and_then_says_who(tmp_path, monkeypatch):
    """Saves take turns on the context folder's lock (`tpmkit.locks`, as annotate's); a
    save that cannot get it in time names the lock and the other writer."""
    from tpmkit.errors import UsageError
    from tpmkit.increment import store
    from tpmkit.locks import exclusive

    monkeypatch.setattr(store, "SAVE_WAIT", 0.2)
    with (
        exclusive(tmp_path / "state.json", writer="run saving the records cache"),
        pytest.raises(UsageError) as caught,
        store.locked(tmp_path),
    ):
        pass
    text = str(caught.value) + " ".join(str(i) for i in caught.value.issues)
    assert "state.json is locked" in text and "run saving the records cache" in text
    with store.locked(tmp_path):  # released: the next save gets it at once
        pass
