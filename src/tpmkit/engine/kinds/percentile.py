"""`percentile`: the p-th percentile (linear interpolation) of `expr`."""

from __future__ import annotations

from tpmkit.engine.kinds.base import Kind, over_rows
from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.engine.kinds.values import of_values
from tpmkit.spec.computes import PercentileCompute
from tpmkit.spec.fields import Params


class Percentile(Kind[PercentileCompute]):
    """No components: a percentile is not a quotient of additive parts."""

    name = "percentile"
    model = PercentileCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: PercentileCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        return of_values(compute.expr, compute.where, params, metric_id, compute.p / 100.0)

    def describe(self, compute: PercentileCompute) -> str:
        return (
            f"{compute.p:g}th percentile (linear interpolation) of `{compute.expr}`"
            f"{over_rows(compute)}"
        )
