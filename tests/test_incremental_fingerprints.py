"""Fingerprints of the whole-dataset metrics' cells per period (`increment.fingerprints`):
the same cells in any row order match, any changed cell, row or column does not, and only
the periods before the first recomputed one are compared."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from tpmkit.increment import fingerprints

WEEK = 7 * 86_400 * 1_000_000
MONDAY = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def cells(values: dict[tuple[int, str], float | None]) -> pl.DataFrame:
    """One metric's cells: (week, agent) -> value, n 1."""
    return pl.DataFrame(
        {
            "metric": ["headcount"] * len(values),
            "period_start": [MONDAY + dt.timedelta(weeks=w) for w, _ in values],
            "agent_id": [a for _, a in values],
            "value": list(values.values()),
            "n": [1] * len(values),
        },
        schema_overrides={"value": pl.Float64, "period_start": pl.Datetime("us", "UTC")},
    )


BASE = {(0, "a"): 1.0, (0, "b"): 1.0, (1, "a"): 1.0, (1, "b"): None, (2, "a"): 1.0}


def prints(frame: pl.DataFrame) -> dict:
    # as stored: through the state's JSON
    return json.loads(json.dumps(fingerprints.of_cells({"headcount": frame}, ["headcount"])))


def at(week: int) -> int:
    return int(MONDAY.timestamp()) * 1_000_000 + week * WEEK


def test_the_same_cells_in_another_order_match_and_counts_are_per_period():
    old = prints(cells(BASE))["headcount"]
    shuffled = cells(BASE).sample(fraction=1.0, shuffle=True, seed=3)
    new = fingerprints.of_cells({"headcount": shuffled}, ["headcount"])["headcount"]
    assert fingerprints.same_before(old, new, at(3))
    assert [old[str(at(w))][0] for w in range(3)] == [2, 2, 1]  # rows per week


def test_a_changed_value_row_or_column_does_not_match_before_the_cut_only():
    old = prints(cells(BASE))["headcount"]

    def new(frame: pl.DataFrame) -> dict:
        return fingerprints.of_cells({"headcount": frame}, ["headcount"])["headcount"]

    changed = cells({**BASE, (1, "b"): 0.0})  # a null became 0 in week 1
    assert not fingerprints.same_before(old, new(changed), at(3))
    assert fingerprints.same_before(old, new(changed), at(1))  # week 1 is recomputed
    more = cells({**BASE, (0, "c"): 1.0})  # a row more in week 0
    assert not fingerprints.same_before(old, new(more), at(1))
    fewer = cells({k: v for k, v in BASE.items() if k != (2, "a")})  # week 2 gone
    assert not fingerprints.same_before(old, new(fewer), at(3))
    assert fingerprints.same_before(old, new(fewer), at(2))
    wider = cells(BASE).with_columns(pl.lit(None, dtype=pl.Float64).alias("sd"))
    assert not fingerprints.same_before(old, new(wider), at(1))
    retyped = cells(BASE).with_columns(pl.col("n").cast(pl.Int32))
    assert not fingerprints.same_before(old, new(retyped), at(1))
    assert not fingerprints.same_before(None, new(cells(BASE)), at(1))  # none stored
