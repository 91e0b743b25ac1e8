"""`count` on Ibis: the rows `where` selects."""

from __future__ import annotations

from tpmkit.engines.kinds.base import Reductions, RowKind, Rows
from tpmkit.spec.computes import CountCompute
from tpmkit.spec.fields import Params


class IbisCount(RowKind):
    """As `tpmkit.engine.kinds.count`."""

    def reductions(
        self, rows: Rows, metric_id: str, compute: CountCompute, params: Params
    ) -> Reductions:
        """The count."""
        where = rows.mask(compute.where, params)
        return Reductions(metric_id).count("count", where, rows.table)
