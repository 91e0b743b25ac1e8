"""What the fields of a compute spec mean: which name columns, how parameters resolve.

Shared by validation (spec) and computation (engine), so it lives with the spec.
"""

from __future__ import annotations

from collections.abc import Mapping

from tpmkit.spec import expressions
from tpmkit.spec.models import FormulaCompute, NoRepeatCompute

Params = Mapping[str, str | int | float | bool]


def resolve(value: str | float, params: Params) -> str | float:
    """A field that may be a whole `{parameter}` placeholder, resolved."""
    if isinstance(value, str):
        found = expressions.placeholders(value)
        if len(found) == 1 and value.strip() == "{" + found[0][0] + "}":
            name = found[0][0]
            if name not in params:
                raise expressions.ExpressionError(f"unknown parameter `{name}`")
            resolved = params[name]
            return resolved if isinstance(resolved, str) else float(resolved)
    return value


def statistic_quantile(name: str) -> float | None:
    """None for `mean`, 0.5 for `median`, p/100 for `pNN`; ValueError otherwise."""
    text = name.strip().lower()
    if text == "mean":
        return None
    if text == "median":
        return 0.5
    if text.startswith("p"):
        try:
            p = float(text[1:])
        except ValueError:
            p = -1.0
        if 0 < p <= 100:
            return p / 100.0
    raise ValueError(f"unknown statistic `{name}`: use mean, median or pNN (e.g. p90)")


def window_seconds(compute: NoRepeatCompute, params: Params) -> float:
    """The repeat window in seconds (`window_days` × 24 h of absolute time)."""
    days = resolve(compute.window_days, params)
    try:
        value = float(days)
    except ValueError:
        raise ValueError(f"window_days must be a number, not {days!r}") from None
    if value <= 0:
        raise ValueError("window_days must be positive")
    return value * 86400.0


EXPRESSION_FIELDS = ("expr", "where", "numerator", "denominator")
COLUMN_FIELDS = ("key", "group", "opened", "closed")


def columns_used(compute: object, params: Params) -> set[str]:
    """Dataset columns a compute spec reads."""
    if isinstance(compute, FormulaCompute):
        return set()
    used: set[str] = set()
    for field in EXPRESSION_FIELDS:
        text = getattr(compute, field, None)
        if text:
            used.update(expressions.parse(expressions.substitute(text, params)).columns)
    used.update(c for f in COLUMN_FIELDS if (c := getattr(compute, f, None)))
    used.update(getattr(compute, "horizon", None) or [])
    censor = getattr(compute, "censor", None)
    if censor is not None:
        used.update([censor.column, *censor.horizon])
    return used


def horizon_columns(compute: object) -> list[str]:
    """Columns whose latest value makes the data horizon (any of them may be absent)."""
    censor = getattr(compute, "censor", None)
    return list(getattr(compute, "horizon", None) or (censor.horizon if censor else []))
