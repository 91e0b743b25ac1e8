"""Source options for exports that are not one clean row per record: values that mean
empty, rows that are not records, and a timestamp written as a date and a clock time in
two columns (what real ACD, IVR and service-desk exports do)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from tpmkit.spec import expressions
from tpmkit.spec.base import Strict


def _marker(value: Any) -> Any:
    """A null marker as the text the export holds: YAML reads `0` and `?` differently (a
    number, a text); both mean the cell's text. A YAML boolean is an unquoted `no`/`yes`."""
    if isinstance(value, bool):
        raise ValueError("YAML reads an unquoted yes/no/true/false as a boolean; quote the marker")
    if isinstance(value, int | float):
        return str(value)
    return value


Marker = Annotated[str, BeforeValidator(_marker)]
NULL_VALUES_HELP = (
    "texts that mean empty: a list for every column (`['?']`), or export column -> list "
    "(`{server: [NO_SERVER], customer_id: ['0']}`)"
)
KEEP_ROWS_HELP = (
    "SQL condition on the export's columns (as text, null markers applied): rows where it "
    "is not true are not records of this dataset and are not read (e.g. PHANTOM calls)"
)
CLOCK_TIMES_HELP = (
    "canonical name -> a timestamp from a date column and a clock-time column, e.g. "
    "{date: date, date_format: '%y%m%d', time: q_start, after: vru_entry}"
)


class ClockTime(Strict):
    """A timestamp from a date in one column and a clock time (`H:MM[:SS]`) in another."""

    date: str = Field(description="export column holding the date")
    date_format: str = Field("%Y-%m-%d", description="strftime format of the date")
    time: str = Field(description="column (export or derived) holding the clock time")
    after: str | None = Field(
        None,
        description="a clock column of the same record on the date's day: a time more than "
        "12 hours before it is on the next day (a call queued after midnight)",
    )

    @field_validator("date_format")
    @classmethod
    def _has_a_date(cls, value: str) -> str:
        if not any(f"%{c}" in value for c in "dejFDxv"):
            raise ValueError(f"`{value}` has no day (%d, %e, %j, %F or %D)")
        return value


def check_condition(text: str) -> str:
    """A `keep_rows` condition, checked against the expression allow-list."""
    if not text.strip():
        raise ValueError("empty condition")
    try:
        expressions.check_allowed(text)
    except expressions.ExpressionError as exc:
        raise ValueError(f"{exc.message} (at character {exc.offset + 1})") from None
    return text


NullValues = list[Marker] | dict[str, list[Marker]]
Condition = Annotated[str, AfterValidator(check_condition)]
