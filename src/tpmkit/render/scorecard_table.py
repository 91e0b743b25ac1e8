"""Scorecards in the terminal: `tpmkit scorecard` (groups lowest first, individual goals,
and the coaching list per team lead)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from tpmkit.render.statuses import EVIDENCE_MARKS, GOAL_STYLES
from tpmkit.render.terminal import group_cell, stdout
from tpmkit.render.values import fmt_value


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
    for group in result.scored:  # the unscored are listed apart, with the reason
        cells: list[str | Text] = [
            str(group.rank or "—"),
            *(group_cell(group.group[c]) for c in result.by),
            *(group_cell(group.context[c]) for c in context if c != "team_lead"),
            f"{group.score:.0f}" + (" small sample" if group.small_sample else ""),
            "—" if group.change is None else f"{group.change:+.0f}",
        ]
        for score in group.metrics:
            unit = score.record.get("unit") or ""
            if score.points is None:
                cells.append(Text("—", style="dim"))
                continue
            mark = "†" if score.small_sample else EVIDENCE_MARKS.get(score.evidence or "", "")
            text = f"{fmt_value(score.record.get('value'), unit)} {score.points:.0f}{mark}"
            style = "bold red" if score.evidence == "significantly_worse" else ""
            cells.append(Text(text, style=style))
        table.add_row(*cells)
    out.print(table)
    for group in result.unscored:
        who = ", ".join(str(v) for v in group.group.values())
        out.print(Text(f"not scored: {who} — {group.reason}", style="dim"))
    out.print(
        Text(
            "each metric: value, points 0–100 (100 at target, 0 at critical); ▼ significantly "
            "worse than target, ▲ significantly better (95 % interval: Wilson for rates, t for "
            "means); ? below target without enough evidence; † fewer rows than min_sample (small "
            "sample: scored and ranked, never judged worse); — dropped (no data, or no "
            "target/critical); weights renormalised over the rest",
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
                *(group_cell(group.group[c]) for c in result.by),
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
            Text(status.status.replace("_", " "), style=GOAL_STYLES.get(status.status, "")),
            str(max(status.days_left, 0)),
        )
    stdout().print(table)
