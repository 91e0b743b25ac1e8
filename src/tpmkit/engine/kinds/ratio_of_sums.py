"""`ratio_of_sums`: sum(numerator) / sum(denominator) over rows (occupancy, adherence);
nulls add 0, a zero denominator is no data."""

from __future__ import annotations

import polars as pl

from tpmkit.engine.kinds.base import Kind, over_rows
from tpmkit.engine.kinds.ratio import positive_scale
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, row_expr, safe_div
from tpmkit.errors import Issue
from tpmkit.spec.computes import RatioOfSumsCompute
from tpmkit.spec.fields import Params
from tpmkit.spec.loader import Definitions, MetricDef


class RatioOfSums(Kind[RatioOfSumsCompute]):
    """Components: the two sums, × scale."""

    name = "ratio_of_sums"
    model = RatioOfSumsCompute
    expression_fields = ("where", "numerator", "denominator")

    def check(
        self, compute: RatioOfSumsCompute, metric: MetricDef, project: Definitions
    ) -> list[Issue]:
        return positive_scale(compute.scale, metric)

    def aggregation(
        self, compute: RatioOfSumsCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        where = mask(compute.where, params)
        top = parts.total("top", where, row_expr(compute.numerator, params).cast(pl.Float64))
        bottom = parts.total(
            "bottom", where, row_expr(compute.denominator, params).cast(pl.Float64)
        )
        return parts.done(
            safe_div(top, bottom, compute.scale),
            parts.count("rows", where),
            components=(top, bottom, compute.scale),
        )

    def describe(self, compute: RatioOfSumsCompute) -> str:
        return (
            f"{compute.scale:g} × sum(`{compute.numerator}`) ÷ sum(`{compute.denominator}`)"
            f"{over_rows(compute)}; a zero denominator is no data"
        )
