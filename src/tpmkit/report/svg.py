"""Inline SVG line charts for report cards: the last N values with target and threshold
lines (bands for within-band metrics). Plain SVG text, no plotting library, no files.

Accessible: the chart has a <title> and a <desc> that lists every value, each point has
its own <title>, and status is shown by the point's shape (circle ok, triangle warning,
square critical), not by colour alone; shapes and colours come from render/statuses.py.
"""

from __future__ import annotations

from html import escape
from typing import Any

from tpmkit.render.statuses import LOOKS, status_word
from tpmkit.render.values import fmt_value
from tpmkit.report.build import Card, Point

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 22
UNKNOWN_COLOUR = "#333"  # a point whose status is not one of ours (never from the engine)


def _levels(record: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(name, value, css class) of each level line to draw."""
    out = []
    for name, css in (("target", "target"), ("warning", "warn"), ("critical", "crit")):
        for key in (name, f"{name}_upper"):
            value = record.get(key)
            if isinstance(value, int | float):
                out.append((name, float(value), css))
    return out


def _marker(x: float, y: float, status: str) -> str:
    known = LOOKS.get(status)
    colour, shape = (known.colour, known.marker) if known else (UNKNOWN_COLOUR, "circle")
    if shape == "triangle":
        corners = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{corners}" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _said(point: Point, unit: str, currency: str | None) -> str:
    """A point for screen readers and tooltips: `2026-W13: 35.0s (Warning)`."""
    return f"{point.period}: {fmt_value(point.value, unit, currency)} ({status_word(point.status)})"


def chart(card: Card, chart_id: str, currency: str | None = None) -> str:
    """The card's series as an SVG document fragment (safe to embed: all text escaped)."""
    points = card.series
    values = [p.value for p in points if p.value is not None]
    levels = _levels(card.record)
    title = f"{card.name}, last {len(points)} periods"
    described = "; ".join(_said(p, card.unit, currency) for p in points)
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        ">"
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(described or "no values")}</desc>'
    )
    if not values:
        return (
            head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">'
            "no values in these periods</text></svg>"
        )
    low = min([*values, *(v for _, v, _ in levels)])
    high = max([*values, *(v for _, v, _ in levels)])
    if high == low:
        high, low = high + 1, low - 1
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x_at(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    parts = [head, f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>']
    target, upper = card.record.get("target"), card.record.get("target_upper")
    if isinstance(target, int | float) and isinstance(upper, int | float):  # a target band
        top, bottom = y_at(float(upper)), y_at(float(target))
        height = max(bottom - top, 0.5)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{plot_w}" height="{height:.1f}" class="band"/>'
        )
    for name, value, css in levels:
        y = y_at(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="{css}">'
            f"<title>{escape(name)} {escape(fmt_value(value, card.unit, currency))}</title></line>"
        )
    for v in (low + pad, high - pad):  # axis labels at the data extremes
        parts.append(
            f'<text x="{LEFT - 4}" y="{y_at(v) + 3:.1f}" text-anchor="end" class="axis">'
            f"{escape(fmt_value(v, card.unit, currency))}</text>"
        )
    segment: list[str] = []
    lines = []
    for i, point in enumerate(points):
        if point.value is None:
            if len(segment) > 1:
                lines.append(segment)
            segment = []
            continue
        segment.append(f"{x_at(i):.1f},{y_at(point.value):.1f}")
    if len(segment) > 1:
        lines.append(segment)
    for segment in lines:
        parts.append(f'<polyline points="{" ".join(segment)}" class="series"/>')
    for i, point in enumerate(points):
        if point.value is None:
            continue
        x, y = x_at(i), y_at(point.value)
        tip = _said(point, card.unit, currency)
        parts.append(
            f'<g class="point"><title>{escape(tip)}</title>{_marker(x, y, point.status)}</g>'
        )
    first, last = points[0].period, points[-1].period
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 6}" class="axis">{escape(first)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" class="axis">'
        f"{escape(last)}</text></svg>"
    )
    return "".join(parts)


def sparkline(values: list[float | None]) -> str:
    """A series as Unicode blocks (Markdown, terminal); a gap for a period without a value."""
    blocks = "▁▂▃▄▅▆▇█"
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low or 1.0
    return "".join(
        " " if v is None else blocks[min(int((v - low) / span * (len(blocks) - 1) + 0.5), 7)]
        for v in values
    )
