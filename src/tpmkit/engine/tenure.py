"""The tenure band of a person on a day (kpi-catalogue.md: `tenure_band`), one polars
expression for the evaluation's attribution (each contact's own day) and for the
roster's kinds (each day a person is counted)."""

from __future__ import annotations

from typing import Any

import polars as pl

from tpmkit.contract import OVER_A_YEAR, TENURE_BAND, TENURE_BANDS

__all__ = ["in_tenure_order", "tenure_band"]


def tenure_band(day: pl.Expr, hired: pl.Expr) -> pl.Expr:
    """The tenure band of each row on its own local `day` from the hire date; null
    without a hire date or before it (a contact logged before the roster's hire date is
    not given a band it cannot have)."""
    days = (day - hired.cast(pl.Date)).dt.total_days()
    band: Any = pl.when(days < 0).then(None)  # a Then, then ChainedThens
    for limit, label in TENURE_BANDS:
        band = band.when(days <= limit).then(pl.lit(label))
    done: pl.Expr = band.when(days.is_not_null()).then(pl.lit(OVER_A_YEAR)).otherwise(None)
    return done


def in_tenure_order(column: str) -> pl.Expr:
    """A grouping column as records are ordered: tenure bands by tenure (`0-30` before
    `181-365`, no band last), every other column by its value."""
    if column != TENURE_BAND:
        return pl.col(column)
    bands = [*(label for _, label in TENURE_BANDS), OVER_A_YEAR]
    return pl.col(column).replace_strict(bands, list(range(len(bands))), default=None)
