"""`ratio_of_sums` on Ibis: the two sums (nulls add 0) and the rows counted."""

from __future__ import annotations

from tpmkit.engines.kinds.base import Reductions, RowKind, Rows
from tpmkit.spec.computes import RatioOfSumsCompute
from tpmkit.spec.fields import Params


class IbisRatioOfSums(RowKind):
    """As `tpmkit.engine.kinds.ratio_of_sums`."""

    def reductions(
        self, rows: Rows, metric_id: str, compute: RatioOfSumsCompute, params: Params
    ) -> Reductions:
        """Top, bottom and rows."""
        where = rows.mask(compute.where, params)
        parts = Reductions(metric_id)
        parts.total("top", where, rows.expr(compute.numerator, params).cast("float64"))
        parts.total("bottom", where, rows.expr(compute.denominator, params).cast("float64"))
        return parts.count("rows", where, rows.table)
