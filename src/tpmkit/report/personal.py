"""The agent view made personal: one agent's value per metric against their team's median
and the target, the team shown only as an anonymous distribution (min, Q1, median, Q3,
max of its agents' values), and playbook actions addressed to the agent who reads them.

Everything comes from the team × agent records the view has already evaluated: no other
agent's id leaves this module, and no evaluation is run."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tpmkit.spec.loader import MetricDef


@dataclass
class Standing:
    """One metric for one agent: their record and their team's distribution of values."""

    metric: str
    name: str
    unit: str
    team: Any
    record: dict[str, Any]  # the agent's own record (value, n, status, target …)
    agents: int  # agents of the team with a value, the agent included
    spread: tuple[float, float, float, float, float] | None  # min, Q1, median, Q3, max
    action: str | None  # the playbook step of the agent's status, addressed to the agent

    @property
    def median(self) -> float | None:
        """The team's median agent value."""
        return None if self.spread is None else self.spread[2]


def quartiles(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """Min, Q1, median, Q3, max, interpolated between the sorted values (the "inclusive"
    method: with 5 values, Q1 and Q3 are the 2nd and 4th)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return (ordered[0],) * 5
    q1, median, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return ordered[0], q1, median, q3, ordered[-1]


ACTOR_WORDS = {
    "team_lead": "your team lead",
    "quality_specialist": "the quality specialist",
    "trainer": "the trainer",
    "operations_manager": "the operations manager",
    "director": "the director",
}


def addressed(action: str | None, owner: str | None) -> str | None:
    """A playbook step as the agent reads it: `team lead: coach …` becomes `your team lead
    will: coach …`; a step the agent does themselves becomes `you: …`. The actor is the
    one the step names (`quality specialist: …`), else the metric's owner."""
    if not action:
        return None
    head, sep, rest = action.partition(":")
    actor = head.strip().lower().replace(" ", "_")
    if sep and (actor in ACTOR_WORDS or actor == "agent"):
        action = rest.strip()
    else:
        actor = owner or ""
    if actor == "agent":
        return f"you: {action}"
    if actor in ACTOR_WORDS:
        return f"{ACTOR_WORDS[actor]} will: {action}"
    return action  # no one named: the step as written


def standings(
    tables: Sequence[Any], agent: str, metrics: Mapping[str, MetricDef]
) -> list[Standing]:
    """Per team × agent table, the agent's row against the values of their team's agents."""
    out = []
    for table in tables:
        if table.columns != ["team", "agent_id"]:
            continue
        own = next((r for r in table.rows if r.group["agent_id"] == agent), None)
        if own is None:
            continue
        team = own.group["team"]
        values = [
            float(r.record["value"])
            for r in table.rows
            if r.group["team"] == team and r.record["value"] is not None
        ]
        spec = metrics[table.metric].spec
        out.append(
            Standing(
                table.metric,
                table.name,
                table.unit,
                team,
                own.record,
                len(values),
                quartiles(values) if values else None,
                addressed(spec.actions.get(own.record["status"]), spec.owner),
            )
        )
    return out
