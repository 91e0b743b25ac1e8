"""Columns the export does not give as they are: the contract's defaults and derivations."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import polars as pl

from tpmkit.contract import DatasetContract

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)  # the loaded rows, or a plan over them


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


def apply_defaults(df: Frame, contract: DatasetContract | None) -> Frame:
    """Contract defaults (qa max_score 100, tickets reopens 0, calls channel voice) fill
    empty values and stand in for a column the export does not have."""
    if contract is None:
        return df
    names = set(df.collect_schema().names())
    fills = []
    for column in contract.columns:
        if column.default is None:
            continue
        if column.name in names:
            fills.append(pl.col(column.name).fill_null(column.default))
        else:
            fills.append(pl.lit(column.default).alias(column.name))
    return df.with_columns(fills) if fills else df


def apply_derivations(df: Frame, contract: DatasetContract | None) -> Frame:
    """Each derivation of the contract whose column the export lacks and whose inputs it
    has (calls: answered and wait_seconds from answered_at)."""
    names = set(df.collect_schema().names())
    for derivation in contract.derivations if contract else ():
        if derivation.column in names or not set(derivation.inputs) <= names:
            continue
        expr = OPERATIONS[derivation.how](derivation.inputs)
        df = df.with_columns(expr.alias(derivation.column))
        names.add(derivation.column)
    return df
