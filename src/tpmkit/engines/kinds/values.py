"""`mean`, `median`, `percentile` and `statistic` on Ibis: a mean (with its sum, count and
sample standard deviation) or an exact quantile with linear interpolation, as the polars
plan (`quantile(q, "linear")`) computes it."""

from __future__ import annotations

from typing import Any

from tpmkit.engine.kinds.statistic import statistic_quantile
from tpmkit.engines.kinds.base import Reductions, RowKind, Rows, only
from tpmkit.spec.fields import Params, resolve


def of_values(
    rows: Rows, metric_id: str, expr: str, where: str | None, params: Params, q: float | None
) -> Reductions:
    """As `tpmkit.engine.kinds.values.of_values`."""
    values = only(rows.mask(where, params), rows.expr(expr, params).cast("float64"))
    parts = Reductions(metric_id).agg("count", values.count())
    if q is not None:
        return parts.agg("value", rows.dialect.quantile(values, q))
    parts.agg("value", values.mean())
    parts.agg("sum", values.sum().fill_null(0.0))
    return parts.agg("sd", values.std(how="sample"))


class IbisMean(RowKind):
    """As `tpmkit.engine.kinds.mean`."""

    def reductions(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> Reductions:
        """Mean, sum, count and spread."""
        return of_values(rows, metric_id, compute.expr, compute.where, params, None)


class IbisMedian(RowKind):
    """As `tpmkit.engine.kinds.median`."""

    def reductions(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> Reductions:
        """The median and the count."""
        return of_values(rows, metric_id, compute.expr, compute.where, params, 0.5)


class IbisPercentile(RowKind):
    """As `tpmkit.engine.kinds.percentile`."""

    def reductions(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> Reductions:
        """The percentile and the count."""
        q = compute.p / 100.0
        return of_values(rows, metric_id, compute.expr, compute.where, params, q)


class IbisStatistic(RowKind):
    """As `tpmkit.engine.kinds.statistic`."""

    def reductions(self, rows: Rows, metric_id: str, compute: Any, params: Params) -> Reductions:
        """The statistic chosen by name."""
        q = statistic_quantile(str(resolve(compute.statistic, params)))
        return of_values(rows, metric_id, compute.expr, compute.where, params, q)
