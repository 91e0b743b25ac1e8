"""Evaluate the workforce section: the roster metrics per period, the contact metrics by
tenure band, and the censored agents of time to proficiency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from tpmkit.contract import OVER_A_YEAR, TENURE_BANDS
from tpmkit.errors import UsageError
from tpmkit.needs import Need
from tpmkit.workforce.model import NotProficient, WorkforceView

if TYPE_CHECKING:
    from tpmkit.commands import Evaluator
    from tpmkit.spec.loader import Definitions

ROSTER_METRICS = ("headcount", "attrition_rate", "early_attrition_rate")
BAND_METRICS = ("aht", "csat", "fcr", "qa_score")  # the agent's own metrics, where defined
BANDS = [label for _, label in TENURE_BANDS] + [OVER_A_YEAR]
PROFICIENCY = "time_to_proficiency"


def not_proficient(project: Definitions, evaluate: Evaluator) -> list[NotProficient]:
    """The agents hired in the data range with no proficient week, by hire date: per agent,
    time to proficiency is their own time, or no value when censored; a leaver carries
    their leave date (censored by leaving, not "not yet proficient")."""
    if PROFICIENCY not in project.metrics:
        return []
    base = ("team", "agent_id", "hire_date")
    records = None
    # with the leave date where the roster has one (a roster without the column refuses
    # the grouping: then without it)
    for by in ((*base, "leave_date"), base):
        try:
            records = evaluate.one(Need((PROFICIENCY,), "all", by, explicit=False)).records
            break
        except UsageError:
            continue
    if records is None:
        return []
    censored = records.filter(
        (pl.col("metric") == PROFICIENCY)
        & pl.col("agent_id").is_not_null()
        & (pl.col("n") == 1)
        & pl.col("value").is_null()
    ).sort("hire_date", "agent_id")
    return [
        NotProficient(str(r["agent_id"]), r["team"], r["hire_date"], r.get("leave_date"))
        for r in censored.iter_rows(named=True)
    ]


def workforce(
    project: Definitions,
    evaluate: Evaluator,
    grain: str,
    at: str | None,
    *,
    records: pl.DataFrame | None = None,
    last: int = 6,
) -> WorkforceView | None:
    """The workforce section for period `at` (None: the latest) of grain `grain`, or None
    when the project has no roster. `records`: the report's own evaluation, used when it
    holds the roster metrics (the operations manager's view does) instead of a new one."""
    present = [m for m in ROSTER_METRICS if m in project.metrics]
    if not present or "agents" not in project.spec.sources:
        return None
    band_grain, band_at = grain, at
    trend_grain = _cadence_grain(project, present, grain)
    if trend_grain != grain:
        # attrition is reviewed monthly: its trend is shown by month (a week's annualised
        # rate reads 360 % for four leavers of sixty) up to the month holding the report's
        # period; the tenure bands keep the report's own period
        at = _holding(records, at, trend_grain) if records is not None else None
        grain, records = trend_grain, None
    if records is None or not records.filter(pl.col("metric").is_in(present)).height:
        # with the contact metrics, so that the roster's periods are the data's
        together = (*present, *(m for m in BAND_METRICS if m in project.metrics))
        try:
            records = evaluate.one(Need(together, grain, last=last, explicit=False)).records
        except UsageError:
            return None
    rows = records.filter(
        pl.col("metric").is_in(present) & pl.col("period_start").is_not_null()
    ).sort("period_start")
    periods = rows.get_column("period").unique(maintain_order=True).to_list()
    if at in periods:  # the periods up to the report's, the latest `last` of them
        periods = periods[: periods.index(at) + 1]
    periods = periods[-last:]
    reasons = _leavers(project, evaluate, grain, last) if "attrition_rate" in present else {}
    table = [
        {
            "period": p,
            **{r["metric"]: r for r in rows.filter(pl.col("period") == p).to_dicts()},
            "leavers": reasons.get(p, {}),
        }
        for p in periods
    ]
    period = at if at in periods else (periods[-1] if periods else None)
    if band_grain != grain:
        period = band_at
    return WorkforceView(
        grain=grain,
        trend=table,
        period=period,
        bands=_bands(project, evaluate, band_grain, period),
        band_grain=band_grain if band_grain != grain else None,
        not_proficient=not_proficient(project, evaluate),
    )


def _cadence_grain(project: Definitions, present: Sequence[str], grain: str) -> str:
    """The grain of the workforce trend: the report's, or the roster metrics' cadence when
    the report's period is shorter (engine/status.py: not judged on a shorter period)."""
    from tpmkit.engine.status import CADENCE_GRAINS, cadence_reasons

    specs = [project.metrics[m].spec for m in present]
    shorter = cadence_reasons(specs, grain)
    cadences = {s.cadence for s in specs if s.id in shorter and s.cadence}
    if not cadences:
        return grain
    order = list(CADENCE_GRAINS)  # daily, weekly, monthly: the longest of them
    return str(CADENCE_GRAINS[max(cadences, key=order.index)])


def _holding(records: pl.DataFrame, at: str | None, grain: str) -> str | None:
    """The label of the `grain` period holding the start of the report's period `at`."""
    from tpmkit.engine import periods as cut

    starts = records.filter(pl.col("period") == at).get_column("period_start").drop_nulls()
    if starts.is_empty():
        return None
    first = pl.lit(starts.min(), dtype=starts.dtype)
    return str(pl.select(cut.label(cut.period_start(first, grain), grain)).item())


def _leavers(
    project: Definitions, evaluate: Evaluator, grain: str, last: int
) -> dict[str, dict[str, int]]:
    """Per period, its leavers by `leave_reason` (kpi-catalogue.md: attrition counts every
    reason, transfers also reported apart): attrition's n by reason — its rates by reason
    would divide by a headcount of no meaning, its counts are the leavers."""
    if "leave_reason" not in _roster_columns(project):
        return {}
    together = ("attrition_rate", *(m for m in BAND_METRICS if m in project.metrics))
    need = Need(together, grain, ("leave_reason",), last=last, explicit=False)
    try:
        records = evaluate.one(need).records
    except UsageError:
        return {}
    found: dict[str, dict[str, int]] = {}
    rows = records.filter(
        (pl.col("metric") == "attrition_rate")
        & (pl.col("n") > 0)
        & pl.col("leave_reason").is_not_null()
    )
    for row in rows.iter_rows(named=True):
        found.setdefault(row["period"], {})[str(row["leave_reason"])] = int(row["n"])
    return found


def _roster_columns(project: Definitions) -> set[str]:
    """The canonical columns the roster source maps or has (what a grouping may name)."""
    source = project.spec.sources.get("agents")
    if source is None:
        return set()
    from tpmkit.contract import CANONICAL

    return {c.name for c in CANONICAL["agents"].columns} | set(source.columns.values())


def _bands(
    project: Definitions, evaluate: Evaluator, grain: str, period: str | None
) -> list[dict[str, Any]]:
    """Per agent metric: its value in each tenure band in `period`; first, how many people
    each band holds at the period's end (the headcount), to read the others by."""
    metrics = [m for m in ("headcount", *BAND_METRICS) if m in project.metrics]
    if not metrics or period is None:
        return []
    try:
        records = evaluate.one(
            Need(tuple(metrics), grain, ("tenure_band",), explicit=False)
        ).records
    except UsageError:
        return []
    records = records.filter(pl.col("period") == period)
    out = []
    for metric in metrics:
        mine = {r["tenure_band"]: r for r in records.filter(pl.col("metric") == metric).to_dicts()}
        if not any(b in mine for b in BANDS):
            continue
        spec = project.metrics[metric].spec
        out.append({"metric": metric, "name": spec.name, "unit": spec.unit, "bands": mine})
    return out


def band_order(values: Sequence[str | None]) -> list[str | None]:
    """Tenure bands in their natural order (unknown last)."""
    rank = {b: i for i, b in enumerate(BANDS)}
    return sorted(values, key=lambda v: rank.get(v or "", len(BANDS)))
