"""Balanced scorecards, individual gaps and fair flags (kpi-catalogue.md, product.md).

- Each metric scores 0–100 against its levels: 100 at or better than target, 0 at or worse
  than critical, linear in between; a within-band metric scores 100 inside its target band,
  falling linearly to 0 at the critical bounds. A metric with no value or without a target
  and a critical level is dropped and the remaining weights are renormalised; the card
  lists what was dropped. A group scored on less than half of the weight gets no score and
  no rank, and the reason; unscored groups are listed apart, after the scored ones.
- A metric on fewer rows than its `min_sample` (status insufficient_sample) still scores
  its points, and its group is ranked by score like the others, flagged `small_sample`: a
  team lead sees where the person stands and that the number is thin, instead of a list of
  unscored people in id order. Evidence stays fair: such a metric is never judged
  significantly worse, so it never enters the coaching list.
- Evidence: for a rate, the Wilson 95 % interval of the share; for a mean, the t interval
  (sample standard deviation). A group is *significantly worse* than target only when the
  whole interval lies on the bad side of the target, *significantly better* only when it
  lies wholly on the good side; a value on the bad side with an interval reaching the target
  is *not enough evidence*.
- The coaching list: per team lead, the agents with a metric significantly worse than target,
  the largest weighted gap first, with the evidence.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tpmkit.engine.kinds import kind_of
from tpmkit.errors import UsageError
from tpmkit.needs import Need, scorecard_for, scorecard_grouping
from tpmkit.records import Evaluation
from tpmkit.spec.loader import Definitions
from tpmkit.spec.models import Scorecard

Z95 = 1.959963984540054
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}  # fmt: skip


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
    if rate:  # the record's own components: qualifying rows of the rows it divides by
        hits, size, scale = (record.get(k) for k in ("numerator", "denominator", "scale"))
        if hits is None or not size or not scale:
            return None
        bounds = wilson(hits, int(size))
        return None if bounds is None else (bounds[0] * scale, bounds[1] * scale)
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

    @property
    def small_sample(self) -> bool:
        """Scored on fewer rows than the metric's `min_sample`."""
        return self.points is not None and self.record.get("status") == "insufficient_sample"


@dataclass
class GroupScore:
    group: dict[str, Any]
    context: dict[str, Any]  # team_lead, team, site of an agent (when known)
    score: float | None
    previous: float | None
    rank: int | None
    metrics: list[MetricScore]
    dropped: list[str] = field(default_factory=list)
    reason: str | None = None  # why the group has no score (None when it has one)

    @property
    def change(self) -> float | None:
        return None if self.score is None or self.previous is None else self.score - self.previous

    @property
    def small_sample(self) -> list[str]:
        """The metrics of the score that rest on fewer rows than their `min_sample`."""
        return [m.metric for m in self.metrics if m.small_sample]


@dataclass
class ScorecardResult:
    role: str
    period: str
    by: list[str]
    groups: list[GroupScore]  # lowest score first (ties by group); then the unscored, by group
    notes: list[str] = field(default_factory=list)
    goals: list[Any] = field(default_factory=list)  # goals.GoalStatus of the project's goals

    @property
    def scored(self) -> list[GroupScore]:
        """The groups with a score, lowest first (small samples among them, flagged)."""
        return [g for g in self.groups if g.score is not None]

    @property
    def unscored(self) -> list[GroupScore]:
        """The groups without a score, each with its `reason`."""
        return [g for g in self.groups if g.score is None]

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


def card_ids(project: Definitions, role: str, period: str) -> tuple[Scorecard, list[str]]:
    """The role's scorecard and its metric ids (each one the project defines)."""
    if period == "hour":
        raise UsageError("scorecards are for day, week, month, quarter, year or all; not hour")
    card = scorecard_for(project, role)
    ids = list(card.weights())
    for metric_id in ids:
        if metric_id not in project.metrics:
            raise UsageError(f"scorecard `{role}` names an unknown metric `{metric_id}`")
    return card, ids


def baseline_need(
    evaluation: Evaluation, ids: Sequence[str], grouping: Sequence[str], count: int
) -> Need | None:
    """The evaluation of each group's baseline: the first `count` periods of the data as one
    window (None when the data has no more periods than that)."""
    starts = _spans(evaluation, ids).get_column("period_start").to_list()
    if len(starts) < count + 1:
        return None
    end = starts[count].date() - dt.timedelta(days=1)
    return Need(tuple(ids), "all", tuple(grouping), starts[0].date(), end)


def _spans(evaluation: Evaluation, ids: Sequence[str]) -> pl.DataFrame:
    records = evaluation.records.filter(pl.col("metric").is_in(list(ids)))
    spans = records.select("period_start", "period").unique()
    return spans.drop_nulls("period_start").sort("period_start")


def build(
    card: Scorecard,
    evaluation: Evaluation,
    *,
    role: str = "agent",
    at: str = "latest",
    by: Sequence[str] = ("agent_id",),
    baseline: Evaluation | None = None,
    averages: Mapping[str, Evaluation] | None = None,
    goals: list[Any] | None = None,
    now: dt.datetime | None = None,
) -> ScorecardResult:
    """Score every group of the judged period (latest complete, or `at`) of `evaluation`
    (grouped by `scorecard_grouping(by)`); `baseline` is the `baseline_need` evaluation,
    `averages` the team and site evaluations by column."""
    weights = card.weights()
    ids = list(weights)
    by = list(by)
    context, grouping = scorecard_grouping(by)
    records = evaluation.records.filter(pl.col("metric").is_in(ids))
    label = judged_label(evaluation, ids, at, now)
    labels_in_order = _spans(evaluation, ids).get_column("period").to_list()
    previous_label = (
        labels_in_order[labels_in_order.index(label) - 1]
        if label in labels_in_order and labels_in_order.index(label) > 0
        else None
    )
    rows = records.to_dicts()
    baselines = (
        {
            (tuple(r[c] for c in grouping), r["metric"]): r["value"]
            for r in baseline.records.to_dicts()
        }
        if baseline is not None
        else {}
    )
    averages_by = {
        column: {
            (r[column], r["metric"]): r["value"]
            for r in found.records.to_dicts()
            if r["period"] == label
        }
        for column, found in (averages or {}).items()
    }
    rate = {m: kind_of(evaluation.definitions[m].compute).binomial for m in ids}

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
                    points(record),
                    bounds,
                    evidence(record, bounds),
                    baselines.get((group_key, metric_id)),
                    averages_by.get("team", {}).get((record.get("team"), metric_id)),
                    averages_by.get("site", {}).get((record.get("site"), metric_id)),
                )
            )
        previous = _score(
            [
                MetricScore(m, weights[m], r, points(r), None, None)
                for m, r in before.get(group_key, {}).items()
                if m in weights
            ]
        )
        score = _score(metrics)
        scored.append(
            GroupScore(
                {c: v for c, v in zip(grouping, group_key, strict=True) if c in by},
                {c: v for c, v in zip(grouping, group_key, strict=True) if c in context},
                score,
                previous,
                None,
                metrics,
                [m.metric for m in metrics if m.points is None],
                None if score is not None else unscored_reason(metrics),
            )
        )
    lowest_first = sorted(
        (g for g in scored if g.score is not None), key=lambda g: (g.score or 0, _order(g))
    )
    ascending = [g.score or 0 for g in lowest_first]
    for group in lowest_first:  # 1 the best; equal scores share a rank (1, 2, 2, 4)
        group.rank = 1 + len(ascending) - bisect.bisect_right(ascending, group.score or 0)
    unscored = sorted((g for g in scored if g.score is None), key=_order)
    return ScorecardResult(
        role, label, by, lowest_first + unscored, [*evaluation.notes], list(goals or [])
    )


def _order(group: GroupScore) -> tuple[str, ...]:
    """Ties and unscored groups in group order (by id), nulls last."""
    return tuple("\uffff" if v is None else str(v) for v in group.group.values())


def unscored_reason(metrics: Sequence[MetricScore]) -> str:
    """Why a group has no score: the weight that could be scored and each dropped metric's
    cause, e.g. `scored on 20 % of the weight (under 50 %): csat no data, aht no data`."""
    causes = []
    for metric in metrics:
        if metric.points is not None:
            continue
        record = metric.record
        if record.get("value") is None:
            cause = "no data"
        elif record.get("target") is None or record.get("critical") is None:
            cause = "no target or critical level"
        else:
            cause = "not scorable"
        causes.append(f"{metric.metric} {cause}")
    share = sum(m.weight for m in metrics if m.points is not None)
    head = (
        "no metric could be scored"
        if share == 0
        else f"scored on {share:.0f} % of the weight (under {MIN_COVERAGE:.0f} %)"
    )
    return f"{head}: " + ", ".join(causes)


def judged_label(
    evaluation: Evaluation, ids: Sequence[str], at: str, now: dt.datetime | None
) -> str:
    """The period a scorecard of `ids` judges: the latest complete one, or `at`."""
    from zoneinfo import ZoneInfo

    from tpmkit.judge import gate

    records = evaluation.records.filter(pl.col("metric").is_in(list(ids)))
    zone = ZoneInfo(evaluation.timezone)
    chosen = [evaluation.definitions[m] for m in ids]
    moment = now or dt.datetime.now(zone)
    return gate.common_period(gate.judged_periods(records, at, evaluation, moment, zone, chosen))


def judged_day(evaluation: Evaluation, label: str) -> dt.date | None:
    """The last day of the period `label` (the day goals are tracked to)."""
    judged = next((r for r in evaluation.records.to_dicts() if r["period"] == label), None)
    return (judged["period_end"] - dt.timedelta(days=1)).date() if judged else None


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
                    "small_sample": bool(group.small_sample),
                    "unscored_reason": group.reason,
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
