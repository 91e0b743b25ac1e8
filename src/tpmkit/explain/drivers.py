"""Driver search: which dimension explains a change best, and its top segment.

A dimension scores by how much more of the change its top segment explains than its size
would: a segment that carries 27 % of the weight and explains 64 % of the change scores
0.37. (A segment that changed like every other would explain about its weight; a coarse
dimension's big segments explain much without saying much.) A segment under `min_sample`
never counts on its own. `--drill` follows the top segment down `DRILL`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tpmkit.explain.decompose import decompose
from tpmkit.explain.model import Decomposition, Driver, Explanation
from tpmkit.explain.words import gap, segment_words

if TYPE_CHECKING:
    from tpmkit.records import Evaluation

# the dimensions searched when none are given (those the data offer; a project adds its
# own under `explain: {dimensions: [...]}`); agent last, it is the finest
DEFAULT_DIMENSIONS = (
    "vendor",
    "site",
    "team",
    "queue",
    "channel",
    "line_of_business",
    "tenure_band",
    "agent_id",
)
# where a drill goes from each dimension: one level finer
DRILL = {
    "vendor": "site",
    "site": "team",
    "team": "agent_id",
    "team_lead": "agent_id",
    "line_of_business": "queue",
    "channel": "queue",
    "queue": "agent_id",
}


def score(decomposition: Decomposition) -> float:
    """The share of the change the top segment explains, less its mean weight of the two
    periods (its share of the total for counts and sums; 0 when it has none)."""
    top = decomposition.top
    if top is None:
        return float("-inf")
    weights = [w for w in (top.weight_before, top.weight_after) if w is not None]
    return decomposition.top_share - (sum(weights) / len(weights) if weights else 0.0)


def rank(
    decompositions: Iterable[Decomposition], order: Sequence[str] = DEFAULT_DIMENSIONS
) -> list[Decomposition]:
    """Dimensions, the best-scoring first; equal scores (one dimension mapping onto
    another, e.g. a team per queue) in the order of `order`, then by name."""

    def key(d: Decomposition) -> tuple[float, int, str]:
        name = "/".join(d.dimensions)
        place = order.index(name) if name in order else len(order)
        return (-round(score(d), 9), place, name)

    return sorted(decompositions, key=key)


def driver_of(decompositions: Sequence[Decomposition], group: Mapping[str, Any]) -> Driver | None:
    """The top driver: the top segment of the first decomposition that has one."""
    for d in decompositions:
        top = d.top
        if top is None or d.method == "own_shift" or d.change is None or d.offsetting:
            continue
        effect = top.main_effect if d.method != "difference" else "change"
        text = f"{d.metric} {gap(d.change, d.unit)}: {segment_words(d, top)}"
        return Driver(
            metric=d.metric,
            group=dict(group),
            dimension="/".join(d.dimensions),
            segment=top.label,
            contribution=top.contribution,
            kind=effect,
            change=d.change,
            before_period=d.before_period,
            after_period=d.after_period,
            text=text,
        )
    return None


def driver(explanation: Explanation, group: Mapping[str, Any] | None = None) -> Driver | None:
    """The top driver of an explanation: the top segment of its best dimension."""
    return driver_of(explanation.decompositions, group or {})


def explain_evaluations(
    evaluations: Iterable[Evaluation],
    metric: str,
    before: str,
    after: str,
    *,
    group: Mapping[str, Any] | None = None,
    totals: tuple[float | None, float | None] | None = None,
) -> list[Decomposition]:
    """The change of `metric` from `before` to `after` decomposed over the last grouping
    column of each evaluation (within `group`, whose columns the evaluation is also
    grouped by), ranked."""
    out = []
    for evaluation in evaluations:
        spec = evaluation.definitions.get(metric)
        dims = [c for c in evaluation.by if c not in (group or {})]
        if spec is None or len(dims) != 1:
            continue
        out.append(
            decompose(
                evaluation.records,
                spec,
                dims,
                before,
                after,
                specs=evaluation.definitions,
                within=group,
                totals=totals,
                name=evaluation.names.get(metric),
            )
        )
    return rank(out)


def top_driver(
    evaluations: Iterable[Evaluation],
    metric: str,
    before: str,
    after: str,
    *,
    group: Mapping[str, Any] | None = None,
) -> Driver | None:
    """The top driver of `metric`'s change from period `before` to `after`, searched over
    the evaluations given (each grouped by one dimension, plus the columns of `group` when
    the driver is within a judged group, e.g. {"team": "Berlin Tech"} with evaluations by
    team and agent_id); None when no segment with enough sample moved it."""
    found = explain_evaluations(evaluations, metric, before, after, group=group)
    return driver_of(found, group or {})
