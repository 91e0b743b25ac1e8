"""The lookups' dimensions attributed on the backend, for the tables an Ibis engine holds
itself (a `table:` source checked in the database, `tpmkit.data.in_tables`): the roster
(by `agent_id`) and the queues (by `queue`) — small, read to the client by tpmkit's
reader — uploaded as temporary tables and joined there, as
`tpmkit.data.attribution.attribute` joins them in polars (the row's own value first, then
each lookup in order), with the tenure band on each row's own local day and the absent
optional columns the evaluation adds; so the large table is not read to the client to be
attributed and uploaded again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from tpmkit.contract import CANONICAL, OVER_A_YEAR, TENURE_BAND, TENURE_BANDS
from tpmkit.data.attribution import LOOKUP, lookup_plan
from tpmkit.data.in_tables import CheckedTable
from tpmkit.data.load import Dataset

__all__ = ["on_backend"]

_uploads = itertools.count()


def on_backend(
    backend: Any,
    loaded: Mapping[str, Dataset],
    frames: Mapping[str, pl.LazyFrame],
    attributed: Mapping[str, Any],
    timezone: str,
) -> dict[str, Any]:
    """The tables checked in the database (`tpmkit.data.in_tables`) as the evaluation made
    them in polars, each an Ibis table every pass computes on; a table whose evaluation
    added what the backend cannot make is left out (the evaluation uploads its frame).
    `attributed`: what `_attribute` joined (`wants`, `tables`)."""
    wants, lookups = attributed.get("wants", {}), attributed.get("tables", [])
    ready: dict[str, Any] = {}
    for name, dataset in loaded.items():
        if name in frames and isinstance(dataset, CheckedTable):
            found = _as_evaluated(
                backend, dataset, dataset.view, frames[name], wants, lookups, timezone
            )
            if found is not None:
                ready[name] = found
    return ready


def _tenure_band(backend: Any, expr: Any, time_column: str, timezone: str) -> Any:
    """`tpmkit.engine.tenure.tenure_band` on the backend: the band of each row on its
    own local day from the hire date; null without a hire date or before it."""
    import ibis

    moment = expr[time_column]
    if moment.type().is_timestamp():
        backend.local_times(timezone)  # DuckDB: the offset macro
        day = backend.dialect.local(moment, timezone).date()
    else:
        day = moment
    days = day.delta(expr["hire_date"].cast("date"), unit="day")
    empty = ibis.null("string")
    cases = [(days.isnull(), empty), (days < 0, empty)]
    cases += [(days <= limit, ibis.literal(label)) for limit, label in TENURE_BANDS]
    return ibis.cases(*cases, else_=ibis.literal(OVER_A_YEAR))


def _as_evaluated(
    backend: Any,
    dataset: Dataset,
    expr: Any,
    frame: pl.LazyFrame,
    wants: Mapping[str, Sequence[str]],
    lookups: Sequence[tuple[str, pl.DataFrame]],
    timezone: str,
) -> Any:
    """`dataset` on the backend (`expr`) as the evaluation made `frame` in polars: the
    dimensions it `wants` attributed from `lookups` ((key, table), as
    `tpmkit.data.attribution.attribute`, the tables uploaded), its tenure band, and absent
    optional columns added (a duration as 0, anything else empty, as the evaluation adds
    them); None when `frame` has something else (the evaluation then uploads `frame`,
    which reads the rows to the client)."""
    name, time_column = dataset.name, dataset.time_column
    dimensions = wants.get(name, [])
    import ibis
    from ibis.formats.polars import PolarsType

    present = set(expr.columns)
    merged: dict[str, list[Any]] = {}
    if dimensions and lookups:
        for key, table, names in lookup_plan(present, dimensions, lookups):
            supplied = list(names)
            joined_key = LOOKUP.format(key=key, column=key)
            right = table.select(
                pl.col(key).alias(joined_key), *(pl.col(d).alias(names[d]) for d in supplied)
            )
            # a name of its own: another dataset's join may take other columns of it
            uploaded = backend.view(
                backend.upload(f"lookup_{next(_uploads)}", right.lazy(), "", timezone)
            )
            # a null key never matches: an abandoned call reaches no agent
            expr = expr.left_join(uploaded, expr[key] == uploaded[joined_key]).drop(joined_key)
            for d in supplied:
                merged.setdefault(d, [d] if d in present else []).append(names[d])
    if merged:
        expr = expr.mutate(
            **{
                d: ibis.coalesce(*(expr[s] for s in found)) if len(found) > 1 else expr[found[0]]
                for d, found in merged.items()
            }
        )
    if TENURE_BAND in dimensions and TENURE_BAND not in present:
        if time_column is None or {"hire_date", time_column} - set(expr.columns):
            return None
        expr = expr.mutate(**{TENURE_BAND: _tenure_band(backend, expr, time_column, timezone)})
    schema = frame.collect_schema()
    contract = CANONICAL.get(name)
    added = {}
    for column, dtype in schema.items():
        if column in expr.columns:
            continue
        spec = contract.column(column) if contract else None
        if spec is None:
            return None
        value = 0.0 if spec.type == "duration" else None
        added[column] = ibis.literal(value, type=PolarsType.to_ibis(dtype))
    expr = expr.mutate(**added) if added else expr
    if not set(schema.names()) <= set(expr.columns):
        return None
    return expr.select(*schema.names())
