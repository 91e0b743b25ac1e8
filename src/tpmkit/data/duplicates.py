"""Repeated ids: left out with `dedupe: keep_last`, else reported where they first appeared."""

from __future__ import annotations

import polars as pl

from tpmkit.data.coerce import PROBLEM
from tpmkit.data.sources import FILE, ROW

REPEAT = "__repeat"  # with `dedupe: keep_last`: a row whose id a later row repeats


def mark_repeats(frame: pl.LazyFrame, id_column: str) -> pl.LazyFrame:
    """Mark every row whose id a later row repeats (`dedupe: keep_last`)."""
    repeat = pl.col(id_column).is_not_null() & ~pl.col(id_column).is_last_distinct()
    return frame.with_columns(repeat.alias(REPEAT))


def drop_repeats(df: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Leave out the rows `dedupe: keep_last` marked; how many were left out."""
    if REPEAT not in df.columns:
        return df, 0
    dropped = int(df.get_column(REPEAT).sum())
    return df.filter(~pl.col(REPEAT)).drop(REPEAT), dropped


def flag_duplicates(df: pl.DataFrame, id_column: str | None) -> pl.DataFrame:
    """Mark every repeat of an id with where it first appeared. Counting distinct ids is
    cheap; the costly search for the first occurrence runs only when there is a repeat."""
    if not id_column or id_column not in df.columns:
        return df
    ids = df.get_column(id_column).drop_nulls()
    if ids.hash().n_unique() == ids.len():  # distinct hashes: distinct ids (a collision
        return df  # only sends us to the exact search below)
    first_file = pl.col(FILE).first().over(id_column)
    first_row = (pl.col(ROW).first().over(id_column) + 1).cast(pl.String)
    duplicate = pl.col(id_column).is_not_null() & ~pl.col(id_column).is_first_distinct()
    return df.with_columns(
        pl.when(duplicate)
        .then(
            pl.format(
                "duplicate {} (first in {}, data row {})", pl.lit(id_column), first_file, first_row
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(f"{PROBLEM}duplicate_{id_column}")
    )
