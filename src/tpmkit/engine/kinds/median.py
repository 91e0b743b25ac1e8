"""`median`: the median of `expr` over rows where it is not null."""

from __future__ import annotations

from tpmkit.engine.kinds.base import Kind, over_rows
from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.engine.kinds.values import of_values
from tpmkit.spec.computes import MedianCompute
from tpmkit.spec.fields import Params


class Median(Kind[MedianCompute]):
    """No components: a median is not a quotient of additive parts."""

    name = "median"
    model = MedianCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: MedianCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        return of_values(compute.expr, compute.where, params, metric_id, 0.5)

    def describe(self, compute: MedianCompute) -> str:
        return f"median of `{compute.expr}`{over_rows(compute)} (empty values skipped)"
