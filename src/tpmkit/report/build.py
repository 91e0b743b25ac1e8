"""Build a report from evaluations (its model is `model.py`): what a report says,
independent of its format: header, status overview, one card per
metric (current value, levels, change, plan, series for the chart), tables per group
sorted worst first, and data-quality notes.

The report covers one period, the latest complete one (or `at`). A card may judge an
earlier one, and says so: a repeat-contact metric until its window has passed, a stock
(backlog) whose latest period ended before the data horizon."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from tpmkit.errors import UsageError
from tpmkit.records import Evaluation
from tpmkit.report import personal
from tpmkit.report.model import (
    Card,
    GroupRow,
    GroupTable,
    Point,
    Report,
)
from tpmkit.spec.loader import Definitions, MetricDef


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
    labels = gate.judged_periods(
        records, at, evaluation, moment, zone, specs, calendar=now is not None
    )
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
        card.actions = {s: personal.addressed(a, card.owner) or a for s, a in card.actions.items()}
    # the agent's own rows, and their team's (the levels above it are the operation's view)
    teams = {
        r.group.get("team")
        for t in report.tables
        for r in t.rows
        if r.group.get("agent_id") == agent
    }
    for table in report.tables:
        if "agent_id" in table.columns:
            table.rows = [r for r in table.rows if r.group.get("agent_id") == agent]
        elif table.columns == ["team"]:
            table.rows = [r for r in table.rows if r.group["team"] in teams]
        else:
            table.rows = []
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
    # (a stock's label is already its latest known period: see `gate.judged_periods`)
    index = next((i for i, r in enumerate(own) if r["period"] == label), None)
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
        {str(status): text for status, text in spec.actions.items()},
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
