"""`deviation_from_group_mean` on Ibis: each row's absolute deviation from its group's
mean over the whole table (a window per group), in groups of at least `min_group_size`."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tpmkit.engines.kinds.base import Reductions, Rows, only, prepared
from tpmkit.spec.computes import DeviationCompute
from tpmkit.spec.fields import Params


class IbisDeviation:
    """As `tpmkit.engine.kinds.deviation_from_group_mean`."""

    def prepare(
        self, rows: Rows, metric_id: str, compute: DeviationCompute, params: Params
    ) -> ir.Table:
        """The deviation and the group's size."""
        table = rows.table
        values = only(rows.mask(compute.where, params), rows.expr(compute.expr, params))
        values = values.cast("float64")
        group = ibis.window(group_by=table[compute.group])
        return table.mutate(
            **{
                prepared(metric_id, "deviation"): (values - values.mean().over(group)).abs(),
                prepared(metric_id, "size"): values.count().over(group),
            }
        )

    def reductions(
        self, rows: Rows, metric_id: str, compute: DeviationCompute, params: Params
    ) -> Reductions:
        """Count, sum and mean of the usable deviations."""
        table = rows.table
        usable = table[compute.group].notnull() & (
            table[prepared(metric_id, "size")] >= compute.min_group_size
        )
        where = rows.mask(compute.where, params)
        usable = usable if where is None else where & usable
        deviations = only(usable, table[prepared(metric_id, "deviation")])
        parts = Reductions(metric_id).agg("count", deviations.count())
        parts.agg("sum", deviations.sum().fill_null(0.0))
        return parts.agg("mean", deviations.mean())
