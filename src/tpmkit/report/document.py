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
from tpmkit.report.svg import chart, sparkline
from tpmkit.vocabulary import Grain


def grain_word(grain: str) -> str:
    """The grain before the period in a title (`week 2026-W13`); none for `all`."""
    return "" if grain == Grain.ALL else grain


def threshold(card: Card) -> str:
    """The level a breaching card's value is past, e.g. `above critical 420s`."""
    return threshold_passed(card.record) or "—"


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
        "scorecard_rows": report.scorecard.groups[:10] if report.scorecard else [],
        "scorecard_metrics": (
            [m.metric for m in report.scorecard.groups[0].metrics]
            if report.scorecard and report.scorecard.groups
            else []
        ),
        "marks": EVIDENCE_MARKS,
        "quality": report.quality(),
        "looks": LOOKS,
        "status_css": {"variables": css_variables(), "badges": css_badges()},
        "fmt": lambda v, unit: fmt_value(v, unit, currency),
        "gap": lambda v, unit: fmt_gap(v, unit, currency),
        "level": lambda low, high, unit: fmt_level(low, high, unit, currency),
        "threshold": threshold,
        "group_label": group_label,
        "last": max((len(c.series) for c in report.cards), default=0),
    }


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
    if context["group_breaches"]:
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
    for table in report.tables:
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
        out += [
            f"## Agent scorecard — {card.period}, lowest {len(context['scorecard_rows'])}",
            "",
            "| rank | agent | team | score | change | " + " | ".join(metrics) + " |",
            "|---:|---|---|---:|---:|" + "---:|" * len(metrics),
        ]
        for g in context["scorecard_rows"]:
            cells = [
                str(g.rank or "—"),
                ", ".join(str(v) for v in g.group.values()),
                str(g.context.get("team") or "—"),
                "—" if g.score is None else f"{g.score:.0f}",
                "—" if g.change is None else f"{g.change:+.0f}",
                *(
                    "—" if m.points is None else f"{m.points:.0f}{marks.get(m.evidence or '', '')}"
                    for m in g.metrics
                ),
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
    quality = context["quality"]
    out += [f"- {markdown_cell(q)}" for q in quality] or [
        "Every metric had enough data; no row was left out."
    ]
    return "\n".join(out) + "\n"
