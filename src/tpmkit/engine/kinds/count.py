"""`count`: the number of rows (matching `where`)."""

from __future__ import annotations

from typing import ClassVar

from tpmkit.engine.kinds.base import Kind
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask
from tpmkit.spec.computes import CountCompute
from tpmkit.spec.fields import Params


class Count(Kind[CountCompute]):
    """Components: the count itself as numerator, no denominator, scale 1."""

    name = "count"
    model = CountCompute
    missing_is_zero: ClassVar[bool] = True  # a formula input with no rows counted none

    def aggregation(
        self, compute: CountCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        count = parts.count("count", mask(compute.where, params))
        return parts.done(count, count, components=(count, None, 1.0))

    def describe(self, compute: CountCompute) -> str:
        return "number of rows" + (f" where `{compute.where}`" if compute.where else "")
