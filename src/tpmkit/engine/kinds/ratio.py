"""`ratio`: the share of `where` rows where the `numerator` condition holds; a row whose
condition is null (unknown) leaves the denominator."""

from __future__ import annotations

from typing import ClassVar

from tpmkit.engine.kinds.base import Kind, issue, over_rows
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, row_expr, safe_div
from tpmkit.errors import Issue
from tpmkit.spec.computes import RatioCompute
from tpmkit.spec.fields import Params
from tpmkit.spec.loader import Definitions, MetricDef


def positive_scale(scale: float, metric: MetricDef) -> list[Issue]:
    """A ratio's scale must be positive."""
    return [issue(metric, ("scale",), "scale must be positive")] if scale <= 0 else []


class Ratio(Kind[RatioCompute]):
    """Components: qualifying rows over rows with a known condition, × scale."""

    name = "ratio"
    model = RatioCompute
    expression_fields = ("where", "numerator")
    binomial: ClassVar[bool] = True

    def check(self, compute: RatioCompute, metric: MetricDef, project: Definitions) -> list[Issue]:
        return positive_scale(compute.scale, metric)

    def aggregation(
        self, compute: RatioCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        where = mask(compute.where, params)
        condition = row_expr(compute.numerator, params)
        population = condition.is_not_null()  # a null flag leaves the denominator
        population = population if where is None else where & population
        hits = parts.count("hits", population & condition.fill_null(False))
        size = parts.count("size", population)
        return parts.done(
            safe_div(hits, size, compute.scale), size, components=(hits, size, compute.scale)
        )

    def describe(self, compute: RatioCompute) -> str:
        return (
            f"{compute.scale:g} × rows where `{compute.numerator}` ÷ rows where it is known"
            f"{over_rows(compute)}; a zero denominator is no data"
        )
