"""Records on an Ibis backend: the same metrics, requests and records as
`tpmkit.engine.compute.compute_records`, with every pass over a dataset and every stock
computed on the backend, and formulas, periods, levels, statuses and trends finished on
the client by the polars engine's own code (judging stays in Python)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis.expr.types as ir
import polars as pl

from tpmkit.engine.compute import (
    Input,
    Request,
    _group_plain,
    local_cells,
    records_from_cells,
    segment_flags,
)
from tpmkit.engine.kinds import kind_of
from tpmkit.engines.cells import aggregate
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.stock import stock_cells
from tpmkit.errors import ComputeError
from tpmkit.spec.computes import OpenAtEndCompute, ProficiencyCompute
from tpmkit.spec.expressions import ExpressionError
from tpmkit.spec.models import MetricSpec

__all__ = ["TableInput", "compute_records_ibis"]


@dataclass(frozen=True)
class TableInput:
    """A dataset as a backend table (its time column an instant, TIMESTAMPTZ); `cohorts`:
    the table with the roster's hire date and team joined, when `table` (a Parquet view)
    has them not (for `time_to_proficiency`)."""

    table: ir.Table
    time_column: str
    cohorts: ir.Table | None = None


def compute_records_ibis(
    metrics: list[MetricSpec],
    inputs: Mapping[str, TableInput],
    dialect: Dialect,
    request: Request,
    timezone: str,
    *,
    aliases: Mapping[str, str] | None = None,
    unavailable: Mapping[str, str] | None = None,
    helpers: list[MetricSpec] | None = None,
    local: Mapping[str, Input] | None = None,
) -> pl.DataFrame:
    """Records for `metrics` computed on the backend of `inputs` (see module doc); `local`:
    the same datasets as polars frames, for the kinds with no Ibis plan."""
    aliases = aliases or {}
    unavailable = dict(unavailable or {})
    by = list(request.by)
    everything = [*metrics, *(helpers or [])]
    groups = _group_plain(everything, inputs)  # type: ignore[arg-type]  # only .time_column
    segments = segment_flags(everything, aliases, by)
    cells: dict[str, pl.DataFrame] = {}
    failures: dict[str, str] = {}
    for (dataset, time_column, _), group in groups.items():
        source = inputs[dataset]
        censor = getattr(group[0].compute, "censor", None)
        try:
            frame = aggregate(
                source.table,
                dialect,
                group,
                time_column,
                request.grain,
                by,
                timezone,
                request.window,
                unavailable,
                segments,
                censor,
            )
        except (LookupError, NotImplementedError, ExpressionError) as exc:
            # a kind, function or percentile the backend cannot do: named, located later
            failures.update({s.id: str(exc) for s in group})
            continue
        parts = frame.partition_by("metric", as_dict=True)
        for spec in group:
            cells[spec.id] = parts.get((spec.id,), frame.clear())
    for spec in everything:
        kind = kind_of(spec.compute)
        if kind.plan != "cells" or spec.id in unavailable:
            continue
        if isinstance(spec.compute, ProficiencyCompute) and spec.dataset in inputs:
            # the weekly means over the contacts on the backend, the cohorts on the client
            from tpmkit.engines.kinds.proficiency import proficiency_cells_ibis, readable

            source = inputs[str(spec.dataset)]
            table = source.cohorts if source.cohorts is not None else source.table
            if readable(table, spec, by):
                cells[spec.id] = proficiency_cells_ibis(
                    table, dialect, spec, request.grain, by, timezone, request.window
                )
                continue
        if not isinstance(spec.compute, OpenAtEndCompute):
            if local is not None and spec.dataset in local:
                # a kind with no Ibis plan (the roster's headcount and attrition) computes
                # its cells with polars from the rows tpmkit read: small roster tables, the
                # same records as the polars engine (and time to proficiency where the
                # backend table lacks the roster's columns)
                cells[spec.id] = local_cells(spec, local, request, timezone)
            continue
        if spec.dataset in inputs:
            source = inputs[str(spec.dataset)]
            cells[spec.id] = stock_cells(
                source.table, dialect, spec, request.grain, by, timezone, request.window
            )
    if failures:
        raise ComputeError(failures)
    return records_from_cells(cells, metrics, everything, request, timezone, aliases, unavailable)
