"""Annotations beside the numbers: the notes touching each record, as short lines for
`tpmkit trend` and as a lookup for `tpmkit check` lines (engine/notes.py matches them)."""

from __future__ import annotations

from typing import Any

import polars as pl

from tpmkit.engine.notes import notes_by_record
from tpmkit.render.values import group_label

NoteKey = tuple[str, tuple[str, ...], str]  # metric, group values as text, period label


def _group_text(values: list[Any]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in values)


def lookup(records: pl.DataFrame, spans: pl.DataFrame | None, by: list[str]) -> dict[NoteKey, str]:
    """(metric, group values, period) -> its notes joined by `; ` (only touched records)."""
    if spans is None:
        return {}
    table = notes_by_record(records, spans, by)
    return {
        (row["metric"], _group_text([row[c] for c in by]), row["period"]): "; ".join(row["notes"])
        for row in table.to_dicts()
    }


def key(metric: str, group: dict[str, Any], period: str, by: list[str]) -> NoteKey:
    """The lookup key of a verdict or a row."""
    return (metric, _group_text([group.get(c) for c in by]), period)


def note_lines(
    records: pl.DataFrame, spans: pl.DataFrame | None, by: list[str], last: int
) -> list[str]:
    """`aht [team=Berlin Tech] 2026-W41: CRM slowdown (excluded)` for every note on the
    last `last` periods of each series shown, in series and period order."""
    if spans is None or records.is_empty():
        return []
    keys = ["metric", *by]
    recent = records.sort([*keys, "period_start"], nulls_last=True).filter(
        pl.int_range(pl.len()).reverse().over(keys) < last
    )
    table = notes_by_record(recent, spans, by)
    lines = []
    for row in table.to_dicts():
        where = ", ".join(f"{c}={group_label(row[c])}" for c in by)
        head = row["metric"] + (f" [{where}]" if where else "")
        lines.append(f"{head} {row['period']}: {'; '.join(row['notes'])}")
    return lines


def chart_notes(
    records: pl.DataFrame, spans: pl.DataFrame | None, by: list[str], metric: str
) -> list[tuple[str, str]]:
    """(period, text) of each note on `metric`'s records, for its chart (report/svg.py):
    the whole metric's records when they are not grouped, else none (a card's series is
    the metric's, not a group's)."""
    if spans is None or by:
        return []
    table = notes_by_record(records.filter(pl.col("metric") == metric), spans, by)
    return [(row["period"], text) for row in table.to_dicts() for text in row["notes"]]
