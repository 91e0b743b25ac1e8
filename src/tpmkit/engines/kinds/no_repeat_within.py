"""`no_repeat_within` on Ibis: per row, the first strictly later instant of a row with
the same key, from the distinct (key, instant) pairs and `lead` — a window every backend
has (rows at the same instant are no repeat, as in the polars plan). Rows whose key is
null are dropped before the window: they never repeat and are never counted."""

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
        key, later = prepared(metric_id, "key"), prepared(metric_id, "later")
        instants = (
            table.filter(table[compute.key].notnull())
            .select(**{key: table[compute.key], EPOCH: table[EPOCH]})
            .distinct()
        )
        following = ibis.window(group_by=instants[key], order_by=instants[EPOCH])
        instants = instants.mutate(**{later: instants[EPOCH].lead().over(following)})
        joined = table.left_join(
            instants,
            [table[compute.key] == instants[key], table[EPOCH] == instants[EPOCH]],
        )
        joined = joined.select(*table.columns, later)
        # the latest instant of the whole table, one scalar queried first (a window over
        # the whole table would move every row to one Spark partition)
        latest = table.aggregate(h=table[EPOCH].max()).to_polars().item()
        horizon = ibis.literal(latest, type="int64")
        return joined.mutate(**{prepared(metric_id, "horizon"): horizon})

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
