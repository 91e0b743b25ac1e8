"""An evaluation's datasets — read, mapped, typed, checked and attributed by tpmkit's own
reader — registered on the engine's backend and computed there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from tpmkit.engine.compute import Input, Request
from tpmkit.engines.backend import Backend
from tpmkit.engines.compute import TableInput, compute_records_ibis
from tpmkit.spec.models import MetricSpec

if TYPE_CHECKING:
    from tpmkit.spec.loader import Definitions


def compute_on(
    backend: Backend,
    metrics: list[MetricSpec],
    inputs: Mapping[str, Input],
    request: Request,
    project: Definitions,
    *,
    unavailable: Mapping[str, str],
    helpers: list[MetricSpec],
) -> pl.DataFrame:
    """Records of `metrics` computed on `backend` (see `compute_records_ibis`)."""
    timezone = project.spec.timezone
    tables = {
        name: TableInput(backend.upload(name, i.frame, i.time_column, timezone), i.time_column)
        for name, i in inputs.items()
    }
    return compute_records_ibis(
        metrics,
        tables,
        backend.dialect,
        request,
        timezone,
        aliases=project.aliases,
        unavailable=unavailable,
        helpers=helpers,
        local=inputs,
    )
