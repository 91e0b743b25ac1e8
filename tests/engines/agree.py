"""Agreement of two engines' records: the same records (metric, period, groups), identical
`n`, values and components equal to 1e-9 relative, the same statuses and reasons."""

from __future__ import annotations

from typing import Any

import polars as pl

RELATIVE = 1e-9
CLOSE = ("value", "numerator", "denominator", "sd", "gap_to_target")
# a trend's slope is a least-squares fit: a difference of near-equal sums, which turns the
# last-digit differences of summing in another order into ~1e-8 relative
SLOPE_RELATIVE = 1e-6
EQUAL = ("n", "status", "reason", "period_start", "period_end", "plan_status", "trend")


def differences(reference: pl.DataFrame, other: pl.DataFrame, by: list[str]) -> list[str]:
    """What differs between two engines' records, one line each (empty: they agree)."""
    keys = ["metric", "period", *by]
    problems: list[str] = []
    if reference.height != other.height:
        problems.append(f"{reference.height} records against {other.height}")
    joined = reference.join(other, on=keys, how="full", suffix="__other", nulls_equal=True)
    for row in joined.iter_rows(named=True):
        where = " ".join(str(row[k] if row[k] is not None else row[f"{k}__other"]) for k in keys)
        if row["metric"] is None or row.get("metric__other", 1) is None:
            problems.append(f"{where}: only one engine has this record")
            continue
        for column in EQUAL:
            if column in reference.columns and row[column] != row[f"{column}__other"]:
                problems.append(f"{where}: {column} {row[column]!r} != {row[f'{column}__other']!r}")
        for column in CLOSE:
            if column in reference.columns and not _close(row[column], row[f"{column}__other"]):
                problems.append(f"{where}: {column} {row[column]!r} != {row[f'{column}__other']!r}")
        if "slope" in reference.columns and not _close(
            row["slope"], row["slope__other"], SLOPE_RELATIVE
        ):
            problems.append(f"{where}: slope {row['slope']!r} != {row['slope__other']!r}")
    return problems


def _close(a: Any, b: Any, relative: float = RELATIVE) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(abs(a - b) <= relative * max(abs(a), abs(b), 1e-300)) or a == b
