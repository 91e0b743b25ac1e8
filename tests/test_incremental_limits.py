"""Incremental runs take the control limits of a series from the last run's records
(issue 21 item 3): a series with `signals.CONTROL_WINDOW` records before the first
recomputed week is not finished again from its first records — only the `HISTORY`
records before that week are context — yet its control signals equal a full run's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from test_incremental import HEADER, METRICS, same_records
from tpmkit import project as api
from tpmkit.engine import signals, trend
from tpmkit.increment import finishing

START = dt.datetime(2026, 1, 5, 9)  # Monday of 2026-W02
HEAD = HEADER.strip() + ",queue\n"


def week_rows(week: int) -> str:
    """Queue A: waits 20, 22, 24, 20, 22, 24 … (mean 22) for 12 weeks, then 40 — beyond
    mean + 3 sd of its first 8 weeks; queue B starts in week 10 (a young series)."""
    rows = []
    for i in range(6):
        at = START + dt.timedelta(weeks=week, hours=i * 11)
        wait = 40 if week >= 12 else 20 + 2 * (week % 3)
        rows.append(f"a{week}-{i},{at:%Y-%m-%d %H:%M:%S},K{week}{i},Y,{wait},A\n")
        if i < 3:  # queue C: 10, 10, 11 every week, a mean of 31/3 (not exact in binary)
            rows.append(f"c{week}-{i},{at:%Y-%m-%d %H:%M:%S},M{week}{i},Y,{10 + i // 2},C\n")
        if week >= 10:
            rows.append(f"b{week}-{i},{at:%Y-%m-%d %H:%M:%S},L{week}{i},Y,{30 + week % 2},B\n")
    return "".join(rows)


@pytest.fixture
def history(make):
    return make.project(
        "name: Limits\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={k: v for k, v in METRICS.items() if k in ("asa", "offered")},
        files={f"calls/{w:02d}.csv": HEAD + week_rows(w) for w in range(13)},
    )


def run(project: Path, cache: bool = True) -> pl.DataFrame:
    return api.load(project).evaluate(period="week", by="queue", cache=cache).records


def test_limits_from_the_last_run_and_a_short_context(history, monkeypatch):
    run(history)
    seen: list[tuple[set[int] | None, pl.DataFrame | None]] = []
    real = finishing.context

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(finishing, "context", spy)
    (history.parent / "calls/13.csv").write_text(HEAD + week_rows(13))
    ours = run(history)
    full = run(history, cache=False)
    same_records(ours.drop("period_start"), full.drop("period_start"))
    # queue A's ASA, by hand: first 8 weeks 20, 22, 24, 20, 22, 24, 20, 22 — mean 21.75,
    # sd 1.669; 40 in weeks 12 and 13 is beyond 21.75 + 3 × 1.669 = 26.76
    asa = ours.filter((pl.col("metric") == "asa") & (pl.col("queue") == "A"))
    assert asa.get_column("control_signal").to_list()[-2:] == ["outside_limits"] * 2
    ((periods, limits),) = seen
    assert limits is not None and periods is not None
    given = limits.filter((pl.col("metric") == "asa") & (pl.col("queue") == "A")).row(0, named=True)
    assert given["__mean"] == pytest.approx(21.75)
    assert given["__sd"] == pytest.approx(1.6690459, rel=1e-6)
    assert given["__count"] == signals.CONTROL_WINDOW
    # week 0 is W02, so week 12 is W14, the last run's open week and the first recomputed;
    # queue B has 2 records before it (W12, W13): its limits are not given, its first
    # weeks are context
    assert limits.filter(pl.col("queue") == "B").is_empty()
    # the context: the 7 weeks before W14 (W07-W13), not queue A's first weeks (W02-W06)
    weeks = sorted(
        pl.Series(sorted(periods), dtype=pl.Int64)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone("Europe/Berlin")
        .dt.strftime("%G-W%V")
        .to_list()
    )
    assert weeks == [f"2026-W{w:02d}" for w in range(7, 14)]


def test_the_trend_positions_are_the_full_runs(history, monkeypatch):
    """The least-squares fit counts periods from the first record's: with fewer records
    finished, that origin must still be the full run's (else the fitted slopes differ in
    their last bits — 0 against 3e-14 for a flat series at 10 M calls)."""
    run(history)
    given: list[float | None] = []
    real = finishing.finish

    def spy(*args, **kwargs):
        given.append(args[6] if len(args) > 6 else kwargs.get("origin"))
        return real(*args, **kwargs)

    monkeypatch.setattr(finishing, "finish", spy)
    (history.parent / "calls/13.csv").write_text(HEAD + week_rows(13))
    ours = run(history)
    full = run(history, cache=False)
    assert given == [trend.origin(full, "week")]
    assert ours.get_column("slope").equals(full.get_column("slope"))


def test_series_summaries_by_hand_in_or_out_of_order():
    """`_per_series` reads a series' first and last records as heads and tails of the
    last run's records (in period order); out of that order it sorts first — the same
    summaries either way."""
    # queue A: 10 weeks, values 1..10 — first 8: mean 4.5, sd sqrt(6) = 2.449 (sample);
    # the 7th-last record is week 4 (weeks 4..10); queue B: 3 weeks (young), one null
    old = pl.DataFrame(
        {
            "metric": ["asa"] * 13,
            "queue": ["A"] * 10 + ["B"] * 3,
            "__at": [*range(1, 11), 8, 9, 10],
            "value": [float(v) for v in range(1, 11)] + [5.0, None, 7.0],
        }
    )
    expected = {
        ("A",): (4, 4.5, 6**0.5, 8, 8),
        ("B",): (8, 6.0, 2**0.5, 2, 3),
    }

    def summaries(frame: pl.DataFrame) -> dict[tuple[str], tuple[object, ...]]:
        out = finishing._per_series(frame, ["metric", "queue"])
        assert out.columns == [
            "metric",
            "queue",
            "__from",
            "__mean",
            "__sd",
            "__count",
            "__records",
        ]
        return {
            (r["queue"],): (r["__from"], r["__mean"], r["__sd"], r["__count"], r["__records"])
            for r in out.iter_rows(named=True)
        }

    ordered = summaries(old)
    shuffled = summaries(old.sample(fraction=1.0, shuffle=True, seed=7))
    for found in (ordered, shuffled):
        assert found.keys() == expected.keys()
        for series, values in expected.items():
            assert found[series][0] == values[0]
            assert found[series][1:3] == pytest.approx(values[1:3])
            assert found[series][3:] == values[3:]
