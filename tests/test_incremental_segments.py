"""Incremental runs store their finished records in segments (issue 21 item 3): a run that
took the records before its first recomputed week from the last run stores only its own,
from that week on, after the segments it read — not the whole history again — and the
records of every run still equal a full run's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from test_incremental import HEADER, METRICS, same_records
from tpmkit import project as api
from tpmkit.increment import store

WEEKS = 14
START = dt.datetime(2026, 1, 5, 9)  # a Monday (2026-W02)


def week_rows(week: int, wait_shift: int = 0) -> str:
    rows = []
    for i in range(12):
        at = START + dt.timedelta(weeks=week, hours=i * 11)
        queue = "A" if i % 2 else "B"
        wait = 20 + (week * 7 + i * 3) % 11 + (40 if week >= 9 and queue == "A" else 0)
        rows.append(
            f"w{week}-{i},{at:%Y-%m-%d %H:%M:%S},K{(week * 12 + i) % 50},Y,"
            f"{wait + wait_shift},{queue}\n"
        )
    return "".join(rows)


HEAD = HEADER.strip() + ",queue\n"


@pytest.fixture
def weeks(make):
    project = make.project(
        "name: Weeks\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={k: v for k, v in METRICS.items() if k != "backlog"},
        files={f"calls/{w:02d}.csv": HEAD + week_rows(w) for w in range(8)},
    )
    return project


def run(project: Path, cache: bool = True) -> pl.DataFrame:
    return api.load(project).evaluate(period="week", by="queue", cache=cache).records


def state(project: Path) -> dict:
    (found,) = (project.parent / ".tpmkit/cache/records").glob("*/state.json")
    return json.loads(found.read_text())


def segment_files(project: Path) -> list[Path]:
    return sorted((project.parent / ".tpmkit/cache/records").glob("*/finished/*.parquet"))


def check(project: Path) -> pl.DataFrame:
    ours, full = run(project), run(project, cache=False)
    same_records(ours.drop("period_start"), full.drop("period_start"))
    assert ours.get_column("period_start").equals(full.get_column("period_start"))
    return ours


def test_each_week_added_stores_only_its_own_records(weeks):
    run(weeks)  # 8 weeks: one segment, every record
    (first,) = segment_files(weeks)
    everything = pl.read_parquet(first).height
    for week in range(8, 11):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        records = check(weeks)
        chain = state(weeks)["finished"]["segments"]
        assert len(chain) == week - 6  # one more per run
        newest = pl.read_parquet(
            weeks.parent / ".tpmkit/cache/records" / _where(weeks) / chain[-1]["file"]
        )
        # the new segment starts at the first recomputed week: the last run's open week
        starts = newest.get_column("period_start").dt.epoch("us").unique().sort().to_list()
        assert starts[0] == chain[-1]["from"]
        assert newest.height < everything / 2
        # the segments together hold exactly this run's records
        assert sum(_served(weeks, s, chain) for s in range(len(chain))) == records.height


def _where(project: Path) -> str:
    (found,) = (project.parent / ".tpmkit/cache/records").glob("*/state.json")
    return f"{found.parent.name}/finished"


def _served(project: Path, i: int, chain: list[dict]) -> int:
    """The records segment `i` serves: per metric, from its own first period (`firsts`,
    else the segment's `from`) to where a later segment's records of it begin."""
    frame = pl.read_parquet(
        project.parent / ".tpmkit/cache/records" / _where(project) / chain[i]["file"]
    )
    (lo, hi), own = store.spans(chain)[i]
    at, metric = pl.col("period_start").dt.epoch("us"), pl.col("metric")

    def bound(which: int, default: int | None) -> pl.Expr:
        mapping = {m: span[which] for m, span in own.items()}
        return metric.replace_strict(
            mapping, default=pl.lit(default, dtype=pl.Int64), return_dtype=pl.Int64
        )

    low, high = bound(0, lo), bound(1, hi)
    served = (low.is_null() | (at >= low)) & (high.is_null() | (at < high))
    return frame.filter(served).height


def test_past_the_limit_one_segment_holds_every_record(weeks, monkeypatch):
    monkeypatch.setattr(store, "MAX_SEGMENTS", 2)
    run(weeks)
    for week in range(8, 11):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        check(weeks)
        assert len(state(weeks)["finished"]["segments"]) == [2, 1, 2][week - 8]
    assert len(segment_files(weeks)) == 2  # the replaced segments are deleted


def test_a_changed_old_week_replaces_the_later_segments(weeks):
    run(weeks)
    for week in range(8, 10):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        run(weeks)
    assert len(state(weeks)["finished"]["segments"]) == 3
    # week 3 re-exported with other waits: from week 3 on, every record is finished again
    (weeks.parent / "calls/03.csv").write_text(HEAD + week_rows(3, wait_shift=5))
    check(weeks)
    chain = state(weeks)["finished"]["segments"]
    assert len(chain) == 2 and chain[0]["from"] is None
    # week 3 starts Monday 26 January; FCR's 10-day window reaches back into the week of
    # 12 January (Berlin midnight: 23:00 UTC the day before), the first week recomputed
    monday = dt.datetime(2026, 1, 11, 23, tzinfo=dt.UTC)
    assert chain[1]["from"] == int(monday.timestamp()) * 1_000_000
    assert len(segment_files(weeks)) == 2


def test_a_lost_segment_is_a_miss_not_a_wrong_number(weeks):
    run(weeks)
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    run(weeks)
    segment_files(weeks)[0].unlink()  # one of the two
    (weeks.parent / "calls/09.csv").write_text(HEAD + week_rows(9))
    check(weeks)
    assert len(state(weeks)["finished"]["segments"]) == 1  # stored whole again


def test_cached_cells_are_stored_in_period_order(weeks):
    """A chunk of cached cells holds its cells in period order, so that a run reading a
    few of its periods skips the other row groups by their statistics."""
    run(weeks)
    (chunk,) = (weeks.parent / ".tpmkit").rglob("chunks/*.parquet")
    cells = pl.read_parquet(chunk)
    assert cells.height > 0 and cells.get_column("period_start").is_sorted()
    assert cells.get_column("metric").n_unique() > 1  # several metrics, interleaved by period


def test_a_chunk_of_many_periods_is_stored_in_ranges_of_them():
    """More periods than `store.BATCHES`: the cells are written in ranges of periods, each
    range after the one before (every cell kept, nulls last)."""
    from tpmkit.increment import store

    hours = [dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(200)]
    chunk = pl.DataFrame(
        {
            "metric": ["a", "b"] * 200 + ["a"],
            "period_start": [h for h in reversed(hours) for _ in range(2)] + [None],
            "value": [float(i) for i in range(401)],
        },
        schema_overrides={"period_start": pl.Datetime("us", "UTC")},
    )
    ordered = store._in_period_order(chunk).collect()
    assert ordered.height == chunk.height
    assert ordered.sort("value").equals(chunk.sort("value"))
    starts = ordered.get_column("period_start")
    assert starts[-1] is None and starts.head(400).is_sorted() is False  # ranges, not a sort
    per_range = -(-200 // store.BATCHES)  # 4 hours a range
    ranks = (starts.head(400).rank("dense") - 1) // per_range
    assert ranks.is_sorted()


def test_a_save_that_cannot_write_its_chunk_publishes_nothing_and_the_next_one_cleans_up(
    weeks, monkeypatch
):
    """The chunk, the segment and the summary are written at once (`store.save`): a chunk
    that cannot be written (a full disk) leaves the last state as it was, once the other
    writes ended (none goes on after the save); the run's records are still a full run's,
    and the next save deletes what the failed one wrote."""
    run(weeks)
    before = state(weeks)
    cache = weeks.parent / ".tpmkit/cache/records"
    files_before = {p.name for p in cache.glob("*/*/*.*")}
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    real = store.write_atomically
    chunks = []

    def full_disk(target: Path, content):
        if target.parent.name == "chunks":
            chunks.append(target)
            raise OSError(28, "No space left on device")
        real(target, content)

    monkeypatch.setattr(store, "write_atomically", full_disk)
    same_records(run(weeks), run(weeks, cache=False))
    assert chunks  # it tried
    assert state(weeks) == before  # not published
    left = {p.name for p in cache.glob("*/*/*.*")} - files_before
    assert left  # the segment and the summary of the failed save
    assert not list(cache.glob("*/*/.*.tmp"))  # every write ended, renamed or removed
    monkeypatch.setattr(store, "write_atomically", real)
    same_records(run(weeks), run(weeks, cache=False))
    assert not left & {p.name for p in cache.glob("*/*/*.*")}  # deleted by the next save
    assert state(weeks)["finished"]["segments"]
