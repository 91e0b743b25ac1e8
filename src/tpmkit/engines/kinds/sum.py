"""`sum` on Ibis: the sum of `expr` (nulls add 0) and the rows counted."""

from __future__ import annotations

from tpmkit.engines.kinds.base import Reductions, RowKind, Rows
from tpmkit.spec.computes import SumCompute
from tpmkit.spec.fields import Params


class IbisSum(RowKind):
    """As `tpmkit.engine.kinds.sum`."""

    def reductions(
        self, rows: Rows, metric_id: str, compute: SumCompute, params: Params
    ) -> Reductions:
        """The sum and the row count."""
        where = rows.mask(compute.where, params)
        values = rows.expr(compute.expr, params).cast("float64")
        parts = Reductions(metric_id).total("sum", where, values)
        return parts.count("rows", where, rows.table)
