"""How far a metric's cells reach beyond their own period's rows, and the period arithmetic
an incremental run does on instants (epoch µs) in the project time zone.

A cell of a plain row kind (count, sum, mean, median, percentile, ratio …) depends only on
the rows of its period. A repeat window (`no_repeat_within`) also looks at the rows up to
`window_days` after it, and counts a row only once its window has passed the latest time
in the data (the horizon). A censored kind leaves out rows after a horizon taken over the
whole dataset. Anything else — a stock, a roster count, a hiring cohort, a group mean over
the whole dataset, a kind a plugin adds — is computed from the whole dataset on every run
(`whole`)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.kinds import kind_of
from tpmkit.engine.kinds.base import Kind
from tpmkit.engine.kinds.no_repeat_within import NoRepeat, window_seconds
from tpmkit.spec.models import MetricSpec


@dataclass(frozen=True)
class Reach:
    """What a metric's cell of one period depends on besides that period's rows."""

    whole: bool  # computed from the whole dataset every run
    column: str  # the time column that places its rows in periods
    window: int = 0  # µs after a row that its cell looks at (a repeat window)
    horizon: bool = False  # counts a row once its window ends by the dataset's latest time
    censor: str | None = None  # rows whose `censor` is after the latest `horizons` are out
    horizons: tuple[str, ...] = ()


def reach_of(spec: MetricSpec, column: str) -> Reach:
    """The reach of a metric whose rows are placed in periods by `column`."""
    kind = kind_of(spec.compute)
    if kind.plan != "rows":
        return Reach(True, column)
    censor = getattr(spec.compute, "censor", None)
    cut = (censor.column, tuple(censor.horizon)) if censor is not None else (None, ())
    if isinstance(kind, NoRepeat):
        try:
            seconds = window_seconds(spec.compute, spec.parameters)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            return Reach(True, column)
        return Reach(False, column, int(seconds * 1e6), True, *cut)
    overridden = type(kind).needs_whole_dataset is not Kind.needs_whole_dataset
    if overridden and kind.needs_whole_dataset(spec.compute):
        return Reach(True, column)
    return Reach(False, column, 0, False, *cut)


def _every(grain: str) -> str:
    return periods.span(grain, 1)


def _local(values: list[int], timezone: str) -> pl.Series:
    return (
        pl.Series(values, dtype=pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
    )


def starts(first: int, last: int, grain: str, timezone: str) -> list[int]:
    """The starts (epoch µs) of every period overlapping the instants [first, last]."""
    return sorted(covered([(first, last)], grain, timezone))


def covered(spans: list[tuple[int, int]], grain: str, timezone: str) -> set[int]:
    """The starts (epoch µs) of every period overlapping any of the instants' spans
    [first, last] (one vectorised pass, however many spans)."""
    return set(_covered(tuple((a, b) for a, b in spans if b >= a), grain, timezone))


# the metrics of one dataset ask for the same files' spans (a weekly run's planning asked
# some 150 times, mostly the same)
@functools.lru_cache(maxsize=256)
def _covered(spans: tuple[tuple[int, int], ...], grain: str, timezone: str) -> frozenset[int]:
    if not spans:
        return frozenset()
    frame = pl.DataFrame(
        {
            "a": _local([a for a, _ in spans], timezone),
            "b": _local([b for _, b in spans], timezone),
        }
    )
    every = frame.select(
        pl.datetime_ranges(
            periods.period_start(pl.col("a"), grain),
            periods.period_start(pl.col("b"), grain),
            interval=_every(grain),
        )
        .explode()
        .dt.epoch("us")
        .unique()
        .alias("at")
    )
    return frozenset(every.get_column("at").to_list())


@functools.lru_cache(maxsize=1024)
def end_of(start: int, grain: str, timezone: str) -> int:
    """The exclusive end (epoch µs) of the period starting at `start`."""
    frame = _local([start], timezone).to_frame("t")
    return int(frame.select(periods.period_end(pl.col("t"), grain).dt.epoch("us")).item())


def runs(starts_: set[int], grain: str, timezone: str) -> list[tuple[int, int]]:
    """Sorted period starts as [first start, last end) runs of adjacent periods."""
    out: list[tuple[int, int]] = []
    for start in sorted(starts_):
        end = end_of(start, grain, timezone)
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def moment(at: int, timezone: str) -> dt.datetime:
    """An instant (epoch µs) as a local time."""
    value = _local([at], timezone).item()
    assert isinstance(value, dt.datetime)
    return value
