"""A source's freshness and completeness settings: how old its latest row may be at the
run time (`freshness: {max_age: 36h}`), and how few rows a day may hold against the same
weekday of earlier weeks before the export counts as truncated (`completeness`). The
judging itself is `judge/sources.py`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from tpmkit.spec.base import Strict

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
DURATION_HELP = "a number and a unit: 90m, 36h, 2d or 1w"


def parse_age(value: Any) -> dt.timedelta:
    """`36h`, `2d`, `90m`, `1w` as a timedelta (a timedelta passes through)."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"`{value}` is not a duration; write {DURATION_HELP}")
    found = _DURATION.match(value)
    if not found:
        raise ValueError(f"`{value}` is not a duration; write {DURATION_HELP}")
    age = dt.timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})
    if age <= dt.timedelta(0):
        raise ValueError(f"`{value}`: the age must be more than 0")
    return age


def age_text(age: dt.timedelta) -> str:
    """A timedelta the way the settings write it (36h, 2d, 90m), for messages and JSON."""
    minutes = int(age.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


# written as text (36h), not as an ISO 8601 duration: the schema says so for editors
AGE_SCHEMA = {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[mhdw]\s*$", "examples": ["36h"]}
Age = Annotated[
    dt.timedelta,
    BeforeValidator(parse_age),
    PlainSerializer(age_text),
    WithJsonSchema(AGE_SCHEMA),
]


class Freshness(Strict):
    """`freshness: {max_age: 36h}`: the export is stale when its latest timestamp is older
    than max_age at the run time."""

    max_age: Age = Field(description=f"how old the latest row may be: {DURATION_HELP}")


DEFAULT_MIN_SHARE = 0.6


class Completeness(Strict):
    """`completeness: {min_share: 0.5}`: a day of the judged period with fewer rows than
    min_share × the median of the same weekday over the previous 8 weeks is incomplete."""

    min_share: float = Field(
        DEFAULT_MIN_SHARE,
        gt=0,
        le=1,
        description="a day's rows against the trailing 8-week median of its weekday",
    )


def completeness_of(setting: bool | Completeness) -> Completeness | None:
    """The completeness rule a source's setting asks for, or None when it is off."""
    if setting is False:
        return None
    return Completeness() if setting is True else setting
