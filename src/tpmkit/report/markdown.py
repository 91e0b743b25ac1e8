"""A report as Markdown: tables, text status labels, Unicode sparklines; the same context
and wording as the HTML document."""

from __future__ import annotations

from typing import Any

from tpmkit.render.files import markdown_cell
from tpmkit.render.statuses import (
    look,
    status_word,
)
from tpmkit.render.values import (
    group_label,
)
from tpmkit.report.document import (
    SCORECARD_LEGEND,
    STANDING_LEGEND,
    change_text,
    points_text,
    report_context,
    score_text,
    spread_text,
)
from tpmkit.report.model import Report
from tpmkit.report.people import to_markdown as people_markdown
from tpmkit.report.svg import sparkline


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


def _glance(report: Report, context: dict[str, Any]) -> list[str]:
    """The KPI tiles as a table: the whole operation's value, status, change and target."""
    fmt, gap, level = context["fmt"], context["gap"], context["level"]
    out = [
        f"## {report.period} at a glance",
        "",
        *(line for alert in context["source_alerts"] for line in (f"> **{alert}**", "")),
        context["counts_line"],
        "",
        context["tiles_legend"],
        "",
        *(line for cadence in context["cadence_lines"] for line in (cadence, "")),
        "| metric | value | status | change | target |",
        "|---|---:|---|---:|---:|",
    ]
    for card in context["tiles"]:
        record = card.record
        cells = [
            card.name + (f" ({card.period})" if card.period != report.period else ""),
            fmt(record["value"], card.unit),
            status_word(card.status),
            gap(card.change, card.unit),
            level(record.get("target"), record.get("target_upper"), card.unit),
        ]
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return [*out, ""]


def _breaches(report: Report, context: dict[str, Any]) -> list[str]:
    """Every breach where someone owns it: per metric, its groups by level, owner, action."""
    fmt = context["fmt"]
    out = ["## Breaches, where someone owns them", ""]
    if not context["breach_levels"]:
        return [*out, f"No metric is at warning or critical in {report.period}, at any level.", ""]
    out += [context["breaches_legend"], ""]
    for level, rows in context["breach_levels"]:
        out += [f"### {context['level_titles'][level]}", ""]
        for row in rows:
            owner = (row.owner or "—").replace("_", " ")
            out.append(f"**{markdown_cell(row.name)}** — owner {markdown_cell(owner)}")
            if row.action:
                out.append(f"action: {markdown_cell(row.action)}")
            if row.metric in context["drivers"]:
                why = context["drivers"][row.metric]
                out.append(f"why: {markdown_cell(why)} (vs previous period)")
            out.append("")
            for place, record in row.entries:
                n = f", n {record['n']:,}" if record.get("n") is not None else ""
                line = (
                    f"- {status_word(record['status']).upper()} {place.tagged_for(row.metric)} "
                    f"{fmt(record['value'], row.unit)} {context['passed'](record)}{n}"
                )
                out.append(markdown_cell(line))
            out.append("")
    return out


def _moved(report: Report, context: dict[str, Any]) -> list[str]:
    """Why each breached metric moved (see `document._moved`)."""
    if not context["moved"]:
        return []
    fmt, gap = context["fmt"], context["gap"]
    out = [
        "## What moved",
        "",
        context["moved_legend"],
        "",
        "| metric | before → after | change | by | mostly | largest segments |",
        "|---|---:|---:|---|---|---|",
    ]
    for m in context["moved"]:
        cells = [
            m["name"],
            f"{fmt(m['before'], m['unit'])} → {fmt(m['after'], m['unit'])}",
            gap(m["change"], m["unit"]),
            m["by"],
            m["mostly"],
            "; ".join(m["segments"]),
        ]
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return [*out, ""]


def _grid(report: Report, context: dict[str, Any]) -> list[str]:
    """Every metric × every group (the operation, each level's groups shown once)."""
    fmt = context["fmt"]
    columns = context["grid_columns"]
    if len(columns) < 2:
        return []
    out = [
        f"## Every metric, every group — {report.period}",
        "",
        context["grid_legend"],
        "",
        "| metric | " + " | ".join(markdown_cell(p.tagged) for p in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for card in report.cards:
        cells = [card.name]
        for place in columns:
            r = place.record(card.metric)
            cells.append(f"{fmt(r['value'], card.unit)} {look(r['status']).icon}" if r else "—")
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return [*out, ""]


def _agents(report: Report, context: dict[str, Any]) -> list[str]:
    """Each agent × each metric judged for agents, by team."""
    fmt = context["fmt"]
    rows, metrics = context["agent_rows"], context["agent_metrics"]
    if not rows:
        return []
    out = [
        f"## Agents — {report.period}",
        "",
        context["agents_legend"],
        "",
        "| team | agent | " + " | ".join(markdown_cell(c.name) for c in metrics) + " |",
        "|---|---|" + "---:|" * len(metrics),
    ]
    for place in rows:
        cells = [group_label(place.team), place.name]
        for card in metrics:
            r = place.records.get(card.metric)
            cells.append(f"{fmt(r['value'], card.unit)} {look(r['status']).icon}" if r else "—")
        out.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return [*out, ""]


def _early(report: Report, context: dict[str, Any]) -> list[str]:
    """Series trending towards a worse status."""
    fmt, gap = context["fmt"], context["gap"]
    out: list[str] = []
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
    return out


def _metrics(report: Report, context: dict[str, Any]) -> list[str]:
    """Every metric's card as a table row, with a sparkline."""
    fmt, gap, level = context["fmt"], context["gap"], context["level"]
    out: list[str] = []
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
    notes = _chart_notes(report)
    if notes:  # what the HTML charts carry as markers, as a list under the table
        out += ["Notes on these periods (annotations):", ""]
        out += [f"- {markdown_cell(line)}" for line in notes]
        out.append("")
    return out


def _chart_notes(report: Report) -> list[str]:
    """`System response time (p95) 2026-W41: CRM slowdown (excluded)` for every annotation
    on a period each card's series shows — the markers of the HTML charts."""
    from tpmkit.render.notes import chart_notes

    ev = report.evaluation
    if ev is None:
        return []
    lines = []
    for card in report.cards:
        shown = {p.period for p in card.series}
        for period, text in chart_notes(ev.records, ev.annotations, ev.by, card.metric):
            if period in shown:
                lines.append(f"{card.name} {period}: {text}")
    return lines


def _groups(report: Report, context: dict[str, Any]) -> list[str]:
    """Tables by a grouping that is not a level (evaluator …)."""
    fmt, gap = context["fmt"], context["gap"]
    out: list[str] = []
    for table in context["other_tables"]:  # the agent view: its standing
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
    return out


def _scorecard(report: Report, context: dict[str, Any]) -> list[str]:
    """The agent scorecard, the unscored agents and the coaching list."""
    fmt = context["fmt"]
    out: list[str] = []
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
    return out


def _goals(report: Report, context: dict[str, Any]) -> list[str]:
    """Individual goals."""
    fmt = context["fmt"]
    out: list[str] = []
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
    return out


def _quality(report: Report, context: dict[str, Any]) -> list[str]:
    """Data-quality notes."""
    out: list[str] = []
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
    return out


def to_markdown(report: Report) -> str:
    """The report as Markdown, in the HTML document's order."""
    context = report_context(report)
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
    ]
    out += _glance(report, context) + _breaches(report, context) + _grid(report, context)
    detail = {
        "early": _early,
        "moved": _moved,
        "metrics": _metrics,
        "standing": lambda r, c: _standing_markdown(r, c["fmt"], c["level"]),
        "groups": _groups,
        "agents": _agents,
        "scorecard": _scorecard,
        "goals": _goals,
        "quality": _quality,
    }
    for section in context["detail_order"]:
        out += detail[section](report, context)
    out += people_markdown(report.people)
    return "\n".join(out) + "\n"
