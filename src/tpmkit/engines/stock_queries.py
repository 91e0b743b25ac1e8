"""The queries of `open_at_period_end` (a stock) on Ibis (`tpmkit.engines.stock` runs
them and finishes the cells on the client)."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from tpmkit.engines.cells import PERIOD, override_condition, period_key
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds.base import Rows
from tpmkit.spec.computes import OpenAtEndCompute
from tpmkit.spec.models import MetricSpec

__all__ = ["at_horizon", "events", "first_opening", "groups", "horizons"]

Query = tuple[ir.Table, dict[str, str]]


def horizons(table: ir.Table, dialect: Dialect, present: list[str]) -> Query:
    """The latest instant (epoch µs) of each horizon column, in one row."""
    return table.aggregate(
        **{f"h{i}": dialect.epoch_us(table[c]).max() for i, c in enumerate(present)}
    ), {}


def groups(table: ir.Table, spec: MetricSpec, by: list[str]) -> Query:
    """Every group of the whole table, with each override's condition (`o0`, `o1`, …)."""
    conditions = {f"o{i}": override_condition(table, o).all() for i, o in enumerate(spec.overrides)}
    if conditions:
        query = table.group_by(by).aggregate(**conditions) if by else table.aggregate(**conditions)
        return query, {}
    return table.select(*by).distinct(), {}


def _counted(table: ir.Table, dialect: Dialect, spec: MetricSpec, timezone: str) -> ir.Table:
    """The rows the stock counts: opened, and selected by `where`."""
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    counted = table.filter(table[compute.opened].notnull())
    where = Rows(table, dialect, "", timezone).mask(compute.where, spec.parameters)
    return counted.filter(where) if where is not None else counted


def at_horizon(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    by: list[str],
    timezone: str,
    present: list[str],
    horizon: int | None,
) -> Query:
    """Per group, the rows open at the horizon (its last instant: a row opened at it is
    open, a row closed at it is closed) and the first opening; the horizon is `horizon`,
    or on a backend that computes it in the query (`Dialect.in_query`) a subquery."""
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    counted = _counted(table, dialect, spec, timezone)
    latest: Any = horizon
    if dialect.in_query:
        latest = dialect.horizon(table, [dialect.epoch_us(table[c]).max() for c in present])
    opened = dialect.epoch_us(counted[compute.opened])
    closed = counted[compute.closed]
    if latest is None:
        is_open: Any = ibis.literal(0)
    else:
        still = closed.isnull() | (dialect.epoch_us(closed) > latest)
        is_open = ibis.ifelse((opened <= latest) & still, 1, 0)
    query = counted.group_by(by) if by else counted
    return query.aggregate(value=is_open.sum(), first=opened.min()), {}


def events(
    table: ir.Table, dialect: Dialect, spec: MetricSpec, grain: str, by: list[str], timezone: str
) -> Query:
    """The +1 (opened) and −1 (closed) events summed per period and group."""
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    counted = _counted(table, dialect, spec, timezone)
    opened = period_key(counted[compute.opened], dialect, grain, timezone)
    opens = counted.select(*by, **{PERIOD: opened}).mutate(__d=ibis.literal(1))
    ends = counted.filter(counted[compute.closed].notnull())
    closed = period_key(ends[compute.closed], dialect, grain, timezone)
    ends = ends.select(*by, **{PERIOD: closed}).mutate(__d=ibis.literal(-1))
    return opens.union(ends).group_by([PERIOD, *by]).aggregate(__d=ibis._["__d"].sum()), {}


def first_opening(
    table: ir.Table, dialect: Dialect, spec: MetricSpec, grain: str, timezone: str
) -> Query:
    """The period of the first opening (`p`)."""
    compute = spec.compute
    assert isinstance(compute, OpenAtEndCompute)
    counted = _counted(table, dialect, spec, timezone)
    first = period_key(counted[compute.opened], dialect, grain, timezone).min()
    return counted.aggregate(p=first), {}
