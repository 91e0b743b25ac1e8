"""`time_to_proficiency` on Ibis: the heavy step over the contacts — per agent, team,
hire date and local week, the mean of `expr` and its rows (`agent_weeks` of the polars
plan) — and the per-group and per-agent parts computed on the backend; the comparison
with each team's weekly median and the Kaplan–Meier median per cohort are then finished
on the client by the polars plan's own code (`times_from_weeks`, `cohort_cells`), so the
engines cannot drift apart. What comes back is small: one row per agent and week.

A running product over the distinct times (the Kaplan–Meier step) has no exact SQL
aggregate (`exp(sum(ln(…)))` would break the 1e-9 agreement), which is why it stays on
the client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds import columns_used
from tpmkit.engine.kinds import proficiency as plan
from tpmkit.engine.window import Window
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.passes import to_instants
from tpmkit.engines.queries import Runner
from tpmkit.spec.computes import ProficiencyCompute
from tpmkit.spec.models import MetricSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["proficiency_cells_ibis", "readable", "weekly_query"]


def readable(columns: Iterable[str], spec: MetricSpec, by: list[str]) -> bool:
    """True when a table of `columns` has every column the kind reads (the roster's hire
    date and team attributed on the backend, the group columns, the overrides' columns)."""
    compute = spec.compute
    assert isinstance(compute, ProficiencyCompute)
    wanted = columns_used(compute, spec.parameters) | set(by)
    wanted |= {c for o in spec.overrides for c in o.when}
    return wanted <= set(columns)


def proficiency_cells_ibis(
    runner: Runner,
    name: str,
    make: Callable[[], ir.Table],
    dialect: Dialect,
    spec: MetricSpec,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """As `tpmkit.engine.kinds.proficiency.proficiency_cells`, the rows on the backend:
    four small queries, run by `runner` as `name` and a suffix (so a compiled run builds
    none of them, `tpmkit.engines.compiled`); `make` makes the table."""
    compute = spec.compute
    assert isinstance(compute, ProficiencyCompute)

    def moment(table: ir.Table) -> ir.TimestampValue:
        at = table[compute.at]
        # a date column other than the dataset's time column: its local midnight
        return dialect.midnight(at, timezone) if at.type().is_date() else at

    conditions = [f"__o{i}" for i in range(len(spec.overrides))]
    override = choose_override([(i, pl.col(n)) for i, n in enumerate(conditions)])
    if by or conditions:
        found = runner.run(f"{name} groups", lambda: (_groups(make(), spec, by), {}))
        groups = found.lazy().select(*by, override.alias("override"))
    else:  # one group, the whole table, no override (the polars plan's `frame.select`)
        groups = pl.LazyFrame({"_": [0]}).select(override.alias("override"))
    own = [b for b in by if b != compute.agent]
    per_agent = runner.run(
        f"{name} agents", lambda: (_per_agent(make(), dialect, compute, moment, own), {})
    )
    first = runner.run(
        f"{name} first", lambda: (make().aggregate(v=dialect.epoch_us(moment(make())).min()), {})
    ).item()
    weeks = runner.run(
        f"{name} weeks", lambda: (weekly_query(make(), dialect, spec, moment(make()), timezone), {})
    )
    weeks = weeks.with_columns(to_instants(weeks, "__week", "week", timezone).alias("__week"))
    times = plan.times_from_weeks(weeks.lazy(), _day(first, timezone), compute).collect().lazy()
    return plan.cohort_cells(
        times, groups, per_agent.lazy(), spec, compute, grain, by, timezone, window
    )


def weekly_query(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    moment: ir.TimestampValue,
    timezone: str,
) -> ir.Table:
    """The query of `agent_weeks` (built, not run: `ibis.to_sql` shows it for any
    backend); the local week start as epoch µs of its wall-clock time, `__week`."""
    from tpmkit.engines.cells import period_key
    from tpmkit.engines.kinds.base import Rows

    compute = spec.compute
    assert isinstance(compute, ProficiencyCompute)
    rows = Rows(table, dialect, compute.at, timezone)
    keep = table[compute.agent].notnull() & table[compute.hired].notnull()
    if compute.where:
        keep = keep & rows.expr(compute.where, spec.parameters).fill_null(False)
    value = rows.expr(compute.expr, spec.parameters).cast("float64")
    prepared = table.mutate(
        __week=period_key(moment, dialect, "week", timezone), __value=value
    ).filter(keep)
    return prepared.group_by([compute.agent, compute.team, compute.hired, "__week"]).aggregate(
        __sum=dialect.real(prepared["__value"].sum()),
        __rows=prepared["__value"].count(),
    )


def _day(first: Any, timezone: str) -> dt.date | None:
    """The local day of an instant given as epoch µs (None: no rows)."""
    day = pl.select(
        pl.from_epoch(pl.lit(first, dtype=pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.date()
    ).item()
    assert day is None or isinstance(day, dt.date)
    return day


def _groups(table: ir.Table, spec: MetricSpec, by: list[str]) -> ir.Table:
    """Each group's override conditions (`__o0`, …: true on all its rows)."""
    from tpmkit.engines.cells import override_condition

    conditions = {
        f"__o{i}": override_condition(table, o).all() for i, o in enumerate(spec.overrides)
    }
    if by:
        return table.group_by(by).aggregate(**conditions) if conditions else table[by].distinct()
    return table.aggregate(**conditions)


def _per_agent(
    table: ir.Table,
    dialect: Dialect,
    compute: ProficiencyCompute,
    moment: Callable[[ir.Table], ir.TimestampValue],
    own: list[str],
) -> ir.Table:
    """Each agent's own value of each group column: the value of the agent's latest row
    where it is not null (the polars plan takes the last such row as read)."""
    instant = dialect.epoch_us(moment(table))
    if own:
        return table.group_by(compute.agent).aggregate(
            **{b: table[b].argmax(instant, where=table[b].notnull()) for b in own}
        )
    return table.select(compute.agent).distinct()
