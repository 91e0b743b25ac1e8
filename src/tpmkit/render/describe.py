"""A metric definition in words: the facts `metrics show` prints and the reference lists."""

from __future__ import annotations

import json

from tpmkit.spec.loader import MetricDef
from tpmkit.spec.models import (
    Band,
    CountCompute,
    DeviationCompute,
    FormulaCompute,
    MeanCompute,
    MedianCompute,
    MetricSpec,
    NoRepeatCompute,
    OpenAtEndCompute,
    PercentileCompute,
    RatioCompute,
    RatioOfSumsCompute,
    StatisticCompute,
    SumCompute,
    Target,
)


def fill(text: str, parameters: dict[str, str | int | float | bool]) -> str:
    """Text with `{parameter}` placeholders replaced by the parameters' values."""
    for name, value in parameters.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def describe_compute(spec: MetricSpec) -> str:
    """The computation in words."""
    c = spec.compute
    where = getattr(c, "where", None)
    rows = f" over rows where `{where}`" if where else " over all rows"
    censor = getattr(c, "censor", None)
    if censor is not None:
        latest = ", ".join(censor.horizon)
        rows += f", leaving out rows whose `{censor.column}` is after the latest {latest}"
    if isinstance(c, FormulaCompute):
        n = f"; n from `{c.n_from}`" if c.n_from else ""
        return f"`{c.expr}` from other metrics, joined on period and group{n}"
    if isinstance(c, CountCompute):
        return "number of rows" + (f" where `{where}`" if where else "")
    if isinstance(c, SumCompute):
        return f"sum of `{c.expr}`{rows} (empty values count 0)"
    if isinstance(c, MeanCompute | MedianCompute):
        return f"{c.kind} of `{c.expr}`{rows} (empty values skipped)"
    if isinstance(c, PercentileCompute):
        return f"{c.p:g}th percentile (linear interpolation) of `{c.expr}`{rows}"
    if isinstance(c, StatisticCompute):
        return f"`{c.statistic}` (mean, median or pNN) of `{c.expr}`{rows}"
    if isinstance(c, RatioCompute):
        return (
            f"{c.scale:g} × rows where `{c.numerator}` ÷ rows where it is known{rows}; "
            "a zero denominator is no data"
        )
    if isinstance(c, RatioOfSumsCompute):
        return (
            f"{c.scale:g} × sum(`{c.numerator}`) ÷ sum(`{c.denominator}`){rows}; "
            "a zero denominator is no data"
        )
    if isinstance(c, NoRepeatCompute):
        among = f"rows where `{where}`" if where else "rows"
        return (
            f"{c.scale:g} × share of {among} with a known `{c.key}` and no later row of "
            f"the same `{c.key}` within {c.window_days} days; rows whose window ends "
            "after the latest time in the data are left out"
        )
    if isinstance(c, OpenAtEndCompute):
        return (
            f"rows with `{c.opened}` before the period's end and `{c.closed}` empty or "
            f"not before it, for every period ending by the latest of "
            f"{', '.join(c.horizon)}"
        )
    assert isinstance(c, DeviationCompute)
    return (
        f"mean of |`{c.expr}` − its `{c.group}` mean|{rows}, in groups of at least "
        f"{c.min_group_size}"
    )


def level_text(level: float | Band | None) -> str:
    """A threshold: a number, or the band outside which it applies."""
    if isinstance(level, Band):
        lower = "−∞" if level.lower is None else f"{level.lower:g}"
        upper = "∞" if level.upper is None else f"{level.upper:g}"
        return f"outside {lower}–{upper}"
    return "—" if level is None else f"{level:g}"


def target_text(target: Target) -> str:
    """A target value or band, with its date."""
    if target.value is not None:
        value = f"{target.value:g}"
    else:
        lower = "−∞" if target.lower is None else f"{target.lower:g}"
        upper = "∞" if target.upper is None else f"{target.upper:g}"
        value = f"{lower}–{upper}"
    return value + (f" by {target.by}" if target.by else "")


def metric_facts(metric: MetricDef) -> list[tuple[str, str]]:
    """(label, text) pairs describing a metric, in reading order."""
    spec = metric.spec
    compute = spec.compute.model_dump(mode="json", exclude_none=True)
    rows = [
        ("formula", fill(describe_compute(spec), spec.parameters)),
        ("as defined", json.dumps(compute, ensure_ascii=False)),
        ("dataset", spec.dataset or "(formula over metrics)"),
        ("time column", spec.time_column or "(the dataset's)"),
        ("unit", spec.unit or "—"),
        ("direction", spec.direction.value if spec.direction else "—"),
        ("category", spec.category or "—"),
        ("owner", spec.owner or "—"),
        ("views (roles)", ", ".join(spec.roles) or "—"),
        ("cadence", spec.cadence or "—"),
        ("min sample", str(spec.min_sample)),
    ]
    if spec.parameters:
        rows.append(("parameters", ", ".join(f"{k}={v}" for k, v in spec.parameters.items())))
    baseline, target, thresholds = (
        spec.current_baseline,
        spec.current_target,
        spec.current_thresholds,
    )
    if baseline:
        as_of = f" as of {baseline.as_of}" if baseline.as_of else ""
        rows.append(("baseline", f"{baseline.value:g}{as_of}"))
    if target:
        rows.append(("target", target_text(target)))
    if thresholds:
        since = f" (since {thresholds.from_})" if thresholds.from_ else ""
        rows.append(("warning", level_text(thresholds.warning) + since))
        rows.append(("critical", level_text(thresholds.critical) + since))
    for override in spec.overrides:
        changed = [
            k
            for k in ("target", "thresholds", "baseline", "min_sample")
            if getattr(override, k) is not None
        ]
        rows.append(("override", f"when {override.when}: {', '.join(changed)}"))
    if spec.aliases:
        rows.append(("aliases", ", ".join(spec.aliases)))
    if spec.optional_columns:
        rows.append(("optional columns", ", ".join(spec.optional_columns) + " (empty if absent)"))
    where = metric.where()
    if metric.customized_at:
        doc, path = metric.customized_at
        line = doc.locate(path, key=True)
        where += f", customized at {doc.file}:{line[0] if line else '?'}"
    rows.append(("defined in", ("built-in " if metric.builtin else "") + where))
    return rows
