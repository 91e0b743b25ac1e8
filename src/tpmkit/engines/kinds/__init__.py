"""Each computation kind's Ibis plan, one module per kind beside its polars plan
(`tpmkit.engine.kinds`): found by the kind's name. A kind without an Ibis plan is refused
by name on the Ibis engines."""

from __future__ import annotations

from typing import Any

from tpmkit.engines.kinds.count import IbisCount
from tpmkit.engines.kinds.deviation_from_group_mean import IbisDeviation
from tpmkit.engines.kinds.no_repeat_within import IbisNoRepeat
from tpmkit.engines.kinds.ratio import IbisRatio
from tpmkit.engines.kinds.ratio_of_sums import IbisRatioOfSums
from tpmkit.engines.kinds.sum import IbisSum
from tpmkit.engines.kinds.values import IbisMean, IbisMedian, IbisPercentile, IbisStatistic

IBIS_KINDS: dict[str, Any] = {
    "count": IbisCount(),
    "sum": IbisSum(),
    "mean": IbisMean(),
    "median": IbisMedian(),
    "percentile": IbisPercentile(),
    "statistic": IbisStatistic(),
    "ratio": IbisRatio(),
    "ratio_of_sums": IbisRatioOfSums(),
    "no_repeat_within": IbisNoRepeat(),
    "deviation_from_group_mean": IbisDeviation(),
}
# `open_at_period_end` (a stock) has its own module, `tpmkit.engines.stock`, and
# `time_to_proficiency` `tpmkit.engines.proficiency` (neither imports Ibis until a query
# is built); `formula` combines cells on the client with the polars plan.


def ibis_kind(name: str) -> Any:
    """The Ibis plan of a row-aggregating kind; LookupError names a kind without one."""
    try:
        return IBIS_KINDS[name]
    except KeyError:
        raise LookupError(f"computation kind `{name}` has no Ibis plan yet") from None
