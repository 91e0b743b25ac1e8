"""Records on an Ibis backend: the same metrics, requests and records as
`tpmkit.engine.compute.compute_records`, with every pass over a dataset and every stock
computed on the backend, and formulas, periods, levels, statuses and trends finished on
the client by the polars engine's own code (judging stays in Python)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from tpmkit.engine.compute import (
    Input,
    Request,
    _group_plain,
    combine_formulas,
    local_cells,
    segment_flags,
)
from tpmkit.engine.kinds import kind_of
from tpmkit.engines.deferred import DeferredChecks
from tpmkit.engines.dialect import Dialect
from tpmkit.engines.early import EarlyFinish
from tpmkit.engines.passes import pass_meta, run_pass
from tpmkit.engines.queries import Runner
from tpmkit.engines.stock import stock_cells
from tpmkit.errors import ComputeError, first_line
from tpmkit.records import empty_records
from tpmkit.spec.computes import OpenAtEndCompute, ProficiencyCompute
from tpmkit.spec.expressions import ExpressionError
from tpmkit.spec.models import MetricSpec

__all__ = ["TableInput", "compute_records_ibis"]

# how the backends refuse what a metric asks of the data (an expression of a type the
# operation cannot take, a value that does not convert): by class name, as each backend's
# package is optional. Other errors (a lost connection, a bug) are not a metric's.
_REFUSALS = {
    "IbisTypeError",  # Ibis, building the query
    "ConversionException",  # DuckDB: a value that does not convert
    "BinderException",  # DuckDB: no operator or function for these types
    "AnalysisException",  # Spark: a data type mismatch
    "NumberFormatException",  # Spark (ANSI mode): a text that is no number
    "DatatypeMismatch",  # PostgreSQL
    "InvalidTextRepresentation",  # PostgreSQL: a text that is no number
    "UndefinedFunction",  # PostgreSQL: no operator for these types
}


@dataclass
class TableInput:
    """A dataset as a backend table (its time column an instant, TIMESTAMPTZ): `make`
    makes its Ibis table, on first use (a compiled query needs none), `columns` are its
    columns."""

    make: Callable[[], Any]
    time_column: str
    columns: set[str]
    made: Any = field(default=None, repr=False)

    def table(self) -> Any:
        """The Ibis table (made once)."""
        if self.made is None:
            self.made = self.make()
        return self.made


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
    runner: Runner | None = None,
    checks: DeferredChecks | None = None,
) -> pl.DataFrame:
    """Records for `metrics` computed on the backend of `inputs` (see module doc); `local`:
    the same datasets as polars frames, for the kinds with no Ibis plan; `runner`: how the
    queries run (default: through Ibis; `CompiledRunner`: compiled SQL on DuckDB);
    `checks`: the tables' deferred rule flags, which a pass over each looks at (those it
    could not, the caller's to look at: `DeferredChecks.rest`)."""
    aliases = aliases or {}
    unavailable = dict(unavailable or {})
    by = list(request.by)
    everything = [*metrics, *(helpers or [])]
    groups = _group_plain(everything, inputs)  # type: ignore[arg-type]  # only .time_column
    segments = segment_flags(everything, aliases, by)
    cells: dict[str, pl.DataFrame] = {}
    failures: dict[str, str] = {}
    runner = runner or Runner()

    def gather() -> None:
        """Every pass's and stock's cells into `cells` (a pass the backend cannot do: into
        `failures`), each pass's records started early."""
        passes = list(enumerate(groups.items()))
        # the passes over the dataset with the most rows first (the long queries), then the
        # records of their metrics are finished while the short ones run
        # (`tpmkit.engines.early`); each pass keeps its name, and its compiled SQL
        rows = {n: i.rows or 0 for n, i in (local or {}).items()}
        largest = max((rows.get(key[0], 0) for _, (key, _) in passes), default=0)
        heavy = [p for p in passes if largest and rows.get(p[1][0][0], 0) == largest]
        passes = [*heavy, *(p for p in passes if p not in heavy)]
        runner.ahead([f"pass {index}" for index, _ in passes])
        failed: dict[int, dict[str, str]] = {}
        whole = request.window.start is None and request.window.end is None
        carriers = (  # the pass that aggregates a dataset's deferred rule flags
            checks.carriers(
                {index: key for index, (key, _) in passes},
                {n: i.time_column for n, i in inputs.items()},
            )
            if checks is not None and whole
            else {}
        )
        for step, (index, ((dataset, time_column, _), group)) in enumerate(passes):
            source = inputs[dataset]
            censor = getattr(group[0].compute, "censor", None)
            meta = pass_meta(group, time_column, unavailable, segments, source.columns)
            carry = checks.column(dataset) if checks is not None and index in carriers else None

            def build(
                only: list[MetricSpec] | None = None,
                source: TableInput = source,
                group: list[MetricSpec] = group,
                time_column: str = time_column,
                censor: Any = censor,
                carry: str | None = carry,
            ) -> Any:
                from tpmkit.engines.cells import plan_pass

                planned = plan_pass(
                    source.table(),
                    dialect,
                    group if only is None else only,
                    time_column,
                    request.grain,
                    by,
                    timezone,
                    request.window,
                    unavailable,
                    segments,
                    censor,
                    carry if only is None else None,
                )
                return planned.query, planned.aliases

            def carried(flagged: bool, seen: int, dataset: str = dataset) -> None:
                if checks is not None and dataset in checks.checks:
                    checks.verify(dataset, flagged, seen)

            try:
                name = f"pass {index}"
                grain = request.grain
                frame = run_pass(
                    runner, name, build, meta, group, grain, by, timezone, unavailable, carried
                )
            except (LookupError, NotImplementedError, ExpressionError) as exc:
                # a kind, function or percentile the backend cannot do: named, located later
                failed[index] = {s.id: str(exc) for s in group}
                continue
            except Exception as exc:
                if not refused(exc):
                    raise
                # what a metric asks of the data the backend refuses (a where of text, a
                # mean of text): which metric, found by running each alone
                runner.stop()
                failed[index] = _culprits(group, exc, build)
                continue
            parts = frame.partition_by("metric", as_dict=True)
            for spec in group:
                cells[spec.id] = parts.get((spec.id,), frame.clear())
            if step + 1 >= len(heavy):
                early.offer(cells)
        for index in sorted(failed):  # in the passes' own order, as they are named
            failures.update(failed[index])
        early.offer(cells)
        for spec in everything:
            kind = kind_of(spec.compute)
            if kind.plan != "cells" or spec.id in unavailable:
                continue
            try:
                own_cells(spec)
            except Exception as exc:
                if not refused(exc):
                    raise
                runner.stop()
                failures[spec.id] = first_line(exc)

    def own_cells(spec: MetricSpec) -> None:
        """The cells of a kind that computes its own (a stock, time to proficiency, the
        roster's counts) into `cells`."""
        if isinstance(spec.compute, ProficiencyCompute) and spec.dataset in inputs:
            # the weekly sums over the contacts on the backend, the cohorts on the client,
            # where the backend table has the roster's hire date and team (a table checked
            # in the database and attributed there, or a dataset uploaded from polars)
            from tpmkit.engines.proficiency import proficiency_cells_ibis, readable

            source = inputs[str(spec.dataset)]
            if readable(source.columns, spec, by):
                cells[spec.id] = proficiency_cells_ibis(
                    runner,
                    f"proficiency {spec.id}",
                    source.table,
                    dialect,
                    spec,
                    request.grain,
                    by,
                    timezone,
                    request.window,
                )
                return
        if not isinstance(spec.compute, OpenAtEndCompute):
            if local is not None and spec.dataset in local:
                # a kind with no Ibis plan (the roster's headcount and attrition) computes
                # its cells with polars from the rows tpmkit read: small roster tables, the
                # same records as the polars engine (and time to proficiency over a Parquet
                # view, which lacks the roster's columns: polars reads the same files)
                cells[spec.id] = local_cells(spec, local, request, timezone)
            return
        if spec.dataset in inputs:
            source = inputs[str(spec.dataset)]
            cells[spec.id] = stock_cells(
                runner,
                f"stock {spec.id}",
                source.table,
                source.columns,
                dialect,
                spec,
                request.grain,
                by,
                timezone,
                request.window,
            )

    # the records of the metrics whose cells are in are finished while later queries run
    early = EarlyFinish(metrics, request, timezone, unavailable)
    try:
        try:
            gather()
        finally:
            runner.stop()
        if failures:
            raise ComputeError(failures)
        combine_formulas(cells, everything, by, aliases, unavailable)
        if not any(s.id in cells for s in metrics):
            return empty_records(by, timezone)
        return early.records(cells, unavailable)
    finally:
        early.close()  # on every way out: no part left finishing


def refused(exc: BaseException) -> bool:
    """Whether `exc` is a backend refusing what a metric asks of the data (`_REFUSALS`)."""
    return any(c.__name__ in _REFUSALS for c in type(exc).__mro__)


def _culprits(
    group: list[MetricSpec], error: BaseException, build: Callable[..., Any]
) -> dict[str, str]:
    """The metrics of a failed pass that fail alone (each built and run through Ibis),
    with their complaint; every metric of the pass when none does alone."""
    from tpmkit.engines.results import collect

    found: dict[str, str] = {}
    for spec in group:
        try:
            collect(build([spec])[0])
        except Exception as exc:
            if not refused(exc):
                raise
            found[spec.id] = first_line(exc)
    return found or {s.id: first_line(error) for s in group}
