"""Why a metric moved: its change between two periods split into segment contributions
that add up (mix and rate for ratios and means, differences for counts and sums, the two
inputs of a formula `a / b`), dimensions ranked by how much their top segment explains,
and the top driver a check line or report row carries (docs/explain.md).

Pure: everything here works on an evaluation's records; `tpmkit.explaining` plans and
runs the evaluations (`Project.explain`). The names below are imported on first use (as
the root package's), so that `Evaluation.explain` reaches the arithmetic without the
words, which use the renderers' number formats."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "decompose": "tpmkit.explain.decompose",
    "explain_evaluation": "tpmkit.explain.evaluation",
    "DEFAULT_DIMENSIONS": "tpmkit.explain.drivers",
    "DRILL": "tpmkit.explain.drivers",
    "driver": "tpmkit.explain.drivers",
    "rank": "tpmkit.explain.drivers",
    "top_driver": "tpmkit.explain.drivers",
    "Decomposition": "tpmkit.explain.model",
    "Driver": "tpmkit.explain.model",
    "Explanation": "tpmkit.explain.model",
    "Segment": "tpmkit.explain.model",
    "summary": "tpmkit.explain.words",
    "verdict": "tpmkit.explain.words",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tpmkit.explain' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
