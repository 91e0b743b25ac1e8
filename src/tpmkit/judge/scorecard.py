"""Balanced scorecards, individual gaps and fair flags (kpi-catalogue.md, product.md).

- Each metric scores 0–100 against its levels: 100 at or better than target, 0 at or worse
  than critical, linear in between; a within-band metric scores 100 inside its target band,
  falling linearly to 0 at the critical bounds. A metric with no value, too small a sample,
  or without a target and a critical level is dropped and the remaining weights are
  renormalised; the card lists what was dropped. A group scored on less than half of the
  weight gets no score and no rank.
- Evidence: for a rate, the Wilson 95 % interval of the share; for a mean, the t interval
  (sample standard deviation). A group is *significantly worse* than target only when the
  whole interval lies on the bad side of the target, *significantly better* only when it
  lies wholly on the good side; a value on the bad side with an interval reaching the target
  is *not enough evidence*. Small samples are never ranked worst.
- The coaching list: per team lead, the agents with a metric significantly worse than target,
  the largest weighted gap first, with the evidence.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.engine.kinds import kind_of
from tpmkit.errors import Issue, UsageError
from tpmkit.spec.loader import Project
from tpmkit.spec.models import DEFAULT_SCORECARDS, Scorecard

Z95 = 1.959963984540054
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}  # fmt: skip
CONTEXT = ("team_lead", "team", "site")  # roster columns shown beside an agent


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t (a table to 10 degrees of freedom, then the
    Cornish-Fisher expansion, within 0.001 of the exact value)."""
    if df < 1:
        return math.inf
    if df in _T975:
        return _T975[df]
    z = Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def wilson(successes: float, n: int) -> tuple[float, float] | None:
    """Wilson score 95 % interval of a share (as fractions); None without rows."""
    if n <= 0:
        return None
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval(record: dict[str, Any], rate: bool) -> tuple[float, float] | None:
    """The 95 % interval of a record's value in its own unit, or None."""
    value, n = record.get("value"), record.get("n") or 0
    if value is None or n <= 0:
        return None
    if rate:
        bounds = wilson(value / 100 * n, n)
        return None if bounds is None else (bounds[0] * 100, bounds[1] * 100)
    sd = record.get("sd")
    if sd is None or n < 2:
        return None
    half = t975(n - 1) * sd / math.sqrt(n)
    return value - half, value + half


def evidence(record: dict[str, Any], bounds: tuple[float, float] | None) -> str | None:
    """significantly_worse | not_enough_evidence | on_target | significantly_better; None
    for a record below its metric's `min_sample` (never judged, let alone ranked worst)."""
    if record.get("status") in ("insufficient_sample", "no_data"):
        return None
    target, value, direction = record.get("target"), record.get("value"), record.get("direction")
    if target is None or value is None or bounds is None or record.get("target_upper") is not None:
        return None
    low, high = bounds
    higher = direction == "higher_is_better"
    if direction not in ("higher_is_better", "lower_is_better"):
        return None
    worse_side = value < target if higher else value > target
    if (high < target) if higher else (low > target):
        return "significantly_worse"
    if (low > target) if higher else (high < target):
        return "significantly_better"
    return "not_enough_evidence" if worse_side else "on_target"


def points(record: dict[str, Any]) -> float | None:
    """0–100 by the catalogue's rule, or None when the record cannot be scored."""
    value, direction = record.get("value"), record.get("direction")
    target, critical = record.get("target"), record.get("critical")
    if value is None or target is None or critical is None:
        return None
    if direction == "within_band":
        upper, critical_upper = record.get("target_upper"), record.get("critical_upper")
        if upper is None or critical_upper is None:
            return None
        if target <= value <= upper:
            return 100.0
        if value < target:
            return _linear(value, critical, target)
        return _linear(value, critical_upper, upper)
    if direction in ("higher_is_better", "lower_is_better"):
        return _linear(value, critical, target)
    return None


def _linear(value: float, zero_at: float, full_at: float) -> float:
    """100 at `full_at` or beyond it, 0 at `zero_at` or beyond, linear between."""
    if full_at == zero_at:
        return 100.0 if value == full_at else 0.0
    share = (value - zero_at) / (full_at - zero_at)
    return 100.0 * min(1.0, max(0.0, share))


@dataclass
class MetricScore:
    metric: str
    weight: float  # share of the whole score before renormalisation (percent)
    record: dict[str, Any]
    points: float | None
    interval: tuple[float, float] | None
    evidence: str | None
    baseline: float | None = None  # the group's value over the baseline window
    team: float | None = None  # the metric for the group's team
    site: float | None = None  # and for its site


@dataclass
class GroupScore:
    group: dict[str, Any]
    context: dict[str, Any]  # team_lead, team, site of an agent (when known)
    score: float | None
    previous: float | None
    rank: int | None
    metrics: list[MetricScore]
    dropped: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        return None if self.score is None or self.previous is None else self.score - self.previous


@dataclass
class ScorecardResult:
    role: str
    period: str
    by: list[str]
    groups: list[GroupScore]  # lowest score first; groups without a score last
    notes: list[str] = field(default_factory=list)
    goals: list[Any] = field(default_factory=list)  # goals.GoalStatus of the project's goals

    def coaching(self) -> dict[str, list[tuple[GroupScore, MetricScore]]]:
        """Per team lead: (agent, metric) significantly worse than target, largest
        weighted gap (weight × missing points) first."""
        out: dict[str, list[tuple[GroupScore, MetricScore]]] = {}
        for group in self.groups:
            for metric in group.metrics:
                if metric.evidence == "significantly_worse":
                    lead = str(group.context.get("team_lead") or "(no team lead)")
                    out.setdefault(lead, []).append((group, metric))
        for items in out.values():
            items.sort(key=lambda gm: -gm[1].weight * (100 - (gm[1].points or 0)))
        return dict(sorted(out.items()))


def scorecard_for(project: Project, role: str) -> Scorecard:
    if role in project.spec.scorecards:
        return project.spec.scorecards[role]
    if role in DEFAULT_SCORECARDS:
        return Scorecard.model_validate(DEFAULT_SCORECARDS[role])
    raise UsageError(
        f"no scorecard for role `{role}`",
        [Issue("define one under `scorecards:` in tpmkit.yaml", severity="hint")],
    )


def build(
    project: Project,
    *,
    role: str = "agent",
    period: str = "month",
    at: str = "latest",
    by: Sequence[str] = ("agent_id",),
    baseline_periods: int = 3,
    cache: Path | bool = True,
    progress: Callable[[str], None] | None = None,
) -> ScorecardResult:
    """Score every group of the judged period (latest complete, or `at`)."""
    from zoneinfo import ZoneInfo

    from tpmkit import project as api
    from tpmkit.judge import gate

    if period == "hour":
        raise UsageError("scorecards are for day, week, month, quarter, year or all; not hour")
    card = scorecard_for(project, role)
    weights = card.weights()
    ids = list(weights)
    for metric_id in ids:
        if metric_id not in project.metrics:
            raise UsageError(f"scorecard `{role}` names an unknown metric `{metric_id}`")
    by = list(by)
    context = [c for c in CONTEXT if c not in by] if by == ["agent_id"] else []
    grouping = [*context, *by]
    result = api.evaluate(project, ids, period=period, by=grouping, cache=cache, progress=progress)
    records = result.records
    zone = ZoneInfo(project.spec.timezone)
    chosen = [project.metrics[m] for m in ids]
    labels = gate.judged_periods(records, at, result, dt.datetime.now(zone), zone, chosen)
    label = gate.common_period(labels)
    spans = records.select("period_start", "period").unique().drop_nulls("period_start")
    spans = spans.sort("period_start")
    labels_in_order = spans.get_column("period").to_list()
    previous_label = (
        labels_in_order[labels_in_order.index(label) - 1]
        if label in labels_in_order and labels_in_order.index(label) > 0
        else None
    )
    rows = records.to_dicts()
    starts = spans.get_column("period_start").to_list()
    baselines = _baselines(project, ids, grouping, starts, baseline_periods, cache)
    averages = {
        column: _values(project, ids, [column], period, label, cache)
        for column in ("team", "site")
        if column in grouping
    }
    rate = {m: kind_of(project.metrics[m].spec.compute).binomial for m in ids}

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(record[c] for c in grouping)

    groups: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    before: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for record in rows:
        if record["period"] == label:
            groups.setdefault(key(record), {})[record["metric"]] = record
        elif record["period"] == previous_label:
            before.setdefault(key(record), {})[record["metric"]] = record
    scored = []
    for group_key, by_metric in groups.items():
        if all(v is None for v in group_key[len(context) :]):
            continue  # contacts no agent took: not a person to score
        metrics = []
        for metric_id in ids:
            record = by_metric.get(metric_id, {"metric": metric_id, "value": None, "n": 0})
            bounds = interval(record, rate[metric_id])
            metrics.append(
                MetricScore(
                    metric_id,
                    weights[metric_id],
                    record,
                    points(record) if record.get("status") != "insufficient_sample" else None,
                    bounds,
                    evidence(record, bounds),
                    baselines.get((group_key, metric_id)),
                    averages.get("team", {}).get((record.get("team"), metric_id)),
                    averages.get("site", {}).get((record.get("site"), metric_id)),
                )
            )
        previous = _score(
            [
                MetricScore(m, weights[m], r, points(r), None, None)
                for m, r in before.get(group_key, {}).items()
                if m in weights and r.get("status") != "insufficient_sample"
            ]
        )
        scored.append(
            GroupScore(
                {c: v for c, v in zip(grouping, group_key, strict=True) if c in by},
                {c: v for c, v in zip(grouping, group_key, strict=True) if c in context},
                _score(metrics),
                previous,
                None,
                metrics,
                [m.metric for m in metrics if m.points is None],
            )
        )
    ranked = sorted((g for g in scored if g.score is not None), key=lambda g: -(g.score or 0))
    for position, group in enumerate(ranked, start=1):
        group.rank = position
    lowest_first = sorted(ranked, key=lambda g: g.score or 0) + [
        g for g in scored if g.score is None
    ]
    judged = next((r for r in rows if r["period"] == label), None)
    as_of = (judged["period_end"] - dt.timedelta(days=1)).date() if judged else None
    from tpmkit.judge import goals

    tracked = goals.track(project, as_of, cache) if project.spec.goals else []
    return ScorecardResult(role, label, by, lowest_first, [*result.notes], tracked)


MIN_COVERAGE = 50.0  # percent of the scorecard's weight that must be scored to rank a group


def _score(metrics: list[MetricScore]) -> float | None:
    """The weighted mean of the scored metrics; None (not ranked) when less than
    `MIN_COVERAGE` of the weight could be scored — a score from one thin metric would rank
    a person on too little."""
    usable = [m for m in metrics if m.points is not None]
    total = sum(m.weight for m in usable)
    if not usable or total < MIN_COVERAGE:
        return None
    return sum(m.weight * (m.points or 0) for m in usable) / total


def _values(
    project: Project, ids: list[str], by: list[str], period: str, label: str, cache: Path | bool
) -> dict[tuple[Any, str], float | None]:
    from tpmkit import project as api

    records = api.evaluate(project, ids, period=period, by=by, cache=cache).records
    return {(r[by[0]], r["metric"]): r["value"] for r in records.to_dicts() if r["period"] == label}


def _baselines(
    project: Project,
    ids: list[str],
    grouping: list[str],
    starts: list[dt.datetime],
    count: int,
    cache: Path | bool,
) -> dict[tuple[tuple[Any, ...], str], float | None]:
    """Each group's value over the first `count` periods of the data (one window);
    `starts` are the starts of every period the data touches, in order."""
    from tpmkit import project as api

    if len(starts) < count + 1:
        return {}
    end = starts[count].date() - dt.timedelta(days=1)
    window = api.evaluate(
        project,
        ids,
        period="all",
        by=grouping,
        date_from=starts[0].date(),
        date_to=end,
        cache=cache,
    ).records
    return {(tuple(r[c] for c in grouping), r["metric"]): r["value"] for r in window.to_dicts()}


def frame(result: ScorecardResult) -> pl.DataFrame:
    """One row per group × metric, for JSON/CSV output."""
    rows = []
    for group in result.groups:
        for metric in group.metrics:
            rows.append(
                {
                    "period": result.period,
                    **group.group,
                    **group.context,
                    "score": group.score,
                    "rank": group.rank,
                    "score_change": group.change,
                    "metric": metric.metric,
                    "weight": metric.weight,
                    "value": metric.record.get("value"),
                    "n": metric.record.get("n"),
                    "status": metric.record.get("status"),
                    "target": metric.record.get("target"),
                    "gap_to_target": metric.record.get("gap_to_target"),
                    "points": metric.points,
                    "interval_low": metric.interval[0] if metric.interval else None,
                    "interval_high": metric.interval[1] if metric.interval else None,
                    "evidence": metric.evidence,
                    "baseline": metric.baseline,
                    "team_value": metric.team,
                    "site_value": metric.site,
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)
