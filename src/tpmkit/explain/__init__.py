"""Why a metric moved: its change between two periods split into segment contributions
that add up (mix and rate for ratios and means, differences for counts and sums, the two
inputs of a formula `a / b`), dimensions ranked by how much their top segment explains,
and the top driver a check line or report row carries (docs/explain.md).

Pure: everything here works on an evaluation's records; `tpmkit.explaining` plans and
runs the evaluations (`Project.explain`)."""

from __future__ import annotations

from tpmkit.explain.decompose import decompose
from tpmkit.explain.drivers import DEFAULT_DIMENSIONS, DRILL, rank, top_driver
from tpmkit.explain.model import Decomposition, Driver, Explanation, Segment

__all__ = [
    "DEFAULT_DIMENSIONS",
    "DRILL",
    "Decomposition",
    "Driver",
    "Explanation",
    "Segment",
    "decompose",
    "rank",
    "top_driver",
]
