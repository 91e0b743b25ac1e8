"""The records an explanation is made of: one segment's share of a change, one dimension's
decomposition, the whole explanation (dimensions ranked, the drill path) and the top
driver a check line or report row carries. Plain numbers, JSON-ready through `to_dict`;
their words (verdicts, driver texts) are `explain.words`, so that an Evaluation can carry
`explain` without the records layer reaching any renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# How a kind's change is split (docs/explain.md):
# mix_rate   ratio, mean, ratio of sums: (w' − w)·(r − R) + w'·(r' − r) per segment
# difference count, sum, stock: each segment's own difference
# quotient   formula `a / b` of additive inputs: a's change over b' plus b's change
# own_shift  median, percentile, other formulas and special kinds: each segment's own
#            shift, which does not add up to the total
Method = Literal["mix_rate", "difference", "quotient", "own_shift"]

# the effects of each method, in display order
EFFECTS: dict[str, tuple[str, ...]] = {
    "mix_rate": ("mix", "rate"),
    "difference": ("change",),
    "quotient": ("numerator", "denominator"),
    "own_shift": ("shift",),
}


@dataclass(frozen=True)
class Segment:
    """One segment (a value of the dimension) and its contribution to the change."""

    key: dict[str, Any]  # dimension column -> value (None: the unassigned rows)
    label: str
    before: float | None  # the segment's own value in the earlier period (None: absent)
    after: float | None
    weight_before: float | None  # its share of the denominator (None: not a weighted kind)
    weight_after: float | None
    n_before: int
    n_after: int
    effects: dict[str, float]  # effect name (see EFFECTS) -> contribution in the unit
    contribution: float  # the sum of its effects (own_shift: its own shift)
    small: bool  # n under the metric's min_sample in a period it is present in

    @property
    def only_in(self) -> str | None:
        """`before` or `after` for a segment present in one period only."""
        if self.before is None and self.after is not None:
            return "after"
        if self.after is None and self.before is not None:
            return "before"
        return None

    @property
    def main_effect(self) -> str:
        """The effect that contributes most (by size) to this segment's contribution."""
        return max(self.effects, key=lambda name: abs(self.effects[name]))

    @property
    def trusted(self) -> bool:
        """Whether it may be named a driver on its own: enough sample in both periods, or a
        change that is mostly mix — a shift of work to or from the segment is counted, not
        estimated, so ten calls that became ninety moved the total however noisy their rate
        (a small segment's own rate change is noise and never the driver)."""
        return not self.small or self.main_effect == "mix"

    def to_dict(self) -> dict[str, Any]:
        """The segment as JSON-ready data."""
        return {
            "segment": self.key,
            "label": self.label,
            "before": self.before,
            "after": self.after,
            "weight_before": self.weight_before,
            "weight_after": self.weight_after,
            "n_before": self.n_before,
            "n_after": self.n_after,
            **self.effects,
            "contribution": self.contribution,
            "only_in": self.only_in,
            "small": self.small,
        }


def difference(before: float | None, after: float | None) -> float | None:
    """after − before; None when either is unknown."""
    return None if before is None or after is None else after - before


OFFSETTING = 0.05  # a change under this share of its segments' movements is "about unchanged"


@dataclass(frozen=True)
class Decomposition:
    """A metric's change between two periods split over the segments of one dimension
    (or of one segment's children, when drilling)."""

    metric: str
    name: str
    unit: str
    kind: str  # the metric's compute kind
    method: Method
    dimensions: tuple[str, ...]
    before_period: str
    after_period: str
    # the value over all segments in each period (None: an own-shift method not given
    # the overall values)
    before: float | None
    after: float | None
    segments: list[Segment]  # largest contribution (by size) first
    min_sample: int = 0
    within: dict[str, Any] = field(default_factory=dict)  # the drilled segment's key
    inputs: tuple[str, ...] = ()  # quotient: the input metrics (numerator, denominator)
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """The total change, after − before (None when either is unknown)."""
        return difference(self.before, self.after)

    @property
    def adds_up(self) -> bool:
        """True when the contributions add up to the change (every method but own_shift)."""
        return self.method != "own_shift"

    @property
    def effect_names(self) -> tuple[str, ...]:
        return EFFECTS[self.method]

    def total(self, effect: str) -> float:
        """One effect summed over the segments."""
        import math

        return math.fsum(s.effects[effect] for s in self.segments)

    @property
    def explained(self) -> float:
        """The contributions summed (equal to `change` to 1e-9 when they add up)."""
        import math

        return math.fsum(s.contribution for s in self.segments)

    @property
    def top(self) -> Segment | None:
        """The largest contribution in the direction of the change from a segment with
        enough sample; None when there is none (a small segment is never the top driver on
        its own)."""
        change = self.change if self.change is not None else self.explained
        sign = 1.0 if change >= 0 else -1.0
        for segment in self.segments:
            if segment.trusted and segment.contribution * sign > 0:
                return segment
        return None

    @property
    def offsetting(self) -> bool:
        """True when the total barely moved while its segments did: the change is under
        5 % of the segments' movements summed by size (their shifts cancel), so no segment
        "drove" it."""
        import math

        gross = math.fsum(abs(s.contribution) for s in self.segments)
        change = self.change if self.change is not None else self.explained
        return gross > 0 and abs(change) < OFFSETTING * gross

    @property
    def top_share(self) -> float:
        """The share of the change its top segment explains (0 without a top segment or a
        change)."""
        top = self.top
        if top is None or not self.change:
            return 0.0
        return top.contribution / self.change

    @property
    def main_effect(self) -> str:
        """The effect (summed over segments) that moves the total most."""
        return max(self.effect_names, key=lambda name: abs(self.total(name)))

    def to_dict(self) -> dict[str, Any]:
        """The decomposition as JSON-ready data (full precision)."""
        top = self.top
        return {
            "metric": self.metric,
            "name": self.name,
            "unit": self.unit,
            "kind": self.kind,
            "method": self.method,
            "dimensions": list(self.dimensions),
            "within": self.within,
            "before_period": self.before_period,
            "after_period": self.after_period,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "adds_up": self.adds_up,
            "effects": {name: self.total(name) for name in self.effect_names},
            "inputs": list(self.inputs),
            "explained": self.explained,
            "top_share": self.top_share,
            "top": top.label if top else None,
            "min_sample": self.min_sample,
            "notes": self.notes,
            "segments": [s.to_dict() for s in self.segments],
        }


@dataclass(frozen=True)
class Driver:
    """The top driver of a metric's change: which segment of which dimension moved it,
    by how much, and whether by mix or rate (or `change`, `numerator`, `denominator`,
    `shift` for the other methods); `text` is the line a check or report shows."""

    metric: str
    group: dict[str, Any]  # the judged group the driver is of ({}: the operation)
    dimension: str
    segment: str  # the segment's label
    contribution: float
    kind: str
    change: float  # the metric's total change
    before_period: str
    after_period: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The driver as JSON-ready data."""
        return {
            "metric": self.metric,
            "group": self.group,
            "dimension": self.dimension,
            "segment": self.segment,
            "contribution": self.contribution,
            "kind": self.kind,
            "change": self.change,
            "before_period": self.before_period,
            "after_period": self.after_period,
            "text": self.text,
        }


@dataclass(frozen=True)
class Explanation:
    """`tpmkit explain`: a metric's change between two periods decomposed over each
    dimension searched (ranked: the dimension whose top segment explains most first), and
    the drill path down from the top segment."""

    metric: str
    name: str
    unit: str
    grain: str
    before_period: str
    after_period: str
    before: float | None  # the metric's overall value in each period
    after: float | None
    decompositions: list[Decomposition]
    drill: list[Decomposition] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # dimension -> why not searched
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """The total change, after − before (None when either is unknown)."""
        return difference(self.before, self.after)

    @property
    def best(self) -> Decomposition | None:
        """The decomposition of the highest-ranked dimension."""
        return self.decompositions[0] if self.decompositions else None

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready data (full precision)."""
        return {
            "metric": self.metric,
            "name": self.name,
            "unit": self.unit,
            "grain": self.grain,
            "before_period": self.before_period,
            "after_period": self.after_period,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "dimensions": [d.to_dict() for d in self.decompositions],
            "drill": [d.to_dict() for d in self.drill],
            "skipped": self.skipped,
            "notes": self.notes,
        }
