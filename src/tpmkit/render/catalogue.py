"""The metric catalogue in the terminal: `tpmkit metrics list` and `tpmkit metrics show`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from tpmkit.render.describe import fill, metric_facts
from tpmkit.render.fit import fit, show
from tpmkit.render.terminal import stdout
from tpmkit.spec.loader import MetricDef

DIRECTION_SHORT = {
    "higher_is_better": "higher",
    "lower_is_better": "lower",
    "within_band": "band",
    None: "—",
}


# left out first when narrow: where it is defined, then dataset, direction, unit
CATALOGUE_DROP = ("defined in", "dataset", "better", "unit")


def print_catalogue(metrics: list[MetricDef], wide: bool = False) -> None:
    """id, name, unit, direction, owner, dataset and where each metric is defined; columns
    that do not fit are left out and named (all shown with `wide`)."""
    rows: list[dict[str, str | Text]] = []
    for metric in sorted(metrics, key=lambda m: (m.spec.dataset or "~", m.id)):
        spec = metric.spec
        rows.append(
            {
                "metric": Text.assemble((spec.id, "bold"), "\n", (spec.name, "dim")),
                "unit": spec.unit or "—",
                "better": DIRECTION_SHORT[spec.direction.value if spec.direction else None],
                "owner": _short_role(spec.owner),
                "dataset": spec.dataset or "(formula)",
                "defined in": "built-in" if metric.builtin else metric.where(),
            }
        )

    def build(shown: list[str]) -> Table:
        table = Table(header_style="bold", box=None, pad_edge=False)
        for name in shown:
            wraps = name in ("metric", "defined in")
            table.add_column(name, no_wrap=not wraps, overflow="fold")
        for row in rows:
            table.add_row(*(row[c] for c in shown))
        return table

    console = stdout()
    columns = ["metric", "unit", "better", "owner", "dataset", "defined in"]
    show(console, *fit(build, columns, CATALOGUE_DROP, console, wide), wide)
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
