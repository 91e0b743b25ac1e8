"""What a report holds, independent of its format: its cards, group tables, scorecard,
goals and notes, and the counts and orderings every format shows the same way."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tpmkit.records import Evaluation
from tpmkit.render.values import group_label
from tpmkit.report import personal

STATUS_ORDER = ("critical", "warning", "no_data", "insufficient_sample", "ok")
AGENT_VIEWS = ("team_lead", "agent")  # the views whose breach list names agents
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
    actions: dict[str, str] = field(default_factory=dict)  # status → action (group rows)

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
    people: Any = None  # report.people.People: workforce, coaching (issue 20)
    sources: list[Any] = field(default_factory=list)  # judge.sources.SourceStatus
    # metric id -> its change against the previous period explained (tpmkit.explain), for
    # the metrics in breach: the "why" of each breach and the "What moved" section
    moved: dict[str, Any] = field(default_factory=dict)

    def places(self) -> list[Any]:
        """The operation and every group of every level, one population named once (see
        `report/places.py`)."""
        from tpmkit.report import places

        return places.places(self.cards, self.tables)

    def breach_rows(self, found: list[Any] | None = None) -> list[Any]:
        """Every metric in breach with its groups by level (see `places.breach_rows`):
        agents only in the views that name them, the reader's own metrics first."""
        from tpmkit.report import places

        agents = self.role in AGENT_VIEWS
        return places.breach_rows(
            found if found is not None else self.places(),
            self.cards,
            agents=agents,
            reader=self.role,
        )

    def counts(self) -> dict[str, int]:
        counted = Counter(card.status for card in self.cards)
        return {s: counted[s] for s in STATUS_ORDER if counted[s]}

    def early_warnings(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(metric name, group text, record) of every series whose trend line passes its
        next level within the projection horizon, the operation's first, then the groups,
        each population once and named as in the breach list ("vendor Northwind BPO =
        site Lisbon", "agent A059 (Lisbon Tech)")."""
        from tpmkit.vocabulary import Level, level_of

        names = {card.metric: card.name for card in self.cards}
        out = []
        for card in self.cards:
            if card.record.get("projected_breach_period"):
                out.append((card.name, "operation", card.record))
        groups = []
        for place in self.places():
            if place.level == Level.OPERATION:
                continue
            for metric, record in place.records.items():
                when = record.get("projected_breach_period")
                twin = place.alias_of.records.get(metric) if place.alias_of else None
                if not when or (twin and twin.get("projected_breach_period") == when):
                    continue  # the same population's warning, named under its coarser twin
                groups.append((names.get(metric, metric), place.tagged_for(metric), record))
        for table in self.tables:  # groupings that are not levels (evaluator …)
            if level_of(table.columns) is not None:
                continue
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
        # a stale or truncated export, and the freshness of a source that sets it
        out += [s.message() for s in self.sources if s.failed or s.max_age is not None]
        return out + self.notes
