"""The words the engine produces and everything else compares: record statuses, period
grains, trends, plan statuses and organisational levels. StrEnums, so each member *is* its
string: polars literals, JSON and files are unchanged, and a plain string from a record
compares equal.

Neutral on purpose: it imports nothing of tpmkit, so spec/, engine/, judge/ and render/
can all use it without a cycle."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Status(StrEnum):
    """A record's status, from the value, its sample and the levels in force."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_DATA = "no_data"
    INSUFFICIENT_SAMPLE = "insufficient_sample"
    # shown, never judged: the record's level is not one the metric is judged at, its group
    # is `unassigned`, or the metric has no thresholds (the record's `reason` says which)
    NOT_JUDGED = "not_judged"


# the statuses that judge a value against a level (the others say why there is no judgement)
BREACHES = (Status.WARNING, Status.CRITICAL)
NOT_JUDGED = (Status.NO_DATA, Status.INSUFFICIENT_SAMPLE, Status.NOT_JUDGED)
# most urgent first: breaches, then what could not be judged, then ok, then what is not judged
WORST_FIRST = (
    Status.CRITICAL,
    Status.WARNING,
    Status.NO_DATA,
    Status.INSUFFICIENT_SAMPLE,
    Status.OK,
    Status.NOT_JUDGED,
)


class Level(StrEnum):
    """An organisational level a metric can be judged at, coarsest first."""

    OPERATION = "operation"
    VENDOR = "vendor"
    SITE = "site"
    QUEUE = "queue"
    TEAM = "team"
    AGENT = "agent"


# the group column of each level below the operation (coarsest first)
LEVEL_COLUMNS: dict[Level, str] = {
    Level.VENDOR: "vendor",
    Level.SITE: "site",
    Level.QUEUE: "queue",
    Level.TEAM: "team",
    Level.AGENT: "agent_id",
}
# A team lead leads one team: grouping by `team_lead` is the team level (the scorecard shows
# an agent's team lead beside the agent, and that must not make the agents unjudged).
_LEVEL_OF_COLUMN = {column: level for level, column in LEVEL_COLUMNS.items()} | {
    "team_lead": Level.TEAM
}


def level_of(by: Sequence[str]) -> Level | None:
    """The level of a grouping: its finest level column (no grouping: the operation); None
    when a column is not a level column (channel, tenure_band): such a grouping is not
    judged."""
    if any(column not in _LEVEL_OF_COLUMN for column in by):
        return None
    levels = [_LEVEL_OF_COLUMN[column] for column in by]
    order = list(Level)
    return max(levels, key=order.index, default=Level.OPERATION)


def level_column(by: Sequence[str]) -> str | None:
    """The column of a grouping that gives its level (its finest level column); None for
    no grouping or a grouping that is not judged."""
    level = level_of(by)
    if level is None or level == Level.OPERATION:
        return None
    order = list(Level)
    return max(by, key=lambda column: order.index(_LEVEL_OF_COLUMN[column]))


def is_level_column(column: str) -> bool:
    """True for a column that names an organisational level (team, site … or team_lead)."""
    return column in _LEVEL_OF_COLUMN


class Grain(StrEnum):
    """A period grain; `all` is the whole range as one period."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"


class Trend(StrEnum):
    """The direction of a series' recent slope, in the metric's sense of better."""

    IMPROVING = "improving"
    STABLE = "stable"
    WORSENING = "worsening"


class PlanStatus(StrEnum):
    """The actual against the glide path, in the metric's direction."""

    AHEAD = "ahead"
    ON_PLAN = "on_plan"
    BEHIND = "behind"
