"""The targets, thresholds, baseline and min_sample in force per metric, override and date,
as a table joined onto cells."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from tpmkit.spec.hashing import definition_hash
from tpmkit.spec.models import Band, MetricSpec, Override, Target, Thresholds, entries_of, in_force

LEVEL_SCHEMA: dict[str, Any] = {
    "metric": pl.String,
    "override": pl.Int32,
    "direction": pl.String,
    "unit": pl.String,
    "target": pl.Float64,
    "target_upper": pl.Float64,
    "target_is_band": pl.Boolean,  # internal: a {lower, upper} target, even one-sided
    "warning": pl.Float64,
    "warning_upper": pl.Float64,
    "critical": pl.Float64,
    "critical_upper": pl.Float64,
    "min_sample": pl.Int64,
    "baseline": pl.Float64,
    "baseline_as_of": pl.Date,
    "target_by": pl.Date,
    "definition_hash": pl.String,
    "in_force_from": pl.Date,  # internal: the first day these levels apply (null: always)
}
NO_OVERRIDE = -1


def _bounds(level: float | Band | None) -> tuple[float | None, float | None]:
    if isinstance(level, Band):
        return level.lower, level.upper
    return level, None


def _target(target: Target | None) -> tuple[float | None, float | None, bool]:
    if target is None:
        return None, None, False
    if target.value is not None:
        return target.value, None, False
    return target.lower, target.upper, True


def _in_force(value: Any, day: dt.date | None) -> Any:
    """The entry of a possibly dated level in force on `day` (None: before any dated
    change, i.e. the undated first entry)."""
    entries = entries_of(value)
    return entries[in_force(entries, day or dt.date.min)] if entries else None


def _row(
    spec: MetricSpec, index: int, override: Override | None, digest: str, day: dt.date | None
) -> dict[str, Any]:
    thresholds: Thresholds | None = _in_force(spec.thresholds, day)
    target = _in_force(spec.target, day)
    baseline = _in_force(spec.baseline, day)
    min_sample = spec.min_sample
    if override is not None:
        thresholds = override.thresholds or thresholds
        target = override.target or target
        baseline = override.baseline or baseline
        min_sample = override.min_sample if override.min_sample is not None else min_sample
    warning, warning_upper = _bounds(thresholds.warning if thresholds else None)
    critical, critical_upper = _bounds(thresholds.critical if thresholds else None)
    target_value, target_upper, target_is_band = _target(target)
    as_of: dt.date | None = baseline.as_of if baseline else None
    return {
        "metric": spec.id,
        "override": index,
        "direction": spec.direction.value if spec.direction else None,
        "unit": spec.unit,
        "target": target_value,
        "target_upper": target_upper,
        "target_is_band": target_is_band,
        "warning": warning,
        "warning_upper": warning_upper,
        "critical": critical,
        "critical_upper": critical_upper,
        "min_sample": min_sample,
        "baseline": baseline.value if baseline else None,
        "baseline_as_of": as_of,
        "target_by": target.by if target else None,
        "definition_hash": digest,
        "in_force_from": day,
    }


def _change_days(spec: MetricSpec) -> list[dt.date | None]:
    """None (the levels before any dated change) and every `from:` date of the metric."""
    days = {
        entry.from_
        for name in ("baseline", "target", "thresholds")
        for entry in spec.schedule(name)
        if entry.from_ is not None
    }
    return [None, *sorted(days)]


def levels_table(specs: list[MetricSpec]) -> pl.DataFrame:
    """One row per metric, override (-1 = the metric's own levels) and date from which
    dated levels change (`in_force_from`, null for the levels before any change)."""
    rows = []
    for spec in specs:
        digest = definition_hash(spec)
        for day in _change_days(spec):
            rows.append(_row(spec, NO_OVERRIDE, None, digest, day))
            rows.extend(_row(spec, i, o, digest, day) for i, o in enumerate(spec.overrides))
    return pl.DataFrame(rows, schema=LEVEL_SCHEMA)


def join_levels(
    table: pl.DataFrame, specs: list[MetricSpec], extra: Sequence[pl.Expr] = ()
) -> pl.DataFrame:
    """Each record with the levels in force at its period's start (order kept); `extra`:
    columns computed from the levels, once per row of `levels_table` (few), not per record."""
    levels = levels_table(specs)
    if extra:
        levels = levels.with_columns(extra)
    if levels.get_column("in_force_from").null_count() == levels.height:  # nothing dated
        return table.join(
            levels.drop("in_force_from"),
            on=["metric", "override"],
            how="left",
            maintain_order="left",
        )
    day = pl.col("period_start").dt.date()
    joined = (
        table.with_row_index("__record")
        .join(levels, on=["metric", "override"], how="left", maintain_order="left")
        .filter(
            pl.col("in_force_from").is_null()
            | (day >= pl.col("in_force_from")).fill_null(True)  # `all`: the latest levels
        )
    )
    return (
        joined.sort("__record", pl.col("in_force_from"), nulls_last=False)
        .unique("__record", keep="last", maintain_order=True)
        .drop("__record", "in_force_from")
    )


def override_condition(override: Override) -> pl.Expr:
    """True for rows in the override's segment (`when: {column: value or [values]}`)."""
    parts = []
    for column, wanted in override.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        parts.append(pl.col(column).cast(pl.String).is_in([str(v) for v in values]))
    return pl.all_horizontal(parts).fill_null(False)


def choose_override(conditions: list[tuple[int, pl.Expr]]) -> pl.Expr:
    """The index of the first override whose condition holds, else NO_OVERRIDE."""
    chosen = pl.lit(NO_OVERRIDE, dtype=pl.Int32)
    for index, condition in reversed(conditions):  # built backwards: the first match wins
        chosen = pl.when(condition).then(pl.lit(index, dtype=pl.Int32)).otherwise(chosen)
    return chosen
