"""`no_repeat_within` on Ibis: per row, the first strictly later instant of a row with
the same key, from a RANGE window frame starting 1 µs after the row (rows at the same
instant are no repeat, as in the polars plan). Rows whose key is null get no later
instant: they never repeat and are never counted."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tpmkit.engine.kinds.no_repeat_within import window_seconds
from tpmkit.engines.kinds.base import EPOCH, Reductions, Rows, prepared
from tpmkit.spec.computes import NoRepeatCompute
from tpmkit.spec.fields import Params


class IbisNoRepeat:
    """As `tpmkit.engine.kinds.no_repeat_within`, exactly (no hashing)."""

    def prepare(
        self, rows: Rows, metric_id: str, compute: NoRepeatCompute, params: Params
    ) -> ir.Table:
        """`later` (epoch µs of the key's next later row, or null) and `horizon`."""
        table = rows.table
        key = table[compute.key]
        # the smallest instant at least 1 µs later in the same key: a RANGE frame, which
        # skips rows at the same instant (no repeat) without a self-join
        following = ibis.window(group_by=key, order_by=table[EPOCH], range=(1, None))
        later = ibis.ifelse(key.notnull(), table[EPOCH].min().over(following), ibis.null())
        # the latest instant of the whole table, one scalar (`Rows.latest`: a subquery on
        # DuckDB, else queried first; a window over the whole table would move every row
        # to one Spark partition)
        latest = rows.latest() if rows.latest else rows.dialect.horizon(table, [table[EPOCH].max()])
        if not isinstance(latest, ir.Value):
            latest = ibis.literal(latest, type="int64")
        return table.mutate(
            **{prepared(metric_id, "later"): later, prepared(metric_id, "horizon"): latest}
        )

    def reductions(
        self, rows: Rows, metric_id: str, compute: NoRepeatCompute, params: Params
    ) -> Reductions:
        """Size (observable rows with a key) and kept (no repeat)."""
        table = rows.table
        window = round(window_seconds(compute, params) * 1_000_000)
        t = table[EPOCH]
        observable = table[prepared(metric_id, "horizon")] >= t + window
        population = table[compute.key].notnull() & observable
        where = rows.mask(compute.where, params)
        population = population if where is None else where & population
        later = table[prepared(metric_id, "later")]
        repeated = later.notnull() & (later <= t + window)
        parts = Reductions(metric_id).count("size", population, table)
        return parts.count("kept", population & ~repeated, table)
