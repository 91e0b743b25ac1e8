"""`tpmkit metrics list|show`: the catalogue as a table, one definition in full."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from tpmkit.render.console import stdout
from tpmkit.spec.loader import MetricDef
from tpmkit.spec.models import Band, FormulaCompute

DIRECTION_SHORT = {
    "higher_is_better": "higher",
    "lower_is_better": "lower",
    "within_band": "band",
    None: "—",
}


def print_catalogue(metrics: list[MetricDef]) -> None:
    """id, name, unit, direction, owner, dataset and where each metric is defined."""
    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column("metric", overflow="fold", min_width=22)
    for column in ("unit", "better", "owner", "dataset"):
        table.add_column(column, no_wrap=True)
    table.add_column("defined in", overflow="fold")
    for metric in sorted(metrics, key=lambda m: (m.spec.dataset or "~", m.id)):
        spec = metric.spec
        table.add_row(
            Text.assemble((spec.id, "bold"), "\n", (spec.name, "dim")),
            spec.unit or "—",
            DIRECTION_SHORT[spec.direction.value if spec.direction else None],
            _short_role(spec.owner),
            spec.dataset or "(formula)",
            "built-in" if metric.builtin else metric.where(),
        )
    console = stdout()
    console.print(table)
    console.print(f"\n{len(metrics)} metric(s)")


def _short_role(role: str | None) -> str:
    """Role names short enough for an 80-column table."""
    if role is None:
        return "—"
    return {"operations_manager": "ops_manager", "quality_specialist": "quality_spec"}.get(
        role, role
    )


def describe_compute(metric: MetricDef) -> str:
    """The computation in words."""
    compute = metric.spec.compute
    where = getattr(compute, "where", None)
    over = f" over rows where `{where}`" if where else " over all rows"
    kind = compute.kind
    if isinstance(compute, FormulaCompute):
        return f"`{compute.expr}` computed from other metrics, per period and group"
    if kind == "count":
        return "number of rows" + (f" where `{where}`" if where else "")
    if kind == "ratio":
        return (
            f"{compute.scale:g} × rows where `{compute.numerator}` ÷ rows where it is "  # type: ignore[union-attr]
            f"known{over}"
        )
    if kind == "ratio_of_sums":
        return (
            f"{compute.scale:g} × sum(`{compute.numerator}`) ÷ sum(`{compute.denominator}`)"  # type: ignore[union-attr]
            f"{over}"
        )
    if kind == "percentile":
        return f"{compute.p:g}th percentile of `{compute.expr}`{over}"  # type: ignore[union-attr]
    return f"{kind} of `{compute.expr}`{over}"  # type: ignore[union-attr]


def _level(level: Any) -> str:
    if isinstance(level, Band):
        return f"outside {level.lower:g}–{level.upper:g}"
    return "—" if level is None else f"{level:g}"


def print_metric(metric: MetricDef) -> None:
    """Everything about one metric."""
    spec = metric.spec
    console = stdout()
    console.print(f"[bold]{spec.id}[/] — {spec.name}")
    if spec.description:
        console.print(spec.description)
    rows = [
        ("formula", describe_compute(metric)),
        ("as defined", spec.compute.model_dump_json(exclude_none=True)),
        ("dataset", spec.dataset or "(formula over metrics)"),
        ("time column", spec.time_column or "(dataset default)"),
        ("unit", spec.unit or "—"),
        ("direction", spec.direction.value if spec.direction else "—"),
        ("category", spec.category or "—"),
        ("owner", spec.owner or "—"),
        ("roles", ", ".join(spec.roles) or "—"),
        ("cadence", spec.cadence or "—"),
        ("min sample", str(spec.min_sample)),
    ]
    if spec.parameters:
        rows.append(("parameters", ", ".join(f"{k}={v}" for k, v in spec.parameters.items())))
    if spec.baseline:
        rows.append(
            (
                "baseline",
                f"{spec.baseline.value:g}"
                + (f" as of {spec.baseline.as_of}" if spec.baseline.as_of else ""),
            )
        )
    if spec.target:
        value = (
            f"{spec.target.value:g}"
            if spec.target.value is not None
            else f"{spec.target.lower:g}–{spec.target.upper:g}"
        )
        rows.append(("target", value + (f" by {spec.target.by}" if spec.target.by else "")))
    if spec.thresholds:
        rows.append(("warning", _level(spec.thresholds.warning)))
        rows.append(("critical", _level(spec.thresholds.critical)))
    for override in spec.overrides:
        changed = [
            k
            for k in ("target", "thresholds", "baseline", "min_sample")
            if getattr(override, k) is not None
        ]
        rows.append(("override", f"when {override.when}: {', '.join(changed)}"))
    if spec.aliases:
        rows.append(("aliases", ", ".join(spec.aliases)))
    rows.append(("defined in", ("built-in " if metric.builtin else "") + metric.where()))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
