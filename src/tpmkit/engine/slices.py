"""A pass whose preparation sorts the whole dataset (the repeat-contact window), cut into
time slices so that its memory stays bounded however long the history is.

Sorting a hundred million contacts by customer and time holds every one of them, with its
group columns, at once. A row's repeat can only lie within the window after it, so a
slice of whole periods [a, b) is prepared from the rows in [a, b + reach] and aggregated
from those in [a, b): each cell lies in one slice and gets exactly its rows, and a repeat
just after the slice is still seen. The whole dataset's latest time (whether a row's
window has passed) is given to every slice in `HORIZON`. Slices run one after another,
each reading its rows from the source again (a bounded join of the data with itself in
time). Small datasets are not cut: below `SLICE_ROWS` rows one pass is cheaper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.cells import RECHECK
from tpmkit.engine.kinds import kind_of
from tpmkit.engine.window import HORIZON, Window, bounds
from tpmkit.spec.models import MetricSpec

__all__ = ["SLICE_ROWS", "batches", "beside", "reach", "sliced", "wanted"]

SLICE_ROWS = 12_000_000  # rows a slice is cut to hold, about
_WHOLE_DAYS = ("day", "week", "month", "quarter", "year")  # periods start at midnight


def reach(group: list[MetricSpec]) -> dt.timedelta | None:
    """How far after a row the rows its pass prepares from may lie (None: any distance,
    or the pass is not one that sorts the whole dataset)."""
    reaches = [kind_of(m.compute).reach(m.compute, m.parameters) for m in group]
    if not reaches or any(r is None for r in reaches):
        return None
    return max(r for r in reaches if r is not None)


def batches(weights: Sequence[int | None]) -> list[list[int]]:
    """Passes to run together, as lists of indices into `weights` (each pass's rows; None:
    not counted): the heaviest first, each batch filled to about `SLICE_ROWS` rows (first
    fit), a heavier pass on its own. Passes run together hold their buffers at the same
    time (all of them at 100 M calls: 4.2 GiB), yet one after another each small pass's
    start and tail leave a core idle (10 M calls: six passes one after another, where
    the sum of all datasets' rows, 12.9 M, was over the old all-or-nothing limit)."""
    order = sorted(range(len(weights)), key=lambda i: -(weights[i] or 0))
    filled: list[tuple[int, list[int]]] = []  # (rows, indices)
    for index in order:
        rows = weights[index] or 0
        fit = next((n for n, (held, _) in enumerate(filled) if held + rows <= SLICE_ROWS), None)
        if fit is None:
            filled.append((rows, [index]))
        else:
            held, members = filled[fit]
            filled[fit] = (held + rows, [*members, index])
    return [members for _, members in filled]


Key = TypeVar("Key", bound=tuple[str, ...])


def beside(batches: list[list[Key]], whole: list[Key]) -> list[list[Key]]:
    """`batches` (pass keys whose first part is the dataset) with each of `whole` (passes
    that sort their whole dataset, one no larger than `SLICE_ROWS` rows) added to the first
    batch holding a pass of its dataset, else to the first batch, else alone."""
    joined = [list(b) for b in batches]
    for key in whole:
        home = next((b for b in joined if any(k[0] == key[0] for k in b)), None)
        if home is None and joined:
            home = joined[0]
        if home is None:
            joined.append([key])
        else:
            home.append(key)
    return joined


def wanted(group: list[MetricSpec], rows: int | None, grain: str) -> bool:
    """Whether to cut a pass into slices: one that sorts the whole dataset but reaches only
    a bounded time ahead, over more than `SLICE_ROWS` rows, by periods of whole days."""
    return (
        reach(group) is not None and rows is not None and rows > SLICE_ROWS and grain in _WHOLE_DAYS
    )


def sliced(
    frame: pl.LazyFrame,
    time_column: str,
    rows: int | None,
    group: list[MetricSpec],
    grain: str,
    window: Window,
    timezone: str,
    cells: Callable[[pl.LazyFrame, Window, bool], pl.LazyFrame],
) -> pl.DataFrame | None:
    """The pass's cells computed slice by slice (`cells(rows, window, exact)` makes one
    slice's cells), or None when it is not to be cut (see `wanted`) or has no times."""
    ahead = reach(group)
    if ahead is None or rows is None or not wanted(group, rows, grain):
        return None
    dtype = frame.collect_schema()[time_column]
    instant = periods.instant(pl.col(time_column), dtype, timezone)
    found = frame.select(instant.min().alias("a"), instant.max().alias("b")).collect()
    first, latest = found["a"][0], found["b"][0]
    if first is None or latest is None:
        return None
    starts = _slice_starts(first, latest, rows, grain, timezone)
    parts = []
    for a, b in zip(starts, [*starts[1:], None], strict=True):
        # the slice's rows, with those a repeat window reaches after it
        keep = instant >= _midnight(a, timezone)
        if b is not None:
            # the window is elapsed time: add it in UTC (a zoned datetime adds wall-clock
            # time, an hour short across the spring change)
            end = _midnight(b, timezone)
            keep = keep & (instant <= (end.astimezone(dt.UTC) + ahead).astimezone(end.tzinfo))
        rows_of = frame.filter(keep).with_columns(pl.lit(latest).alias(HORIZON))
        own = _within(window, a, b)
        if own is None:
            continue
        part = cells(rows_of, own, False).collect(engine="streaming")
        if RECHECK in part.columns and part.get_column(RECHECK).any():  # redo exactly
            part = cells(rows_of, own, True).collect()
        parts.append(part.drop(RECHECK) if RECHECK in part.columns else part)
    if not parts:
        return None
    return pl.concat(parts, how="diagonal_relaxed")


def _slice_starts(
    first: dt.datetime, latest: dt.datetime, rows: int, grain: str, timezone: str
) -> list[dt.date]:
    """Local days on which slices start: period starts, about `SLICE_ROWS` rows apart if
    the rows spread evenly over time."""
    start = pl.select(periods.period_start(pl.lit(first), grain)).item()
    grid = pl.datetime_range(
        start, latest, interval=periods.span(grain, 1), eager=True, time_zone=timezone
    )
    per_slice = max(1, int(len(grid) * SLICE_ROWS // max(rows, 1)))
    return [d.date() for d in grid.to_list()[::per_slice]]


def _midnight(day: dt.date, timezone: str) -> dt.datetime:
    start, _ = bounds(Window(day, None), timezone)
    assert start is not None  # a window with a start day
    return start


def _within(window: Window, a: dt.date, b: dt.date | None) -> Window | None:
    """The selected range cut to the slice [a, b) (None: they do not meet)."""
    start = max(a, window.start) if window.start else a
    last = b - dt.timedelta(days=1) if b is not None else None  # a window's end is a day in it
    end = min(x for x in (last, window.end) if x is not None) if (last or window.end) else None
    if end is not None and end < start:
        return None
    return Window(start, end)
