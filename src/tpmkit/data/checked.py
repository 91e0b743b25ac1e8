"""What the two ways an engine reads and checks a dataset itself share (Parquet files in
DuckDB, `tpmkit.data.in_duckdb`; a database table, `tpmkit.data.in_tables`): the dataset
they give, whose columns and rows per day the check already knows, and when the reader
would have derived a column (then the reader reads the dataset)."""

from __future__ import annotations

from dataclasses import dataclass

from tpmkit.contract import DatasetContract
from tpmkit.data.freshness import DayCounts
from tpmkit.data.load import Dataset

__all__ = ["CheckedInEngine", "defaults", "derivable"]


@dataclass
class CheckedInEngine(Dataset):
    """A dataset read and checked by the engine: `names` are its columns, `counts` its
    latest time and rows per local day, counted with the check; `rows` is its polars
    twin, read only where a kind needs polars."""

    names: tuple[str, ...] = ()
    counts: DayCounts = (None, {})

    @property
    def columns(self) -> set[str]:
        """The dataset's columns (without reading its rows)."""
        return set(self.names)

    @property  # computed in SQL with the check: nothing to cache
    def day_counts(self) -> DayCounts:
        """The latest time and rows per local day, counted by the engine."""
        return self.counts


def derivable(contract: DatasetContract | None, present: set[str]) -> bool:
    """True when the reader would derive a column (calls' answered from answered_at)."""
    return any(
        d.column not in present and set(d.inputs) <= present
        for d in (contract.derivations if contract else ())
    )


def defaults(contract: DatasetContract | None) -> list[tuple[str, str | int | float]] | None:
    """The contract's column defaults the engines can write as literals (text, a whole
    number, a number), as `tpmkit.data.derive.apply_defaults` applies them; None when one
    is of another kind (the reader then reads the dataset)."""
    found: list[tuple[str, str | int | float]] = []
    for spec in contract.columns if contract else ():
        default = spec.default
        if default is None:
            continue
        if isinstance(default, bool) or not isinstance(default, str | int | float):
            return None
        found.append((spec.name, default))
    return found
