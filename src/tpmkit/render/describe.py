"""A metric definition in words: the facts `metrics show` prints and the reference lists."""

from __future__ import annotations

import json

from tpmkit.engine.kinds import kind_of
from tpmkit.spec.loader import MetricDef
from tpmkit.spec.models import Band, MetricSpec, Target


def fill(text: str, parameters: dict[str, str | int | float | bool]) -> str:
    """Text with `{parameter}` placeholders replaced by the parameters' values."""
    for name, value in parameters.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def describe_compute(spec: MetricSpec) -> str:
    """The computation in words (each kind says its own)."""
    return kind_of(spec.compute).describe(spec.compute)


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
        ("judged at", ", ".join(spec.judged_at)),
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
