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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tpmkit.engine.kinds import kind_of
from tpmkit.errors import UsageError
from tpmkit.judge.evidence import evidence, interval, points
from tpmkit.needs import Need, scorecard_for
from tpmkit.records import Evaluation
from tpmkit.spec.loader import Definitions
from tpmkit.spec.models import Scorecard


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
    """The evaluation of each group's baseline: the first `count` consecutive periods of the
    data as one window, none of them touched by an annotation with `exclude` on the whole
    operation for these metrics (docs/annotations.md); None when the data has no such run
    of periods with a later period after it."""
    periods = _spans(evaluation, ids)
    starts = periods.get_column("period_start").to_list()
    kept = _kept(periods, evaluation.annotations, ids)
    for first in range(len(starts) - count):
        if all(kept[first : first + count]):
            end = starts[first + count].date() - dt.timedelta(days=1)
            return Need(tuple(ids), "all", tuple(grouping), starts[first].date(), end)
    return None


def _spans(evaluation: Evaluation, ids: Sequence[str]) -> pl.DataFrame:
    records = evaluation.records.filter(pl.col("metric").is_in(list(ids)))
    spans = records.select("period_start", "period_end", "period").unique("period_start")
    return spans.drop_nulls("period_start").sort("period_start")


def _kept(periods: pl.DataFrame, notes: pl.DataFrame | None, ids: Sequence[str]) -> list[bool]:
    """Per period, whether no `exclude` note on these metrics (or every metric) and on no
    particular group touches it: a baseline is one window over every group."""
    if notes is None:
        return [True] * periods.height
    from tpmkit.engine.notes import touching

    wanted = notes.filter(
        pl.col("exclude")
        & pl.col("group").is_null()
        & (pl.col("metric").is_null() | pl.col("metric").is_in(list(ids)))
    ).with_columns(pl.lit(None, dtype=pl.String).alias("metric"))
    frame = periods.with_columns(pl.lit("").alias("metric"))
    hit = set(touching(frame, wanted, []).get_column("__row").to_list())
    return [i not in hit for i in range(periods.height)]


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
    weights, dropped = _configured(card.weights(), evaluation.unavailable)
    ids = list(weights)
    by = list(by)
    grouping = list(evaluation.by)  # `scorecard_grouping(by)`, less what the data lack
    context = [c for c in grouping if c not in by]
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
    # a card metric the data cannot compute (not configured) is unscored for everyone
    defined = evaluation.definitions
    rate = {m: m in defined and kind_of(defined[m].compute).binomial for m in ids}

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
    notes = [*evaluation.notes]
    if dropped:
        notes.append(
            f"scorecard: {', '.join(dropped)} not configured (no export for it): the score "
            f"rests on {', '.join(ids)}, their weights scaled to 100 %"
        )
    return ScorecardResult(role, label, by, lowest_first + unscored, notes, list(goals or []))


def _configured(
    weights: dict[str, float], unavailable: Mapping[str, str]
) -> tuple[dict[str, float], list[str]]:
    """The card's weights over the metrics the data can compute, scaled back to 100 %, and
    the metrics left out: a metric with no export is not configured, and an agent is not
    unscored for it (a calls-only project scores on its call metrics). With none left the
    card stays as it is (every agent unscored, with the reason)."""
    kept = {m: w for m, w in weights.items() if m not in unavailable}
    dropped = [m for m in weights if m not in kept]
    total = sum(kept.values())
    if not dropped or not kept or total <= 0:
        return weights, []
    return {m: w * 100.0 / total for m, w in kept.items()}, dropped


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
    chosen = [evaluation.definitions[m] for m in ids if m in evaluation.definitions]
    if not chosen:
        raise UsageError("none of the scorecard's metrics is configured for these data")
    moment = now or dt.datetime.now(zone)
    labels = gate.judged_periods(
        records, at, evaluation, moment, zone, chosen, calendar=now is not None
    )
    return gate.common_period(labels)


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
