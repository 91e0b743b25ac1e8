"""Incremental runs finish again, per metric, only the records that can have changed
(round 11, issue 21 item 3): a metric's records before its own first recomputed period —
its cells' (a plain count or mean: the new week's), a formula's inputs', a whole-dataset
metric's first period whose cells changed, or where a young series' control limits change
— are the last run's, served from the segments; each equals a full run's, every column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from test_incremental import METRICS, same_records
from test_incremental import weekly as weekly  # the fixture (calls and tickets)
from test_incremental_segments import HEAD, _served, segment_files, state, week_rows
from test_incremental_segments import weeks as weeks  # the fixture (calls by queue)
from tpmkit import project as api
from tpmkit.increment import store

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 5)  # Monday of 2026-W02, week 0 of the `weeks` fixture


def monday(week: int) -> int:
    """The start of week `week` of the `weeks` fixture (Berlin midnight), in epoch µs."""
    return int((START + dt.timedelta(weeks=week)).replace(tzinfo=BERLIN).timestamp()) * 10**6


def evaluate(project: Path, cache: bool = True, **kwargs) -> pl.DataFrame:
    return api.load(project).evaluate(period="week", cache=cache, **kwargs).records


def check(project: Path, **kwargs) -> pl.DataFrame:
    ours, full = evaluate(project, **kwargs), evaluate(project, cache=False, **kwargs)
    same_records(ours.drop("period_start"), full.drop("period_start"))
    assert ours.get_column("period_start").equals(full.get_column("period_start"))
    return ours


def newest(project: Path) -> pl.DataFrame:
    """The records of the last segment stored."""
    chain = state(project)["finished"]["segments"]
    (path,) = [p for p in segment_files(project) if p.name == chain[-1]["file"]]
    return pl.read_parquet(path)


def firsts_in(records: pl.DataFrame) -> dict[str, int]:
    at = pl.col("period_start").dt.epoch("us")
    rows = records.group_by("metric").agg(at.min()).iter_rows()
    return {str(m): int(a) for m, a in rows}


FORMULAS = {
    # over two plain metrics: from their first recomputed week, the new one
    "asa_per_call": "id: asa_per_call\nname: ASA per call\nunit: seconds\n"
    "direction: lower_is_better\ncompute: {kind: formula, expr: asa / offered}\n",
    # over the repeat-window metric: from its first
    "fcr_asa": "id: fcr_asa\nname: FCR x ASA\nunit: percent\ndirection: higher_is_better\n"
    "compute: {kind: formula, expr: fcr * asa}\n",
}


def test_a_plain_metric_keeps_its_old_records_while_a_repeat_window_is_finished_again(
    weeks,
):
    """Week 8 added to weeks 0-7: FCR's 10-day window reaches back from the new file's
    first call (Monday 09:00) to Friday of week 6, and its horizon moved from the old
    latest call (week 7's Saturday 14:00) back 10 days into week 6 — its records from
    week 6 on are finished again. ASA and the count read only their week's rows: week 7,
    the last run's open week, had no file changed, so only their week 8 is new."""
    for name, text in FORMULAS.items():
        (weeks.parent / f"metrics/{name}.yaml").write_text(text)
    evaluate(weeks, by="queue")
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    records = check(weeks, by="queue")
    chain = state(weeks)["finished"]["segments"]
    assert len(chain) == 2 and chain[-1]["from"] == monday(6)
    assert chain[-1]["firsts"] == {
        "asa": monday(8),
        "asa_per_call": monday(8),
        "offered": monday(8),
    }
    # the new segment holds each metric's records from its own first on, only
    assert firsts_in(newest(weeks)) == {
        "fcr": monday(6),
        "fcr_asa": monday(6),
        "asa": monday(8),
        "asa_per_call": monday(8),
        "offered": monday(8),
    }
    # ASA's records of weeks 6 and 7 are served from the first segment (2 queues each)
    assert sum(_served(weeks, i, chain) for i in range(2)) == records.height
    asa = records.filter(pl.col("metric") == "asa")
    assert asa.height == 2 * 9


def test_a_week_more_then_a_changed_old_week(weeks):
    """Two runs in a row keep a chain of three segments, each metric served from the
    latest one holding it; a re-exported old week then finishes every metric from there
    (its rows changed) and leaves out the segments it replaces."""
    evaluate(weeks, by="queue")
    for week in (8, 9):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        records = check(weeks, by="queue")
    chain = state(weeks)["finished"]["segments"]
    # FCR's own first is week 7 the second time; but each queue has 7 FCR records before
    # it (weeks 0-6) and its 8th, week 7, is finished again: their control limits may
    # change, and with them week 6's signal (see the young series' test) — from week 6
    assert [s["from"] for s in chain] == [None, monday(6), monday(6)]
    assert [s.get("firsts") for s in chain] == [
        None,
        {"asa": monday(8), "offered": monday(8)},
        {"asa": monday(9), "offered": monday(9)},
    ]
    # ASA by segment: weeks 0-7, week 8, week 9 (hand-checked with `store.spans`)
    spans = store.spans(chain)
    assert [own.get("asa", default) for default, own in spans] == [
        (None, monday(8)),
        (monday(8), monday(9)),
        (monday(9), None),
    ]
    assert sum(_served(weeks, i, chain) for i in range(3)) == records.height
    (weeks.parent / "calls/05.csv").write_text(HEAD + week_rows(5, wait_shift=5))
    records = check(weeks, by="queue")
    chain = state(weeks)["finished"]["segments"]
    # week 5's rows changed: ASA from week 5, FCR's window from week 3 (10 days back
    # from week 5's Monday 09:00: Friday of week 3)
    assert [s["from"] for s in chain] == [None, monday(3)]
    assert chain[-1]["firsts"] == {"asa": monday(5), "offered": monday(5)}
    assert len(segment_files(weeks)) == 2  # the replaced ones deleted
    assert sum(_served(weeks, i, chain) for i in range(2)) == records.height


def test_past_the_segment_limit_the_records_are_stored_whole(weeks, monkeypatch):
    monkeypatch.setattr(store, "MAX_SEGMENTS", 2)
    evaluate(weeks, by="queue")
    for week in (8, 9, 10):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        records = check(weeks, by="queue")
        chain = state(weeks)["finished"]["segments"]
        assert len(chain) == [2, 1, 2][week - 8]
        assert sum(_served(weeks, i, chain) for i in range(len(chain))) == records.height
    assert chain[0].get("firsts") is None  # stored whole: every record of every metric
    assert chain[1]["firsts"] == {"asa": monday(10), "offered": monday(10)}


@pytest.mark.parametrize("by", [None, "queue"])
def test_a_run_with_last_equals_a_full_run(weeks, by):
    evaluate(weeks, by=by or ())
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    records = check(weeks, by=by or (), last=3)
    weeks_shown = records.filter(pl.col("metric") == "asa").get_column("period").unique()
    assert sorted(weeks_shown.to_list()) == ["2026-W08", "2026-W09", "2026-W10"]
    check(weeks, by=by or ())  # and the whole history after it


def test_a_whole_dataset_metric_is_finished_from_its_first_changed_period(weekly):
    """The backlog is computed from every file on every run: its cells of W10 and W11 are
    the last run's (2 and 1 open tickets), W12 is new (it ended after the first run's
    horizon, 18 March) — so its records are finished from W12, not from the first
    recomputed week of the calls (W11: FCR's window)."""
    evaluate(weekly)
    (weekly.parent / "calls/2026-W13.csv").write_text(
        "contact_id,offered_at,customer_id,answered,wait_seconds\n"
        "c08,2026-03-23 10:00:00,K4,Y,70\nc09,2026-03-27 09:00:00,K7,Y,80\n"
    )
    (weekly.parent / "tickets/2026-W13.csv").write_text(
        "ticket_id,created_at,resolved_at\nt5,2026-03-24 10:00:00,\n"
    )
    check(weekly)
    chain = state(weekly)["finished"]["segments"]
    w11, w12, w13 = (
        int(dt.datetime(2026, 3, d, tzinfo=BERLIN).timestamp()) * 10**6 for d in (9, 16, 23)
    )
    assert chain[-1]["from"] == w11
    assert chain[-1]["firsts"]["backlog"] == w12
    assert chain[-1]["firsts"]["offered"] == w13


def young_rows(week: int, gap: bool) -> str:
    """Queue Y's ASA: 10, 11, 10, 11, 10, 11, 10 in weeks 0-6, 0 in week 8 (and in week 7
    unless `gap`); queue Z: 5 every week."""
    at = START + dt.timedelta(weeks=week, hours=9)
    rows = f"z{week},{at:%Y-%m-%d %H:%M:%S},Z{week},Y,5,Z\n"
    if week < 7:
        rows += f"y{week},{at:%Y-%m-%d %H:%M:%S},Y{week},Y,{10 + week % 2},Y\n"
    elif week == 8 or not gap:
        rows += f"y{week},{at:%Y-%m-%d %H:%M:%S},Y{week},Y,0,Y\n"
    return rows


@pytest.mark.parametrize("gap", [False, True])
def test_a_young_series_control_limits_finish_its_old_records_again(make, gap):
    """Y has 7 records before the new week; its 8th, new, sets its control limits (the
    first 8 values): mean (10 × 4 + 11 × 3 + 0) / 8 = 9.125, with every one of the first 7
    above it — the 7th (week 6) ends a run of 7 (`run_above`) that the last run, with
    limits from 7 values (mean 10.43), could not see. So ASA is finished again from week
    6, though its own first recomputed week is the new one. With a gap (no week 7 for Y:
    the last run's open week, 7, holds only Z), week 6 is before every period recomputed."""
    new = 7 if not gap else 8
    project = make.project(
        "name: Young\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={"asa": METRICS["asa"]},
        files={f"calls/{w:02d}.csv": HEAD + young_rows(w, gap) for w in range(new)},
    )
    evaluate(project, by="queue")
    (project.parent / f"calls/{new:02d}.csv").write_text(HEAD + young_rows(new, gap))
    records = check(project, by="queue")
    y = records.filter(pl.col("queue") == "Y").sort("period_start")
    assert y.get_column("value").to_list()[-2:] == [10.0, 0.0]
    assert y.get_column("control_signal").to_list()[-2:] == ["run_above", None]
    chain = state(project)["finished"]["segments"]
    assert chain[-1]["from"] == monday(6)
    assert (chain[-1].get("firsts") or {}).get("asa", monday(6)) == monday(6)


def test_what_each_segment_serves_by_hand():
    """Three segments: all records (A); from period 20, m's from 30 (B); from 10 — an old
    file changed — m's from 40 (C). m: A up to 30, B 30-40, C from 40; n (no first of its
    own): A up to 10, B serves none of it (20 >= 10), C from 10. B still serves m."""
    chain = [
        {"file": "a", "from": None},
        {"file": "b", "from": 20, "firsts": {"m": 30}},
        {"file": "c", "from": 10, "firsts": {"m": 40}},
    ]
    spans = store.spans(chain)
    assert spans[0] == ((None, 10), {"m": (None, 30)})
    assert spans[1] == ((20, 10), {"m": (30, 40)})
    assert spans[2] == ((10, None), {"m": (40, None)})
    assert [s["file"] for s in store.serving(chain)] == ["a", "b", "c"]
    # a fourth from 5 with m's from 30: B serves nothing any more, and is left out
    chain.append({"file": "d", "from": 5, "firsts": {"m": 30}})
    assert [s["file"] for s in store.serving(chain)] == ["a", "d"]
