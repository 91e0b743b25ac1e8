"""The history store in the terminal: `tpmkit history` (recorded runs, a metric's recorded
values with restatements, and changes of its definition between runs)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from rich.table import Table
from rich.text import Text

from tpmkit.render.statuses import look
from tpmkit.render.terminal import stdout
from tpmkit.render.values import fmt_value, group_label


def _group_text(encoded: str) -> str:
    values = json.loads(encoded) if encoded else {}
    return ", ".join(f"{k}={group_label(v)}" for k, v in values.items()) or "—"


def print_runs(runs: list[dict[str, Any]], folder: Any) -> None:
    """One row per recorded run: when, which command, grain, grouping and size."""
    out = stdout()
    if not runs:
        out.print(f"no recorded runs in {folder} (record one with `tpmkit evaluate --record`)")
        return
    table = Table(title=f"Recorded runs — {folder}", title_justify="left", show_edge=False)
    for name in ("run", "recorded at (UTC)", "command", "grain", "by", "records", "inputs"):
        table.add_column(
            name,
            justify="right" if name in ("records", "inputs") else "left",
            no_wrap=name in ("run", "recorded at (UTC)"),
        )
    for run in runs:
        table.add_row(
            run["run_id"],
            str(run["run_at"])[:16].replace("T", " "),
            run.get("command", ""),
            run.get("grain", ""),
            ", ".join(run.get("by", [])) or "—",
            f"{run.get('records', 0):,}",
            str(len(run.get("inputs", []))),
        )
    out.print(table)


def print_history(recorded: Any, metric: str, by: str, grain: str | None) -> None:
    """A metric's latest recorded values (and what they restated), then its definition
    changes between runs."""
    out = stdout()
    latest = recorded.latest()
    if not latest.is_empty():
        latest = latest.filter((pl.col("metric") == metric) & (pl.col("by") == by))
        if grain:
            latest = latest.filter(pl.col("grain") == grain)
    if latest.is_empty():
        out.print(f"no recorded values of `{metric}`" + (f" by {by}" if by else ""))
    else:
        table = Table(
            title=f"{metric} — recorded values (latest run wins)",
            title_justify="left",
            show_edge=False,
        )
        for name in ("grain", "period", "group", "value", "status", "run", "restated from"):
            table.add_column(name, justify="right" if name == "value" else "left")
        for row in latest.sort("grain", "period", "group").to_dicts():
            unit = row.get("unit") or ""
            restated = row.get("restated_from")
            status = row["status"] or ""
            table.add_row(
                row["grain"],
                row["period"],
                _group_text(row["group"]),
                fmt_value(row["value"], unit),
                Text(status, style=look(status).style if status else ""),
                row["run_id"],
                "—"
                if restated is None
                else f"{fmt_value(restated, unit)} in {row['first_run_id']}",
            )
        out.print(table)
    changes = recorded.definition_changes(metric)
    if not changes:
        out.print(Text(f"no change of `{metric}`'s definition between recorded runs", style="dim"))
        return
    table = Table(title=f"{metric} — definition changes", title_justify="left", show_edge=False)
    for name in ("run", "recorded at (UTC)", "field", "old", "new"):
        table.add_column(name)
    for change in changes:
        table.add_row(
            change["run_id"],
            str(change["run_at"])[:19].replace("T", " "),
            change["field"],
            "—" if change["old"] is None else str(change["old"]),
            "—" if change["new"] is None else str(change["new"]),
        )
    out.print(table)
