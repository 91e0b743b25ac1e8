"""The hand-off between the engine and everything after it: an evaluation's records plus
what the user should know about how they were made.

This module imports nothing from the data layer, so judges and renderers can name the
type without reaching it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from tpmkit.spec.models import MetricSpec

# The reason given to a metric that the asked grouping does not apply to (its dataset, or
# a formula input's, lacks a grouping column): such a metric is shown, never judged.
UNGROUPABLE = "cannot group by"


@dataclass
class DatasetSummary:
    """What was read from one dataset (for output notes)."""

    name: str
    files: list[str]
    rows_read: int
    quarantined: int
    rejects_file: str | None
    latest_day: dt.date | None = None  # local date of the latest row by its time column


@dataclass
class Evaluation:
    """Records (the output contract, one per metric × period × group) plus how they were
    made; `definitions` are the specs of the metrics asked for, in order, so a judge needs
    nothing else to read them."""

    records: pl.DataFrame
    datasets: list[DatasetSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by: list[str] = field(default_factory=list)
    grain: str = "week"
    names: dict[str, str] = field(default_factory=dict)  # metric id -> display name
    cache_hits: int = 0  # CSV files read from the cache
    cache_misses: int = 0  # CSV files converted into the cache by this run
    definitions: dict[str, MetricSpec] = field(default_factory=dict)
    timezone: str = "UTC"
