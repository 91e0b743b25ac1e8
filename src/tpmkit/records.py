"""The hand-off between the engine and everything after it: an evaluation's records plus
what the user should know about how they were made.

This module imports nothing from the data layer, so judges and renderers can name the
type without reaching it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from tpmkit.spec.models import MetricSpec

if TYPE_CHECKING:
    from tpmkit.explain.model import Decomposition
    from tpmkit.stitched import Stitched

# The reason given to a metric that the asked grouping does not apply to (its dataset, or
# a formula input's, lacks a grouping column): such a metric is shown, never judged.
UNGROUPABLE = "cannot group by"


# The output contract: every record field and its type (group columns come after
# period_end). The single source for record order and for an empty result's schema.
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "period": pl.String(),
    "period_start": pl.Datetime("us", "UTC"),
    "period_end": pl.Datetime("us", "UTC"),
    "value": pl.Float64(),
    # value = numerator / denominator × scale (see docs/output.md for each kind)
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "scale": pl.Float64(),
    "n": pl.Int64(),
    "sd": pl.Float64(),  # sample standard deviation of a mean's values (else null)
    "unit": pl.String(),
    "direction": pl.String(),
    "status": pl.String(),
    "target": pl.Float64(),
    "target_upper": pl.Float64(),
    "warning": pl.Float64(),
    "warning_upper": pl.Float64(),
    "critical": pl.Float64(),
    "critical_upper": pl.Float64(),
    "gap_to_target": pl.Float64(),
    "plan": pl.Float64(),
    "plan_status": pl.String(),
    "trend": pl.String(),
    "slope": pl.Float64(),
    "change_pct": pl.Float64(),
    "change_vs_baseline_pct": pl.Float64(),
    "projected_status": pl.String(),
    "projected_breach_period": pl.String(),
    "projected_target_period": pl.String(),
    "required_per_period": pl.Float64(),
    "control_signal": pl.String(),
    "definition_hash": pl.String(),
    "reason": pl.String(),
}
RECORD_FIELDS = tuple(RECORD_SCHEMA)


def ordered_columns(by: list[str]) -> list[str]:
    """Record fields in output order: the period fields, the group columns, the rest."""
    head = ["metric", "period", "period_start", "period_end"]
    return [*head, *by, *(f for f in RECORD_FIELDS if f not in head)]


def empty_records(by: list[str], timezone: str = "UTC") -> pl.DataFrame:
    """A records frame with no rows but the full schema."""
    schema: dict[str, pl.DataType] = {}
    for column in ordered_columns(by):
        dtype = RECORD_SCHEMA.get(column, pl.String())
        schema[column] = pl.Datetime("us", timezone) if isinstance(dtype, pl.Datetime) else dtype
    return pl.DataFrame(schema=schema)


@dataclass
class DatasetSummary:
    """What was read from one dataset (for output notes)."""

    name: str
    files: list[str]
    rows_read: int
    quarantined: int
    rejects_file: str | None
    latest_day: dt.date | None = None  # local date of the latest row by its time column
    # for freshness and completeness (judge/sources.py): the time column, its latest value
    # (local time) and the rows per local day
    time_column: str | None = None
    latest: dt.datetime | dt.date | None = None
    daily: dict[dt.date, int] = field(default_factory=dict)


_HELD = "_records"


class _Held:
    """`Evaluation.records`: whatever was given (a frame or a `Stitched`) is kept as it
    is, and read into one frame the first time `records` is read."""

    def __get__(self, evaluation: Any, owner: Any = None) -> pl.DataFrame:
        if evaluation is None:  # the dataclass asks for a default: there is none
            raise AttributeError("records")
        value = evaluation.__dict__[_HELD]
        if not isinstance(value, pl.DataFrame):
            value = evaluation.__dict__[_HELD] = value.collect()
        return value  # type: ignore[no-any-return]

    def __set__(self, evaluation: Any, value: pl.DataFrame | Stitched) -> None:
        evaluation.__dict__[_HELD] = value


@dataclass
class Evaluation:
    """Records (the output contract, one per metric × period × group) plus how they were
    made; `definitions` are the specs of the metrics asked for, in order, so a judge needs
    nothing else to read them. An incremental run's records stay in the records cache's
    files (`tpmkit.stitched.Stitched`) until `records` is read: a Parquet output copies
    them from there (`held`)."""

    # a frame, or an incremental run's records still in the records cache's files (a
    # `Stitched`), read on first use: `Evaluation(records=...)`, `dataclasses.replace` and
    # assignment work as on a plain field
    records: pl.DataFrame = _Held()  # type: ignore[assignment]
    datasets: list[DatasetSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by: list[str] = field(default_factory=list)
    grain: str = "week"
    names: dict[str, str] = field(default_factory=dict)  # metric id -> display name
    cache_hits: int = 0  # CSV files read from the cache
    cache_misses: int = 0  # CSV files converted into the cache by this run
    definitions: dict[str, MetricSpec] = field(default_factory=dict)
    timezone: str = "UTC"
    # the project's annotations as spans (tpmkit.annotations.spans; None: none), for the
    # notes shown on charts, trend tables and check lines (tpmkit.engine.notes)
    annotations: pl.DataFrame | None = None
    # metric id -> why the data cannot compute it at all (no source for its dataset, a
    # column its export lacks): "not configured", never judged or scored against anyone
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def held(self) -> pl.DataFrame | Stitched:
        """The records as held: a frame, or not yet read from the records cache."""
        held: pl.DataFrame | Stitched = self.__dict__[_HELD]
        return held

    def explain(self, metric: str, *, at: str = "latest", vs: str = "previous") -> Decomposition:
        """Why `metric` moved from the `vs` period (previous, baseline or a label) to `at`
        (a label; latest: the latest period with a value): its change split over this
        evaluation's grouping, from the records alone (docs/explain.md)."""
        from tpmkit.explain.evaluation import explain_evaluation

        return explain_evaluation(self, metric, at=at, vs=vs)


def metric_runs(records: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each metric's run of rows of `records` (grouped by metric, as records always are),
    as zero-copy slices."""
    if records.is_empty():
        return {}
    runs = records.get_column("metric").rle()
    out: dict[str, pl.DataFrame] = {}
    offset = 0
    for length, metric in zip(
        runs.struct.field("len").to_list(), runs.struct.field("value").to_list(), strict=True
    ):
        out[str(metric)] = records.slice(offset, length)
        offset += length
    return out
