"""`ratio` on Ibis: rows where the condition holds over rows where it is known."""

from __future__ import annotations

from tpmkit.engines.kinds.base import Reductions, RowKind, Rows
from tpmkit.spec.computes import RatioCompute
from tpmkit.spec.fields import Params


class IbisRatio(RowKind):
    """As `tpmkit.engine.kinds.ratio`: a null condition leaves the denominator."""

    def reductions(
        self, rows: Rows, metric_id: str, compute: RatioCompute, params: Params
    ) -> Reductions:
        """Hits and size."""
        where = rows.mask(compute.where, params)
        condition = rows.expr(compute.numerator, params)
        population = condition.notnull()
        population = population if where is None else where & population
        parts = Reductions(metric_id)
        parts.count("hits", population & condition.fill_null(False), rows.table)
        return parts.count("size", population, rows.table)
