"""`deviation_from_group_mean`: the mean absolute deviation of `expr` from its `group`
mean (e.g. a calibration session), over groups with at least `min_group_size` values;
group means use the whole dataset."""

from __future__ import annotations

import polars as pl

from tpmkit.engine.kinds.base import Extent, Kind, over_rows
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, only, prepared, row_expr
from tpmkit.spec.computes import DeviationCompute
from tpmkit.spec.fields import Params


class Deviation(Kind[DeviationCompute]):
    """Components: the sum of the deviations over their count, scale 1."""

    name = "deviation_from_group_mean"
    model = DeviationCompute
    expression_fields = ("where", "expr")
    column_fields = ("group",)

    def needs_whole_dataset(self, compute: DeviationCompute) -> bool:
        return True

    def prepare(
        self,
        frame: pl.LazyFrame,
        metric_id: str,
        compute: DeviationCompute,
        params: Params,
        time_column: str,
        *,
        exact: bool = False,
        extent: Extent | None = None,
    ) -> pl.LazyFrame:
        """Each row's absolute deviation from its group's mean, and the group's size."""
        values = only(mask(compute.where, params), row_expr(compute.expr, params).cast(pl.Float64))
        group = pl.col(compute.group)
        return frame.with_columns(
            (values - values.mean().over(group)).abs().alias(prepared(metric_id, "deviation")),
            values.count().over(group).alias(prepared(metric_id, "size")),
        )

    def aggregation(
        self, compute: DeviationCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        where = mask(compute.where, params)
        usable = pl.col(compute.group).is_not_null() & (
            pl.col(prepared(metric_id, "size")) >= compute.min_group_size
        )
        usable = usable if where is None else where & usable
        deviations = parts.row("deviation", only(usable, pl.col(prepared(metric_id, "deviation"))))
        count = parts.agg("count", deviations.count())
        total = parts.agg("sum", deviations.sum())
        return parts.done(
            parts.agg("mean", deviations.mean()), count, components=(total, count, 1.0)
        )

    def describe(self, compute: DeviationCompute) -> str:
        return (
            f"mean of |`{compute.expr}` − its `{compute.group}` mean|{over_rows(compute)}, "
            f"in groups of at least {compute.min_group_size}"
        )
