"""Display formatting of values by unit (tables and Markdown only; files keep full precision)."""

from __future__ import annotations

import math
import re
from typing import Any

from tpmkit.vocabulary import BREACHES

UNASSIGNED = "unassigned"
"""The one display label of a null group value: the rows no dimension reaches (abandons
on a queue nobody owns). Data files (JSON, CSV, Parquet) keep the null."""


# control characters in a value read from an export: a newline would start a new line of a
# CI log (a GitHub workflow command such as `::error`), an ESC would recolour a terminal
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with each control character written as an escape (`\\n`, `\\x1b`), so a value
    from an export can never act on the terminal or the CI log it is printed to."""
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def group_label(value: Any) -> str:
    """A group value for display, control characters escaped; a null one is `unassigned`."""
    return UNASSIGNED if value is None else printable(str(value))


def fmt_value(value: float | None, unit: str, currency: str | None = None) -> str:
    """A value rounded for reading, with its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if unit == "seconds":
        return f"{value:,.0f}s" if abs(value) >= 100 else f"{value:.1f}s"
    if unit == "hours":
        return f"{value:.1f}h"
    if unit == "ms":
        return f"{value:,.0f}ms"
    if unit in ("days", "weeks"):  # time to proficiency: a spelt-out unit, one decimal
        return f"{value:,.1f} {unit}"
    if unit == "currency":
        return f"{value:,.2f}" + (f" {currency}" if currency else "")
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def fmt_gap(value: float | None, unit: str, currency: str | None = None) -> str:
    """A signed gap with its unit; between two percentages, in percentage points (`−3.2 pp`:
    76.1 % after 79.3 % is 3.2 points, not a 3.2 % fall)."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    if unit == "percent":
        return f"{sign}{abs(value):.1f} pp"
    return sign + fmt_value(abs(value), unit, currency)


def fmt_level(low: float | None, high: float | None, unit: str, currency: str | None = None) -> str:
    """A threshold or target: a number, or `lo–hi` for bands."""
    if low is None and high is None:
        return "—"
    if high is None:
        return fmt_value(low, unit, currency)
    return f"{fmt_value(low, unit, currency)}–{fmt_value(high, unit, currency)}"


def threshold_passed(record: dict[str, Any]) -> str:
    """For a warning or critical record, the level its value is past (e.g. `above critical
    420s`, `below the warning band 70.0%–88.0%`); empty otherwise."""
    status = record.get("status")
    if status not in BREACHES:
        return ""
    unit = record.get("unit") or ""
    low, high = record.get(status), record.get(f"{status}_upper")
    value = record["value"]
    if high is not None:  # a band
        side = "below" if low is not None and value < low else "above"
        return f"{side} the {status} band {fmt_level(low, high, unit)}"
    if low is None:
        return ""
    side = "below" if record.get("direction") == "higher_is_better" else "above"
    return f"{side} {status} {fmt_value(low, unit)}"
