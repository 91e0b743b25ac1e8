"""The last run's records' series summary (issue 21 item 3, `tpmkit.increment.summaries`):
an incremental run's context (each series' first period, record count, control limits,
last periods) comes from it instead of a scan of the records; it must give exactly what
the scan gives, and a run's summary (the last one cut at its first recomputed period,
its own records added) must equal the summary of all the records it serves."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from test_incremental_segments import HEAD, check, week_rows
from test_incremental_segments import weeks as weeks  # the fixture
from tpmkit.increment import finishing, summaries

WEEK = 7 * 86_400 * 1_000_000  # µs


def records(spec: dict[tuple[str, str], list[tuple[int, float | None]]]) -> pl.DataFrame:
    """Finished records (metric, queue, period_start, value) from (week, value) lists per
    series, in output order: metric, then period, then queue."""
    rows = [
        {
            "metric": metric,
            "queue": queue,
            "period_start": dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(weeks=week),
            "value": value,
        }
        for (metric, queue), points in spec.items()
        for week, value in points
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("period_start").dt.cast_time_unit("us"))
    return frame.sort("metric", "period_start", "queue", maintain_order=True)


SERIES = {
    # 12 weekly values: mature, limits from the first 8 (10, 14, 10, 14, 10, 14, 10, 13)
    ("asa", "A"): [(w, [10, 14, 10, 14, 10, 14, 10, 13][w] if w < 8 else 13.0) for w in range(12)],
    # a gap (weeks 4-7) and a missing value: its 6th-last record before week 11 is week 1
    ("asa", "B"): [(0, 5.0), (1, None), (2, 7.0), (3, 9.0), (8, 4.0), (9, 6.0), (10, 8.0)],
    # young: 3 records
    ("aht", "A"): [(9, 300.0), (10, 320.0), (11, 310.0)],
    ("aht", "B"): [(w, 200.0 + w) for w in range(12)],
}


def scanned(frame: pl.DataFrame, first: int) -> tuple[pl.DataFrame, set[int]]:
    """What `finishing.context` computes from the records themselves."""
    at = pl.col("period_start").dt.epoch("us")
    old = frame.select("metric", "queue", at.alias("__at"), "value").filter(pl.col("__at") < first)
    per_series = finishing._per_series(old, ["metric", "queue"])
    since = per_series.get_column("__from").min()
    periods = set(old.filter(pl.col("__at") >= since).get_column("__at").unique().to_list())
    young = per_series.filter(pl.col("__records") < 8).select("metric", "queue")
    periods |= set(old.join(young, on=["metric", "queue"], how="semi").get_column("__at"))
    return per_series, periods


def start(week: int) -> int:
    return int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp()) * 1_000_000 + week * WEEK


@pytest.mark.parametrize("week", [3, 9, 11])
def test_the_summary_gives_the_context_the_records_give(week):
    frame = records(SERIES)
    first = start(week)
    ours = finishing._from_summary(summaries.of_records(frame, ["queue"]), None, first, ["queue"])
    assert ours is not None
    per_series, periods, values = ours
    theirs, their_periods = scanned(frame, first)
    keys = ["metric", "queue"]
    assert per_series.sort(keys).equals(theirs.select(per_series.columns).sort(keys))
    # the periods each series' context reads are among those the scan reads
    assert periods <= their_periods
    # the context's values: each series' last HISTORY records before the cut (all of a
    # young one's), as they are in the records
    at = pl.col("period_start").dt.epoch("us")
    before = frame.filter(at < first).with_columns(at).sort([*keys, "period_start"])
    young = pl.len().over(keys) < 8
    own = before.filter(young | (pl.int_range(pl.len()).over(keys) >= pl.len().over(keys) - 6))
    assert values is not None
    assert values.sort([*keys, "period_start"]).equals(own.select(values.columns))
    if week == 11:  # by hand: asa/B has 7 records before week 11 (0-3, 8-10)
        b = per_series.filter((pl.col("metric") == "asa") & (pl.col("queue") == "B")).row(
            0, named=True
        )
        assert b["__from"] == start(1) and b["__records"] == 7
        assert b["__count"] == 6  # one value missing
        b_values = values.filter((pl.col("metric") == "asa") & (pl.col("queue") == "B"))
        # young (7 records): all of them
        assert b_values.get_column("value").to_list() == [5.0, None, 7.0, 9.0, 4.0, 6.0, 8.0]
        a = per_series.filter((pl.col("metric") == "asa") & (pl.col("queue") == "A")).row(
            0, named=True
        )
        assert a["__mean"] == pytest.approx(95 / 8)
        assert a["__sd"] == pytest.approx((28.875 / 7) ** 0.5)


def test_a_cut_summary_with_new_records_is_the_summary_of_all_of_them():
    frame = records(SERIES)
    at = pl.col("period_start").dt.epoch("us")
    old = frame.filter(at < start(11))
    # the last run: weeks 0-10; this run recomputes from week 9 (its new records: 9-11)
    new = records(
        {k: [(w, v if v is None else v + 1) for w, v in p if w >= 9] for k, p in SERIES.items()}
    )
    ours = summaries.add(
        summaries.cut(summaries.of_records(old, ["queue"]), start(9)), new, ["queue"]
    )
    both = pl.concat([old.filter(at < start(9)), new]).sort(
        "metric", "period_start", "queue", maintain_order=True
    )
    keys = ["metric", "queue"]
    assert ours.sort(keys).equals(summaries.of_records(both, ["queue"]).sort(keys))


def test_a_cut_beyond_the_periods_kept_is_not_exact(monkeypatch):
    monkeypatch.setattr(summaries, "RECENT", 3)
    frame = records(SERIES)
    summary = summaries.of_records(frame, ["queue"])
    cut = summaries.cut(summary, start(8)).sort("metric", "queue")
    names = cut.get_column("queue") + cut.get_column("metric")
    valid = dict(zip(names, cut.get_column("valid"), strict=True))
    # asa/A and aht/B kept weeks 9-11 only: weeks 8 to 11 are cut, week 8 is not among
    # them; asa/B kept weeks 8-10, all it has from week 8 on; aht/A (9-11): none left
    assert valid == {"Aasa": False, "Basa": True, "Baht": False}
    assert finishing._from_summary(summary, None, start(8), ["queue"]) is None  # scanned


def test_incremental_runs_take_the_context_from_the_summary(weeks, monkeypatch):
    check(weeks)  # fills the cache and its summary
    scans = []
    real = finishing._per_series
    monkeypatch.setattr(finishing, "_per_series", lambda *a: scans.append(1) or real(*a))
    for week in range(8, 11):
        (weeks.parent / f"calls/{week:02d}.csv").write_text(HEAD + week_rows(week))
        check(weeks)  # equal to a full run
    assert not scans  # no record read for the context


def test_a_lost_summary_is_made_again_from_the_records_kept(weeks, monkeypatch):
    from test_incremental_segments import _where, state

    check(weeks)  # fills the cache and its summary
    folder = weeks.parent / ".tpmkit/cache/records" / _where(weeks)
    (folder / state(weeks)["finished"]["summary"]["file"]).unlink()  # e.g. overlapping runs
    scans = []
    real = finishing._per_series
    monkeypatch.setattr(finishing, "_per_series", lambda *a: scans.append(1) or real(*a))
    (weeks.parent / "calls/08.csv").write_text(HEAD + week_rows(8))
    ours = check(weeks)  # the context scanned, once
    assert scans == [1]
    # the summary is back, and it is the summary of the records the segments serve
    entry = state(weeks)["finished"]
    back = pl.read_parquet(folder / entry["summary"]["file"])
    served = ours.filter(pl.col("metric").is_in(entry["kept"]))
    expected = summaries.of_records(served, ["queue"])
    assert back.sort("metric", "queue").equals(expected.sort("metric", "queue"))
    (weeks.parent / "calls/09.csv").write_text(HEAD + week_rows(9))
    check(weeks)  # equal to a full run, and no record read for the context
    assert scans == [1]


def test_a_summary_without_values_reads_the_context_from_cells():
    """A summary written before it kept values (round 9) still gives the context's
    series, limits and periods, but no values (the run then reads the context's cells
    and gives their values), and keeps none when cut and added to."""
    frame = records(SERIES)
    older = summaries.of_records(frame, ["queue"]).drop("values")
    ours = finishing._from_summary(older, None, start(11), ["queue"])
    assert ours is not None
    per_series, periods, values = ours
    full = finishing._from_summary(
        summaries.of_records(frame, ["queue"]), None, start(11), ["queue"]
    )
    assert full is not None
    assert values is None and full[2] is not None
    assert per_series.equals(full[0]) and periods == full[1]
    later = summaries.add(summaries.cut(older, start(9)), frame.tail(3), ["queue"])
    assert "values" not in later.columns
