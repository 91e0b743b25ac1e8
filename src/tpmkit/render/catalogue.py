"""The metric catalogue in the terminal: `tpmkit metrics list` and `tpmkit metrics show`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tpmkit.render.describe import fill, metric_facts
from tpmkit.render.terminal import stdout
from tpmkit.spec.loader import MetricDef

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


def print_metric(metric: MetricDef) -> None:
    """Everything about one metric."""
    spec = metric.spec
    console = stdout()
    console.print(f"[bold]{spec.id}[/] — {spec.name}")
    if spec.description:
        console.print(fill(spec.description, spec.parameters))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in metric_facts(metric):
        table.add_row(key, value)
    console.print(table)
