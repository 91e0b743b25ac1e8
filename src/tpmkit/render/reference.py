"""The metric reference (docs/metrics.md), generated from the metric files."""

from __future__ import annotations

from tpmkit.render.describe import fill, metric_facts
from tpmkit.spec.loader import MetricDef

VIEWS = ("agent", "team_lead", "quality_specialist", "trainer", "operations_manager")
HEADER = """# Metric reference

Generated from the built-in catalogue (`metrics/*.yaml`) by `tests/test_metrics_reference.py`;
do not edit by hand (`TPMKIT_UPDATE_DOCS=1 python -m pytest tests/test_metrics_reference.py`
rewrites it). Enable the catalogue with `metrics: [builtin]` in `tpmkit.yaml`; change a
metric's parameters or levels under `customize:` (see [project-file.md](project-file.md)).
The metric language is described in [metric-files.md](metric-files.md).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference(metrics: list[MetricDef]) -> str:
    """Markdown: an index by dataset, the role views, then every metric in full."""
    ordered = sorted(metrics, key=lambda m: (m.spec.dataset or "~derived", m.id))
    lines = [
        HEADER,
        "## Index",
        "",
        "| id | name | dataset | unit | direction | owner |",
        "|---|---|---|---|---|---|",
    ]
    for metric in ordered:
        spec = metric.spec
        direction = spec.direction.value if spec.direction else "—"
        lines.append(
            f"| [`{spec.id}`](#{spec.id}) | {_cell(spec.name)} | "
            f"{spec.dataset or 'derived'} | {spec.unit} | {direction} | "
            f"{spec.owner or '—'} |"
        )
    lines += ["", "## Role views (`--role`)", ""]
    for view in VIEWS:
        ids = [m.id for m in ordered if view in m.spec.roles]
        everything = " (every metric)" if view == "operations_manager" else ""
        lines.append(f"- **{view}**{everything}: " + ", ".join(f"`{i}`" for i in ids))
    aliases = sorted((a, m.id) for m in ordered for a in m.spec.aliases)
    if aliases:
        lines += ["", "Aliases: " + ", ".join(f"`{a}` → `{i}`" for a, i in aliases)]
    for metric in ordered:
        spec = metric.spec
        lines += [
            "",
            f"## {spec.id}",
            "",
            f"**{spec.name}.** " + _cell(fill(spec.description, spec.parameters)),
            "",
            "| | |",
            "|---|---|",
        ]
        for label, text in metric_facts(metric):
            shown = f"`{text}`" if label == "as defined" else text
            lines.append(f"| {label} | {_cell(shown)} |")
    return "\n".join(lines) + "\n"
