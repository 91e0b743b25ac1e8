"""Where a report's numbers live: the operation and each group at each organisational level
(vendor, site, queue, team, agent), with the groups that are the same population shown
once, and from them the two first-screen views of a report: every breach where someone owns
it, level by level, and the metric × group status grid.

Two groups are the same population when every metric both have a value for has the same
count and value (the example's vendor "Northwind BPO" is its site "Lisbon"; a queue served by
one team is that team). Such a group is listed once, under its coarsest level, and named
with its other names ("Northwind BPO = Lisbon"); a metric that only the finer group has
(tickets carry a team but no queue) is still shown, under the finer level."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tpmkit.render.values import group_label
from tpmkit.report.model import Card, GroupTable
from tpmkit.vocabulary import Level, level_of

BREACHING = ("critical", "warning")
SAME_POPULATION_MIN = 3  # metrics two groups must share, all equal, to be the same population


@dataclass
class Place:
    """The operation, or one group at one level, with the records of the report's period."""

    level: Level
    value: Any  # the group's value (None for the operation)
    records: dict[str, dict[str, Any]]  # metric id → record
    team: Any = None  # an agent's team (the agent level's context)
    aliases: list[Place] = field(default_factory=list)  # finer groups of the same population
    alias_of: Place | None = None  # the coarser group this one is shown under

    @property
    def name(self) -> str:
        """`Northwind BPO`, `A017` … the operation is `operation`."""
        return "operation" if self.level == Level.OPERATION else group_label(self.value)

    @property
    def family(self) -> list[Place]:
        """This group and the groups of the same population, its own name first."""
        head = self.alias_of or self
        return [self, *(p for p in (head, *head.aliases) if p is not self)]

    @property
    def label(self) -> str:
        """The group's name with the names of the same population: `Northwind BPO = Lisbon`;
        an agent with their team: `A017 (Berlin Tech)`."""
        if self.level == Level.AGENT and self.team is not None and self.alias_of is None:
            return f"{self.name} ({group_label(self.team)})"
        return " = ".join(p.name for p in self.family)

    @property
    def levels(self) -> str:
        """The levels the label's names are at: `vendor = site`."""
        return " = ".join(p.level.value for p in self.family)

    @property
    def tagged(self) -> str:
        """Each name with its level: `vendor Northwind BPO = site Lisbon`, `operation`,
        `agent A017 (Berlin Tech)`."""
        return self.tagged_for(None)

    def tagged_for(self, metric: str | None) -> str:
        """`tagged`, naming only the groups of the population that have a value of `metric`
        (tickets carry a team but no queue: a ticket metric's team is not named as its queue
        too); None: every name."""
        if self.level == Level.OPERATION:
            return "operation"
        if self.level == Level.AGENT and self.alias_of is None:
            return f"agent {self.label}"
        family = [
            p
            for p in self.family
            if p is self or metric is None or (p.records.get(metric) or {}).get("value") is not None
        ]
        return " = ".join(f"{p.level.value} {p.name}" for p in family)

    def record(self, metric: str) -> dict[str, Any] | None:
        """The metric's record for this population: this group's, else an alias's; a judged
        record before a not-judged one (a queue measure is judged at the queue, not at the
        team it equals)."""
        found = [p.records.get(metric) for p in (self, *self.aliases)]
        present = [r for r in found if r is not None and r.get("value") is not None]
        judged = [r for r in present if r["status"] != "not_judged"]
        chosen = judged or present
        return chosen[0] if chosen else None


@dataclass
class BreachRow:
    """One metric in breach: every group past its threshold, by level, worst first."""

    level: Level  # the coarsest level it breaches at
    metric: str
    name: str
    unit: str
    owner: str | None
    action: str | None  # the action for the worst status among the groups
    entries: list[tuple[Place, dict[str, Any]]]  # (group, its record), worst first

    @property
    def worst(self) -> tuple[int, float]:
        """The sort key of the row's worst breach (see `_worst_first`)."""
        return min(_worst_first(record) for _, record in self.entries)

    @property
    def status(self) -> str:
        """The worst status among the row's groups."""
        return BREACHING[self.worst[0]]


def places(cards: Sequence[Card], tables: Sequence[GroupTable]) -> list[Place]:
    """The operation and every group of every level table, coarsest level first, each group
    of the same population as a coarser one attached to it as an alias."""
    found: dict[tuple[Level, Any], Place] = {}
    operation = Place(Level.OPERATION, None, {c.metric: c.record for c in cards})
    for table in tables:
        level = level_of(table.columns)
        if level is None or level == Level.OPERATION:
            continue  # a grouping by a non-level column (evaluator, channel) is not a place
        column = table.columns[-1] if level == Level.AGENT else table.columns[0]
        for row in table.rows:
            value = row.group[column]
            if value is None:
                continue  # `unassigned`: counted in the operation, never a place of its own
            place = found.setdefault((level, value), Place(level, value, {}))
            place.records[table.metric] = row.record
            if level == Level.AGENT:
                place.team = row.group.get("team")
    order = list(Level)
    ranked = sorted(found.values(), key=lambda p: (order.index(p.level), str(p.value)))
    out = [operation]
    for place in ranked:
        coarser = [p for p in out if p.alias_of is None and p.level != place.level]
        twin = next((p for p in coarser if _same_population(p, place)), None)
        if twin is not None and all(a.level != place.level for a in twin.aliases):
            twin.aliases.append(place)  # a team of one agent is that agent
            place.alias_of = twin
        out.append(place)
    return out


def _same_population(a: Place, b: Place) -> bool:
    """True when every metric both places have a value for has the same n and value, and
    they share enough metrics for that to mean something (three, or all of the smaller's)."""
    valued_a = {m for m, r in a.records.items() if r.get("value") is not None}
    valued_b = {m for m, r in b.records.items() if r.get("value") is not None}
    shared = valued_a & valued_b
    if not shared or len(shared) < min(SAME_POPULATION_MIN, len(valued_a), len(valued_b)):
        return False
    return all(
        a.records[m]["n"] == b.records[m]["n"]
        and math.isclose(a.records[m]["value"], b.records[m]["value"], rel_tol=1e-12)
        for m in shared
    )


def breach_rows(
    all_places: Sequence[Place],
    cards: Sequence[Card],
    *,
    agents: bool,
    reader: str | None = None,
) -> list[BreachRow]:
    """Every metric past its warning or critical level somewhere, one row per metric with
    its breaching groups in level order (operation, vendor, site, queue, team, then agent
    when `agents`), worst first within a level. Rows go by the coarsest level they breach
    at; within it the `reader`'s own (a role's) first, then the worst. A finer group's breach
    that its coarser twin of the same population already shows is not repeated."""
    by_metric = {c.metric: c for c in cards}
    found: dict[str, list[tuple[Place, dict[str, Any]]]] = {}
    for place in all_places:
        if place.level == Level.AGENT and not agents:
            continue
        for metric, record in place.records.items():
            if record["status"] not in BREACHING or metric not in by_metric:
                continue
            twin = place.alias_of.records.get(metric) if place.alias_of is not None else None
            if twin is not None and twin["status"] == record["status"]:
                continue  # the same population's breach, listed under the coarser twin
            found.setdefault(metric, []).append((place, record))
    order = list(Level)
    rows = []
    for metric, entries in found.items():
        card = by_metric[metric]
        entries.sort(key=lambda e: (order.index(e[0].level), *_worst_first(e[1])))
        worst = min((e[1] for e in entries), key=_worst_first)
        row = BreachRow(
            entries[0][0].level,
            metric,
            card.name,
            card.unit,
            card.owner,
            card.actions.get(worst["status"]),
            entries,
        )
        rows.append(row)
    metric_order = {c.metric: i for i, c in enumerate(cards)}
    rows.sort(
        key=lambda r: (
            order.index(r.level),
            reader is None or r.owner != reader,
            *r.worst,
            metric_order[r.metric],
        )
    )
    return rows


def _worst_first(record: dict[str, Any]) -> tuple[int, float]:
    """Critical before warning, then the farthest past its level (in units of the distance
    between the metric's target and that level, so seconds and percentages compare)."""
    status = record["status"]
    return (BREACHING.index(status) if status in BREACHING else 2, -_excess(record))


def _excess(record: dict[str, Any]) -> float:
    value, status = record.get("value"), record["status"]
    low, high = record.get(status), record.get(f"{status}_upper")
    if value is None or low is None:
        return 0.0
    if high is not None:
        past = low - value if value < low else value - high
    elif record.get("direction") == "higher_is_better":
        past = low - value
    else:
        past = value - low
    target = record.get("target")
    scale = abs(target - low) if target is not None and target != low else abs(low) or 1.0
    return float(past / scale)


def by_level(rows: Sequence[BreachRow]) -> list[tuple[str, list[BreachRow]]]:
    """Breach rows in runs of one level, coarsest first: (level, its rows)."""
    out: list[tuple[str, list[BreachRow]]] = []
    for row in rows:
        if not out or out[-1][0] != row.level:
            out.append((str(row.level), []))
        out[-1][1].append(row)
    return out


def grid_columns(all_places: Sequence[Place]) -> list[Place]:
    """The status grid's columns: the operation, then each group shown once (aliases folded
    in), coarsest level first; agents have their own grid."""
    return [p for p in all_places if p.alias_of is None and p.level != Level.AGENT]


def agents(all_places: Sequence[Place]) -> list[Place]:
    """The agent places, by team then id."""
    found = [p for p in all_places if p.level == Level.AGENT]
    return sorted(found, key=lambda p: (group_label(p.team), str(p.value)))
