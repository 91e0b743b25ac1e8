"""The terminal table (the only module that imports rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tpmkit.errors import Issue
from tpmkit.render.describe import fill, metric_facts
from tpmkit.render.values import STATUS_ICONS, fmt_gap, fmt_level, fmt_value
from tpmkit.spec.loader import MetricDef

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


TREND_WORDS = {"improving": "better", "stable": "stable", "worsening": "worse"}
DIRECTION_WORDS = {
    "higher_is_better": "higher is better",
    "lower_is_better": "lower is better",
    "within_band": "within band",
}


OPTIONAL_COLUMNS = ("trend", "plan", "target", "gap")  # dropped in this order when narrow


def metric_table(
    records: pl.DataFrame,
    by: list[str],
    currency: str | None = None,
    width: int = 80,
) -> Table:
    """One metric's records as a compact table coloured by status (icon + word, not
    colour alone). Period, groups, value, n and status are always shown in full; trend,
    plan, target and gap are left out, in that order, when the terminal is too narrow."""
    rows = []
    for row in records.iter_rows(named=True):
        unit = row["unit"] or ""
        label = "too few" if row["status"] == "insufficient_sample" else row["status"]
        rows.append(
            {
                "period": row["period"] or "—",
                **{c: _group(row[c]) for c in by},
                "value": fmt_value(row["value"], unit, currency),
                "n": f"{row['n']:,}",
                "status": f"{STATUS_ICONS.get(row['status'], '')} {label}",
                "target": fmt_level(row["target"], row["target_upper"], unit, currency),
                "gap": fmt_gap(row["gap_to_target"], unit, currency),
                "plan": row["plan_status"] or "",
                "trend": _trend_cell(row),
                "__style": STATUS_STYLES.get(row["status"], ""),
            }
        )
    columns = ["period", *by, "value", "n", "status", "target", "gap", "plan", "trend"]

    def needed(names: list[str]) -> int:
        return sum(max([len(n), *(len(r[n]) for r in rows)]) + 2 for n in names)

    for optional in OPTIONAL_COLUMNS:
        if needed(columns) <= width:
            break
        columns.remove(optional)
    table = Table(
        header_style="dim",
        box=None,
        pad_edge=False,
        show_edge=False,
    )
    right = {"value", "n", "target", "gap"}
    for name in columns:
        table.add_column(
            name,
            justify="right" if name in right else "left",
            no_wrap=True,
            overflow="ellipsis",
            max_width=20 if name in by else None,
        )
    for row in rows:
        styled = {"value", "status"}
        table.add_row(
            *[Text(row[c], style=row["__style"]) if c in styled else row[c] for c in columns]
        )
    return table


def _trend_cell(row: dict[str, Any]) -> str:
    """`worse`, plus the early warning (`worse, warning W39`) or a control signal."""
    words = [TREND_WORDS.get(row.get("trend") or "", "")]
    if row.get("projected_breach_period"):
        period = str(row["projected_breach_period"]).split("-")[-1]
        words.append(f"{row['projected_status']} {period}")
    if row.get("control_signal"):
        words.append(str(row["control_signal"]).replace("_", " "))
    return ", ".join(w for w in words if w)


def _title(metric: str, names: dict[str, str], records: pl.DataFrame) -> str:
    first = records.row(0, named=True)
    unit = first["unit"] or ""
    direction = DIRECTION_WORDS.get(first["direction"] or "", "")
    detail = ", ".join(p for p in (unit, direction) if p)
    name = names.get(metric, "")
    return f"{metric}" + (f" — {name}" if name else "") + (f" ({detail})" if detail else "")


def _group(value: Any) -> str:
    return "(none)" if value is None else str(value)


def print_records(
    records: pl.DataFrame,
    by: list[str],
    title: str,
    notes: list[str],
    currency: str | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """Print a table per metric, a status summary, reasons for missing data and notes."""
    console = stdout()
    console.print(Text(title, style="bold underline"))
    for (metric,), part in records.partition_by(
        "metric", as_dict=True, maintain_order=True
    ).items():
        console.print()
        console.print(Text(_title(str(metric), names or {}, part), style="bold"), soft_wrap=True)
        console.print(metric_table(part, by, currency, console.width))
    if not records.is_empty():
        found = dict(records.group_by("status").len().iter_rows())
        parts = [f"[{STATUS_STYLES[s]}]{found[s]} {s}[/]" for s in STATUS_STYLES if s in found]
        console.print("\n" + " · ".join(parts))
        reasons = (
            records.filter(pl.col("value").is_null() & pl.col("reason").is_not_null())
            .select("metric", "reason")
            .unique(maintain_order=True)
        )
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
        colour = {"error": "red", "warning": "yellow"}.get(issue.severity, "cyan")
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


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr with the current step and the time so far, when `enabled` and
    stderr is a terminal; otherwise (pipes, cron, --quiet) the steps are dropped silently.
    It disappears when the run ends."""
    if not enabled or not sys.stderr.isatty():
        yield lambda step: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(step: str) -> None:
            bar.update(task, description=step)

        yield update


# --- the catalogue: `tpmkit metrics list | show` ---

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


# --- series: `tpmkit trend` ---


def trend_rows(records: pl.DataFrame, by: list[str], last: int) -> list[dict[str, Any]]:
    """One row per metric × group series: its recent values and what the analysis says."""
    from tpmkit.report.svg import sparkline

    rows = []
    keys = ["metric", *by]
    ordered = records.sort([*keys, "period_start"], nulls_last=True)
    for _, series in ordered.group_by(keys, maintain_order=True):
        items = series.to_dicts()
        latest = items[-1]
        recent = items[-last:]
        unit = latest["unit"] or ""
        warned = next((r for r in items if r["projected_breach_period"]), None)
        firsts = [
            f"{level} {hit['period']}"
            for level in ("warning", "critical")
            if (hit := next((r for r in items if r["status"] == level), None))
        ]
        slope = latest.get("slope")
        rows.append(
            {
                "metric": latest["metric"],
                **{c: _group(latest[c]) for c in by},
                "series": sparkline([r["value"] for r in recent]),
                "latest": f"{fmt_value(latest['value'], unit)} ({latest['period']})",
                "status": f"{STATUS_ICONS.get(latest['status'], '')} {latest['status']}",
                "trend": TREND_WORDS.get(latest["trend"] or "", "—"),
                "slope/period": "—" if slope is None else fmt_gap(slope, unit),
                "early warning": (
                    f"{latest['projected_status']} by {latest['projected_breach_period']}"
                    if latest["projected_breach_period"]
                    else "—"
                ),
                "first warned": (
                    f"{warned['period']} (→ {warned['projected_status']} "
                    f"{warned['projected_breach_period']})"
                    if warned
                    else "—"
                ),
                "first breach": ", ".join(firsts) or "—",
                "target by": latest["projected_target_period"] or "—",
                "control": (latest["control_signal"] or "—").replace("_", " "),
                "__slope": slope,
                "__style": STATUS_STYLES.get(latest["status"], ""),
            }
        )
    return rows


def print_trend(records: pl.DataFrame, by: list[str], last: int, title: str) -> None:
    rows = trend_rows(records, by, last)
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    columns = ["metric", *by, "series", "latest", "status", "trend", "slope/period",
               "early warning", "first warned", "first breach", "target by", "control"]  # fmt: skip
    for name in columns:
        table.add_column(name, no_wrap=name in ("series", "status"))
    for row in rows:
        table.add_row(
            *(Text(str(row[c]), style=row["__style"] if c == "status" else "") for c in columns)
        )
    out = stdout()
    out.print(table)
    out.print(
        Text(
            "early warning: the period in which the least-squares line of the last 6 periods "
            "passes the next level within 4 periods (fitted on at least 5 values); first "
            "warned: the first period that raised one; first breach: the first period at "
            "each status",
            style="dim",
        )
    )


# --- the history store: `tpmkit history` ---


def _group_text(encoded: str) -> str:
    import json

    values = json.loads(encoded) if encoded else {}
    return ", ".join(f"{k}={'—' if v is None else v}" for k, v in values.items()) or "—"


def print_runs(runs: list[dict[str, Any]], folder: Any) -> None:
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
            table.add_row(
                row["grain"],
                row["period"],
                _group_text(row["group"]),
                fmt_value(row["value"], unit),
                Text(row["status"] or "", style=STATUS_STYLES.get(row["status"] or "", "")),
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


# --- scorecards: `tpmkit scorecard` ---

EVIDENCE_MARKS = {
    "significantly_worse": "▼",
    "significantly_better": "▲",
    "not_enough_evidence": "?",
    "on_target": "",
}


def print_scorecard(result: Any, names: dict[str, str]) -> None:
    """Groups lowest first: score, rank, change, each metric's value and points, then the
    coaching list per team lead."""
    out = stdout()
    if not result.groups:
        out.print("no group to score in " + result.period)
        return
    metrics = [m.metric for m in result.groups[0].metrics]
    context = list(result.groups[0].context)
    table = Table(
        title=f"{result.role} scorecard — {result.period}, lowest first",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for name in ("rank", *result.by, *(c for c in context if c != "team_lead"), "score", "Δ"):
        table.add_column(name, justify="right" if name in ("rank", "score", "Δ") else "left")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for group in result.groups:
        cells: list[str | Text] = [
            str(group.rank or "—"),
            *(_group(group.group[c]) for c in result.by),
            *(_group(group.context[c]) for c in context if c != "team_lead"),
            "—" if group.score is None else f"{group.score:.0f}",
            "—" if group.change is None else f"{group.change:+.0f}",
        ]
        for score in group.metrics:
            unit = score.record.get("unit") or ""
            if score.points is None:
                cells.append(Text("—", style="dim"))
                continue
            mark = EVIDENCE_MARKS.get(score.evidence or "", "")
            text = f"{fmt_value(score.record.get('value'), unit)} {score.points:.0f}{mark}"
            style = "bold red" if score.evidence == "significantly_worse" else ""
            cells.append(Text(text, style=style))
        table.add_row(*cells)
    out.print(table)
    out.print(
        Text(
            "each metric: value, points 0–100 (100 at target, 0 at critical); ▼ significantly "
            "worse than target, ▲ significantly better (95 % interval: Wilson for rates, t for "
            "means); ? below target without enough evidence; — dropped (no data, too small a "
            "sample, or no target/critical); weights renormalised over the rest",
            style="dim",
        )
    )
    _print_goals(result.goals)
    coaching = result.coaching()
    if not coaching:
        out.print("coaching list: no agent is significantly worse than target on any metric")
        return
    for lead, items in coaching.items():
        lines = Table(
            title=f"coaching list — {lead}", title_justify="left", show_edge=False, pad_edge=False
        )
        for name in (*result.by, "metric", "value", "target", "n", "95 % interval", "points"):
            lines.add_column(name)
        for group, score in items:
            unit = score.record.get("unit") or ""
            low, high = score.interval or (None, None)
            lines.add_row(
                *(_group(group.group[c]) for c in result.by),
                names.get(score.metric, score.metric),
                fmt_value(score.record.get("value"), unit),
                fmt_value(score.record.get("target"), unit),
                f"{score.record.get('n', 0):,}",
                f"{fmt_value(low, unit)} – {fmt_value(high, unit)}",
                f"{score.points:.0f}" if score.points is not None else "—",
            )
        out.print(lines)


def _print_goals(tracked: list[Any]) -> None:
    if not tracked:
        return
    table = Table(title="individual goals", title_justify="left", show_edge=False, pad_edge=False)
    for name in ("agent", "metric", "from → target", "due", "as of", "actual", "n", "plan",
                 "progress", "status", "days left"):  # fmt: skip
        table.add_column(name)
    for status in tracked:
        goal, unit = status.goal, status.unit
        style = {"behind": "yellow", "missed": "bold red", "met": "green", "on_track": "green"}
        table.add_row(
            goal.agent,
            goal.metric,
            f"{fmt_value(goal.from_value, unit)} → {fmt_value(goal.target, unit)}",
            str(goal.due),
            str(status.as_of),
            fmt_value(status.actual, unit),
            f"{status.n:,}",
            fmt_value(status.plan, unit),
            "—" if status.progress is None else f"{status.progress:.0f}%",
            Text(status.status.replace("_", " "), style=style.get(status.status, "")),
            str(max(status.days_left, 0)),
        )
    stdout().print(table)
