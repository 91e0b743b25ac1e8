"""What a report says, independent of its format: header, status overview, one card per
metric (current value, levels, change, plan, series for the chart), tables per group
sorted worst first, and data-quality notes.

The report covers one period, the latest complete one (or `at`). A card may judge an
earlier one, and says so: a repeat-contact metric until its window has passed, a stock
(backlog) whose latest period ended before the data horizon."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tpmkit.engine.kinds import kind_of
from tpmkit.errors import UsageError
from tpmkit.records import Evaluation
from tpmkit.render.values import group_label
from tpmkit.report import personal
from tpmkit.spec.loader import Definitions, MetricDef

STATUS_ORDER = ("critical", "warning", "no_data", "insufficient_sample", "ok")
EARLY_WARNINGS_SHOWN = 15  # group rows in the early-warning table (most urgent first)


@dataclass
class Point:
    period: str
    value: float | None
    status: str


@dataclass
class Card:
    metric: str
    name: str
    description: str
    unit: str
    direction: str | None
    owner: str | None
    period: str  # the period this card judges (see `build`)
    record: dict[str, Any]  # the judged period's record (value, status, levels, plan …)
    previous: float | None  # the value one period earlier
    series: list[Point]  # the last N periods up to the judged one
    action: str | None

    @property
    def status(self) -> str:
        return str(self.record["status"])

    @property
    def change(self) -> float | None:
        value = self.record["value"]
        return None if value is None or self.previous is None else value - self.previous


@dataclass
class GroupRow:
    group: dict[str, Any]
    record: dict[str, Any]
    context: float | None  # the parent group's value (e.g. the agent's team)


@dataclass
class GroupTable:
    columns: list[str]
    metric: str
    name: str
    unit: str
    rows: list[GroupRow]


@dataclass
class SampleCount:
    """How many group cells of one metric × grouping table were too thin to judge."""

    metric: str  # the metric's name
    grouping: str  # "team", "team × agent_id" …
    groups: int  # cells in the table
    small: int  # insufficient_sample: fewer rows than the metric's min_sample
    no_data: int


@dataclass
class Report:
    project: str
    currency: str | None
    period: str
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    grain: str
    role: str | None
    cadence: str | None
    generated_at: dt.datetime
    data_from: dt.datetime | None
    data_to: dt.datetime | None
    datasets: list[Any]
    cards: list[Card]
    tables: list[GroupTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    evaluation: Evaluation | None = None  # the Evaluation behind the cards (for the history)
    scorecard: Any = None  # scorecard.ScorecardResult for team lead and manager views
    goals: list[Any] = field(default_factory=list)  # goals.GoalStatus
    agent: str | None = None  # the agent view's reader (see `_only_agent`)
    standing: list[personal.Standing] = field(default_factory=list)  # the agent view only

    def side_by_side(self) -> list[tuple[str, list[Any], list[tuple[str, dict[Any, Any]]]]]:
        """For each single-column grouping (site, vendor …): its groups and, per metric,
        each group's record — the same metrics side by side, each group with its own
        (e.g. contractual) levels."""
        out = []
        for column in sorted({t.columns[0] for t in self.tables if len(t.columns) == 1}):
            tables = [t for t in self.tables if t.columns == [column]]
            groups = sorted(
                {r.group[column] for t in tables for r in t.rows if r.group[column] is not None}
            )
            rows = [
                (t.name, {r.group[column]: r.record for t2 in [t] for r in t2.rows}) for t in tables
            ]
            out.append((column, groups, rows))
        return out

    def counts(self) -> dict[str, int]:
        counted = Counter(card.status for card in self.cards)
        return {s: counted[s] for s in STATUS_ORDER if counted[s]}

    def group_breaches(self) -> list[tuple[str, dict[str, int]]]:
        """Per grouping ("team", "team × agent_id" …), how many groups breach a metric (a
        team can be critical while the whole operation is ok), as (metric, group) pairs at
        their status. Each grouping is counted on its own and the lines are never added:
        a team and its only agent breaching over the same calls are one breach in each."""
        counted: dict[str, Counter[str]] = {}
        for table in self.tables:
            label = " × ".join(table.columns)
            for row in table.rows:
                status = row.record["status"]
                grouped = any(v is not None for v in row.group.values())
                if grouped and status in ("critical", "warning"):
                    counted.setdefault(label, Counter())[status] += 1
        return [
            (label, {s: n[s] for s in ("critical", "warning") if n[s]})
            for label, n in counted.items()
        ]

    def breaches(self) -> list[Card]:
        """Warning and critical metrics, critical first."""
        bad = [c for c in self.cards if c.status in ("critical", "warning")]
        return sorted(bad, key=lambda c: (STATUS_ORDER.index(c.status), c.metric))

    def early_warnings(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(metric name, group text, record) of every series whose trend line passes its
        next level within the projection horizon, metrics first, then groups."""
        out = []
        for card in self.cards:
            if card.record.get("projected_breach_period"):
                out.append((card.name, "all", card.record))
        groups = []
        for table in self.tables:
            for row in table.rows:
                if row.record.get("projected_breach_period"):
                    group = ", ".join(f"{k} {group_label(v)}" for k, v in row.group.items())
                    groups.append((table.name, group, row.record))
        # the most urgent first: a projected critical, then the soonest
        groups.sort(
            key=lambda g: (g[2]["projected_status"] != "critical", g[2]["projected_breach_period"])
        )
        return out + groups[:EARLY_WARNINGS_SHOWN]

    def sample_counts(self) -> list[SampleCount]:
        """Per metric × grouping table, its cells with too small a sample or no data (only
        the tables that have any), in table order."""
        out = []
        for table in self.tables:
            statuses = Counter(row.record["status"] for row in table.rows)
            small, empty = statuses["insufficient_sample"], statuses["no_data"]
            if small or empty:
                grouping = " × ".join(table.columns)
                out.append(SampleCount(table.name, grouping, len(table.rows), small, empty))
        return out

    def sample_summary(self) -> list[str]:
        """One or two lines: how many group cells had too few rows (or none) to be judged,
        and how many scorecard groups rest on a small sample or have no score."""
        out = []
        counts = self.sample_counts()
        if counts:
            cells = sum(len(t.rows) for t in self.tables)
            small = sum(c.small for c in counts)
            empty = sum(c.no_data for c in counts)
            parts = []
            if small:
                rule = "min_sample (small sample, too few to judge)"
                parts.append(f"{small:,} had fewer rows than their metric's {rule}")
            if empty:
                parts.append(f"{empty:,} had no data")
            out.append(
                f"Of {cells:,} group cells in {len(self.tables)} metric × grouping tables, "
                + " and ".join(parts)
                + f" ({len(counts)} tables affected)."
            )
        card = self.scorecard
        if card is not None and card.groups:
            thin = sum(1 for g in card.scored if g.small_sample)
            flagged = 'rest on a small sample (ranked, flagged "small sample")'
            parts = [f"{thin} of {len(card.scored)} scored agents {flagged}"] if thin else []
            if card.unscored:
                parts.append(f"{len(card.unscored)} not scored (listed with the reason)")
            if parts:
                out.append("Agent scorecard: " + "; ".join(parts) + ".")
        return out

    def quality(self) -> list[str]:
        """Data-quality notes: metrics without data and why, small samples, rows left out."""
        out = []
        for card in self.cards:
            if card.status == "no_data":
                out.append(f"{card.name}: no data — {card.record.get('reason') or 'no rows'}")
            elif card.status == "insufficient_sample":
                out.append(f"{card.name}: only {card.record['n']} rows, too few to judge")
        for dataset in self.datasets:
            if dataset.quarantined:
                out.append(
                    f"{dataset.quarantined} row(s) of {dataset.name} were quarantined "
                    f"(left out; see {dataset.rejects_file})"
                )
        return out + self.notes


def judged(
    evaluation: Evaluation,
    chosen: Sequence[MetricDef],
    at: str,
    now: dt.datetime | None,
) -> tuple[dict[str, str], str, dt.datetime]:
    """Per metric, the period its card judges; the report's period; the report's time."""
    from tpmkit.judge import gate

    wanted = [m.id for m in chosen]
    records = evaluation.records.filter(evaluation.records["metric"].is_in(wanted))
    zone = ZoneInfo(evaluation.timezone)
    moment = now or dt.datetime.now(zone)
    specs = [m.spec for m in chosen]
    labels = gate.judged_periods(records, at, evaluation, moment, zone, specs)
    return labels, gate.common_period(labels), moment


def build(
    project: Definitions,
    evaluation: Evaluation,
    chosen: Sequence[MetricDef],
    *,
    last: int = 8,
    at: str = "latest",
    role: str | None = None,
    cadence: str | None = None,
    agent: str | None = None,
    now: dt.datetime | None = None,
    tables: Mapping[tuple[str, ...], Evaluation] | None = None,
    groupings: Sequence[Sequence[str]] = (),
    scorecard: Any = None,
    goals: Sequence[Any] = (),
    notes: Sequence[str] = (),
) -> Report:
    """Assemble the report of one period from the view's evaluation (`chosen`: the view's
    metrics, see `needs.view`), the evaluation of each grouping in `groupings`, and the
    agent scorecard and goals when the view has them; `agent` narrows the agent view to
    one person (their rows, their scorecard, their goals)."""
    if last < 1:
        raise UsageError("last must be 1 or more")
    wanted = {m.id for m in chosen}
    records = evaluation.records.filter(evaluation.records["metric"].is_in(list(wanted)))
    labels, label, moment = judged(evaluation, chosen, at, now)
    rows = records.to_dicts()
    cards = [_card(metric, rows, labels[metric.id], last) for metric in chosen]
    judged_record = next((r for r in rows if r["period"] == label), None)
    starts = [r["period_start"] for r in rows if r["period_start"] is not None]
    ends = [r["period_end"] for r in rows if r["period_end"] is not None]
    report = Report(
        project=project.spec.name,
        currency=project.spec.currency,
        period=label,
        period_start=judged_record["period_start"] if judged_record else None,
        period_end=judged_record["period_end"] if judged_record else None,
        grain=evaluation.grain,
        role=role,
        cadence=cadence,
        generated_at=moment,
        data_from=min(starts) if starts else None,
        data_to=max(ends) if ends else None,
        datasets=evaluation.datasets,
        cards=cards,
        notes=[*evaluation.notes, *notes],
        evaluation=evaluation,
        scorecard=scorecard,
        goals=list(goals),
    )
    for columns in groupings:
        report.tables.extend(_tables(project, list(columns), label, wanted, tables or {}))
    if agent is not None:
        _only_agent(report, agent, project)
    return report


def report_period_end(
    evaluation: Evaluation, chosen: Sequence[MetricDef], at: str, now: dt.datetime | None
) -> tuple[str, dt.date | None]:
    """The report's period and its last day (the day goals are tracked to)."""
    wanted = [m.id for m in chosen]
    _, label, _ = judged(evaluation, chosen, at, now)
    rows = evaluation.records.filter(evaluation.records["metric"].is_in(wanted)).to_dicts()
    record = next((r for r in rows if r["period"] == label), None)
    end = record["period_end"] if record else None
    return label, (end - dt.timedelta(days=1)).date() if end else None


def _only_agent(report: Report, agent: str, project: Definitions) -> None:
    """Keep one agent's rows, scorecard and goals; their standing against the team's
    median, quartiles and the target (computed before the other agents' rows go); the
    actions addressed to the agent."""
    known = {r.group.get("agent_id") for t in report.tables for r in t.rows}
    if agent not in known:
        raise UsageError(f"agent {agent}: no such agent in {report.period}")
    report.agent = agent
    report.standing = personal.standings(report.tables, agent, project.metrics)
    for card in report.cards:
        card.action = personal.addressed(card.action, card.owner)
    for table in report.tables:
        table.rows = [r for r in table.rows if r.group.get("agent_id") == agent]
    report.tables = [t for t in report.tables if t.rows]
    if report.scorecard is not None:
        report.scorecard.groups = [
            g for g in report.scorecard.groups if g.group.get("agent_id") == agent
        ]
    report.goals = [g for g in report.goals if g.goal.agent == agent]


def _card(metric: MetricDef, rows: list[dict[str, Any]], label: str, last: int) -> Card:
    own = sorted(
        (r for r in rows if r["metric"] == metric.id),
        key=lambda r: (r["period_start"] is None, r["period_start"]),
    )
    index = next((i for i, r in enumerate(own) if r["period"] == label), None)
    if index is None and kind_of(metric.spec.compute).stock and own:
        # a stock is known only for periods that ended by the data horizon: its latest
        index = max(i for i, r in enumerate(own) if r["period_start"] is not None)
        label = own[index]["period"]
    if index is None:
        from tpmkit.records import RECORD_FIELDS

        record = {
            **dict.fromkeys(RECORD_FIELDS),
            "metric": metric.id,
            "period": label,
            "n": 0,
            "status": "no_data",
            "reason": f"no record in {label}",
            "unit": metric.spec.unit,
        }
        series: list[dict[str, Any]] = []
        previous = None
    else:
        record = own[index]
        series = own[max(0, index - last + 1) : index + 1]
        previous = own[index - 1]["value"] if index > 0 else None
    spec = metric.spec
    return Card(
        metric.id,
        spec.name,
        spec.description,
        spec.unit,
        spec.direction,
        spec.owner,
        label,
        record,
        previous,
        [Point(r["period"], r["value"], r["status"]) for r in series],
        spec.actions.get(record["status"]),  # type: ignore[arg-type]
    )


def _tables(
    project: Definitions,
    columns: list[str],
    label: str,
    wanted: set[str],
    evaluations: Mapping[tuple[str, ...], Evaluation],
) -> list[GroupTable]:
    result = evaluations[tuple(columns)]
    rows = [r for r in result.records.to_dicts() if r["period"] == label and r["metric"] in wanted]
    context: dict[tuple[str, Any], float | None] = {}
    if len(columns) > 1:
        parent = evaluations[tuple(columns[:1])]
        for r in parent.records.to_dicts():
            if r["period"] == label:
                context[(r["metric"], r[columns[0]])] = r["value"]
    tables = []
    for metric_id in [m for m in project.metrics if m in wanted]:
        own = [r for r in rows if r["metric"] == metric_id]
        if not own or all(r["value"] is None for r in own):
            continue
        spec = project.metrics[metric_id].spec
        ranked = sorted(own, key=lambda r: _badness(r, spec.direction))
        tables.append(
            GroupTable(
                columns,
                metric_id,
                spec.name,
                spec.unit,
                [
                    GroupRow(
                        {c: r[c] for c in columns},
                        r,
                        context.get((metric_id, r[columns[0]])) if len(columns) > 1 else None,
                    )
                    for r in ranked
                ],
            )
        )
    return tables


def _badness(record: dict[str, Any], direction: str | None) -> tuple[int, float]:
    """Worst first: by status, then by distance past the target in the bad direction;
    groups too small to judge or without data come last (never ranked as worst)."""
    order = {"critical": 0, "warning": 1, "ok": 2, "insufficient_sample": 3, "no_data": 4}
    gap = record.get("gap_to_target")
    if gap is None or direction == "within_band":
        shortfall = 0.0
    else:
        shortfall = -gap if direction == "higher_is_better" else gap
    return (order.get(record["status"], 5), -float(shortfall))
