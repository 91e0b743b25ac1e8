"""The contract's rules across a row's columns: required values, order of timestamps,
a value not above its limit (unique ids: `duplicates`)."""

from __future__ import annotations

import polars as pl

from tpmkit.contract import DatasetContract
from tpmkit.data import coerce
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.columns import required
from tpmkit.spec.models import Source

# the problem column of each rule is PROBLEM + one of these + the column it is about
KINDS = ("required_", "order_", "above_", "duplicate_")


def conditions(
    contract: DatasetContract | None, source: Source, wanted: list[str]
) -> list[tuple[str, pl.Expr, str]]:
    """Rules across columns as (problem column, broken when, message)."""
    rules: list[tuple[str, pl.Expr, str]] = []
    present = set(wanted)
    may_be_empty = set(contract.may_be_empty) if contract else set()
    for column in required(contract, source):
        if column in present and column not in may_be_empty:
            rules.append(
                (f"{PROBLEM}required_{column}", pl.col(column).is_null(), "required value is empty")
            )
    for earlier, later in contract.ordered if contract else ():
        if earlier in present and later in present:
            rules.append(
                (
                    f"{PROBLEM}order_{later}",
                    pl.col(later) < pl.col(earlier),
                    f"{later} is before {earlier}",
                )
            )
    for column, limit, default in contract.not_above if contract else ():
        if column in present:
            bound = pl.col(limit).fill_null(default) if limit in present else pl.lit(default)
            rules.append(
                (f"{PROBLEM}above_{column}", pl.col(column) > bound, f"{column} above {limit}")
            )
    return rules


def problem_columns(
    contract: DatasetContract | None, source: Source, wanted: list[str], checked: set[str]
) -> list[pl.Expr]:
    """The problem columns of `conditions` (an unparseable required value is reported as
    such, not as empty)."""
    out = []
    for name, condition, message in conditions(contract, source, wanted):
        column = name.removeprefix(f"{PROBLEM}required_")
        if name != column and column in checked:
            condition = condition & pl.col(f"{PROBLEM}{column}").is_null()
        out.append(coerce.problem(condition, message).alias(name))
    return out


def rule_column(problem: str) -> str:
    """The data column a problem column is about."""
    column = problem[len(PROBLEM) :]
    for prefix in KINDS:
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column
