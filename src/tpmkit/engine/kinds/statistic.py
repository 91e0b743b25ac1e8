"""`statistic`: a statistic of `expr` chosen by name (mean, median or pNN), which may be a
`{parameter}` so a project can switch it."""

from __future__ import annotations

from tpmkit.engine.kinds.base import Kind, issue, over_rows
from tpmkit.engine.kinds.rows import Aggregation
from tpmkit.engine.kinds.values import of_values
from tpmkit.errors import Issue
from tpmkit.spec import expressions
from tpmkit.spec.computes import StatisticCompute
from tpmkit.spec.fields import Params, resolve
from tpmkit.spec.loader import Definitions, MetricDef


def statistic_quantile(name: str) -> float | None:
    """None for `mean`, 0.5 for `median`, p/100 for `pNN`; ValueError otherwise."""
    text = name.strip().lower()
    if text == "mean":
        return None
    if text == "median":
        return 0.5
    if text.startswith("p"):
        try:
            p = float(text[1:])
        except ValueError:
            p = -1.0
        if 0 < p <= 100:
            return p / 100.0
    raise ValueError(f"unknown statistic `{name}`: use mean, median or pNN (e.g. p90)")


class Statistic(Kind[StatisticCompute]):
    """Components as for the statistic chosen: a mean's sum and count; none otherwise."""

    name = "statistic"
    model = StatisticCompute
    expression_fields = ("where", "expr")

    def check(
        self, compute: StatisticCompute, metric: MetricDef, project: Definitions
    ) -> list[Issue]:
        try:
            statistic_quantile(str(resolve(compute.statistic, metric.spec.parameters)))
        except expressions.ExpressionError as exc:
            return [issue(metric, ("statistic",), exc.message)]
        except ValueError as exc:
            return [issue(metric, ("statistic",), str(exc))]
        return []

    def aggregation(
        self, compute: StatisticCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        quantile = statistic_quantile(str(resolve(compute.statistic, params)))
        return of_values(compute.expr, compute.where, params, metric_id, quantile)

    def describe(self, compute: StatisticCompute) -> str:
        return (
            f"`{compute.statistic}` (mean, median or pNN) of `{compute.expr}`{over_rows(compute)}"
        )
