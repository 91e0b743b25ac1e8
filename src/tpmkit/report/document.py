"""A report as one self-contained HTML file (jinja2, autoescaped, inline CSS and SVG, no
network), and the context and wording that its Markdown twin (`markdown.py`) shares."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from tpmkit import __version__
from tpmkit.render.statuses import (
    EVIDENCE_MARKS,
    LOOKS,
    css_badges,
    css_variables,
)
from tpmkit.render.values import (
    fmt_gap,
    fmt_level,
    fmt_value,
    group_label,
    threshold_passed,
)
from tpmkit.report import places
from tpmkit.report.model import AGENT_VIEWS, Card, Report
from tpmkit.report.people import people_context
from tpmkit.report.personal import Standing
from tpmkit.report.svg import chart
from tpmkit.vocabulary import Grain, Level, level_of

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


SCORECARD_LEGEND = (
    "Scored agents, lowest score first (ties by id). Points 0–100 per metric (100 at target, "
    "0 at critical), weighted; ▼ significantly worse than target (the whole 95 % interval), "
    "? below target without enough evidence, † fewer rows than the metric's min_sample "
    '(scored, never judged worse; the score says "small sample"); — dropped (no data, or no '
    "target and critical level). Agents scored on under half of the weight are listed apart "
    "with the reason."
)


LEVEL_TITLES = {  # a breach list's headings: the coarsest level its metrics breach at
    Level.OPERATION: "Breaching for the whole operation",
    Level.VENDOR: "Breaching at a vendor (and below)",
    Level.SITE: "Breaching at a site (and below)",
    Level.QUEUE: "Breaching at a queue (and below)",
    Level.TEAM: "Breaching at a team (and below)",
    Level.AGENT: "Breaching for an agent",
}
TILES_LEGEND = (
    "The whole operation: value, status, change against the previous period, target; "
    "breaches first."
)
BREACHES_LEGEND = (
    "Every metric past its warning or critical level where it is judged, with every group "
    "in breach in the order operation, vendor, site, queue, team{agents}, worst first; the "
    "metrics you own first. Groups that are one population are named once "
    "(a vendor with one site: \u201cvendor = site\u201d)."
)
GRID_LEGEND = (
    "✓ ok, ▲ warning, ✖ critical; grey: not judged at that level, or too few rows. "
    "Rows no level reaches (unassigned) count in the operation only."
)
AGENTS_LEGEND = (
    "Each agent's value and status per metric (✓ ok, ▲ warning, ✖ critical; grey: too few "
    "rows to judge), by team."
)


def needs_attention(card: Card) -> bool:
    """A card whose chart belongs in the report's detail: breached, trending towards a
    breach, or showing a control signal."""
    record = card.record
    return bool(
        card.status in ("critical", "warning")
        or record.get("projected_breach_period")
        or record.get("control_signal")
    )


def _drivers(report: Report) -> dict[str, str]:
    """Per metric explained, its top driver in words ("aht +9.8s: Berlin Tech +8.1s
    (rate)")."""
    from tpmkit.explain.drivers import driver

    out = {}
    for metric, explanation in report.moved.items():
        top = driver(explanation)
        if top is not None:
            out[metric] = top.text
    return out


MOVED_SEGMENTS = 3  # segments shown per metric in "What moved"


def _moved(report: Report, rows: list[Any]) -> list[dict[str, Any]]:
    """The "What moved" lines, in the breach list's order: per breached metric its change,
    the dimension that explains it best, mostly mix or rate, and its largest segments."""
    from tpmkit.explain.words import effect_words, segment_words

    out = []
    for row in rows:
        explanation = report.moved.get(row.metric)
        if explanation is None or explanation.best is None or explanation.best.change is None:
            continue
        best = explanation.best
        out.append(
            {
                "name": row.name,
                "unit": row.unit,
                "before": explanation.before,
                "after": explanation.after,
                "change": best.change,
                "periods": f"{best.before_period} → {best.after_period}",
                "by": " / ".join(best.dimensions),
                "mostly": (
                    effect_words(best, best.main_effect) if best.adds_up else "does not add up"
                ),
                "segments": [segment_words(best, s) for s in best.segments[:MOVED_SEGMENTS]],
            }
        )
    return out


MOVED_LEGEND = (
    "Why each breached metric moved since the previous period, over the dimension that "
    "explains it best (`tpmkit explain METRIC` for every dimension): mix is a shift of work "
    "between segments, rate a change within them; the largest segments first."
)


def first_screen(report: Report) -> dict[str, Any]:
    """The tiles, the breaches level by level, the status grids, and the detail sections
    in the order they follow (shortest first)."""
    found = report.places()
    agent_places = [] if report.standing else places.agents(found)
    agent_metrics = {m for p in agent_places for m in p.records}
    order = ("critical", "warning")
    # a tile judged at a longer cadence (annualised attrition over a week) would lead the
    # glance with a number nobody acts on this period: the cadence line names it instead
    shown = [c for c in report.cards if not _off_cadence(c)]
    tiles = sorted(shown, key=lambda c: order.index(c.status) if c.status in order else 2)
    # the breach list's metrics too: one that breaches only for a vendor or a team needs its
    # chart as much as one that breaches for the whole operation
    with_agents = report.role in AGENT_VIEWS
    rows = report.breach_rows(found)
    breached = {row.metric for row in rows}
    attention = [c for c in tiles if needs_attention(c) or c.metric in breached]
    other_tables = (
        [] if report.standing else [t for t in report.tables if level_of(t.columns) is None]
    )
    counts = report.counts()
    context = {
        # a view whose metrics are all reviewed at a longer cadence judges none of them
        "counts_line": ", ".join(f"{n} {LOOKS[s].word.lower()}" for s, n in counts.items())
        or "nothing judged",
        "cadence_lines": cadence_lines(report),
        # a stale or truncated export heads the report: its numbers are for a part of the
        # period, and the reader must know before acting on them
        "source_alerts": [
            f"Data not to be trusted — {s.message()}" for s in report.sources if s.failed
        ],
        "tiles": tiles,
        "tiles_legend": TILES_LEGEND,
        "breach_levels": places.by_level(rows),
        "drivers": _drivers(report),
        "moved": _moved(report, rows),
        "breaches_legend": BREACHES_LEGEND.format(agents=", then agent" if with_agents else ""),
        "level_titles": {str(k): v for k, v in LEVEL_TITLES.items()},
        # the agent view's grid: the operation, the agent's team, and the agent
        "grid_columns": places.grid_columns(found)
        + (places.agents(found) if report.standing else []),
        "grid_legend": GRID_LEGEND,
        "agent_rows": agent_places,
        "agent_metrics": [c for c in report.cards if c.metric in agent_metrics],
        "agents_legend": AGENTS_LEGEND,
        "moved_legend": MOVED_LEGEND,
        "attention": attention,
        "quiet": [c for c in report.cards if c not in attention],
        "other_tables": other_tables,
    }
    sizes = {  # roughly the lines each section takes, to put the short ones first
        "early": len(report.early_warnings()),
        "moved": len(context["moved"]),
        "metrics": 6 * len(attention),
        "standing": len(report.standing),
        "groups": sum(len(t.rows) + 2 for t in other_tables),
        "agents": len(agent_places),
        "scorecard": (
            len(report.scorecard.unscored) + 15
            if report.scorecard and report.scorecard.groups
            else 0
        ),
        "goals": len(report.goals),
    }
    # data quality closes every report, whatever its length
    context["detail_order"] = [*sorted(sizes, key=lambda k: sizes[k]), "quality"]
    return context


def _off_cadence(card: Any) -> bool:
    """Whether a card is not judged because the period is shorter than its cadence."""
    from tpmkit.engine.status import off_cadence

    reason = card.record.get("reason")
    return card.status == "not_judged" and off_cadence(
        str(reason).split("; ")[0] if reason else None
    )


def cadence_lines(report: Report) -> list[str]:
    """Which tiles are not judged because the period is shorter than their cadence, one line
    per cadence: `Not judged by week — judged monthly — run with --period month or
    longer: Attrition (annualised), Early attrition.`"""
    found: dict[str, list[str]] = {}
    for card in report.cards:
        if _off_cadence(card):
            found.setdefault(str(card.record["reason"]).split("; ")[0], []).append(card.name)
    word = grain_word(report.grain)
    return [f"Not judged by {word} — {why}: {', '.join(names)}." for why, names in found.items()]


def report_context(report: Report) -> dict[str, Any]:
    """What both formats print, worded once: header facts, overview, cards, tables, notes."""
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
        "early": report.early_warnings(),
        **first_screen(report),
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
        "passed": lambda record: threshold_passed(record) or "—",
        "group_label": group_label,
        "spread": lambda standing: spread_text(standing, lambda v, u: fmt_value(v, u, currency)),
        "standing_legend": STANDING_LEGEND.format(period=report.period),
        "last": max((len(c.series) for c in report.cards), default=0),
        **people_context(report.people),
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


def to_html(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = report_context(report)
    from tpmkit.render.notes import chart_notes

    ev = report.evaluation
    context["charts"] = {
        card.metric: chart(
            card,
            f"chart-{i}",
            report.currency,
            chart_notes(ev.records, ev.annotations, ev.by, card.metric) if ev else (),
        )
        for i, card in enumerate(report.cards)
    }
    return env.get_template("report.html.j2").render(**context)
