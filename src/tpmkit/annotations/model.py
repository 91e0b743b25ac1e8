"""One annotation as written (a date or a timestamp at each end) and the time it covers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["outage", "holiday", "process_change", "data_issue", "other"]
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = dt.timedelta(microseconds=1)  # an inclusive end instant as an exclusive bound


def moment(text: Any) -> dt.date | dt.datetime:
    """`2026-10-05` as a date, `2026-10-05 14:00` (or ISO 8601, offset optional) as a
    datetime; anything else is a ValueError that says what is expected."""
    if isinstance(text, dt.date):
        return text
    value = str(text).strip()
    try:
        if DAY.match(value):
            return dt.date.fromisoformat(value)
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"`{value}` is not a date or a timestamp: write 2026-10-05 or 2026-10-05 14:00"
        ) from None


class Annotation(BaseModel):
    """A note on the data points it touches; `exclude` keeps them out of baselines,
    trend fits, early warnings and control limits."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: dt.datetime | dt.date = Field(alias="from")
    to: dt.datetime | dt.date | None = None
    text: str = Field(min_length=1)
    kind: Kind | None = None
    metric: str | None = None
    group: str | None = None
    value: str | None = None
    exclude: bool = False

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _moment(cls, given: Any) -> Any:
        return None if given is None or given == "" else moment(given)

    @field_validator("text")
    @classmethod
    def _text(cls, given: str) -> str:
        if not given.strip():
            raise ValueError("the note's text is empty")
        return given

    @model_validator(mode="after")
    def _consistent(self) -> Annotation:
        if (self.group is None) != (self.value is None):
            raise ValueError("`group` and `value` go together (e.g. team and Berlin Tech)")
        start, end = self.bounds("UTC")
        if end <= start:
            raise ValueError(f"`to` ({self.to}) is before `from` ({self.from_})")
        return self

    def bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in `timezone`: a date is its local midnight; a date-only `from`
        without `to` is that whole day; a date-only `to` includes its day; a timestamp
        `to` is included; no `to` is the single instant `from`."""
        zone = ZoneInfo(timezone)
        start = _at(self.from_, zone)
        if self.to is None:
            if not isinstance(self.from_, dt.datetime):
                return start, _at(self.from_ + dt.timedelta(days=1), zone)
            return start, start + INSTANT
        if not isinstance(self.to, dt.datetime):
            return start, _at(self.to + dt.timedelta(days=1), zone)
        return start, _at(self.to, zone) + INSTANT

    def row(self) -> dict[str, str]:
        """The annotation as the text of its CSV cells (empty for null)."""
        return {
            "from": _written(self.from_),
            "to": "" if self.to is None else _written(self.to),
            "text": self.text,
            "kind": self.kind or "",
            "metric": self.metric or "",
            "group": self.group or "",
            "value": self.value or "",
            "exclude": "true" if self.exclude else "",
        }


def _at(day_or_time: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(day_or_time, dt.datetime):
        return dt.datetime.combine(day_or_time, dt.time(), tzinfo=zone)
    if day_or_time.tzinfo is None:
        return day_or_time.replace(tzinfo=zone)
    return day_or_time.astimezone(zone)


def _written(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    return value.isoformat()


SPAN_SCHEMA = ("start", "end", "text", "kind", "metric", "group", "value", "exclude")


def spans(annotations: list[Annotation], timezone: str) -> pl.DataFrame:
    """The annotations as the engine's table of [start, end) spans (engine/notes.py)."""
    moment_type = pl.Datetime("us", timezone)
    bounds = [a.bounds(timezone) for a in annotations]
    return pl.DataFrame(
        {
            "start": pl.Series([b[0] for b in bounds], dtype=pl.Datetime("us", "UTC")),
            "end": pl.Series([b[1] for b in bounds], dtype=pl.Datetime("us", "UTC")),
            "text": [a.text for a in annotations],
            "kind": [a.kind for a in annotations],
            "metric": [a.metric for a in annotations],
            "group": [a.group for a in annotations],
            "value": [a.value for a in annotations],
            "exclude": [a.exclude for a in annotations],
        },
        schema_overrides={
            "kind": pl.String,
            "metric": pl.String,
            "group": pl.String,
            "value": pl.String,
            "text": pl.String,
            "exclude": pl.Boolean,
        },
    ).with_columns(
        pl.col("start").dt.convert_time_zone(timezone).cast(moment_type),
        pl.col("end").dt.convert_time_zone(timezone).cast(moment_type),
    )
