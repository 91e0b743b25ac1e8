"""The protocol every computation kind implements: one engine module per kind.

A kind's pydantic model lives in `tpmkit.spec.computes`; its behaviour is a `Kind`: the
columns it reads, its parameter checks, its polars plan (prepare, aggregate, flags) and
components, and the words that describe it. The registry (`tpmkit.engine.kinds`) finds
a kind by the name in `compute.kind`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import polars as pl

from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.spec import expressions
from tpmkit.spec.computes import ComputeSpec
from tpmkit.spec.fields import Params

if TYPE_CHECKING:
    from tpmkit.engine.window import Window
    from tpmkit.errors import Issue
    from tpmkit.spec.loader import Definitions, MetricDef
    from tpmkit.spec.models import MetricSpec

C = TypeVar("C", bound=ComputeSpec)
Location = tuple[str | int, ...]  # a path inside the `compute:` block

# How a kind is planned: "rows" is an aggregation inside its dataset's one group_by pass;
# "cells" computes its own cells from the dataset (a stock over a grid of periods);
# "metrics" combines the cells of other metrics (a formula).
Plan = Literal["rows", "cells", "metrics"]


@dataclass(frozen=True)
class Extent:
    """What is known of a pass's rows before it runs: how many, and the first and last
    local day of its time column (None: not known)."""

    rows: int | None = None
    days: tuple[dt.date, dt.date] | None = None


class Kind(ABC, Generic[C]):
    """The behaviour of one computation kind (its model is `model`, its name `name`)."""

    name: ClassVar[str]
    model: ClassVar[type[ComputeSpec]]
    plan: ClassVar[Plan] = "rows"
    # fields holding row expressions, and fields naming a column, that the kind reads
    expression_fields: ClassVar[tuple[str, ...]] = ("where",)
    column_fields: ClassVar[tuple[str, ...]] = ()
    own_pass: ClassVar[bool] = False  # sorts the whole dataset: a pass of its own
    missing_is_zero: ClassVar[bool] = False  # a cell without rows means 0, not unknown
    binomial: ClassVar[bool] = False  # a percentage of n yes/no rows (Wilson interval)
    stock: ClassVar[bool] = False  # a level at each period's end, known up to the horizon
    # a value per cohort (agents hired in the period): a period without hires has none, so
    # it is judged, like a stock, on its latest period with a value
    cohort: ClassVar[bool] = False
    # plan "cells" over a dataset without time (the roster): its periods span the other
    # datasets read with it, unless the range is selected
    spans_data: ClassVar[bool] = False

    # -- the columns it reads ---------------------------------------------------------
    def expressions(self, compute: C) -> list[tuple[Location, str]]:
        """(path inside `compute`, SQL text) of every row expression."""
        found = [((f,), getattr(compute, f)) for f in self.expression_fields]
        return [(path, text) for path, text in found if text]

    def named_columns(self, compute: C) -> list[tuple[Location, str]]:
        """(path inside `compute`, column) of every field naming a column by itself."""
        found: list[tuple[Location, str]] = [
            ((f,), getattr(compute, f)) for f in self.column_fields if getattr(compute, f)
        ]
        censor = getattr(compute, "censor", None)
        if censor is not None:
            found.append((("censor", "column"), censor.column))
            found.extend((("censor", "horizon", i), c) for i, c in enumerate(censor.horizon))
        return found

    def columns(self, compute: C, params: Params) -> set[str]:
        """Dataset columns the kind reads."""
        used = {column for _, column in self.named_columns(compute)}
        for _, text in self.expressions(compute):
            used.update(expressions.parse(expressions.substitute(text, params)).columns)
        return used

    def own_dimensions(self, compute: C) -> frozenset[str]:
        """Grouping columns the kind makes itself from the columns it reads (the roster's
        tenure band, on each day it counts), which its dataset need not have."""
        return frozenset()

    def not_grouped_by(self, compute: C, column: str) -> str | None:
        """Why the kind cannot be grouped by `column` although its dataset has it or it
        is a dimension tpmkit makes; None when it can."""
        return None

    def no_value(self, compute: C) -> str | None:
        """Why a cell with rows counted (n > 0) has no value, in the kind's own words;
        None: the general reason (a zero denominator, a division by zero, an overflow)."""
        return None

    def horizon(self, compute: C) -> list[str]:
        """Columns whose latest value makes the data horizon (any of them may be absent)."""
        censor = getattr(compute, "censor", None)
        return list(censor.horizon) if censor is not None else []

    def inputs(self, compute: C, params: Params) -> list[str]:
        """Metric ids (as written) whose cells this kind combines (plan "metrics")."""
        return []

    # -- parameter checks --------------------------------------------------------------
    def check(self, compute: C, metric: MetricDef, project: Definitions) -> list[Issue]:
        """Problems of the kind's own parameters (`compute` is `metric.spec.compute`),
        located in the metric's file."""
        return []

    # -- the polars plan ---------------------------------------------------------------
    def needs_whole_dataset(self, compute: C) -> bool:
        """True when the kind looks beyond the rows of one period (a repeat window, a
        group across periods, a stock, a horizon taken over the whole dataset)."""
        return getattr(compute, "censor", None) is not None

    def observation_lag(self, compute: C, params: Params) -> dt.timedelta:
        """How long after a period ends its value can be known."""
        return dt.timedelta(0)

    def reach(self, compute: C, params: Params) -> dt.timedelta | None:
        """For a kind whose preparation sorts the whole dataset (`own_pass`): how far after
        a row the rows it is prepared from may lie, so that the pass can be cut into time
        slices (engine/slices.py); None: no such bound."""
        return None

    def prepare(
        self,
        frame: pl.LazyFrame,
        metric_id: str,
        compute: C,
        params: Params,
        time_column: str,
        *,
        exact: bool = False,
        extent: Extent | None = None,
    ) -> pl.LazyFrame:
        """Columns computed over the whole dataset before rows are cut into periods
        (`extent`: what the load already knows of the rows)."""
        return frame

    def aggregation(
        self, compute: C, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        """Plan "rows": the value, n and components of a cell as plain aggregations."""
        raise TypeError(f"kind `{self.name}` is not a row aggregation")

    def recheck(self, metric_id: str, compute: C) -> pl.Expr | None:
        """Per cell: true when the fast preparation cannot be trusted (prepare again with
        `exact=True`); None when the kind has no such check."""
        return None

    def cells(
        self,
        compute: C,
        frame: pl.LazyFrame,
        spec: MetricSpec,
        grain: str,
        by: list[str],
        timezone: str,
        window: Window,
    ) -> pl.DataFrame:
        """Plan "cells": the metric's cells computed from its dataset."""
        raise TypeError(f"kind `{self.name}` does not compute its own cells")

    def combine(
        self,
        compute: C,
        spec: MetricSpec,
        cells: Mapping[str, pl.DataFrame],
        specs: Mapping[str, MetricSpec],
        by: list[str],
        aliases: Mapping[str, str],
    ) -> pl.DataFrame:
        """Plan "metrics": the metric's cells from the cells of its inputs."""
        raise TypeError(f"kind `{self.name}` does not combine metrics")

    # -- words -------------------------------------------------------------------------
    @abstractmethod
    def describe(self, compute: C) -> str:
        """The computation in words (`metrics show`, the metrics reference)."""


def over_rows(compute: Any) -> str:
    """`over rows where …` (plus censoring) for a kind's description."""
    where = getattr(compute, "where", None)
    rows = f" over rows where `{where}`" if where else " over all rows"
    censor = getattr(compute, "censor", None)
    if censor is not None:
        latest = ", ".join(censor.horizon)
        rows += f", leaving out rows whose `{censor.column}` is after the latest {latest}"
    return str(rows)


def issue(metric: MetricDef, path: Location, message: str, hint: str | None = None) -> Issue:
    """An issue located at `path` inside the metric's `compute:` block."""
    return metric.doc.issue((*metric.path, "compute", *path), message, hint=hint)
