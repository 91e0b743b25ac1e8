"""`sum`: the sum of `expr` over rows; nulls count as 0."""

from __future__ import annotations

import polars as pl

from tpmkit.engine.kinds.base import Kind, over_rows
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, row_expr
from tpmkit.spec.computes import SumCompute
from tpmkit.spec.fields import Params


class Sum(Kind[SumCompute]):
    """Components: the sum as numerator, no denominator, scale 1."""

    name = "sum"
    model = SumCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: SumCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        where = mask(compute.where, params)
        values = row_expr(compute.expr, params).cast(pl.Float64)
        total = parts.total("sum", where, values)
        return parts.done(total, parts.count("rows", where), components=(total, None, 1.0))

    def describe(self, compute: SumCompute) -> str:
        return f"sum of `{compute.expr}`{over_rows(compute)} (empty values count 0)"
