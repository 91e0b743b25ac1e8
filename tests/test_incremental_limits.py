"""Incremental runs take the control limits of a series from the last run's records
(issue 21 item 3): a series with `signals.CONTROL_WINDOW` records before the first
recomputed week is not finished again from its first records — only the `HISTORY`
records before that week are context — yet its control signals equal a full run's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from test_incremental import HEADER, METRICS, same_records
from tpmkit import project as api
from tpmkit.engine import signals, trend
from tpmkit.increment import finishing, summaries

START = dt.datetime(2026, 1, 5, 9)  # Monday of 2026-W02
HEAD = HEADER.strip() + ",queue\n"
BERLIN = ZoneInfo("Europe/Berlin")


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
    seen: list[finishing.Context] = []
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
    ((periods, limits, _, values),) = seen
    assert limits is not None and values is not None
    assert periods == set()  # the context's values from the summary: no cached cell read
    given = limits.filter((pl.col("metric") == "asa") & (pl.col("queue") == "A")).row(0, named=True)
    assert given["__mean"] == pytest.approx(21.75)
    assert given["__sd"] == pytest.approx(1.6690459, rel=1e-6)
    assert given["__count"] == signals.CONTROL_WINDOW
    # week 0 is W02, so week 13 is W15, the new week and the first recomputed of ASA and
    # offered (round 11: the last run's open week, W14, is no longer finished again — no
    # file with rows in it changed and neither metric reaches beyond its week's rows);
    # queue B has 3 records before it (W12-W14): its limits are not given, its first
    # weeks are context
    assert limits.filter(pl.col("queue") == "B").is_empty()

    # the context: the 6 weeks before W15 (W09-W14: a trend window of 6 records needs 5
    # before it, a run of 7 needs 6), not queue A's first weeks (W02-W08); B's 3 records
    def weeks(queue: str) -> list[str]:
        mine = values.filter((pl.col("metric") == "asa") & (pl.col("queue") == queue))
        return mine.get_column("period_start").dt.strftime("%G-W%V").to_list()

    assert weeks("A") == [f"2026-W{w:02d}" for w in range(9, 15)]
    assert weeks("B") == ["2026-W12", "2026-W13", "2026-W14"]
    # weeks 7-11 (W09-W13): 20 + 2 × (week mod 3); week 12 (W14): 40
    a = values.filter((pl.col("metric") == "asa") & (pl.col("queue") == "A"))
    assert a.get_column("value").to_list() == [22.0, 24.0, 20.0, 22.0, 24.0, 40.0]


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
    # the 6th-last record (`HISTORY`) is week 5 (weeks 5..10); queue B: 3 weeks (young),
    # one null, its first week 8
    old = pl.DataFrame(
        {
            "metric": ["asa"] * 13,
            "queue": ["A"] * 10 + ["B"] * 3,
            "__at": [*range(1, 11), 8, 9, 10],
            "value": [float(v) for v in range(1, 11)] + [5.0, None, 7.0],
        }
    )
    expected = {
        ("A",): (5, 1, 4.5, 6**0.5, 8, 8),
        ("B",): (8, 8, 6.0, 2**0.5, 2, 3),
    }

    def summaries(frame: pl.DataFrame) -> dict[tuple[str], tuple[object, ...]]:
        out = finishing._per_series(frame, ["metric", "queue"])
        fields = ["__from", "__first", "__mean", "__sd", "__count", "__records"]
        assert out.columns == ["metric", "queue", *fields]
        return {(r["queue"],): tuple(r[f] for f in fields) for r in out.iter_rows(named=True)}

    ordered = summaries(old)
    shuffled = summaries(old.sample(fraction=1.0, shuffle=True, seed=7))
    for found in (ordered, shuffled):
        assert found.keys() == expected.keys()
        for series, values in expected.items():
            assert found[series][:2] == values[:2]
            assert found[series][2:4] == pytest.approx(values[2:4])
            assert found[series][4:] == values[4:]


def runs_rows(week: int) -> str:
    """Queue D's ASA: 10, 14, 10, 14, 10, 14, 10 in weeks 0-6, then 13 from week 7 on;
    queue E: 20 in weeks 0-9 and 13-14, nothing in weeks 10-12 (a series with a gap)."""
    rows = []
    for i in range(2):
        at = START + dt.timedelta(weeks=week, hours=i * 11)
        wait = 13 if week >= 7 else (10 if week % 2 == 0 else 14)
        rows.append(f"d{week}-{i},{at:%Y-%m-%d %H:%M:%S},D{week}{i},Y,{wait},D\n")
        if week <= 9 or week >= 13:
            rows.append(f"e{week}-{i},{at:%Y-%m-%d %H:%M:%S},E{week}{i},Y,20,E\n")
    return "".join(rows)


def test_a_run_reaching_the_first_recomputed_week_and_each_series_context(make, monkeypatch):
    """The context is each series' `HISTORY` records before the first recomputed week:
    enough for a run of `signals.RUN` ending on it, and no more for a series whose
    `HISTORY`-th last record is more recent than another series'."""
    project = make.project(
        "name: Runs\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={"asa": METRICS["asa"]},
        files={f"calls/{w:02d}.csv": HEAD + runs_rows(w) for w in range(14)},
    )
    run(project)
    finished: list[pl.DataFrame] = []
    real = finishing.finish

    def spy(cells, *args, **kwargs):
        finished.append(pl.concat(cells, how="diagonal_relaxed"))
        finished.append(args[-1])  # the context, as values (`finishing._thin`)
        return real(cells, *args, **kwargs)

    monkeypatch.setattr(finishing, "finish", spy)
    (project.parent / "calls/14.csv").write_text(HEAD + runs_rows(14))
    ours = run(project)
    full = run(project, cache=False)
    same_records(ours.drop("period_start"), full.drop("period_start"))
    # by hand: D's first 8 values 10, 14, 10, 14, 10, 14, 10, 13 — mean 95/8 = 11.875, sd
    # sqrt(28.875 / 7) = 2.031, so 13 is within the limits but above the mean: weeks 7-13
    # are the 7th value above it in a row on week 13 (the last run's open week, its
    # record the last run's), and week 14 (the first recomputed) the 8th
    d = ours.filter(pl.col("queue") == "D").sort("period_start")
    assert d.get_column("control_signal").to_list()[-9:] == [None] * 7 + ["run_above"] * 2
    assert (
        d.get_column("control_signal").to_list()
        == full.filter(pl.col("queue") == "D")
        .sort("period_start")
        .get_column("control_signal")
        .to_list()
    )
    # the cells finished: from week 14 on (round 11: ASA's own first recomputed week, the
    # new one; the last run's open week 13 had no file changed); the context given as
    # values, not finished (round 9: it was finished as records and dropped): D's 6
    # weeks 8-13 and E's 6 records, weeks 5-9 and 13 (E reaches further back, over its
    # gap; D has no context from week 5)
    cells, context = finished
    local = pl.col("period_start").dt.replace_time_zone(None).dt.date()
    week = (local - pl.lit(START.date())).dt.total_days() // 7

    def weeks(frame: pl.DataFrame) -> dict[str, list[int]]:
        return {
            q: sorted(frame.filter(pl.col("queue") == q).select(week).to_series().to_list())
            for q in ("D", "E")
        }

    assert weeks(cells) == {"D": [14], "E": [14]}
    assert weeks(context) == {"D": [8, 9, 10, 11, 12, 13], "E": [5, 6, 7, 8, 9, 13]}
    assert context.columns == ["metric", "queue", "period_start", "value"]
    d_values = context.filter(pl.col("queue") == "D").sort("period_start")
    assert d_values.get_column("value").to_list() == [13.0] * 6


def test_records_in_order_across_segments():
    """Two segments of the last run's records, each in metric, then period order: the
    series are in period order when each metric's second run of rows starts after its
    first ends (weeks 1-2 then 3), not when it starts earlier (weeks 1-2 then 2)."""

    def segments(later: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "metric": ["aht", "aht", "asa", "asa", "aht", "asa"],
                "__at": [1, 2, 1, 2, later, later],
            }
        )

    assert summaries.in_order(segments(3))
    assert not summaries.in_order(segments(2))
    assert not summaries.in_order(pl.DataFrame({"metric": ["aht", "aht"], "__at": [2, 1]}))


def mixed_rows(week: int) -> str:
    """Queue P every week with a rising wait (10 + week, 11 + week), queue Q in weeks 0-6
    and 9-14 (a gap), queue R in weeks 0-13 only (absent from the new week), queue S from
    week 14 on (new in it), queue T with 7 alternating weeks then a run of 25s."""
    rows = []
    for i in range(2):
        at = START + dt.timedelta(weeks=week, hours=i * 11)
        stamp = f"{at:%Y-%m-%d %H:%M:%S}"
        rows.append(f"p{week}-{i},{stamp},P{week}{i},Y,{10 + week + i},P\n")
        if week <= 6 or week >= 9:
            rows.append(f"q{week}-{i},{stamp},Q{week}{i},Y,{30 - week % 4},Q\n")
        if week <= 13:
            rows.append(f"r{week}-{i},{stamp},R{week}{i},Y,{5 + week % 3},R\n")
        if week >= 14:
            rows.append(f"s{week}-{i},{stamp},S{week}{i},Y,{50 + i},S\n")
        wait = (20 if week % 2 else 30) if week < 7 else 25
        rows.append(f"t{week}-{i},{stamp},T{week}{i},Y,{wait},T\n")
    return "".join(rows)


def test_the_context_as_values_matches_a_full_run(make, monkeypatch):
    """The context given as values (round 9), not finished: a series with a gap, one
    absent from the new week, one new in it and a run crossing the first recomputed week
    (T: 30, 20, … in weeks 0-6, mean 205/8 = 25.625 of its first 8 with week 7's 25,
    then 25, below it, from week 7: the 7th in a row is week 13, the last run's, the 8th
    week 14, the first recomputed) — every record as a full run's, and no context record
    finished."""
    project = make.project(
        "name: Mixed\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n',
        metrics={"asa": METRICS["asa"]},
        files={f"calls/{w:02d}.csv": HEAD + mixed_rows(w) for w in range(14)},
    )
    run(project)
    given: list[pl.DataFrame | None] = []
    real = finishing.finish

    def spy(cells, *args, **kwargs):
        given.append(args[-1])
        assert all(c.get_column("period_start").min() >= first for c in cells if c.height)
        return real(cells, *args, **kwargs)

    # week 14, the new one, is the first recomputed (round 11: not the last run's open
    # week 13 — no file with its rows changed, and ASA reads only its week's rows)
    first = (START.replace(hour=0) + dt.timedelta(weeks=14)).replace(tzinfo=BERLIN)
    monkeypatch.setattr(finishing, "finish", spy)
    (project.parent / "calls/14.csv").write_text(HEAD + mixed_rows(14))
    ours = run(project)
    full = run(project, cache=False)
    same_records(ours.drop("period_start"), full.drop("period_start"))
    (context,) = given
    assert context is not None
    # R, absent from the new week, has no record finished: no context either (its
    # records are all the last run's)
    assert set(context.get_column("queue").unique().to_list()) == {"P", "Q", "T"}
    assert "R" in ours.get_column("queue").to_list()
    assert "S" in ours.get_column("queue").to_list()
    t = ours.filter(pl.col("queue") == "T").sort("period_start")
    assert t.get_column("control_signal").to_list()[-2:] == ["run_below"] * 2
    assert t.get_column("control_signal").to_list()[-3] is None
