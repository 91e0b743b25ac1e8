"""The history store in the terminal: `tpmkit history` (recorded runs, a metric's recorded
values with restatements, and changes of its definition between runs)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from rich.text import Text

from tpmkit.render.fit import fit, row_table, show
from tpmkit.render.statuses import look
from tpmkit.render.terminal import stdout
from tpmkit.render.values import fmt_value, group_label


def _group_text(encoded: str) -> str:
    values = json.loads(encoded) if encoded else {}
    return ", ".join(f"{k}={group_label(v)}" for k, v in values.items()) or "—"


# left out first when narrow (least useful first)
RUNS_DROP = ("inputs", "grain", "records", "by")
VALUES_DROP = ("restated from", "run", "grain")
CHANGES_DROP = ("recorded at (UTC)",)


def print_runs(runs: list[dict[str, Any]], folder: Any, wide: bool = False) -> None:
    """One row per recorded run: when, which command, grain, grouping and size."""
    out = stdout()
    if not runs:
        out.print(f"no recorded runs in {folder} (record one with `tpmkit evaluate --record`)")
        return
    rows = [
        {
            "run": run["run_id"],
            "recorded at (UTC)": str(run["run_at"])[:16].replace("T", " "),
            "command": run.get("command", ""),
            "grain": run.get("grain", ""),
            "by": ", ".join(run.get("by", [])) or "—",
            "records": f"{run.get('records', 0):,}",
            "inputs": str(len(run.get("inputs", []))),
        }
        for run in runs
    ]
    columns = ["run", "recorded at (UTC)", "command", "grain", "by", "records", "inputs"]
    build = row_table(f"Recorded runs — {folder}", rows, {"by"}, {"records", "inputs"})
    show(out, *fit(build, columns, RUNS_DROP, out, wide), wide)


def print_history(
    recorded: Any, metric: str, by: str, grain: str | None, wide: bool = False
) -> None:
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
        rows = []
        for row in latest.sort("grain", "period", "group").to_dicts():
            unit = row.get("unit") or ""
            restated = row.get("restated_from")
            status = row["status"] or ""
            rows.append(
                {
                    "grain": row["grain"],
                    "period": row["period"],
                    "group": _group_text(row["group"]),
                    "value": fmt_value(row["value"], unit),
                    "status": Text(status, style=look(status).style if status else ""),
                    "run": row["run_id"],
                    "restated from": "—"
                    if restated is None
                    else f"{fmt_value(restated, unit)} in {row['first_run_id']}",
                }
            )
        columns = ["grain", "period", "group", "value", "status", "run", "restated from"]
        title = f"{metric} — recorded values (latest run wins)"
        build = row_table(title, rows, {"group", "restated from"}, {"value"})
        show(out, *fit(build, columns, VALUES_DROP, out, wide), wide)
    changes = recorded.definition_changes(metric)
    if not changes:
        out.print(Text(f"no change of `{metric}`'s definition between recorded runs", style="dim"))
        return
    rows = [
        {
            "run": change["run_id"],
            "recorded at (UTC)": str(change["run_at"])[:19].replace("T", " "),
            "field": change["field"],
            "old": "—" if change["old"] is None else str(change["old"]),
            "new": "—" if change["new"] is None else str(change["new"]),
        }
        for change in changes
    ]
    columns = ["run", "recorded at (UTC)", "field", "old", "new"]
    build = row_table(f"{metric} — definition changes", rows, {"field", "old", "new"})
    show(out, *fit(build, columns, CHANGES_DROP, out, wide), wide)
