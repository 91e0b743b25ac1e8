"""The words the engine produces and everything else compares: record statuses, period
grains, trends and plan statuses. StrEnums, so each member *is* its string: polars
literals, JSON and files are unchanged, and a plain string from a record compares equal.

Neutral on purpose: it imports nothing of tpmkit, so spec/, engine/, judge/ and render/
can all use it without a cycle."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A record's status, from the value, its sample and the levels in force."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_DATA = "no_data"
    INSUFFICIENT_SAMPLE = "insufficient_sample"


# the statuses that judge a value against a level (the others say why there is no judgement)
BREACHES = (Status.WARNING, Status.CRITICAL)
NOT_JUDGED = (Status.NO_DATA, Status.INSUFFICIENT_SAMPLE)
# most urgent first: breaches, then what could not be judged, then ok
WORST_FIRST = (
    Status.CRITICAL,
    Status.WARNING,
    Status.NO_DATA,
    Status.INSUFFICIENT_SAMPLE,
    Status.OK,
)


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
