"""Columns the export does not give as they are: the contract's defaults and derivations."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from tpmkit.contract import DatasetContract


def _not_null(inputs: tuple[str, ...]) -> pl.Expr:
    return pl.col(inputs[0]).is_not_null()


def _seconds_between(inputs: tuple[str, ...]) -> pl.Expr:
    earlier, later = inputs
    return (pl.col(later) - pl.col(earlier)).dt.total_microseconds() / 1e6


# the operations a contract's `Derivation.how` names
OPERATIONS: dict[str, Callable[[tuple[str, ...]], pl.Expr]] = {
    "not_null": _not_null,
    "seconds_between": _seconds_between,
}


def apply_defaults(df: pl.DataFrame, contract: DatasetContract | None) -> pl.DataFrame:
    """Contract defaults (qa max_score 100, tickets reopens 0, calls channel voice) fill
    empty values and stand in for a column the export does not have."""
    if contract is None:
        return df
    fills = []
    for column in contract.columns:
        if column.default is None:
            continue
        if column.name in df.columns:
            fills.append(pl.col(column.name).fill_null(column.default))
        else:
            fills.append(pl.lit(column.default).alias(column.name))
    return df.with_columns(fills) if fills else df


def apply_derivations(df: pl.DataFrame, contract: DatasetContract | None) -> pl.DataFrame:
    """Each derivation of the contract whose column the export lacks and whose inputs it
    has (calls: answered and wait_seconds from answered_at)."""
    for derivation in contract.derivations if contract else ():
        if derivation.column in df.columns or not set(derivation.inputs) <= set(df.columns):
            continue
        expr = OPERATIONS[derivation.how](derivation.inputs)
        df = df.with_columns(expr.alias(derivation.column))
    return df
