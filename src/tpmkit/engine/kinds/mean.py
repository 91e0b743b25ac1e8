"""`mean`: the mean of `expr` over rows where it is not null."""

from __future__ import annotations

from tpmkit.engine.kinds.base import Kind, over_rows
from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.engine.kinds.values import of_values
from tpmkit.spec.computes import MeanCompute
from tpmkit.spec.fields import Params


class Mean(Kind[MeanCompute]):
    """Components: the sum of the values over their count, scale 1."""

    name = "mean"
    model = MeanCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: MeanCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        return of_values(compute.expr, compute.where, params, metric_id, None)

    def describe(self, compute: MeanCompute) -> str:
        return f"mean of `{compute.expr}`{over_rows(compute)} (empty values skipped)"
