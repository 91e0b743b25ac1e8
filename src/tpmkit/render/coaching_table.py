"""How `tpmkit coaching` reads: per coach and per topic the mean effect with its interval
and verdict (agents as the unit), then every session; the same as Markdown; JSON carries
every part at full precision. Also the row builders the report sections share."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.text import Text

from tpmkit.coaching.model import INSUFFICIENT, CoachingResult, Estimate, SessionEffect, Summary
from tpmkit.render.files import markdown_cell
from tpmkit.render.fit import fit, row_table, show
from tpmkit.render.terminal import stdout
from tpmkit.render.values import fmt_gap, fmt_value, group_label

VERDICT_WORDS = {
    "improved": "improved",
    "worsened": "worsened",
    "no_effect": "no clear effect",
    "insufficient_sample": "not judged",
}
SUMMARY_COLUMNS = [
    "name",
    "sessions",
    "agents",
    "effect",
    "95% interval",
    "verdict",
    "held at 8 weeks",
]
SESSION_COLUMNS = [
    "session", "agent", "coached", "coach", "topic", "before", "after", "comparison", "effect",
    "95% interval", "verdict", "held at 8 weeks",
]  # fmt: skip
# least valuable first: what leaves a narrow terminal
DROP = ("topic", "comparison", "coach", "coached", "before", "after", "95% interval")


def interval(estimate: Estimate | None, unit: str) -> str:
    """`low … high` in the metric's unit (— when not estimable)."""
    if estimate is None or estimate.low is None or estimate.high is None:
        return "—"
    return f"{fmt_gap(estimate.low, unit)} … {fmt_gap(estimate.high, unit)}"


def verdict(estimate: Estimate | None, why: str | None = None) -> str:
    """The verdict in words; a non-verdict is its reason (`no interval: 1 agent (needs
    2)`, `unknown agent A099 …`), never a bare dash."""
    if estimate is None:
        return why or "—"
    if estimate.verdict == INSUFFICIENT and estimate.reason:
        return estimate.reason
    return VERDICT_WORDS.get(estimate.verdict, estimate.verdict)


def held(estimate: Estimate | None, unit: str, why: str | None = None) -> str:
    """The held effect and its verdict, or why there is none."""
    if estimate is None or estimate.effect is None:
        return verdict(estimate, why)
    return f"{fmt_gap(estimate.effect, unit)} ({verdict(estimate)})"


def summary_rows(summaries: list[Summary], unit: str) -> list[dict[str, str]]:
    """Display cells of coach or topic summaries."""
    return [
        {
            "name": group_label(s.name),
            "sessions": str(s.sessions),
            "agents": str(s.agents),
            "effect": fmt_gap(s.estimate.effect, unit),
            "95% interval": interval(s.estimate, unit),
            "verdict": verdict(s.estimate),
            "held at 8 weeks": held(s.held, unit, s.held_reason),
        }
        for s in summaries
    ]


def session_rows(sessions: list[SessionEffect], unit: str) -> list[dict[str, str]]:
    """Display cells of sessions (the comparison's change shown as its own column)."""
    rows = []
    for s in sessions:
        change = None
        if s.comparison_after.value is not None and s.comparison_before.value is not None:
            change = s.comparison_after.value - s.comparison_before.value
        rows.append(
            {
                "session": s.session_id,
                "agent": s.agent_id,
                "coached": s.coached_at.date().isoformat(),
                "coach": group_label(s.coach),
                "topic": group_label(s.topic),
                "before": fmt_value(s.before.value, unit),
                "after": fmt_value(s.after.value, unit),
                "comparison": f"{fmt_gap(change, unit)} ({s.comparison})",
                "effect": fmt_gap(s.estimate.effect, unit),
                "95% interval": interval(s.estimate, unit),
                "verdict": verdict(s.estimate),
                "held at 8 weeks": held(s.held, unit, s.held_reason),
            }
        )
    return rows


def _title(result: CoachingResult, metric: str) -> str:
    return (
        f"{metric}: effect = (after − before) − (uncoached after − before), "
        f"{result.window} weeks each side"
    )


def print_coaching(result: CoachingResult, wide: bool = False) -> None:
    """Per metric: the coaches, the topics and every session."""
    console = stdout()
    if not result.sessions:
        console.print("no coaching session to analyse")
    for metric in result.metrics:
        unit = result.units.get(metric, "")
        console.print(Text(_title(result, metric), style="bold"), soft_wrap=False)
        for label, summaries in (("by coach", result.coaches), ("by topic", result.topics)):
            mine = [s for s in summaries if s.metric == metric]
            build: Callable[[list[str]], Any] = row_table(
                label,
                summary_rows(mine, unit),
                wrapping=("name", "verdict"),
                right=("effect",),
            )
            show(console, *fit(build, SUMMARY_COLUMNS, ("held at 8 weeks",), console, wide), wide)
            console.print()
        sessions = [s for s in result.sessions if s.metric == metric]
        build = row_table(
            "sessions",
            session_rows(sessions, unit),
            wrapping=("topic", "verdict"),
            right=("effect",),
        )
        show(console, *fit(build, SESSION_COLUMNS, DROP, console, wide), wide)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


def markdown_table(columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    """Lines of a Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(markdown_cell(r[c]) for c in columns) + " |" for r in rows]
    return lines


def to_markdown(result: CoachingResult) -> str:
    """The analysis as Markdown: per metric the coaches, the topics and the sessions."""
    lines = ["# Coaching effect"]
    for metric in result.metrics:
        unit = result.units.get(metric, "")
        lines += ["", f"## {markdown_cell(_title(result, metric))}"]
        for label, summaries in (("By coach", result.coaches), ("By topic", result.topics)):
            mine = [s for s in summaries if s.metric == metric]
            lines += [
                "",
                f"### {label}",
                "",
                *markdown_table(SUMMARY_COLUMNS, summary_rows(mine, unit)),
            ]
        sessions = [s for s in result.sessions if s.metric == metric]
        lines += [
            "",
            "### Sessions",
            "",
            *markdown_table(SESSION_COLUMNS, session_rows(sessions, unit)),
        ]
    lines += [f"\n> note: {markdown_cell(n)}" for n in result.notes]
    return "\n".join(lines) + "\n"


def to_json(result: CoachingResult) -> str:
    """Every session's four parts, effect, interval and verdict, and the summaries."""
    return json.dumps(result.to_dict(), indent=2, default=str) + "\n"
