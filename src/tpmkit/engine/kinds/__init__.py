"""Computation kinds: one module per kind behind one protocol (`base.Kind`), found in a
registry by the kind's name. A new kind is one model (`tpmkit.spec.computes`) plus one
module here; see docs/contributing.md."""

from __future__ import annotations

from typing import Any

from tpmkit.engine.kinds.base import Kind, Plan
from tpmkit.engine.kinds.count import Count
from tpmkit.engine.kinds.deviation_from_group_mean import Deviation
from tpmkit.engine.kinds.formula import Formula
from tpmkit.engine.kinds.mean import Mean
from tpmkit.engine.kinds.median import Median
from tpmkit.engine.kinds.no_repeat_within import NoRepeat
from tpmkit.engine.kinds.open_at_period_end import OpenAtEnd
from tpmkit.engine.kinds.percentile import Percentile
from tpmkit.engine.kinds.proficiency import Proficiency
from tpmkit.engine.kinds.ratio import Ratio
from tpmkit.engine.kinds.ratio_of_sums import RatioOfSums
from tpmkit.engine.kinds.registry import KINDS, kind_of, register, unregister
from tpmkit.engine.kinds.roster import Roster
from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.engine.kinds.statistic import Statistic
from tpmkit.engine.kinds.sum import Sum
from tpmkit.spec.computes import ComputeSpec
from tpmkit.spec.fields import Params
from tpmkit.spec.models import MetricSpec

__all__ = [
    "KINDS",
    "Aggregation",
    "Kind",
    "Plan",
    "columns_used",
    "horizon_columns",
    "kind_of",
    "metric_columns",
    "needs_whole_dataset",
    "not_grouped_by",
    "over_metrics",
    "own_dimensions",
    "register",
    "unregister",
]

BUILT_IN: tuple[Kind[Any], ...] = (
    Count(),
    Sum(),
    Mean(),
    Median(),
    Percentile(),
    Ratio(),
    RatioOfSums(),
    Statistic(),
    NoRepeat(),
    OpenAtEnd(),
    Roster(),
    Proficiency(),
    Deviation(),
    Formula(),
)
for _kind in BUILT_IN:
    register(_kind)


def over_metrics(compute: ComputeSpec) -> bool:
    """True when the kind combines other metrics (a formula) instead of reading a dataset."""
    return kind_of(compute).plan == "metrics"


def columns_used(compute: ComputeSpec, params: Params) -> set[str]:
    """Dataset columns a compute spec reads."""
    return kind_of(compute).columns(compute, params)


def own_dimensions(compute: ComputeSpec) -> frozenset[str]:
    """Grouping columns the kind makes itself (see `Kind.own_dimensions`)."""
    return kind_of(compute).own_dimensions(compute)


def not_grouped_by(compute: ComputeSpec, column: str) -> str | None:
    """Why a compute spec cannot be grouped by `column` (see `Kind.not_grouped_by`)."""
    return kind_of(compute).not_grouped_by(compute, column)


def metric_columns(spec: MetricSpec) -> set[str]:
    """Dataset columns a metric reads: its kind's (with the censoring's) and its
    overrides' conditions'."""
    used = columns_used(spec.compute, spec.parameters)
    used.update(c for o in spec.overrides for c in o.when)
    return used


def horizon_columns(compute: ComputeSpec) -> list[str]:
    """Columns whose latest value makes the data horizon (any of them may be absent)."""
    return kind_of(compute).horizon(compute)


def needs_whole_dataset(compute: ComputeSpec) -> bool:
    """True when the kind looks beyond the rows of one period (see `Kind`)."""
    return kind_of(compute).needs_whole_dataset(compute)
