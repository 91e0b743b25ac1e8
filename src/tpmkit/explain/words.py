"""The words of an explanation: the one-line verdict of a decomposition and the text of a
top driver ("aht +48.0s: Berlin Tech +31.0s (rate)")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tpmkit.render.values import fmt_gap

if TYPE_CHECKING:
    from tpmkit.explain.model import Decomposition, Explanation, Segment


# what a kind whose segments do not add up is called in a verdict
KIND_WORDS = {
    "median": "a median",
    "percentile": "a percentile",
    "statistic": "this statistic",
    "formula": "this formula",
    "deviation_from_group_mean": "a deviation from the group mean",
}


def gap(value: float | None, unit: str) -> str:
    """A signed change with its unit (−0 reads ±0)."""
    return fmt_gap(value, unit)


def segment_words(decomposition: Decomposition, segment: Segment) -> str:
    """`Berlin Tech +31.0s (rate)`: a segment's contribution and its main effect."""
    unit = decomposition.unit
    text = f"{segment.label} {gap(segment.contribution, unit)}"
    if decomposition.method in ("mix_rate", "quotient"):
        text += f" ({effect_words(decomposition, segment.main_effect)})"
    return text


def effect_words(decomposition: Decomposition, effect: str) -> str:
    """`mix`, `rate`, or for a quotient the input metric behind the effect."""
    if decomposition.method == "quotient" and decomposition.inputs:
        index = 0 if effect == "numerator" else 1
        return f"{effect}: {decomposition.inputs[index]}"
    return effect


def verdict(decomposition: Decomposition) -> str:
    """One line: how much moved, mostly mix or mostly rate (or which input), and the top
    segment; for an order statistic, that the segments' shifts do not add up."""
    d = decomposition
    unit = d.unit
    where = " / ".join(d.dimensions)
    if d.within:
        where += " within " + ", ".join(str(v) for v in d.within.values())
    change = gap(d.change, unit) if d.change is not None else "change unknown"
    head = f"{d.metric} {change} from {d.before_period} to {d.after_period} by {where}"
    top = d.top
    if d.method == "own_shift":
        largest = max(d.segments, key=lambda s: abs(s.contribution), default=None)
        told = (
            f"; largest own shift: {largest.label} {gap(largest.contribution, unit)}"
            if largest is not None
            else ""
        )
        return (
            f"{head}: {KIND_WORDS.get(d.kind, 'this ' + d.kind)} does not add up over "
            "segments, each segment's own shift is shown" + told
        )
    if d.offsetting:
        largest = max(d.segments, key=lambda s: abs(s.contribution))
        return (
            f"{head}: about unchanged, its segments offset each other (largest: "
            f"{segment_words(d, largest)})"
        )
    if top is None:
        named = "no segment with enough sample moved it on its own"
    else:
        share = f", {top.contribution / d.change:.0%} of the change" if d.change else ""
        named = f"top segment {segment_words(d, top)}{share}"
    if d.method == "difference":
        return f"{head}: {named}"
    main = d.main_effect
    effects = ", ".join(f"{effect_words(d, e)} {gap(d.total(e), unit)}" for e in d.effect_names)
    return f"{head}: mostly {effect_words(d, main)} ({effects}); {named}"


def summary(explanation: Explanation) -> str:
    """The verdict of the best-ranked dimension (or why there is none)."""
    best = explanation.best
    if best is None:
        return f"{explanation.metric}: no dimension to split the change by"
    return verdict(best)


def to_dict(explanation: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data with its words: the verdict, the top driver and
    each decomposition's verdict."""
    from tpmkit.explain.drivers import driver

    data = explanation.to_dict()
    found = driver(explanation)
    data["verdict"] = summary(explanation)
    data["driver"] = found.to_dict() if found else None
    for part, d in zip(
        [*data["dimensions"], *data["drill"]],
        [*explanation.decompositions, *explanation.drill],
        strict=True,
    ):
        part["verdict"] = verdict(d)
    return data
