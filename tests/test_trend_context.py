"""The trend and the signals of records whose earlier records are given as values only
(`context`: an incremental run's, whose earlier records are the last run's): the same
slopes, changes, control limits and runs as with those records finished beside them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tpmkit.engine import signals
from tpmkit.engine.trend import add_slope, origin, trend

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday: 2026-W02
KEYS = ["metric", "g"]
FIELDS = ["slope", "trend", "change_pct", "control_signal", "projected_status", "__points"]


def frame(series: dict[str, list[float | None]], weeks: dict[str, list[int]] | None = None):
    """Records of metric "m" for each group: its values in consecutive weeks from 0 (or
    in `weeks`), with the columns the signals read (lower is better, warning 30)."""
    rows = []
    for group, values in series.items():
        at = (weeks or {}).get(group, list(range(len(values))))
        for week, value in zip(at, values, strict=True):
            start = START + dt.timedelta(weeks=week)
            rows.append(
                {
                    "metric": "m",
                    "g": group,
                    "period_start": start,
                    "period_end": start + dt.timedelta(weeks=1),
                    "value": value,
                }
            )
    out = pl.DataFrame(rows, schema_overrides={"value": pl.Float64})
    return out.with_columns(
        pl.col("period_start", "period_end").cast(pl.Datetime("us", "UTC")),
        pl.lit("lower_is_better").alias("direction"),
        pl.lit("ok").alias("status"),
        pl.lit(30.0).alias("warning"),
        pl.lit(60.0).alias("critical"),
        *(
            pl.lit(None, dtype=pl.Float64).alias(c)
            for c in ("warning_upper", "critical_upper", "target", "target_upper", "baseline")
        ),
        pl.lit(False).alias("target_is_band"),
        pl.lit(None, dtype=pl.Date).alias("target_by"),
    )


def finished(
    records: pl.DataFrame,
    *,
    context: pl.DataFrame | None = None,
    limits: pl.DataFrame | None = None,
    first: float | None = None,
) -> pl.DataFrame:
    """Trend and signals as `compute._finish_part` adds them."""
    out = add_slope(records, KEYS, "week", origin=first, context=context)
    out = out.with_columns(trend().alias("trend"))
    out = signals.add_signals(out, KEYS, "week", limits, context)
    return out.sort("g", "period_start")


def split(records: pl.DataFrame, week: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records from `week` on, and the values of those before it (the context)."""
    cut = START + dt.timedelta(weeks=week)
    before = records.filter(pl.col("period_start") < cut)
    context = before.select("metric", "g", "period_start", "value")
    return records.filter(pl.col("period_start") >= cut), context


def limits_of(records: pl.DataFrame) -> pl.DataFrame:
    """Each series' control limits from its first `CONTROL_WINDOW` values (what the
    series' summaries give an incremental run for a series with that many records)."""
    head = pl.col("value").head(signals.CONTROL_WINDOW)
    return (
        records.sort("period_start")
        .group_by(KEYS, maintain_order=True)
        .agg(
            head.mean().alias("__mean"),
            head.std().alias("__sd"),
            head.count().alias("__count"),
            pl.len().alias("__n"),
        )
        .filter(pl.col("__n") >= signals.CONTROL_WINDOW)
        .drop("__n")
    )


def same(ours: pl.DataFrame, full: pl.DataFrame) -> None:
    """Every field of `ours` exactly as the full computation's records of those periods."""
    wanted = full.join(ours.select("g", "period_start"), on=["g", "period_start"], how="semi")
    assert ours.select(FIELDS).equals(wanted.select(FIELDS))


def test_the_trend_window_reaches_into_the_context():
    """A: 10, 12, 11, 13, 12, 14, 13, 15, 14, 16 in weeks 0-9, the records from week 8 on
    finished with weeks 2-7 as values: week 8's slope is over weeks 3-8 (13, 12, 14, 13,
    15, 14): x̄ 5.5, ȳ 13.5, Σ(x-x̄)(y-ȳ) 6.5, Σ(x-x̄)² 17.5, so 13/35; its change against
    week 7's 15 is -1/15."""
    records = frame({"A": [10, 12, 11, 13, 12, 14, 13, 15, 14, 16]})
    full = finished(records)
    new, context = split(records, 8)
    first = origin(records, "week")
    ours = finished(
        new,
        context=context.filter(pl.col("period_start") >= START + dt.timedelta(weeks=2)),
        first=first,
    )
    assert ours.height == 2
    week8 = ours.row(0, named=True)
    assert week8["slope"] == pytest.approx(13 / 35, rel=1e-12)
    assert week8["change_pct"] == pytest.approx(-100 / 15, rel=1e-12)
    assert week8["__points"] == 6
    same(ours, full)
    # without the context the window holds weeks 8-9 only: no slope, no change
    alone = finished(new, first=first).row(0, named=True)
    assert alone["slope"] is None and alone["change_pct"] is None


def test_a_run_crossing_into_the_new_records():
    """B: 10, 14, 10, 14, 10, 14, 10, then 13 in weeks 7-14: limits from the first 8 (mean
    95/8 = 11.875, sd √(28.875/7)), 13 is above the mean; the run of 13s is 7 long on
    week 13 (the 1st new record when cut at week 13): `run_above` there and after, as on
    the full computation, only when the 6 records before it are given."""
    values: list[float | None] = [10, 14, 10, 14, 10, 14, 10, 13, 13, 13, 13, 13, 13, 13, 13]
    records = frame({"B": values})
    full = finished(records)
    assert full.get_column("control_signal").to_list()[-3:] == [None, "run_above", "run_above"]
    new, context = split(records, 13)
    first = origin(records, "week")
    limits = limits_of(records.filter(pl.col("period_start") < START + dt.timedelta(weeks=13)))
    assert limits.item(0, "__mean") == pytest.approx(95 / 8)
    recent = context.filter(pl.col("period_start") >= START + dt.timedelta(weeks=7))
    ours = finished(new, context=recent, limits=limits, first=first)
    assert ours.get_column("control_signal").to_list() == ["run_above"] * 2
    same(ours, full)
    # with only 5 records of context the run is 6 long on week 13: no signal
    short = recent.filter(pl.col("period_start") >= START + dt.timedelta(weeks=8))
    wrong = finished(new, context=short, limits=limits, first=first)
    assert wrong.get_column("control_signal").to_list()[0] is None


def test_a_young_series_takes_its_limits_from_context_and_new_records():
    """C has 5 records before the cut (20, 22, 20, 22, 20) and 4 after (21, 21, 21, 30):
    its limits are its first 8 values', 5 of them context: mean 167/8 = 20.875, sd
    √(4.875/7) = 0.8345, so 30 is beyond 20.875 + 3 × 0.8345 (`outside_limits`), as on the
    full computation; the 4 new values alone set no limits (fewer than 5). The changes
    chain across the cut (21 against 20: +5 %)."""
    records = frame({"C": [20, 22, 20, 22, 20, 21, 21, 21, 30]})
    full = finished(records)
    assert full.get_column("control_signal").to_list()[-1] == "outside_limits"
    new, context = split(records, 5)
    first = origin(records, "week")
    ours = finished(new, context=context, first=first)
    assert ours.get_column("change_pct").to_list()[0] == pytest.approx(5.0)
    assert ours.get_column("control_signal").to_list() == [None, None, None, "outside_limits"]
    same(ours, full)
    assert finished(new, first=first).get_column("control_signal").to_list()[-1] is None


def test_gaps_new_and_absent_series():
    """D has a gap (weeks 0-5, then 9-10): its window counts records, not weeks; E is new
    at the cut (no context); F has only context (absent from the new weeks: left out);
    G's context is null values (left out of its fit, still records in its window)."""
    records = frame(
        {
            "D": [5, 7, 6, 8, 7, 9, 8, 10],
            "E": [3, 4],
            "F": [1, 2, 3, 4],
            "G": [None, None, 4, 5, 6, 7],
        },
        weeks={
            "D": [0, 1, 2, 3, 4, 5, 9, 10],
            "E": [9, 10],
            "F": [2, 3, 4, 5],
            "G": [3, 4, 5, 6, 9, 10],
        },
    )
    full = finished(records)
    new, context = split(records, 9)
    ours = finished(new, context=context, first=origin(records, "week"))
    assert sorted(set(ours.get_column("g").to_list())) == ["D", "E", "G"]
    d9 = ours.filter(pl.col("g") == "D").row(0, named=True)
    # D's window at week 9: weeks 1-5 and 9 (6 records), values 7, 6, 8, 7, 9, 8
    x = [1, 2, 3, 4, 5, 9]
    y = [7, 6, 8, 7, 9, 8]
    mx, my = sum(x) / 6, sum(y) / 6
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sum(
        (a - mx) ** 2 for a in x
    )
    assert d9["slope"] == pytest.approx(slope, rel=1e-12)
    assert d9["change_pct"] == pytest.approx(100 * (8 - 9) / 9)
    e9 = ours.filter(pl.col("g") == "E").row(0, named=True)
    assert e9["change_pct"] is None and e9["slope"] is None
    g9 = ours.filter(pl.col("g") == "G").row(0, named=True)
    assert g9["__points"] == 3  # weeks 5, 6 and 9 counted; 3 and 4 are null
    same(ours, full)
