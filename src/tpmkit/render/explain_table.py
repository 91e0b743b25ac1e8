"""How `tpmkit explain` reads: a fitted table per dimension (segments ranked, the top N
shown) under the verdict, the drill path, and the same as Markdown; JSON carries the full
decomposition at full precision."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.text import Text

from tpmkit.explain.model import Decomposition, Explanation, Segment
from tpmkit.explain.words import summary, to_dict
from tpmkit.render.files import markdown_cell
from tpmkit.render.fit import fit, row_table, show
from tpmkit.render.terminal import stdout
from tpmkit.render.values import fmt_gap, fmt_value

# least valuable first: what leaves a narrow terminal
DROP = ("n", "weight before", "before", "weight after")


def _share(weight: float | None) -> str:
    return "—" if weight is None else f"{weight:.0%}"


def _n(segment: Segment) -> str:
    return f"{segment.n_before}→{segment.n_after}"


def _flags(segment: Segment) -> str:
    words = []
    if segment.only_in == "after":
        words.append("new")
    elif segment.only_in == "before":
        words.append("gone")
    if segment.small:
        words.append("small n")
    return ", ".join(words)


def _columns(d: Decomposition) -> list[str]:
    effects = [_effect_header(d, e) for e in d.effect_names] if len(d.effect_names) > 1 else []
    if d.method == "own_shift":  # no weights: the shifts are not weighed into a total
        return ["segment", "before", "after", "shift", "n"]
    return ["segment", "before", "after", "weight before", "weight after", *effects,
            "contribution", "n"]  # fmt: skip


def _effect_header(d: Decomposition, effect: str) -> str:
    if d.method == "quotient" and d.inputs:
        return d.inputs[0] if effect == "numerator" else d.inputs[1]
    return effect


def segment_rows(d: Decomposition, top: int) -> list[dict[str, str]]:
    """The top `top` segments as display cells (the rest summed into one row)."""
    unit = d.unit
    rows = []
    for segment in d.segments[:top]:
        label = segment.label + (f" ({_flags(segment)})" if _flags(segment) else "")
        row = {
            "segment": label,
            "before": fmt_value(segment.before, unit),
            "after": fmt_value(segment.after, unit),
            "weight before": _share(segment.weight_before),
            "weight after": _share(segment.weight_after),
            "contribution": fmt_gap(segment.contribution, unit),
            "shift": fmt_gap(segment.contribution, unit),
            "n": _n(segment),
        }
        for effect in d.effect_names:
            row[_effect_header(d, effect)] = fmt_gap(segment.effects[effect], unit)
        rows.append(row)
    rest = d.segments[top:]
    if rest:
        row = {c: "" for c in _columns(d)}
        row["segment"] = f"{len(rest)} more"
        if d.adds_up:
            row["contribution"] = fmt_gap(sum(s.contribution for s in rest), unit)
            for effect in d.effect_names:
                row[_effect_header(d, effect)] = fmt_gap(sum(s.effects[effect] for s in rest), unit)
        rows.append(row)
    return rows


def _heading(d: Decomposition) -> str:
    where = " / ".join(d.dimensions)
    if d.within:
        where += " within " + ", ".join(str(v) for v in d.within.values())
    return f"by {where}"


def print_explanation(explanation: Explanation, top: int = 5, wide: bool = False) -> None:
    """The verdict, then a table per dimension (best first) and the drill path."""
    console = stdout()
    e = explanation
    unit = e.unit
    head = (
        f"{e.metric} — {e.name}: {fmt_value(e.before, unit)} in {e.before_period} → "
        f"{fmt_value(e.after, unit)} in {e.after_period} ({fmt_gap(e.change, unit)})"
    )
    console.print(Text(head, style="bold"), soft_wrap=False)
    console.print(Text(summary(e)))
    for d in [*e.decompositions, *e.drill]:
        console.print()
        _print_decomposition(console, d, top, wide)
    if e.skipped:
        console.print()
        for dimension, why in e.skipped.items():
            console.print(Text(f"not split by {dimension}: {why}", style="dim"))
    for note in e.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


def _print_decomposition(console: Any, d: Decomposition, top: int, wide: bool) -> None:
    columns = _columns(d)
    effects = ", ".join(
        f"{_effect_header(d, e)} {fmt_gap(d.total(e), d.unit)}" for e in d.effect_names
    )
    added = "" if d.adds_up else " — own shifts, they do not add up"
    title = (
        f"{_heading(d)}: {fmt_gap(d.change, d.unit)}"
        + (f" ({effects})" if d.adds_up and len(d.effect_names) > 1 else "")
        + added
    )
    build: Callable[[list[str]], Any] = row_table(
        title, segment_rows(d, top), wrapping=("segment",), right=columns[1:]
    )
    show(console, *fit(build, columns, DROP, console, wide), wide)


def to_markdown(explanation: Explanation, top: int = 5) -> str:
    """The explanation as Markdown: the verdict and a table per dimension."""
    e = explanation
    lines = [
        f"# {markdown_cell(e.metric)}: {fmt_gap(e.change, e.unit)} "
        f"({e.before_period} → {e.after_period})",
        "",
        markdown_cell(summary(e)),
    ]
    for d in [*e.decompositions, *e.drill]:
        columns = _columns(d)
        lines += ["", f"## {markdown_cell(_heading(d))}", ""]
        if not d.adds_up:
            lines += ["Own shifts: they do not add up to the change.", ""]
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in segment_rows(d, top):
            lines.append("| " + " | ".join(markdown_cell(row[c]) for c in columns) + " |")
    for dimension, why in e.skipped.items():
        lines += ["", f"> not split by {markdown_cell(dimension)}: {markdown_cell(why)}"]
    return "\n".join(lines) + "\n"


def to_json(explanation: Explanation) -> str:
    """The full decomposition (every segment, full precision) as JSON."""
    return json.dumps(to_dict(explanation), indent=2, default=str) + "\n"
