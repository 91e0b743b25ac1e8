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

import ibis.expr.types as ir
import polars as pl

from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds import columns_used
from tpmkit.engine.kinds import proficiency as plan
from tpmkit.engine.window import Window
from tpmkit.engines.cells import override_condition, period_key, to_instants
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.kinds.base import Rows
from tpmkit.engines.results import collect
from tpmkit.spec.computes import ProficiencyCompute
from tpmkit.spec.models import MetricSpec

__all__ = ["proficiency_cells_ibis", "readable", "weekly_query"]


def readable(table: ir.Table, spec: MetricSpec, by: list[str]) -> bool:
    """True when `table` has every column the kind reads (the roster's hire date and
    team attributed on the backend, the group columns, the overrides' columns)."""
    compute = spec.compute
    assert isinstance(compute, ProficiencyCompute)
    wanted = columns_used(compute, spec.parameters) | set(by)
    wanted |= {c for o in spec.overrides for c in o.when}
    return wanted <= set(table.columns)


def proficiency_cells_ibis(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    grain: str,
    by: list[str],
    timezone: str,
    window: Window,
) -> pl.DataFrame:
    """As `tpmkit.engine.kinds.proficiency.proficiency_cells`, the rows on the backend."""
    compute = spec.compute
    assert isinstance(compute, ProficiencyCompute)
    moment = table[compute.at]
    if moment.type().is_date():  # a date column other than the dataset's time column
        moment = dialect.midnight(moment, timezone)
    groups = _groups(table, spec, by)
    per_agent = _per_agent(table, dialect, compute, moment, by)
    first_day = _first_day(table, dialect, moment, timezone)
    weeks = _agent_weeks(table, dialect, spec, moment, timezone)
    times = plan.times_from_weeks(weeks.lazy(), first_day, compute).collect().lazy()
    return plan.cohort_cells(times, groups, per_agent, spec, compute, grain, by, timezone, window)


def weekly_query(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    moment: ir.TimestampValue,
    timezone: str,
) -> ir.Table:
    """The query of `agent_weeks` (built, not run: `ibis.to_sql` shows it for any
    backend); the local week start as epoch µs of its wall-clock time, `__week`."""
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


def _agent_weeks(
    table: ir.Table,
    dialect: Dialect,
    spec: MetricSpec,
    moment: ir.TimestampValue,
    timezone: str,
) -> pl.DataFrame:
    """`agent_weeks` of the polars plan, on the backend: the week start is made an
    instant here, as a pass makes its period starts."""
    frame = collect(weekly_query(table, dialect, spec, moment, timezone))
    return frame.with_columns(to_instants(frame, "__week", "week", timezone).alias("__week"))


def _first_day(
    table: ir.Table, dialect: Dialect, moment: ir.TimestampValue, timezone: str
) -> dt.date | None:
    """The first local day of the data (all rows), as a literal."""
    first = dialect.scalar(table, dialect.epoch_us(moment).min())
    day = pl.select(
        pl.from_epoch(pl.lit(first, dtype=pl.Int64), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.date()
    ).item()
    assert day is None or isinstance(day, dt.date)
    return day


def _groups(table: ir.Table, spec: MetricSpec, by: list[str]) -> pl.LazyFrame:
    """Each group's override (the first whose condition holds on all its rows)."""
    conditions = {
        f"__o{i}": override_condition(table, o).all() for i, o in enumerate(spec.overrides)
    }
    override = choose_override([(i, pl.col(n)) for i, n in enumerate(conditions)])
    if by:
        query = table.group_by(by).aggregate(**conditions) if conditions else table[by].distinct()
        return collect(query).lazy().select(*by, override.alias("override"))
    # one group, the whole table (as the polars plan's `frame.select(override)`)
    frame = collect(table.aggregate(**conditions)) if conditions else pl.DataFrame({"_": [0]})
    return frame.lazy().select(override.alias("override"))


def _per_agent(
    table: ir.Table,
    dialect: Dialect,
    compute: ProficiencyCompute,
    moment: ir.TimestampValue,
    by: list[str],
) -> pl.LazyFrame:
    """Each agent's own value of each group column: the value of the agent's latest row
    where it is not null (the polars plan takes the last such row as read)."""
    own = [b for b in by if b != compute.agent]
    instant = dialect.epoch_us(moment)
    if own:
        query = table.group_by(compute.agent).aggregate(
            **{b: table[b].argmax(instant, where=table[b].notnull()) for b in own}
        )
    else:
        query = table.select(compute.agent).distinct()
    return collect(query).lazy()
