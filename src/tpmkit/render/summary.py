"""The one-screen summary `tpmkit evaluate` prints in a terminal when asked for no metric
and no range: each metric's judged period (the latest complete one, as `check` picks it),
one line per metric, breaches first, then how to see every period."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.table import Table
from rich.text import Text

from tpmkit.render.fit import fit, show
from tpmkit.render.statuses import look
from tpmkit.render.terminal import group_cell, stdout
from tpmkit.render.values import fmt_level, fmt_value

# the status a metric's line takes with --by: the worst among its groups; a group with a
# value outranks one without (ok before insufficient_sample and no_data)
LINE_RANK = ("critical", "warning", "ok", "insufficient_sample", "no_data")
BREACH_RANK = {"critical": 0, "warning": 1}
# left out in this order when narrow: the name (the id says which metric) before the target;
# neither wraps, so each metric keeps to one line
SUMMARY_DROP = ("name", "target")
MORE = "all periods: --last N (or --from/--to), or --format json"


def _rank(status: str | None) -> int:
    return LINE_RANK.index(status) if status in LINE_RANK else len(LINE_RANK)


def _badness(record: dict[str, Any]) -> float:
    """How far a record sits on the wrong side, in its metric's direction (bigger worse)."""
    value = record["value"]
    if value is None:
        return float("-inf")
    if record["direction"] == "higher_is_better":
        return -float(value)
    if record["direction"] == "lower_is_better":
        return float(value)
    gap = record["gap_to_target"]
    return abs(float(gap)) if gap is not None else 0.0


def summary_lines(
    records: pl.DataFrame, labels: dict[str, str], by: list[str]
) -> list[dict[str, Any]]:
    """Per metric, the record that speaks for it in its judged period (with `by`: the worst
    group; groups no dimension reaches are left out), critical first, then warning, then
    the rest in the metrics' order."""
    lines = []
    for (metric,), part in records.partition_by(
        "metric", as_dict=True, maintain_order=True
    ).items():
        label = labels.get(str(metric))
        rows = [r for r in part.to_dicts() if r["period"] == label]
        grouped = [r for r in rows if not by or any(r[c] is not None for c in by)]
        candidates = grouped or rows
        if not candidates:
            continue
        worst = min(candidates, key=lambda r: (_rank(r["status"]), -_badness(r)))
        lines.append(worst)
    order = {str(m): i for i, m in enumerate(records["metric"].unique(maintain_order=True))}
    return sorted(lines, key=lambda r: (BREACH_RANK.get(r["status"], 2), order[r["metric"]]))


def print_summary(
    records: pl.DataFrame,
    labels: dict[str, str],
    period: str,
    by: list[str],
    title: str,
    notes: list[str],
    currency: str | None = None,
    names: dict[str, str] | None = None,
    wide: bool = False,
) -> None:
    """The latest complete period, one line per metric (value, status, target and, with
    `by`, the worst group), breaches first; then the status counts and how to see more."""
    lines = summary_lines(records, labels, by)
    console = stdout()
    console.print(Text(f"{title} — {period}, the latest complete period", style="bold underline"))
    cells = []
    for row in lines:
        unit = row["unit"] or ""
        shown = look(row["status"])
        group = ", ".join(group_cell(row[c]) for c in by)
        own = "" if row["period"] == period else f" ({row['period']})"
        cells.append(
            {
                "metric": row["metric"] + own,
                "name": (names or {}).get(row["metric"], ""),
                "value": fmt_value(row["value"], unit, currency),
                "status": f"{shown.icon} {shown.label}",
                "target": fmt_level(row["target"], row["target_upper"], unit, currency),
                "worst group": group,
                "__style": shown.style,
            }
        )
    columns = ["metric", "value", "status", "target", *(["worst group"] if by else []), "name"]
    wraps = {"worst group"}
    right = {"value", "target"}

    def build(names_shown: list[str]) -> Table:
        table = Table(header_style="dim", box=None, pad_edge=False, show_edge=False)
        for name in names_shown:
            table.add_column(
                name,
                justify="right" if name in right else "left",
                no_wrap=name not in wraps,
                overflow="fold",
            )
        for cell in cells:
            table.add_row(
                *[
                    Text(cell[c], style=cell["__style"]) if c in ("value", "status") else cell[c]
                    for c in names_shown
                ]
            )
        return table

    show(console, *fit(build, columns, SUMMARY_DROP, console, wide), wide)
    found: dict[str, int] = {}
    for row in lines:
        found[row["status"]] = found.get(row["status"], 0) + 1
    ordered = sorted(found, key=_rank)
    parts = [f"[{look(st).style}]{found[st]} {look(st).phrase}[/]" for st in ordered]
    if parts:
        console.print(f"\n{len(lines)} metrics: " + " · ".join(parts))
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)  # paths kept whole
    console.print(Text(MORE, style="dim"))
