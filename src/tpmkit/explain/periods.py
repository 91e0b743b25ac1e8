"""Which two periods an explanation compares: the judged one (`at`) and the earlier one
(`vs`: the previous period, the period holding the metric's `baseline.as_of`, or a
label)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tpmkit.errors import Issue, UsageError, period_hint
from tpmkit.spec.models import MetricSpec


def labels_of(records: pl.DataFrame, metric: str) -> list[str]:
    """The metric's period labels with a value, in time order."""
    rows = (
        records.filter(
            (pl.col("metric") == metric)
            & pl.col("period_start").is_not_null()
            & pl.col("value").is_not_null()
        )
        .select("period", "period_start")
        .unique()
        .sort("period_start")
    )
    return [str(p) for p in rows.get_column("period").to_list()]


def earlier(records: pl.DataFrame, spec: MetricSpec, at: str, vs: str) -> str:
    """The label of the period `at` is compared with."""
    labels = labels_of(records, spec.id)
    if at not in labels:
        raise UsageError(
            f"at {at}: `{spec.id}` has no value in {at}",
            [Issue("periods with a value: " + ", ".join(labels[-8:]), severity="hint")],
        )
    if vs == "previous":
        index = labels.index(at)
        if index == 0:
            raise UsageError(
                f"vs previous: {at} is the first period with a value of `{spec.id}`",
                [Issue("choose a later period with at", severity="hint")],
            )
        return labels[index - 1]
    if vs == "baseline":
        return _baseline_period(records, spec, labels)
    if vs not in labels:
        hint = period_hint(vs, labels)
        raise UsageError(
            f"vs {vs}: `{spec.id}` has no value in a period `{vs}`" + (f"; {hint}" if hint else ""),
            [Issue("use previous, baseline or one of: " + ", ".join(labels[-8:]), severity="hint")],
        )
    if vs == at:
        raise UsageError(f"vs {vs}: compare {at} with another period")
    return vs


def _baseline_period(records: pl.DataFrame, spec: MetricSpec, labels: list[str]) -> str:
    """The period holding the baseline's `as_of` day."""
    dated = [b for b in spec.schedule("baseline") if b.as_of is not None]
    if not dated:
        raise UsageError(
            f"vs baseline: `{spec.id}` has no `baseline.as_of`",
            [Issue("give the baseline a date, or use vs previous or a label", severity="hint")],
        )
    day: dt.date = dated[-1].as_of
    rows = records.filter((pl.col("metric") == spec.id) & pl.col("period").is_in(labels)).select(
        "period", "period_start", "period_end"
    )
    for label, start, end in rows.unique().iter_rows():
        if start is not None and end is not None and start.date() <= day < end.date():
            return str(label)
    raise UsageError(
        f"vs baseline: no period with a value of `{spec.id}` holds its baseline day {day}",
        [Issue("use vs previous or a label", severity="hint")],
    )
