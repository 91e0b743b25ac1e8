"""The people sections of a report (issue 20): workforce for the operations manager,
coaching effect for the trainer and the team lead, the agent's own sessions in the agent
view. Records in (`tpmkit.workforce.model`, `tpmkit.coaching.model`), display cells out,
shared by the HTML partials (templates/people_*.html.j2) and the Markdown twin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tpmkit.coaching.model import CoachingResult
from tpmkit.render.coaching_table import (
    SESSION_COLUMNS,
    SUMMARY_COLUMNS,
    markdown_table,
    session_rows,
    summary_rows,
)
from tpmkit.render.files import markdown_cell
from tpmkit.render.values import fmt_value, group_label
from tpmkit.workforce.model import WorkforceView

BANDS = ("0-30", "31-90", "91-180", "181-365", ">365")
TREND_COLUMNS = ["Period", "Headcount", "Leavers", "Attrition (annualised)", "Early attrition"]
AGENT_SESSION_COLUMNS = ["session", "coached", "coach", "topic", "before", "after", "effect",
                         "95% interval", "verdict", "held at 8 weeks"]  # fmt: skip


@dataclass
class People:
    """What the people sections show (each None or empty when the view has none)."""

    workforce: WorkforceView | None = None
    coaching: CoachingResult | None = None
    agent: str | None = None  # the agent view's reader: only their sessions
    notes: list[str] = field(default_factory=list)  # why a section is missing


def _value(record: dict[str, Any] | None, unit: str) -> str:
    return "—" if record is None else fmt_value(record.get("value"), unit)


def leavers_text(attrition: dict[str, Any] | None, by_reason: dict[str, int]) -> str:
    """A period's leavers, transfers apart: `4 (3 voluntary, 1 transfer)`."""
    if attrition is None or attrition.get("n") is None:
        return "—"
    total = int(attrition["n"])
    if not total or not by_reason:
        return str(total)
    parts = ", ".join(f"{n} {reason}" for reason, n in sorted(by_reason.items()))
    return f"{total} ({parts})"


def workforce_context(view: WorkforceView | None) -> dict[str, Any] | None:
    """Display cells of the workforce section."""
    if view is None:
        return None
    trend = [
        {
            "Period": row["period"],
            "Headcount": _value(row.get("headcount"), "count"),
            "Leavers": leavers_text(row.get("attrition_rate"), row.get("leavers", {})),
            "Attrition (annualised)": _value(row.get("attrition_rate"), "percent"),
            "Early attrition": _value(row.get("early_attrition_rate"), "percent"),
        }
        for row in view.trend
    ]
    bands = [
        {
            "name": b["name"],
            "cells": [
                fmt_value(b["bands"][band]["value"], b["unit"]) if band in b["bands"] else "—"
                for band in BANDS
            ],
            "n": [int(b["bands"][band]["n"] or 0) if band in b["bands"] else 0 for band in BANDS],
        }
        for b in view.bands
    ]
    trend_legend = None
    if view.band_grain is not None:
        trend_legend = (
            f"By {view.grain}: attrition is reviewed {view.grain}ly, and over one "
            f"{view.band_grain} an annualised rate turns a single leaver into a three-digit "
            f"percentage. The last {view.grain} holds this report's {view.band_grain}; the "
            "roster's leave dates count up to its end."
        )
    return {
        "grain": view.grain,
        "period": view.period,
        "trend_legend": trend_legend,
        "trend_columns": TREND_COLUMNS,
        "trend": trend,
        "bands": BANDS,
        "left_before_title": LEFT_BEFORE,
        "band_rows": bands,
        "not_proficient": [
            {"agent": a.agent_id, "team": group_label(a.team), "hired": a.hired.isoformat()}
            for a in view.not_proficient
            if a.left is None
        ],
        # kpi-catalogue.md: censored, listed — a leaver is censored by leaving, apart
        "left_before": [
            {
                "agent": a.agent_id,
                "team": group_label(a.team),
                "hired": a.hired.isoformat(),
                "left": a.left.isoformat(),
            }
            for a in view.not_proficient
            if a.left is not None
        ],
    }


def coaching_context(result: CoachingResult | None, agent: str | None) -> dict[str, Any] | None:
    """Display cells of the coaching section (the agent's own sessions in the agent view)."""
    if result is None or not result.sessions:
        return None
    metrics = []
    for metric in result.metrics:
        unit = result.units.get(metric, "")
        sessions = [s for s in result.sessions if s.metric == metric]
        if agent is not None:
            sessions = [s for s in sessions if s.agent_id == agent]
            if not sessions:
                continue
        metrics.append(
            {
                "metric": metric,
                "coaches": summary_rows([c for c in result.coaches if c.metric == metric], unit),
                "topics": summary_rows([t for t in result.topics if t.metric == metric], unit),
                "sessions": session_rows(sessions, unit),
            }
        )
    if not metrics:
        return None
    return {
        "window": result.window,
        "metrics": metrics,
        "summary_columns": SUMMARY_COLUMNS,
        "session_columns": AGENT_SESSION_COLUMNS if agent else SESSION_COLUMNS,
        "agent": agent,
        "notes": result.notes,
    }


def people_context(people: People | None) -> dict[str, Any]:
    """The context the people partials read (`people_workforce`, `people_coaching`)."""
    if people is None:
        return {"people_workforce": None, "people_coaching": None}
    return {
        "people_workforce": workforce_context(people.workforce),
        "people_coaching": coaching_context(people.coaching, people.agent),
    }


LEFT_BEFORE = "Left before proficiency (censored by leaving, listed)"
# the agent view's legend (templates/people_sessions.html.j2 words it the same)
AGENT_METHOD = (
    "Effect = (after − before) − (uncoached agents of your team, after − before), {window} "
    "weeks each side of the session's week; improved or worsened only when the whole 95 % "
    "interval is on one side of zero."
)
METHOD = (
    "Effect = (after − before) − (uncoached agents of the team, after − before), "
    "{window} weeks each side of the session's week; improved or worsened only when the "
    "whole 95 % interval is on one side of zero. Per coach and topic the agents are the unit."
)


def to_markdown(people: People | None) -> list[str]:
    """The people sections as Markdown lines (empty when the view has none)."""
    context = people_context(people)
    out: list[str] = [""]
    work = context["people_workforce"]
    if work is not None:
        out += ["## Workforce", ""]
        out += [work["trend_legend"], ""] if work["trend_legend"] else []
        out += markdown_table(work["trend_columns"], work["trend"])
        if work["band_rows"]:
            out += ["", f"### Performance by tenure band (days) — {work['period']}", ""]
            columns = ["Metric", *work["bands"]]
            rows = [
                {"Metric": b["name"], **dict(zip(work["bands"], b["cells"], strict=True))}
                for b in work["band_rows"]
            ]
            out += markdown_table(columns, rows)
        if work["not_proficient"]:
            out += ["", "### Not yet proficient (censored, listed)", ""]
            out += markdown_table(
                ["agent", "team", "hired"],
                [{"agent": a["agent"], "team": a["team"], "hired": a["hired"]}
                 for a in work["not_proficient"]],
            )  # fmt: skip
        if work["left_before"]:
            out += ["", f"### {LEFT_BEFORE}", ""]
            out += markdown_table(["agent", "team", "hired", "left"], work["left_before"])
        out.append("")
    coach = context["people_coaching"]
    if coach is not None:
        title = "Your coaching sessions" if coach["agent"] else "Coaching effect"
        method = AGENT_METHOD if coach["agent"] else METHOD
        out += [f"## {title}", "", method.format(window=coach["window"])]
        for m in coach["metrics"]:
            if not coach["agent"]:
                out += ["", f"### {markdown_cell(m['metric'])} by coach", ""]
                out += markdown_table(coach["summary_columns"], m["coaches"])
                out += ["", f"### {markdown_cell(m['metric'])} by topic", ""]
                out += markdown_table(coach["summary_columns"], m["topics"])
            else:
                out += ["", f"### {markdown_cell(m['metric'])}", ""]
                out += markdown_table(coach["session_columns"], m["sessions"])
        out.append("")
    return out if len(out) > 1 else []
