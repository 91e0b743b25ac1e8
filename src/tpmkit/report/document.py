"""A report as one self-contained HTML file (jinja2, autoescaped, inline CSS and SVG, no
network) or as Markdown (tables, text status labels, Unicode sparklines)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from tpmkit import __version__
from tpmkit.render.files import markdown_cell
from tpmkit.render.statuses import (
    EVIDENCE_MARKS,
    LOOKS,
    css_badges,
    css_variables,
    look,
    status_word,
)
from tpmkit.render.values import (
    fmt_gap,
    fmt_level,
    fmt_value,
    group_label,
    threshold_passed,
)
from tpmkit.report.build import Card, Report
from tpmkit.report.personal import Standing
from tpmkit.report.svg import chart, sparkline
from tpmkit.vocabulary import Grain

SCORECARD_SHOWN = 10  # scored agents in the report's "lowest N" (the unscored are all listed)
SMALL_SAMPLE_MARK = "†"  # a metric's points rest on fewer rows than its min_sample


def score_text(group: Any) -> str:
    """A scorecard group's score, flagged when it rests on a small sample: `38 small sample`."""
    if group.score is None:
        return "—"
    return f"{group.score:.0f}" + (" small sample" if group.small_sample else "")


def change_text(group: Any) -> str:
    """A score's change against the previous period, `+3`; `+0` rather than `-0`."""
    return "—" if group.change is None else f"{round(group.change):+d}"


def points_text(metric: Any, marks: dict[str, str]) -> str:
    """A metric's points with its mark: † small sample, else the evidence (▼ ▲ ?)."""
    if metric.points is None:
        return "—"
    mark = SMALL_SAMPLE_MARK if metric.small_sample else marks.get(metric.evidence or "", "")
    return f"{metric.points:.0f}{mark}"


def grain_word(grain: str) -> str:
    """The grain before the period in a title (`week 2026-W13`); none for `all`."""
    return "" if grain == Grain.ALL else grain


def threshold(card: Card) -> str:
    """The level a breaching card's value is past, e.g. `above critical 420s`."""
    return threshold_passed(card.record) or "—"


SCORECARD_LEGEND = (
    "Scored agents, lowest score first (ties by id). Points 0–100 per metric (100 at target, "
    "0 at critical), weighted; ▼ significantly worse than target (the whole 95 % interval), "
    "? below target without enough evidence, † fewer rows than the metric's min_sample "
    '(scored, never judged worse; the score says "small sample"); — dropped (no data, or no '
    "target and critical level). Agents scored on under half of the weight are listed apart "
    "with the reason."
)


def _context(report: Report) -> dict[str, Any]:
    day = "%Y-%m-%d"
    if report.period_start and report.period_end:
        last_day = report.period_end - timedelta(microseconds=1)
        period_range = f"{report.period_start:{day}} – {last_day:{day}}"
    else:
        period_range = report.period
    data_range = (  # period ends are exclusive: the last day is the one before
        f"{report.data_from:{day}} – {report.data_to - timedelta(microseconds=1):{day}}"
        if report.data_from and report.data_to
        else "—"
    )
    currency = report.currency
    return {
        "report": report,
        "version": __version__,
        "role_title": (report.role or "").replace("_", " "),
        "grain_word": grain_word(report.grain),
        "period_range": period_range,
        "data_range": data_range,
        "rows_read": ", ".join(f"{d.name} {d.rows_read:,}" for d in report.datasets) or "—",
        "rows_quarantined": sum(d.quarantined for d in report.datasets),
        "breaches": report.breaches(),
        "early": report.early_warnings(),
        "group_breaches": report.group_breaches(),
        "side": report.side_by_side() if report.role in ("operations_manager", "director") else [],
        "scorecard_rows": report.scorecard.scored[:SCORECARD_SHOWN] if report.scorecard else [],
        "unscored": report.scorecard.unscored if report.scorecard else [],
        "scorecard_legend": SCORECARD_LEGEND,
        "score_text": score_text,
        "points_text": points_text,
        "change_text": change_text,
        "scorecard_metrics": (
            [m.metric for m in report.scorecard.groups[0].metrics]
            if report.scorecard and report.scorecard.groups
            else []
        ),
        "marks": EVIDENCE_MARKS,
        "quality": report.quality(),
        "samples": report.sample_counts(),
        "sample_summary": report.sample_summary(),
        "looks": LOOKS,
        "status_css": {"variables": css_variables(), "badges": css_badges()},
        "fmt": lambda v, unit: fmt_value(v, unit, currency),
        "gap": lambda v, unit: fmt_gap(v, unit, currency),
        "level": lambda low, high, unit: fmt_level(low, high, unit, currency),
        "threshold": threshold,
        "group_label": group_label,
        "spread": lambda standing: spread_text(standing, lambda v, u: fmt_value(v, u, currency)),
        "standing_legend": STANDING_LEGEND.format(period=report.period),
        "last": max((len(c.series) for c in report.cards), default=0),
    }


STANDING_LEGEND = (
    "Your value in {period} against the target and your team's agents: their median and "
    "their spread (lowest · first quartile · median · third quartile · highest), "
    "no names. Agents counts the team's agents with a value, you included."
)


def spread_text(standing: Standing, fmt: Any) -> str:
    """A team's distribution of agent values: `305s · 329s · 351s · 367s · 401s`."""
    if standing.spread is None:
        return "—"
    return " · ".join(fmt(v, standing.unit) for v in standing.spread)


def _standing_markdown(report: Report, fmt: Any, level: Any) -> list[str]:
    """The agent view's "Your standing" table and the actions addressed to the agent."""
    if not report.standing:
        return []
    teams = sorted({group_label(s.team) for s in report.standing})
    out = [
        f"## Your standing — agent {markdown_cell(str(report.agent))}, "
        f"team {markdown_cell(', '.join(teams))}",
        "",
        STANDING_LEGEND.format(period=report.period),
        "",
        "| metric | you | n | status | target | team median | team spread | agents |",
        "|---|---:|---:|---|---:|---:|---|---:|",
    ]
    for s in report.standing:
        record = s.record
        cells = [
            s.name,
            fmt(record["value"], s.unit),
            f"{record['n'] or 0:,}",
            status_word(record["status"]),
            level(record.get("target"), record.get("target_upper"), s.unit),
            fmt(s.median, s.unit),
            spread_text(s, fmt),
            str(s.agents),
        ]
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    out.append("")
    actions = [s for s in report.standing if s.action]
    if actions:
        out += ["### What happens next", ""]
        out += [f"- {markdown_cell(s.name)}: {markdown_cell(s.action or '')}" for s in actions]
        out.append("")
    return out


def to_html(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = _context(report)
    context["charts"] = {
        card.metric: chart(card, f"chart-{i}", report.currency)
        for i, card in enumerate(report.cards)
    }
    return env.get_template("report.html.j2").render(**context)


def to_markdown(report: Report) -> str:
    context = _context(report)
    fmt, gap, level = context["fmt"], context["gap"], context["level"]
    title = f"# {markdown_cell(report.project)} — {context['grain_word']} {report.period}"
    title = title.replace("  ", " ")
    if report.role:
        title += f" · {context['role_title']} view"
    if report.cadence:
        title += f" · {report.cadence} review"
    out = [
        title,
        "",
        f"Period {context['period_range']} · generated "
        f"{report.generated_at.strftime('%Y-%m-%d %H:%M %Z')} · data {context['data_range']}"
        f" · rows read: {context['rows_read']} · rows quarantined: {context['rows_quarantined']}",
        "",
        "## Status overview",
        "",
        ", ".join(f"{n} {look(s).word.lower()}" for s, n in report.counts().items()),
        "",
    ]
    if context["group_breaches"] and not report.standing:  # the agent view has no such tables
        counts = "; ".join(
            f"by {label}: " + ", ".join(f"{n} {look(s).word.lower()}" for s, n in found.items())
            for label, found in context["group_breaches"]
        )
        out += [
            f"Groups breaching a metric in the tables below — {counts}.",
            "",
        ]
    if context["breaches"]:
        out += [
            "| status | metric | value | threshold passed | owner | action |",
            "|---|---|---:|---|---|---|",
        ]
        for card in context["breaches"]:
            cells = [
                look(card.status).word.upper(),
                card.name,
                fmt(card.record["value"], card.unit),
                threshold(card),
                card.owner or "—",
                card.action or "—",
            ]
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    if context["early"]:
        out += [
            "## Early warnings",
            "",
            "| metric | group | value | now | projected | by | trend per period |",
            "|---|---|---:|---|---|---|---:|",
        ]
        for name, group, record in context["early"]:
            unit = record.get("unit") or ""
            cells = [
                name,
                group,
                fmt(record["value"], unit),
                status_word(record["status"]),
                status_word(record["projected_status"]),
                record["projected_breach_period"],
                gap(record.get("slope"), unit),
            ]
            out.append("| " + " | ".join(markdown_cell(str(c)) for c in cells) + " |")
        out.append("")
    out += [
        "## Metrics",
        "",
        f"| metric | value | n | status | target | gap | change | trend | last {context['last']} |",
        "|---|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for card in report.cards:
        record = card.record
        cells = [
            card.name + (f" ({card.period})" if card.period != report.period else ""),
            fmt(record["value"], card.unit),
            f"{record.get('n') or 0:,}",
            status_word(card.status),
            level(record.get("target"), record.get("target_upper"), card.unit),
            gap(record.get("gap_to_target"), card.unit),
            gap(card.change, card.unit),
            record.get("trend") or "—",
            sparkline([p.value for p in card.series]) or "—",
        ]
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    out.append("")
    out += _standing_markdown(report, fmt, level)
    for table in [] if report.standing else report.tables:  # the agent view: its standing
        header = [*table.columns, "value", "n", "status", "gap"]
        if len(table.columns) > 1:
            header.append(f"{table.columns[0]} value")
        out += [
            f"### {table.name} by {' > '.join(table.columns)}",
            "",
            "| " + " | ".join(header) + " |",
            "|"
            + "---|" * len(table.columns)
            + "---:|---:|---|---:|"
            + ("---:|" if len(table.columns) > 1 else ""),
        ]
        for row in table.rows:
            cells = [group_label(row.group[c]) for c in table.columns]
            cells += [
                fmt(row.record["value"], table.unit),
                f"{row.record['n']:,}",
                status_word(row.record["status"]),
                gap(row.record.get("gap_to_target"), table.unit),
            ]
            if len(table.columns) > 1:
                cells.append(fmt(row.context, table.unit))
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    for column, groups, rows in context["side"]:
        out += [
            f"## By {column}, side by side",
            "",
            "| metric | " + " | ".join(markdown_cell(str(g)) for g in groups) + " |",
            "|---|" + "---:|" * len(groups),
        ]
        for name, records in rows:
            cells = [name]
            for g in groups:
                r = records.get(g)
                if not r:
                    cells.append("—")
                    continue
                cells.append(f"{fmt(r['value'], r.get('unit') or '')} {status_word(r['status'])}")
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    if report.scorecard and report.scorecard.groups:
        card = report.scorecard
        metrics = [m.metric for m in card.groups[0].metrics]
        marks = context["marks"]
        shown = context["scorecard_rows"]
        heading = f"Agent scorecard — {card.period}, lowest {len(shown)}"
        heading += f" of {len(card.scored)} scored"
        if report.agent:  # the agent's own, the others filtered out: no "lowest 1 of 1"
            heading = f"Your scorecard — {card.period}"
        out += [
            f"## {heading}",
            "",
            SCORECARD_LEGEND,
            "",
        ]
        if shown:
            out += [
                "| rank | agent | team | score | change | " + " | ".join(metrics) + " |",
                "|---:|---|---|---:|---:|" + "---:|" * len(metrics),
            ]
        else:
            out.append("No agent could be scored.")
        for g in shown:
            cells = [
                str(g.rank or "—"),
                ", ".join(str(v) for v in g.group.values()),
                str(g.context.get("team") or "—"),
                score_text(g),
                change_text(g),
                *(points_text(m, marks) for m in g.metrics),
            ]
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        if context["unscored"]:
            out += [
                "",
                f"### Not scored ({len(context['unscored'])})",
                "",
                "| agent | team | reason |",
                "|---|---|---|",
            ]
            for g in context["unscored"]:
                cells = [
                    ", ".join(str(v) for v in g.group.values()),
                    str(g.context.get("team") or "—"),
                    g.reason or "—",
                ]
                out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out += ["", "### Coaching list", ""]
        coaching = card.coaching()
        if not coaching:
            out.append("No agent is significantly worse than target on any scorecard metric.")
        else:
            out += [
                "| team lead | agent | metric | value | target | n | 95 % interval |",
                "|---|---|---|---:|---:|---:|---|",
            ]
            for lead, items in coaching.items():
                for g, m in items:
                    unit = m.record.get("unit") or ""
                    low, high = m.interval or (None, None)
                    cells = [
                        lead,
                        ", ".join(str(v) for v in g.group.values()),
                        m.metric,
                        fmt(m.record.get("value"), unit),
                        fmt(m.record.get("target"), unit),
                        str(m.record.get("n")),
                        f"{fmt(low, unit)} – {fmt(high, unit)}",
                    ]
                    out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    if report.goals:
        out += [
            "## Individual goals",
            "",
            "| agent | metric | from → target | due | actual | plan | progress | status "
            "| days left |",
            "|---|---|---|---|---:|---:|---:|---|---:|",
        ]
        for st in report.goals:
            cells = [
                st.goal.agent,
                st.goal.metric,
                f"{fmt(st.goal.from_value, st.unit)} → {fmt(st.goal.target, st.unit)}",
                str(st.goal.due),
                fmt(st.actual, st.unit),
                fmt(st.plan, st.unit),
                "—" if st.progress is None else f"{st.progress:.0f}%",
                st.status.replace("_", " "),
                str(max(st.days_left, 0)),
            ]
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    out += ["## Data quality", ""]
    quality, summary = context["quality"], context["sample_summary"]
    if summary:
        out += [line for text in summary for line in (markdown_cell(text), "")]
    if context["samples"]:
        out += [
            "| metric | by | groups | small sample | no data |",
            "|---|---|---:|---:|---:|",
        ]
        for count in context["samples"]:
            cells = [count.metric, count.grouping, f"{count.groups:,}", f"{count.small:,}"]
            cells.append(f"{count.no_data:,}")
            out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
        out.append("")
    out += [f"- {markdown_cell(q)}" for q in quality]
    if not quality and not summary:
        out.append("Every metric had enough data; no row was left out.")
    return "\n".join(out) + "\n"
