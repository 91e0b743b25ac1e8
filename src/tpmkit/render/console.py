"""The terminal table (the only module that imports rich)."""

from __future__ import annotations

import sys
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tpmkit.errors import Issue
from tpmkit.render.values import STATUS_ICONS, fmt_gap, fmt_level, fmt_value

STATUS_STYLES = {
    "ok": "green",
    "warning": "yellow",
    "critical": "bold red",
    "no_data": "dim",
    "insufficient_sample": "magenta",
}


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def records_table(
    records: pl.DataFrame, by: list[str], title: str, currency: str | None = None
) -> Table:
    """Records as a compact table coloured by status (with an icon, not colour alone)."""
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        show_edge=False,
        box=None,
        collapse_padding=True,
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("period", no_wrap=True)
    for column in by:
        table.add_column(column, max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("target", justify="right", no_wrap=True)
    table.add_column("gap", justify="right", no_wrap=True)
    table.add_column("plan", no_wrap=True)
    previous = None
    for row in records.iter_rows(named=True):
        unit = row["unit"] or ""
        style = STATUS_STYLES.get(row["status"], "")
        label = "insufficient" if row["status"] == "insufficient_sample" else row["status"]
        metric = row["metric"] if row["metric"] != previous else ""
        previous = row["metric"]
        table.add_row(
            Text(metric, style="bold"),
            row["period"] or "—",
            *[_group(row[c]) for c in by],
            Text(fmt_value(row["value"], unit, currency), style=style),
            str(row["n"]),
            Text(f"{STATUS_ICONS.get(row['status'], '')} {label}", style=style),
            fmt_level(row["target"], row["target_upper"], unit, currency),
            fmt_gap(row["gap_to_target"], unit, currency),
            row["plan_status"] or "",
        )
    return table


def _group(value: Any) -> str:
    return "(none)" if value is None else str(value)


def print_records(
    records: pl.DataFrame, by: list[str], title: str, notes: list[str], currency: str | None = None
) -> None:
    """Print the table and a one-line status summary, then notes."""
    console = stdout()
    console.print(records_table(records, by, title, currency))
    counts = records.group_by("status").len() if not records.is_empty() else None
    if counts is not None:
        found = {s: c for s, c in counts.iter_rows()}
        parts = [f"[{STATUS_STYLES[s]}]{found[s]} {s}[/]" for s in STATUS_STYLES if s in found]
        console.print("\n" + " · ".join(parts))
    reasons = (
        records.filter(pl.col("value").is_null() & pl.col("reason").is_not_null())
        .select("metric", "reason")
        .unique(maintain_order=True)
        if not records.is_empty()
        else None
    )
    if reasons is not None:
        for metric, reason in reasons.iter_rows():
            if reason != "no qualifying rows in this period and group":
                console.print(f"[dim]{metric}: no data — {reason}[/]", soft_wrap=True)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


def print_issues(issues: list[Issue], header: str | None = None) -> None:
    """Diagnostics on stderr, errors red and warnings yellow."""
    console = stderr()
    if header:
        console.print(
            header, style="bold red" if any(i.severity == "error" for i in issues) else "bold"
        )
    for issue in issues:
        colour = "red" if issue.severity == "error" else "yellow"
        console.print(
            Text.assemble(
                (issue.location() + ": " if issue.location() else "", "bold"),
                (issue.severity, colour),
                ": " + issue.message,
                (f"  ({issue.hint})" if issue.hint else "", "dim"),
            )
        )


def print_error(message: str) -> None:
    stderr().print(Text(message, style="red"))


def is_terminal() -> bool:
    return sys.stdout.isatty()
