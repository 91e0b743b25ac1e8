"""`Evaluation.explain`: a decomposition over the grouping an evaluation already has, from
its records alone (the Python API's way to explain without searching dimensions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tpmkit.errors import Issue, UsageError, did_you_mean
from tpmkit.explain.decompose import decompose
from tpmkit.explain.model import Decomposition
from tpmkit.explain.periods import earlier, labels_of

if TYPE_CHECKING:
    from tpmkit.records import Evaluation


def explain_evaluation(
    evaluation: Evaluation, metric: str, *, at: str = "latest", vs: str = "previous"
) -> Decomposition:
    """The change of `metric` from the `vs` period to `at` (a label; latest: the latest
    period with a value) split over the evaluation's grouping."""
    specs = evaluation.definitions
    aliases = {alias: s.id for s in specs.values() for alias in s.aliases}
    metric_id = aliases.get(metric, metric)
    if metric_id not in specs:
        hint = did_you_mean(metric, [*specs, *aliases])
        raise UsageError(
            f"unknown metric `{metric}` in this evaluation" + (f"; {hint}" if hint else ""),
            [Issue("evaluated: " + ", ".join(specs), severity="hint")],
        )
    if not evaluation.by:
        raise UsageError(
            "explain splits a change over groups: evaluate with by=, e.g. by=['team']",
            [Issue("or use project.explain(...), which searches every dimension", severity="hint")],
        )
    if at == "latest":
        labels = labels_of(evaluation.records, metric_id)
        if not labels:
            raise UsageError(f"`{metric_id}` has no value in this evaluation to explain")
        at = labels[-1]
    before = earlier(evaluation.records, specs[metric_id], at, vs)
    return decompose(
        evaluation.records,
        specs[metric_id],
        evaluation.by,
        before,
        at,
        specs=specs,
        name=evaluation.names.get(metric_id),
    )
