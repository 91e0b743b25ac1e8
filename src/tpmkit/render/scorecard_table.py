"""Scorecards in the terminal: `tpmkit scorecard` (groups lowest first, individual goals,
and the coaching list per team lead)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from tpmkit.render.fit import fit, row_table, show
from tpmkit.render.statuses import EVIDENCE_MARKS, GOAL_STYLES
from tpmkit.render.terminal import group_cell, stdout
from tpmkit.render.values import fmt_value

# left out first when narrow: the context columns (site, vendor…), the change, then the
# metric columns from the last; rank, the grouping and the score always stay
GOAL_DROP = ("as of", "days left", "plan", "n", "from → target", "due", "progress")
COACHING_DROP = ("points", "n", "95 % interval", "target")


def print_scorecard(result: Any, names: dict[str, str], wide: bool = False) -> None:
    """Groups lowest first: score, rank, change, each metric's value and points, then the
    coaching list per team lead; columns that do not fit are left out and named (all of
    them shown with `wide`)."""
    out = stdout()
    if not result.groups:
        out.print("no group to score in " + result.period)
        return
    metrics = [m.metric for m in result.groups[0].metrics]
    context = [c for c in result.groups[0].context if c != "team_lead"]
    rows = []
    for group in result.scored:  # the unscored are listed apart, with the reason
        row: dict[str, str | Text] = {
            "rank": str(group.rank or "—"),
            **{c: group_cell(group.group[c]) for c in result.by},
            **{c: group_cell(group.context[c]) for c in context},
            "score": f"{group.score:.0f}" + (" small sample" if group.small_sample else ""),
            "Δ": "—" if group.change is None else f"{group.change:+.0f}",
        }
        for score in group.metrics:
            unit = score.record.get("unit") or ""
            if score.points is None:
                row[score.metric] = Text("—", style="dim")
                continue
            mark = "†" if score.small_sample else EVIDENCE_MARKS.get(score.evidence or "", "")
            text = f"{fmt_value(score.record.get('value'), unit)} {score.points:.0f}{mark}"
            style = "bold red" if score.evidence == "significantly_worse" else ""
            row[score.metric] = Text(text, style=style)
        rows.append(row)
    columns = ["rank", *result.by, *context, "score", "Δ", *metrics]

    def build(shown: list[str]) -> Table:
        table = Table(
            title=f"{result.role} scorecard — {result.period}, lowest first",
            title_justify="left",
            show_edge=False,
            pad_edge=False,
        )
        for name in shown:
            wraps = name in result.by or name in context
            table.add_column(
                name,
                justify="left" if wraps else "right",
                no_wrap=not wraps,
                overflow="fold",
            )
        for row in rows:
            table.add_row(*(row[c] for c in shown))
        return table

    drop = [*context, "Δ", *reversed(metrics)]
    show(out, *fit(build, columns, drop, out, wide), wide)
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
    _print_goals(result.goals, wide)
    coaching = result.coaching()
    if not coaching:
        out.print("coaching list: no agent is significantly worse than target on any metric")
        return
    for lead, items in coaching.items():
        lines = []
        for group, score in items:
            unit = score.record.get("unit") or ""
            low, high = score.interval or (None, None)
            lines.append(
                {
                    **{c: group_cell(group.group[c]) for c in result.by},
                    "metric": names.get(score.metric, score.metric),
                    "value": fmt_value(score.record.get("value"), unit),
                    "target": fmt_value(score.record.get("target"), unit),
                    "n": f"{score.record.get('n', 0):,}",
                    "95 % interval": f"{fmt_value(low, unit)} – {fmt_value(high, unit)}",
                    "points": f"{score.points:.0f}" if score.points is not None else "—",
                }
            )
        names_shown = [*result.by, "metric", "value", "target", "n", "95 % interval", "points"]
        title = f"coaching list — {lead}"
        wrapping = {*result.by, "metric", "95 % interval"}
        show(
            out,
            *fit(
                row_table(title, lines, wrapping, pad_edge=False),
                names_shown,
                COACHING_DROP,
                out,
                wide,
            ),
            wide,
        )


def _print_goals(tracked: list[Any], wide: bool) -> None:
    if not tracked:
        return
    rows = []
    for status in tracked:
        goal, unit = status.goal, status.unit
        rows.append(
            {
                "agent": goal.agent,
                "metric": goal.metric,
                "from → target": f"{fmt_value(goal.from_value, unit)} → "
                f"{fmt_value(goal.target, unit)}",
                "due": str(goal.due),
                "as of": str(status.as_of),
                "actual": fmt_value(status.actual, unit),
                "n": f"{status.n:,}",
                "plan": fmt_value(status.plan, unit),
                "progress": "—" if status.progress is None else f"{status.progress:.0f}%",
                "status": Text(
                    status.status.replace("_", " "), style=GOAL_STYLES.get(status.status, "")
                ),
                "days left": str(max(status.days_left, 0)),
            }
        )
    columns = ["agent", "metric", "from → target", "due", "as of", "actual", "n", "plan",
               "progress", "status", "days left"]  # fmt: skip
    out = stdout()
    build = row_table("individual goals", rows, {"agent", "metric", "status"}, pad_edge=False)
    show(out, *fit(build, columns, GOAL_DROP, out, wide), wide)
