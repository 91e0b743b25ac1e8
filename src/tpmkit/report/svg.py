"""Inline SVG line charts for report cards: the last N values with target and threshold
lines (bands for within-band metrics). Plain SVG text, no plotting library, no files.

Readable at a glance: every text is measured (a conservative estimate from its characters
and font size) and the margins are sized to the widest, so no label is ever clipped; the
y-axis has round ticks with full numbers and units, starts at zero for quantities unless
the data sit in a narrow band far from zero (then the chart says so, and a minimum span
keeps small noise from filling the height); periods are labelled every one, or every k-th
when they would overlap; level lines carry their name and value at their right end.

Accessible: the chart has a <title> and a <desc> that lists every value, each point has
its own <title>, and status is shown by the point's shape (circle ok, triangle warning,
square critical), not by colour alone; shapes and colours come from render/statuses.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from typing import Any

from tpmkit.render.statuses import LOOKS, status_word
from tpmkit.render.values import fmt_value
from tpmkit.report.model import Card, Point

# fits a report card's content box (≥ 322 px) at its natural size, so 10 px text stays 10 px
WIDTH, HEIGHT = 320, 140
TOP, TOP_WITH_NOTE, BOTTOM, RIGHT_MIN = 10, 18, 22, 10
EDGE, GAP = 2, 7  # text to the chart's edge; text to the plot (clear of a point's marker)
AXIS_FONT, SMALL_FONT = 10, 9  # the template's `.axis` size; level labels and notes
LABEL_GAP = 6  # the least space between two period labels
MAX_NOTE_LABELS = 3  # annotations labelled on one chart (others keep their flag and tip)
UNKNOWN_COLOUR = "#333"  # a point whose status is not one of ours (never from the engine)
NOTE_COLOUR = "#5b6573"  # the template's muted text
# Units whose zero means "none": their axis starts at 0 unless the data are a narrow band.
ZERO_BASED = {"percent", "count", "count/hour", "seconds", "hours", "ms", "currency"}
NARROW = 0.5  # a band is narrow when its lowest value is above this share of its highest
MIN_SPAN = 0.2  # a truncated axis spans at least this share of the level (±3 % noise ≈ 30 %)
AXIS_SUFFIX = {"percent": "%", "seconds": "s", "hours": "h", "ms": "ms", "count/hour": "/h"}
LEVEL_LOOK = {"target": "ok", "warning": "warning", "critical": "critical"}
LEVEL_CSS = {"target": "target", "warning": "warn", "critical": "crit"}
# Wider than an average glyph in common sans-serif faces (DejaVu Sans, the widest usual
# default, has digits at 0.64 em and W, m, % near 1 em); a space is narrower.
WIDE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZmw%@—…")


def text_width(text: str, size: float) -> float:
    """A conservative estimate of `text`'s rendered width in px at font size `size`."""
    ems = sum(0.4 if c == " " else 1.0 if c in WIDE else 0.68 for c in text)
    return ems * size


@dataclass(frozen=True)
class Scale:
    """The y-axis: its range, round ticks, and whether it leaves out zero."""

    low: float
    high: float
    ticks: list[float]
    step: float
    truncated: bool  # a quantity's axis that does not start at 0 (the chart says so)


def _nice_step(span: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) that cuts `span` into about `count` parts."""
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def y_scale(values: Sequence[float], unit: str) -> Scale:
    """The y-axis for these values (data and level lines) in this unit."""
    low, high = min(values), max(values)
    truncated = False
    if unit in ZERO_BASED and low >= 0:
        if high > 0 and low <= NARROW * high:
            low = 0.0
        elif high > 0:
            truncated = True
    level = max(abs(low), abs(high))
    least = MIN_SPAN * level if level else 1.0
    if high - low < least:  # widen around the middle, never below 0 for a quantity
        middle = (high + low) / 2
        low, high = middle - least / 2, middle + least / 2
        if unit in ZERO_BASED and low < 0 <= min(values):
            low, high = 0.0, least
    step = _nice_step(high - low)
    if unit == "count":  # whole things: no tick between 1 and 2
        step = max(step, 1.0)
    low_tick = math.floor(low / step + 1e-9) * step
    if unit in ZERO_BASED and 0 < low_tick <= step and min(values) >= 0:
        low_tick = 0.0  # zero is one tick away: show it rather than say it is left out
    high_tick = math.ceil(high / step - 1e-9) * step
    count = round((high_tick - low_tick) / step)
    ticks = [round(low_tick + i * step, 9) for i in range(count + 1)]  # no 0.7000000000000001
    truncated = truncated and low_tick > 0
    return Scale(low_tick, high_tick, ticks, step, truncated)


def axis_text(value: float, step: float, unit: str, currency: str | None = None) -> str:
    """A tick's full number with its unit: `29.5 EUR`, `8.0M s`, `12,500`, `75%`, `330s`."""
    size = abs(value)
    if size >= 1_000_000:
        number, suffix, step = value / 1_000_000, "M", step / 1_000_000
    elif size >= 100_000:
        number, suffix, step = value / 1000, "k", step / 1000
    else:
        number, suffix = value, ""
    decimals = 0
    while decimals < 3 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    if suffix and decimals == 0 and number != round(number):
        decimals = 1
    if round(number, decimals) == 0:
        number = 0.0  # never "-0"
    text = f"{number:,.{decimals}f}{suffix}"
    if unit == "currency":
        return text + (f" {currency}" if currency else "")
    unit_text = AXIS_SUFFIX.get(unit, "")
    # "8.0M s", not "8.0Ms"; otherwise as the tables write it: "330s", "75%"
    return text + (" " if suffix and unit_text.isalpha() else "") + unit_text


def period_labels(periods: Sequence[str]) -> list[str]:
    """Each period's axis label: after the first, a repeated year is left out (`2026-W10`,
    `W11`, …); the point's title and the chart's description keep the full period."""
    out: list[str] = []
    year = None
    for period in periods:
        head, dash, rest = period.partition("-")
        if dash and head == year:
            out.append(rest)
        else:
            out.append(period)
            year = head if dash else None
    return out


def tick_indexes(
    xs: Sequence[float],
    widths: Sequence[float],
    left: float,
    right: float,
    first_widths: Sequence[float] | None = None,
) -> list[int]:
    """The periods to label: every one if their labels fit side by side, else every k-th
    counted back from the last (the period judged), for the smallest k whose labels do
    not overlap — regular ticks, never a shorter gap at the end. `first_widths`: each
    label's width when it is the first shown (it then carries its year)."""
    n = len(xs)
    for k in range(1, n + 1):
        chosen = list(range(n - 1, -1, -k))[::-1]
        sized = [(first_widths or widths)[i] if j == 0 else widths[i] for j, i in enumerate(chosen)]
        boxes = [_label_box(xs[i], w, left, right) for i, w in zip(chosen, sized, strict=True)]
        if all(b[0] - a[1] >= LABEL_GAP for a, b in pairwise(boxes)):
            return chosen
    return [n - 1]


def _label_box(x: float, width: float, left: float, right: float) -> tuple[float, float]:
    """A label centred on x, moved inward to stay within [left, right]."""
    start = min(max(x - width / 2, left), right - width)
    return start, start + width


def _levels(record: dict[str, Any]) -> list[tuple[str, float]]:
    """(name, value) of each level line to draw."""
    out = []
    for name in ("target", "warning", "critical"):
        for key in (name, f"{name}_upper"):
            value = record.get(key)
            if isinstance(value, int | float):
                out.append((name, float(value)))
    return out


def _nudged(ys: Sequence[float], gap: float, top: float, bottom: float) -> list[float]:
    """Label baselines at least `gap` apart, each as near its line as that allows."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [0.0] * len(ys)
    previous = top - gap
    for i in order:
        placed[i] = previous = max(ys[i], previous + gap)
    overflow = previous - bottom
    if overflow > 0:  # pushed past the bottom: shift the whole stack up
        for i in order:
            placed[i] -= overflow
    return placed


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


def _text(
    x: float, y: float, text: str, size: int, css: str, anchor: str = "start", fill: str = ""
) -> str:
    colour = f' fill="{fill}"' if fill else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'class="{css}"{colour}>{escape(text)}</text>'
    )


def chart(
    card: Card,
    chart_id: str,
    currency: str | None = None,
    annotations: Sequence[tuple[str, str]] = (),
) -> str:
    """The card's series as an SVG document fragment (safe to embed: all text escaped).

    `annotations` are (period, short text) pairs, each drawn as a marker on its period
    (ignored when the period is not in the series)."""
    points = card.series
    values = [p.value for p in points if p.value is not None]
    levels = _levels(card.record)
    periods = [p.period for p in points]
    notes = [(period, text) for period, text in annotations if period in periods]
    title = f"{card.name}, last {len(points)} periods"
    described = "; ".join(_said(p, card.unit, currency) for p in points)
    described += "".join(f"; note {period}: {text}" for period, text in notes)
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(described or "no values")}</desc>'
    )
    if not values:
        return (
            head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="12" text-anchor="middle" '
            'class="empty">no values in these periods</text></svg>'
        )
    scale = y_scale([*values, *(v for _, v in levels)], card.unit)
    tick_texts = [axis_text(t, scale.step, card.unit, currency) for t in scale.ticks]
    level_texts = [f"{name} {fmt_value(v, card.unit, currency)}" for name, v in levels]
    left = EDGE + max(text_width(t, AXIS_FONT) for t in tick_texts) + GAP
    right = max([RIGHT_MIN, *(GAP + text_width(t, SMALL_FONT) + EDGE for t in level_texts)])
    top = TOP_WITH_NOTE if scale.truncated else TOP
    plot_w, plot_h = WIDTH - left - right, HEIGHT - top - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x_at(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h * (1 - (v - scale.low) / (scale.high - scale.low))

    parts = [
        head,
        f'<rect x="{left:.1f}" y="{top}" width="{plot_w:.1f}" height="{plot_h}" class="plot"/>',
    ]
    for tick, text in zip(scale.ticks, tick_texts, strict=True):
        y = y_at(tick)
        parts.append(
            f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d9dee5" stroke-width="0.6" class="grid"/>'
        )
        parts.append(_text(left - GAP, y + 3.5, text, AXIS_FONT, "axis", "end"))
    if scale.truncated:
        parts.append(
            _text(left, top - 6, "axis does not start at 0", SMALL_FONT, "note", fill=NOTE_COLOUR)
        )
    target, upper = card.record.get("target"), card.record.get("target_upper")
    if isinstance(target, int | float) and isinstance(upper, int | float):  # a target band
        band_top, band_bottom = y_at(float(upper)), y_at(float(target))
        height = max(band_bottom - band_top, 0.5)
        parts.append(
            f'<rect x="{left:.1f}" y="{band_top:.1f}" width="{plot_w:.1f}" '
            f'height="{height:.1f}" class="band"/>'
        )
    baselines = _nudged(
        [y_at(v) + 3 for _, v in levels], SMALL_FONT + 1, top + SMALL_FONT, HEIGHT - BOTTOM + 3
    )
    for (name, value), text, baseline in zip(levels, level_texts, baselines, strict=True):
        y = y_at(value)
        parts.append(
            f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="{LEVEL_CSS[name]}"><title>{escape(text)}</title></line>'
        )
        colour = LOOKS[LEVEL_LOOK[name]].colour
        parts.append(_text(left + plot_w + GAP, baseline, text, SMALL_FONT, "level", fill=colour))
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
    for k, (period, text) in enumerate(notes[:MAX_NOTE_LABELS]):
        x = x_at(periods.index(period))
        parts.append(_note(x, top, plot_h, left, left + plot_w, k, period, text))
    for period, text in notes[MAX_NOTE_LABELS:]:  # more notes: the flag, its text as a tip
        x = x_at(periods.index(period))
        parts.append(_note(x, top, plot_h, left, left + plot_w, None, period, text))
    xs = [x_at(i) for i in range(len(points))]
    widths = [text_width(label, AXIS_FONT) for label in period_labels(periods)]
    full = [text_width(period, AXIS_FONT) for period in periods]
    chosen = tick_indexes(xs, widths, 0, WIDTH, full)
    # the first label shown carries the year, the others only when it changes
    for i, label in zip(chosen, period_labels([periods[i] for i in chosen]), strict=True):
        width = text_width(label, AXIS_FONT)
        start, _ = _label_box(xs[i], width, 0, WIDTH)
        parts.append(_text(start + width / 2, HEIGHT - 4, label, AXIS_FONT, "axis", "middle"))
    parts.append("</svg>")
    return "".join(parts)


def _note(
    x: float,
    top: float,
    plot_h: float,
    plot_left: float,
    plot_right: float,
    row: int | None,
    period: str,
    text: str,
) -> str:
    """An annotation: a dotted line on its period with a small flag hanging from the plot's
    top edge and, on row `row` (None: no label), its text inside the plot beside the flag
    — inside the plot, so it meets no axis or level label and never leaves the SVG —
    shortened with … to the room on the wider side."""
    parts = [
        f'<g class="annotation"><title>{escape(f"{period}: {text}")}</title>'
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
        f'stroke="{NOTE_COLOUR}" stroke-width="0.8" stroke-dasharray="1 2"/>'
        f'<polygon points="{x - 4:.1f},{top} {x + 4:.1f},{top} {x:.1f},{top + 6}" '
        f'fill="{NOTE_COLOUR}"/>'
    ]
    baseline = top + 6 + (SMALL_FONT + 1) * ((row or 0) + 1)
    if row is not None and baseline < top + plot_h - 2:
        right_room = plot_right - (x + 5) - EDGE
        left_room = (x - 5) - plot_left - EDGE
        room = max(right_room, left_room)
        label = fit_text(text, SMALL_FONT, room)
        if label:
            anchor, at = ("start", x + 5) if right_room >= left_room else ("end", x - 5)
            parts.append(
                f'<text x="{at:.1f}" y="{baseline:.1f}" font-size="{SMALL_FONT}" '
                f'text-anchor="{anchor}" class="note" fill="{NOTE_COLOUR}" '
                f'stroke="#fff" stroke-width="2.5" paint-order="stroke">{escape(label)}</text>'
            )
    return "".join(parts) + "</g>"


def fit_text(text: str, size: float, room: float) -> str:
    """`text`, or its start with … , as wide as `room` allows at `size` ("" when not
    even a letter and … fit)."""
    if text_width(text, size) <= room:
        return text
    for end in range(len(text) - 1, 0, -1):
        shorter = text[:end].rstrip() + "…"
        if text_width(shorter, size) <= room:
            return shorter
    return ""


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
