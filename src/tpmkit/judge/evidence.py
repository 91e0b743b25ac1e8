"""A scorecard's view of one record: its 0–100 points against its levels, its 95 %
interval (Wilson for a rate, from the record's components; t for a mean) and what that
interval says against the target (see judge/scorecard.py for how cards use them)."""

from __future__ import annotations

import math
from typing import Any

from tpmkit.stats import normal_quantile, t975

__all__ = ["Z95", "evidence", "interval", "points", "t975", "wilson"]

# exact (stats.py) rather than a table with a Cornish–Fisher tail, which was 0.002 low at
# 11 degrees of freedom and could flip a "significantly worse" flag at the edge
Z95 = normal_quantile(0.975)


def wilson(successes: float, n: int) -> tuple[float, float] | None:
    """Wilson score 95 % interval of a share (as fractions); None without rows."""
    if n <= 0:
        return None
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def interval(record: dict[str, Any], rate: bool) -> tuple[float, float] | None:
    """The 95 % interval of a record's value in its own unit, or None."""
    value, n = record.get("value"), record.get("n") or 0
    if value is None or n <= 0:
        return None
    if rate:  # the record's own components: qualifying rows of the rows it divides by
        hits, size, scale = (record.get(k) for k in ("numerator", "denominator", "scale"))
        if hits is None or not size or not scale:
            return None
        bounds = wilson(hits, int(size))
        return None if bounds is None else (bounds[0] * scale, bounds[1] * scale)
    sd = record.get("sd")
    if sd is None or n < 2:
        return None
    half = t975(n - 1) * sd / math.sqrt(n)
    return value - half, value + half


def evidence(record: dict[str, Any], bounds: tuple[float, float] | None) -> str | None:
    """significantly_worse | not_enough_evidence | on_target | significantly_better; None
    for a record below its metric's `min_sample` (never judged, let alone ranked worst)."""
    if record.get("status") in ("insufficient_sample", "no_data"):
        return None
    target, value, direction = record.get("target"), record.get("value"), record.get("direction")
    if target is None or value is None or bounds is None or record.get("target_upper") is not None:
        return None
    low, high = bounds
    higher = direction == "higher_is_better"
    if direction not in ("higher_is_better", "lower_is_better"):
        return None
    worse_side = value < target if higher else value > target
    if (high < target) if higher else (low > target):
        return "significantly_worse"
    if (low > target) if higher else (high < target):
        return "significantly_better"
    return "not_enough_evidence" if worse_side else "on_target"


def points(record: dict[str, Any]) -> float | None:
    """0–100 by the catalogue's rule, or None when the record cannot be scored."""
    value, direction = record.get("value"), record.get("direction")
    target, critical = record.get("target"), record.get("critical")
    if value is None or target is None or critical is None:
        return None
    if direction == "within_band":
        upper, critical_upper = record.get("target_upper"), record.get("critical_upper")
        if upper is None or critical_upper is None:
            return None
        if target <= value <= upper:
            return 100.0
        if value < target:
            return _linear(value, critical, target)
        return _linear(value, critical_upper, upper)
    if direction in ("higher_is_better", "lower_is_better"):
        return _linear(value, critical, target)
    return None


def _linear(value: float, zero_at: float, full_at: float) -> float:
    """100 at `full_at` or beyond it, 0 at `zero_at` or beyond, linear between."""
    if full_at == zero_at:
        return 100.0 if value == full_at else 0.0
    share = (value - zero_at) / (full_at - zero_at)
    return 100.0 * min(1.0, max(0.0, share))
