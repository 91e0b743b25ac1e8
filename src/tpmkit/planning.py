"""The plan of one evaluation, before and after the datasets' schemas are known: which
metrics (and formula inputs) run, which datasets and columns are read, which rows (the
start/end window pushed down to the reader), and which metrics cannot be computed and why.

Pure: it reads definitions and column names, never data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from tpmkit.contract import CANONICAL, TENURE_BAND
from tpmkit.data import RowWindow
from tpmkit.engine import kinds
from tpmkit.engine.compute import formula_inputs
from tpmkit.engine.window import Window, bounds
from tpmkit.errors import DefinitionError, Issue, UsageError
from tpmkit.records import UNGROUPABLE
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.spec.models import MetricSpec


@dataclass
class ReadPlan:
    """What one evaluation reads and computes."""

    selected: list[MetricDef]  # the metrics shown (built-ins without a source left out)
    everything: list[MetricDef]  # plus every formula input, transitively
    needed: dict[str, set[str]]  # dataset -> columns the metrics read
    rows_in: dict[str, RowWindow]  # dataset -> the time range to read (pushdown)
    unavailable: dict[str, str] = field(default_factory=dict)  # metric -> why not computed
    notes: list[str] = field(default_factory=list)


def closure(project: Definitions, selected: list[MetricDef]) -> list[MetricDef]:
    """The selected metrics plus every metric their formulas need (transitively)."""
    seen = {m.id: m for m in selected}
    queue = list(selected)
    while queue:
        metric = queue.pop()
        if kinds.over_metrics(metric.spec.compute):
            for _, input_id in formula_inputs(metric.spec, project.aliases):
                if input_id not in seen:
                    seen[input_id] = project.metrics[input_id]
                    queue.append(project.metrics[input_id])
    return list(seen.values())


def datasets_of(project: Definitions, metric: MetricDef) -> set[str]:
    """The datasets a metric reads, through its formula inputs."""
    return {
        str(m.spec.dataset)
        for m in closure(project, [metric])
        if not kinds.over_metrics(m.spec.compute)
    }


def time_column(spec: MetricSpec, project: Definitions) -> str:
    """The column that places a metric's rows in periods."""
    source = project.spec.sources.get(spec.dataset or "")
    contract = CANONICAL.get(spec.dataset or "")
    column = (
        spec.time_column
        or (source.time_column if source else None)
        or (contract.time_column if contract else None)
    )
    if column is None:
        raise DefinitionError(
            f"metric `{spec.id}`: dataset `{spec.dataset}` has no time column",
            [
                Issue(
                    "cannot assign rows to periods",
                    hint=f"add `time_column:` to sources.{spec.dataset} or to the metric",
                )
            ],
        )
    return column


def rows_in_range(
    project: Definitions, metrics: list[MetricDef], start: dt.date | None, end: dt.date | None
) -> dict[str, RowWindow]:
    """Per dataset, the start/end range to read rows in (predicate pushdown): only for a
    dataset whose every metric looks at its rows one period at a time — not a repeat
    window, a calibration session, a stock or a horizon, which need rows outside it."""
    if start is None and end is None:
        return {}
    first, last = bounds(Window(start, end), project.spec.timezone)
    columns: dict[str, set[str]] = {}
    whole: set[str] = set()
    for metric in metrics:
        spec = metric.spec
        if kinds.over_metrics(spec.compute) or spec.dataset is None:
            continue
        if kinds.needs_whole_dataset(spec.compute):
            whole.add(spec.dataset)
        columns.setdefault(spec.dataset, set()).add(time_column(spec, project))
    return {
        name: RowWindow(sorted(cols), first, last)
        for name, cols in columns.items()
        if name not in whole
    }


def _columns_needed(spec: MetricSpec, project: Definitions) -> set[str]:
    return {*kinds.metric_columns(spec), time_column(spec, project)}


def plan_reads(
    project: Definitions,
    selected: list[MetricDef],
    *,
    explicit: bool,
    sources: set[str],
    start: dt.date | None,
    end: dt.date | None,
) -> ReadPlan:
    """Which metrics run and what they read; `sources` are the datasets that have data."""
    notes: list[str] = []
    if not explicit:  # a metric for data the project does not have is not configured: a
        # note says so once, and it is neither shown nor judged
        skipped = [m for m in selected if datasets_of(project, m) - sources]
        if skipped:
            missing = sorted({d for m in skipped for d in datasets_of(project, m) - sources})
            notes.append(
                f"{len(skipped)} metric(s) not configured, not evaluated: no source for "
                f"{', '.join(missing)}"
            )
        selected = [m for m in selected if m not in skipped]
    everything = closure(project, selected)
    unavailable: dict[str, str] = {}
    needed: dict[str, set[str]] = {}
    for metric in everything:
        spec = metric.spec
        if kinds.over_metrics(spec.compute):
            continue
        if spec.dataset not in sources:
            unavailable[spec.id] = f"no source configured for dataset `{spec.dataset}`"
            continue
        needed.setdefault(str(spec.dataset), set()).update(_columns_needed(spec, project))
    for metric in everything:  # a formula's override segments are judged on its inputs' rows
        if kinds.over_metrics(metric.spec.compute) and metric.spec.overrides:
            when = {c for o in metric.spec.overrides for c in o.when}
            for input_dataset in datasets_of(project, metric) & set(needed):
                needed[input_dataset] |= when
    in_range = rows_in_range(project, everything, start, end)
    return ReadPlan(selected, everything, needed, in_range, unavailable, notes)


def plan_compute(
    project: Definitions,
    plan: ReadPlan,
    *,
    explicit: bool,
    by: list[str],
    schemas: Mapping[str, set[str]],
    missing: Mapping[str, Mapping[str, str]],
) -> dict[str, str]:
    """Every metric that cannot be computed and why, once the datasets' columns (`schemas`,
    and why an optional column is `missing`) are known; a grouping some asked-for metric
    cannot have is a UsageError when the metrics were named."""
    unavailable = dict(plan.unavailable)
    grouping: dict[str, str] = {}
    refused: set[str] = set()
    for metric in plan.everything:
        spec = metric.spec
        if spec.id in unavailable or kinds.over_metrics(spec.compute):
            continue
        columns = schemas[str(spec.dataset)]
        reasons = [r for r in (kinds.not_grouped_by(spec.compute, c) for c in by) if r]
        if reasons:  # the kind's own reason: another column would not help
            grouping[spec.id] = f"{UNGROUPABLE} {'; '.join(reasons)}"
            refused.add(spec.id)
            continue
        absent = [c for c in by if c not in columns | kinds.own_dimensions(spec.compute)]
        if absent:
            grouping[spec.id] = (
                f"{UNGROUPABLE} {', '.join(absent)}: dataset `{spec.dataset}` has no such column"
            )
            continue
        horizon = kinds.horizon_columns(spec.compute)
        optional = set(spec.optional_columns) | (set(horizon) if columns & set(horizon) else set())
        lacking = sorted(kinds.columns_used(spec.compute, spec.parameters) - columns - optional)
        if lacking:
            why = missing.get(str(spec.dataset), {})
            unavailable[spec.id] = "; ".join(
                why.get(c, f"column `{c}` is not in the `{spec.dataset}` export") for c in lacking
            )
    _formula_grouping(project, plan.everything, grouping)
    asked = {m.id for m in plan.selected}
    if explicit and any(m in asked for m in grouping):
        raise UsageError(
            "some metrics cannot be grouped as asked",
            [
                Issue(
                    f"{m}: {reason}",
                    hint="leave this metric out"
                    if m in refused
                    else "group by a column every input has (e.g. site), or leave this metric out",
                )
                for m, reason in grouping.items()
                if m in asked
            ],
        )
    unavailable.update(grouping)
    return unavailable


def unconfigured(
    project: Definitions, plan: ReadPlan, unavailable: Mapping[str, str]
) -> dict[str, str]:
    """The selected metrics that are not configured — their dataset has no source, or the
    export lacks a column they need (directly or through a formula input) — with why; a
    grouping the data cannot have is not a matter of configuration and is left out."""
    lacking = {m: why for m, why in unavailable.items() if UNGROUPABLE not in why}
    found: dict[str, str] = {}
    for metric in plan.selected:
        inputs = [m.id for m in closure(project, [metric]) if m.id in lacking]
        if inputs:
            found[metric.id] = "; ".join(
                lacking[i] if i == metric.id else f"input `{i}`: {lacking[i]}" for i in inputs
            )
    return found


def unconfigured_note(found: Mapping[str, str]) -> str:
    """The one line that names the metrics not configured, and why."""
    listed = "; ".join(f"{m} ({why})" for m, why in sorted(found.items()))
    return f"{len(found)} metric(s) not configured, not evaluated: {listed}"


def _formula_grouping(
    project: Definitions, everything: list[MetricDef], grouping: dict[str, str]
) -> None:
    """A formula inherits its inputs' grouping problems, named after the input."""
    changed = True
    while changed:
        changed = False
        for metric in everything:
            if metric.id in grouping or not kinds.over_metrics(metric.spec.compute):
                continue
            for _, input_id in formula_inputs(metric.spec, project.aliases):
                if input_id in grouping:
                    grouping[metric.id] = (
                        f"input `{input_id}`: {grouping[input_id]} "
                        f"(grouping must be shared by every input)"
                    )
                    changed = True
                    break


def made_dimensions(metrics: list[MetricDef], datasets: set[str]) -> set[str]:
    """The grouping columns the metrics' kinds make themselves over the datasets read (the
    roster's tenure band), which no dataset has."""
    made = (kinds.own_dimensions(m.spec.compute) for m in metrics if m.spec.dataset in datasets)
    return set().union(*made)


def check_group_columns(by: list[str], known: set[str]) -> None:
    """A grouping column that no dataset has is a typo, not a grouping some metrics lack."""
    from tpmkit.errors import NoSuchColumn, did_you_mean
    from tpmkit.records import RECORD_FIELDS

    reserved = [c for c in by if c in RECORD_FIELDS or c == "quarantined"]
    if reserved:
        raise UsageError(
            f"cannot group by `{reserved[0]}`: it is the name of an output field",
            [Issue("rename the column in the source's `columns:` mapping", severity="hint")],
        )
    for column in by:
        if column not in known:
            # the tenure band is made from the roster's hire date, not read: suggest it too
            hint = did_you_mean(column, sorted(known | {TENURE_BAND}))
            raise NoSuchColumn(
                f"by {column}: no dataset these metrics read has a column `{column}`"
                + (f"; {hint}" if hint else ""),
                [Issue("columns: " + ", ".join(sorted(known)), severity="hint")],
                column=column,
            )
