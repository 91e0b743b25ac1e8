"""The CI gate behind `tpmkit check`: judge one period, decide pass or fail.

A metric is *gated* at a level — `warning` or `critical` — and fails the gate when a record
of the judged period has that status or a worse one. Its level comes from, in order: the
`gates` given for that metric, `fail_on` when given, the metric's `gate:`
(`warning`/`critical`; `true` means the default level, `critical`; `false` never gates),
and by default a metric with thresholds is gated at `critical` and one without is not.
With `early_warning`, a metric gated at `warning` also fails when its trend is projected
to pass the warning threshold within the horizon (see `engine/signals.py`).
A gated metric with nothing to judge in the period — no record, or only records with no
data or too small a sample — fails closed unless `allow_no_data` (a single group without
data, such as contacts that never reached an agent, does not fail the metric).

A metric is judged only at the levels of its `judged_at`: at another level, in an
`unassigned` group, or without thresholds its records are `not_judged` — never failing and
not counted as judged. `commands.check` judges the operation level plus the `--by` grouping.

The judged period is the latest complete one: it has ended, and the data reaches its last
day. A repeat-contact metric is complete only once its window has passed too, so it is
judged on an earlier period than the others until then.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.engine.status import level_reasons
from tpmkit.errors import Issue, UsageError, did_you_mean, period_hint
from tpmkit.judge import calendar as cal
from tpmkit.judge.sources import SourceStatus
from tpmkit.records import UNGROUPABLE, Evaluation
from tpmkit.spec.loader import Definitions
from tpmkit.spec.models import MetricSpec
from tpmkit.vocabulary import Status, level_of

LEVELS = ("warning", "critical")
STATUS_RANK = {"ok": 0, "warning": 1, "critical": 2}
NOTHING_TO_JUDGE = ("no_data", "insufficient_sample")  # judged here, but no value to judge
DEFAULT_LEVEL = "critical"


LEVEL_FIELDS = ("status", "value", "unit", "direction", "warning", "warning_upper", "critical",
                "critical_upper")  # fmt: skip


@dataclass
class Verdict:
    """One metric × group in the judged period."""

    metric: str
    name: str
    group: dict[str, Any]
    period: str
    status: str
    value: float | None
    n: int
    unit: str
    level: str | None  # the gate level, None when the metric is not gated
    failed: bool
    # the judged record's levels (status, value, unit, direction, warning/critical and
    # their upper bounds): the renderers word the threshold it passed from them
    levels: dict[str, Any]
    owner: str | None
    trend: str | None
    reason: str | None  # why there is no value, for no_data
    action: str | None = None  # the metric's playbook step for this status
    projected: str | None = None  # early warning, e.g. "critical by 2026-W39"
    control: str | None = None  # control-chart signal, e.g. "run_above"
    driver: str | None = None  # why it moved (tpmkit.explain), e.g. "aht +48s: Berlin Tech …"


@dataclass
class CheckResult:
    period: str  # the period judged (for most metrics; each verdict names its own)
    grain: str
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)
    evaluation: Evaluation | None = None  # the Evaluation judged (for the history)
    # each source's freshness and completeness (judge/sources.py): stale or incomplete fails
    sources: list[SourceStatus] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(v.failed for v in self.verdicts) or any(s.failed for s in self.sources)

    @property
    def judged(self) -> list[Verdict]:
        """The verdicts that judge something (not `not_judged`)."""
        return [v for v in self.verdicts if v.status != Status.NOT_JUDGED]

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.failed]

    def counts(self) -> dict[str, int]:
        """Judged verdicts per status, in status order (not_judged is never counted)."""
        counted = Counter(v.status for v in self.judged)
        order = ("ok", "warning", "critical", "no_data", "insufficient_sample")
        return {s: counted[s] for s in order if counted[s]}


def parse_gates(values: Sequence[str], project: Definitions) -> dict[str, str]:
    """`METRIC=off|warning|critical` texts as {metric id: level or "off"}."""
    gates: dict[str, str] = {}
    for value in values:
        metric, _, level = value.partition("=")
        metric_id = project.aliases.get(metric.strip(), metric.strip())
        level = level.strip()
        if metric_id not in project.metrics:
            hint = did_you_mean(metric, list(project.metrics))
            raise UsageError(
                f"gates {value}: unknown metric `{metric}`" + (f"; {hint}" if hint else "")
            )
        if level not in ("off", *LEVELS):
            raise UsageError(f"gates {value}: the level must be off, warning or critical")
        gates[metric_id] = level
    return gates


def gate_level(metric: MetricSpec, fail_on: str | None, gates: dict[str, str]) -> str | None:
    """The level a metric is gated at, or None (see the module docstring)."""
    if metric.id in gates:
        return None if gates[metric.id] == "off" else gates[metric.id]
    gate = metric.gate
    if gate is None:
        gate = metric.thresholds is not None
    if gate is False:
        return None
    if fail_on is not None:
        return fail_on
    return gate if isinstance(gate, str) else DEFAULT_LEVEL


def check(
    evaluation: Evaluation,
    *,
    fail_on: str | None = None,
    at: str = "latest",
    allow_no_data: bool = False,
    early_warning: bool = False,
    gates: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> CheckResult:
    """Judge one period of an evaluation: the latest complete one, or the one labelled `at`."""
    if not isinstance(evaluation, Evaluation):
        raise UsageError(
            "check takes an Evaluation (from project.evaluate(...)), "
            f"not a {type(evaluation).__name__}"
        )
    if fail_on is not None and fail_on not in LEVELS:
        raise UsageError(f"fail_on must be warning or critical, not `{fail_on}`")
    records = evaluation.records
    zone = ZoneInfo(evaluation.timezone)
    moment = now or dt.datetime.now(zone)
    selected = list(evaluation.definitions.values())
    by = list(evaluation.by)
    labels = judged_periods(
        records, at, evaluation, moment, zone, selected, calendar=now is not None
    )
    by_metric: dict[str, list[dict[str, Any]]] = {}
    unavailable: dict[str, str] = {}  # metric -> why it has no records at all
    for record in records.to_dicts():
        if record["period"] == labels.get(record["metric"]):
            by_metric.setdefault(record["metric"], []).append(record)
        elif record["period_start"] is None and record["reason"] and evaluation.grain != "all":
            unavailable[record["metric"]] = record["reason"]
    gates = gates or {}
    verdicts = []
    grouping_level = level_of(by)
    for metric in selected:
        level = gate_level(metric, fail_on, gates)
        label = labels[metric.id]
        rows = by_metric.get(metric.id, [])
        reason = unavailable.get(metric.id)
        if not rows and reason and UNGROUPABLE in reason:  # also via a formula's input
            level = None  # a metric the grouping does not apply to is shown, not judged
        at_level = grouping_level is not None and grouping_level in metric.judged_at
        if not at_level:
            level = None  # never judged at this level: nothing fails, not even closed
        if not rows and not at_level:
            reason = level_reasons([metric], by)[metric.id]
        judged = [_verdict(r, metric, by, level, label, early_warning) for r in rows] or [
            _no_record(metric, level, label, reason, at_level)
        ]
        for verdict in judged:
            if verdict.status == Status.NOT_JUDGED or (
                by and verdict.group and all(v is None for v in verdict.group.values())
            ):
                # not judged here, or rows with no value in the grouping (contacts no agent
                # took have no team)
                verdict.level, verdict.failed = None, False
        # fail closed: a gated metric with nothing to judge in the period fails
        gated = [v for v in judged if v.level is not None]
        nothing = all(v.status in NOTHING_TO_JUDGE for v in gated)
        if gated and not allow_no_data and nothing:
            for v in gated:
                v.failed = True
        verdicts.extend(judged)
    label = common_period(labels)
    return CheckResult(label, evaluation.grain, verdicts, [*evaluation.notes], evaluation)


def combine(results: Sequence[CheckResult]) -> CheckResult:
    """Several checks of the same metrics (one per level) as one result: their verdicts in
    order; the period, grain and evaluation of the last (the finest grouping)."""
    last = results[-1]
    verdicts = [v for result in results for v in result.verdicts]
    notes = list(dict.fromkeys(n for result in results for n in result.notes))
    return CheckResult(last.period, last.grain, verdicts, notes, last.evaluation)


def common_period(labels: dict[str, str]) -> str:
    """The period most metrics are judged on (the one a check, report or scorecard names)."""
    return Counter(labels.values()).most_common(1)[0][0]


def judged_periods(
    records: pl.DataFrame,
    at: str,
    result: Evaluation,
    moment: dt.datetime,
    zone: ZoneInfo,
    metrics: Sequence[MetricSpec],
    *,
    calendar: bool = False,
) -> dict[str, str]:
    """Per metric, the label of the period to judge. The latest complete period has ended
    (and its repeat window passed) by `moment`; with `calendar` (a run time given, `--now`)
    it is the calendar's, whether or not the data reach it — a missing export then shows as
    a period without rows —, else the latest one the data reach (the wall clock only
    decides whether a period has ended, so a re-run judges what it judged before)."""
    periods = (
        records.select("period", "period_start", "period_end")
        .filter(pl.col("period_start").is_not_null() | pl.lit(result.grain == "all"))
        .unique()
        .sort("period_start", nulls_last=True)
        .to_dicts()
    )
    if not periods:
        raise UsageError(
            "no records to judge: the exports have no rows for these metrics",
            [Issue("check the exports and the metric selection", severity="hint")],
        )
    labels = [str(p["period"]) for p in periods]
    if at != "latest":
        if at not in labels:
            hint = period_hint(at, labels)
            raise UsageError(
                f"at {at}: no such period in the data" + (f"; {hint}" if hint else ""),
                [Issue("periods: " + ", ".join(labels[-8:]), severity="hint")],
            )
        return {m.id: at for m in metrics}
    if result.grain == "all":
        return {m.id: "all" for m in metrics}
    rosters = _state_datasets(result)
    days = [d.latest_day for d in result.datasets if d.latest_day is not None]
    others = [d.latest_day for d in result.datasets if d.latest_day and d.name not in rosters]
    # a roster is a state, known up to the run: its latest hire date says nothing of how far
    # the data reach, so it bounds the periods only when nothing else does (attrition
    # checked alone is judged up to the run's day)
    if others:
        days = others
    elif rosters:
        days = [moment.astimezone(zone).date()]
    reach = max(days) if days else None

    def latest_complete(lag: dt.timedelta) -> str | None:
        if calendar:
            period = cal.latest_complete(moment, result.grain, result.timezone, lag)
            first = periods[0]["period_start"]
            # a period before the data begin is not judged: nothing is complete yet
            return period.label if first is None or period.end > first else None
        complete = [
            str(p["period"])
            for p in periods
            if p["period_end"] is not None
            and _after(p["period_end"], lag) <= moment
            and reach is not None
            and (
                _after(p["period_end"], lag).astimezone(zone) - dt.timedelta(microseconds=1)
            ).date()
            <= reach
        ]
        return complete[-1] if complete else None

    # a metric with no value at all (a column its export lacks) has no window to wait for:
    # it is judged on the period the others are, and never holds the check up
    computed = set(records.filter(pl.col("period_start").is_not_null()).get_column("metric"))
    chosen = {}
    for metric in metrics:
        lag = _observation_lag(metric) if metric.id in computed else dt.timedelta(0)
        label = latest_complete(lag)
        if label is None and metric.id not in computed:
            label = labels[-1]
        if label is None:
            raise UsageError(
                f"no complete period yet for `{metric.id}`: the latest one is still in progress",
                [
                    Issue(
                        f"judge it anyway with at {labels[-1]}, or use a shorter period",
                        severity="hint",
                    )
                ],
            )
        chosen[metric.id] = _latest_known(records, metric, label, labels)
    return chosen


def _state_datasets(result: Evaluation) -> set[str]:
    """The datasets read only by kinds that look at the whole dataset as a state (the
    roster's headcount and attrition): their time column is no horizon of the data."""
    from tpmkit.engine.kinds import kind_of

    state: set[str] = set()
    other: set[str] = set()
    for spec in result.definitions.values():
        if spec.dataset is None:
            continue
        (state if kind_of(spec.compute).spans_data else other).add(spec.dataset)
    return state - other


def _latest_known(
    records: pl.DataFrame, metric: MetricSpec, label: str, labels: Sequence[str]
) -> str:
    """A stock (the backlog) is known only for periods that ended by the data horizon, a
    cohort metric (time to proficiency) only for periods with hires: its latest such period
    when `label` has no record of it (it reads "(2026-W45)" beside the others' 2026-W46);
    any other metric keeps `label`."""
    from tpmkit.engine.kinds import kind_of

    kind = kind_of(metric.compute)
    if not (kind.stock or kind.cohort):
        return label
    own = set(
        records.filter((pl.col("metric") == metric.id) & pl.col("period_start").is_not_null())
        .get_column("period")
        .to_list()
    )
    if label in own or label not in labels:
        return label
    earlier = [known for known in labels[: labels.index(label)] if known in own]
    return earlier[-1] if earlier else label


def _observation_lag(metric: MetricSpec) -> dt.timedelta:
    """How long after a period ends its value can be known: a repeat-contact window must
    have passed for the period's last contacts."""
    from tpmkit.engine.kinds import kind_of

    return kind_of(metric.compute).observation_lag(metric.compute, metric.parameters)


def _no_record(
    metric: MetricSpec,
    level: str | None,
    label: str,
    reason: str | None = None,
    at_level: bool = True,
) -> Verdict:
    # a metric with no thresholds anywhere is not judged, with or without data (issue 15:
    # not_judged comes before no_data); the backlog's stock has no record for a period
    # that ends after the data, and must not read as "no data" then
    unjudged = not metric.thresholds and not any(o.thresholds for o in metric.overrides)
    if unjudged:
        at_level, reason = False, "no thresholds"
    return Verdict(
        metric.id,
        metric.name,
        {},
        label,
        Status.NO_DATA if at_level else Status.NOT_JUDGED,
        None,
        0,
        metric.unit,
        level,
        False,
        {},
        metric.owner,
        None,
        reason or f"no record in {label}",
        metric.actions.get("no_data"),
    )


def _verdict(
    record: dict[str, Any],
    metric: MetricSpec,
    by: list[str],
    level: str | None,
    label: str,
    early_warning: bool = False,
) -> Verdict:
    status = record["status"]
    failed = (
        level is not None and status in STATUS_RANK and STATUS_RANK[status] >= STATUS_RANK[level]
    )
    projected_status = record.get("projected_status")
    projected = (
        f"{projected_status} by {record['projected_breach_period']}" if projected_status else None
    )
    if early_warning and level == "warning" and projected_status is not None:
        failed = True  # early_warning: a projected breach counts as a warning
    return Verdict(
        metric.id,
        metric.name,
        {c: record.get(c) for c in by},
        label,
        status,
        record["value"],
        record["n"],
        record["unit"] or "",
        level,
        failed,
        {k: record.get(k) for k in LEVEL_FIELDS},
        metric.owner,
        record.get("trend"),
        record.get("reason"),
        metric.actions.get(status),
        projected,
        record.get("control_signal"),
    )


def _after(moment: dt.datetime, lag: dt.timedelta) -> dt.datetime:
    """`moment` plus `lag` of elapsed time (in UTC: a zoned datetime adds wall-clock time,
    an hour off across a DST change)."""
    return moment.astimezone(dt.UTC) + lag if moment.tzinfo else moment + lag
