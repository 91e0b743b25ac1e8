"""What the kinds over the values of `expr` share: mean, median, percentile, statistic."""

from __future__ import annotations

import polars as pl

from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, only, row_expr
from tpmkit.spec.fields import Params


def of_values(
    expr: str, where: str | None, params: Params, metric_id: str, quantile: float | None
) -> Aggregation:
    """The mean (quantile None) or a quantile of `expr` over the `where` rows where it is
    not null. A mean carries its sum and count as components; a quantile has none."""
    parts = Parts(metric_id)
    values = parts.row("values", only(mask(where, params), row_expr(expr, params).cast(pl.Float64)))
    count = parts.agg("count", values.count())
    if quantile is not None:
        return parts.done(parts.agg("value", values.quantile(quantile, "linear")), count)
    mean = parts.agg("value", values.mean())
    total = parts.agg("sum", values.sum())
    return parts.done(mean, count, parts.agg("sd", values.std()), components=(total, count, 1.0))
