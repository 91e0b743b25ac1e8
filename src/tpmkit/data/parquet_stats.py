"""What the statistics Parquet files keep for each column (per row group: the smallest and
largest value, the number of nulls) prove about a data rule, so that the DuckDB engine's
check (`tpmkit.data.in_duckdb`) need not read a column to know the rule holds.

A rule is proven only when every row group of every file has the statistics it needs:
numbers that parse and are finite (a writer may count NaN in a minimum or leave it out, so
a NaN is never proven absent here: the check still looks for it), a null count, and for a
required text a smallest value that is not empty. Anything else is left to the check,
which reads the column; a broken rule is still found there and the reader then names the
bad cell with its file and row. Statistics never prove a rule broken: they only spare a
read where they show it holds.

The same footers give the span of a dataset's instants (`span`), which keeps the DuckDB
macro of local times small (`tpmkit.zone_offsets.local_macro`)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["ColumnStats", "Rule", "holds", "span", "statistics"]


@dataclass(frozen=True)
class Rule:
    """A data rule as an aggregate (`sql`) true when some row breaks it, and what the
    statistics of `column` must show to prove it holds: its smallest value not below
    `below`, its largest not above `above`, or (`filled`) no null value and, for a text
    (`text`), no empty one. A rule with none of these is never proven by statistics."""

    sql: str
    column: str | None = None
    below: float | None = None
    above: float | None = None
    filled: bool = False
    text: bool = False


@dataclass(frozen=True)
class ColumnStats:
    """One column over all row groups: its smallest and largest value as numbers (None:
    some row group's are missing, not numbers or not finite), as the files' own text
    (`low_text`, `high_text`; None: some are missing), and its nulls (None: some count is
    missing)."""

    low: float | None
    high: float | None
    low_text: str | None
    nulls: int | None
    high_text: str | None = None


def statistics(con: Any, files: list[str]) -> dict[str, ColumnStats]:
    """Each top-level column's statistics across `files` (read from their footers only)."""
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    rows = con.execute(
        "SELECT path_in_schema, row_group_num_rows, stats_null_count, stats_min_value, "
        f"stats_max_value FROM parquet_metadata([{listed}])"
    ).fetchall()
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for path, *rest in rows:  # one row per file, row group and column: a few hundred
        groups.setdefault(str(path), []).append(tuple(rest))
    return {column: _summary(found) for column, found in groups.items()}


def _summary(groups: list[tuple[Any, ...]]) -> ColumnStats:
    nulls = 0
    lows: list[float] = []
    highs: list[float] = []
    texts: list[str] = []
    tops: list[str] = []
    numbers = text = True
    counted = True
    for rows, null_count, low, high in groups:
        if null_count is None:
            counted = False
        else:
            nulls += int(null_count)
        if null_count is not None and rows is not None and int(null_count) == int(rows):
            continue  # only nulls: no smallest or largest value to know
        if low is None or high is None:
            numbers = text = False
            continue
        texts.append(str(low))
        tops.append(str(high))
        a, b = _number(low), _number(high)
        if a is None or b is None:
            numbers = False
        else:
            lows.append(a)
            highs.append(b)
    return ColumnStats(
        min(lows) if numbers and lows else None,
        max(highs) if numbers and highs else None,
        min(texts) if text and texts else None,
        nulls if counted else None,
        max(tops) if text and tops else None,
    )


def _number(value: Any) -> float | None:
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return found if math.isfinite(found) else None


def holds(rule: Rule, found: dict[str, ColumnStats]) -> bool:
    """True when the statistics prove that no row breaks `rule`."""
    stats = found.get(rule.column) if rule.column is not None else None
    if stats is None or (rule.below is None and rule.above is None and not rule.filled):
        return False
    if rule.filled and (stats.nulls != 0 or (rule.text and not stats.low_text)):
        return False
    if rule.below is not None and (stats.low is None or stats.low < rule.below):
        return False
    return rule.above is None or (stats.high is not None and stats.high <= rule.above)


def span(found: dict[str, ColumnStats], columns: list[str]) -> tuple[int, int] | None:
    """The first and last instant (epoch µs; a date: its UTC midnight) among the values of
    the time `columns`, as the statistics give them; None when some column has none."""
    firsts: list[int] = []
    lasts: list[int] = []
    for column in columns:
        stats = found.get(column)
        low = _instant(stats.low_text) if stats else None
        high = _instant(stats.high_text) if stats else None
        if low is None or high is None:
            return None
        firsts.append(low)
        lasts.append(high)
    return (min(firsts), max(lasts)) if firsts else None


def _instant(text: str | None) -> int | None:
    """A timestamp or date as DuckDB writes a statistic, as epoch µs (a naive one: as UTC,
    a day either way is within the macro's margin)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
