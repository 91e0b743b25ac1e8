"""The records of the workforce section (what the report and renderers take)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NotProficient:
    """An agent hired in the data range with no proficient week: censored (listed, never
    dropped, kpi-catalogue.md) — not yet proficient, or, with `left`, gone before reaching
    proficiency (censored by leaving: their time is unknown, not long)."""

    agent_id: str
    team: str | None
    hired: dt.date
    left: dt.date | None = None  # the roster's leave date, when the agent has left


@dataclass
class WorkforceView:
    """Headcount and attrition per period, metrics by tenure band for one period, and
    the agents not yet proficient."""

    grain: str
    trend: list[dict[str, Any]]  # per period: headcount, attrition_rate, early_attrition_rate
    period: str | None  # the period of the tenure-band table
    bands: list[dict[str, Any]]  # per metric: {"metric", "name", "unit", band -> value, n}
    not_proficient: list[NotProficient] = field(default_factory=list)
    # the grain of the tenure-band table's `period` when it is not the trend's (a weekly
    # report shows the roster's trend by month, its cadence)
    band_grain: str | None = None
