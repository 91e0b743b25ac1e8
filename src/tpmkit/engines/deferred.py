"""The rule flags of the datasets DuckDB read with their check deferred
(`tpmkit.data.in_duckdb`, `defer`): each view carries one flag a row, `UNCHECKED`, which
the evaluation must look at before its records count (its name comes with the dataset:
`tpmkit.engine.compute.Input.check`). The first plain pass over a
dataset's own time column (no censoring, no selected range: it groups every row with a
time) aggregates the flags and its rows beside its metrics (`FLAGGED`, `SEEN`); a dataset
no such pass read, or whose pass saw fewer rows than the load counted (a row without a
time), is looked at by one query of its own. A flag up raises `UncheckedRows`: the
evaluation then runs again with every rule checked as it reads, and the reader names the
bad cells."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tpmkit.engine.compute import UncheckedRows

__all__ = ["FLAGGED", "SEEN", "DeferredChecks"]

FLAGGED, SEEN = "__flagged", "__seen"  # a carrying pass's aggregates: some flag up, rows


@dataclass
class DeferredChecks:
    """The datasets whose views carry flags (`checks`: dataset -> its flag column and
    the rows its load counted), and those looked at so far (`looked`)."""

    checks: dict[str, tuple[str, int]]
    looked: set[str] = field(default_factory=set)

    def column(self, dataset: str) -> str:
        """The column of `dataset`'s flags."""
        return self.checks[dataset][0]

    def carriers(
        self, passes: Mapping[int, tuple[str, str, str]], time_columns: Mapping[str, str]
    ) -> dict[int, str]:
        """For each dataset, the pass that looks at its flags: the first (by index) of its
        plain passes over its own time column (`passes`: index -> dataset, time column,
        censoring), when the run has no selected range (the caller's to know)."""
        found: dict[str, int] = {}
        for index in sorted(passes):
            dataset, column, censor = passes[index]
            if dataset in self.checks and column == time_columns.get(dataset) and not censor:
                found.setdefault(dataset, index)
        return {index: dataset for dataset, index in found.items()}

    def verify(self, dataset: str, flagged: bool, seen: int) -> None:
        """Raise `UncheckedRows` when a flag is up; the dataset is looked at when every
        row was `seen` (else its rows without a time are left to `rest`, which reads
        them all)."""
        if flagged:
            raise UncheckedRows(dataset)
        if seen == self.checks[dataset][1]:
            self.looked.add(dataset)

    def rest(self, con: Any, views: Mapping[str, str]) -> None:
        """Look at the flags of every dataset not looked at yet, one query each, on
        DuckDB's connection `con` (`views`: dataset -> its view)."""
        for dataset in sorted(set(self.checks) - self.looked):
            view = '"' + views[dataset].replace('"', '""') + '"'
            flag = '"' + self.column(dataset).replace('"', '""') + '"'
            row = con.execute(f"SELECT COALESCE(bool_or({flag}), false), count(*) FROM {view}")
            flagged, seen = row.fetchone()
            if seen != self.checks[dataset][1]:  # not the rows the load counted
                raise UncheckedRows(dataset)
            self.verify(dataset, bool(flagged), int(seen))
