"""Orchestrate one evaluation: load the datasets the metrics need, join the roster, run the
engine, and add records for metrics that could not be computed (with the reason)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tpmkit.contract import CANONICAL, ROSTER_DIMENSIONS
from tpmkit.data.cache import CsvCache
from tpmkit.data.load import Dataset, OnBadRows, RowWindow, load_dataset
from tpmkit.data.roster import join_roster
from tpmkit.engine import kinds
from tpmkit.engine.cells import Window, bounds
from tpmkit.engine.records import Input, Request, compute_records, empty_records, formula_inputs
from tpmkit.errors import ComputeError, DefinitionError, Issue, UsageError
from tpmkit.spec.loader import MetricDef, Project
from tpmkit.spec.models import MetricSpec


@dataclass
class DatasetSummary:
    """What was read from one dataset (for output notes)."""

    name: str
    files: list[str]
    rows_read: int
    quarantined: int
    rejects_file: str | None
    latest_day: dt.date | None = None  # local date of the latest row by its time column


@dataclass
class Evaluation:
    """Records plus what the user should know about how they were made."""

    records: pl.DataFrame
    datasets: list[DatasetSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by: list[str] = field(default_factory=list)
    grain: str = "week"
    names: dict[str, str] = field(default_factory=dict)  # metric id -> display name
    cache_hits: int = 0  # CSV files read from the cache
    cache_misses: int = 0  # CSV files converted into the cache by this run


def _closure(project: Project, selected: list[MetricDef]) -> list[MetricDef]:
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


def _datasets(project: Project, metric: MetricDef) -> set[str]:
    """The datasets a metric reads, through its formula inputs."""
    return {
        str(m.spec.dataset)
        for m in _closure(project, [metric])
        if not kinds.over_metrics(m.spec.compute)
    }


def _time_column(spec: MetricSpec, project: Project) -> str:
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


def _rows_in_range(
    project: Project, metrics: list[MetricDef], date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, RowWindow]:
    """Per dataset, the --from/--to range to read rows in (predicate pushdown): only for a
    dataset whose every metric looks at its rows one period at a time — not a repeat
    window, a calibration session, a stock or a horizon, which need rows outside it."""
    if date_from is None and date_to is None:
        return {}
    start, end = bounds(Window(date_from, date_to), project.spec.timezone)
    columns: dict[str, set[str]] = {}
    whole: set[str] = set()
    for metric in metrics:
        spec = metric.spec
        if kinds.over_metrics(spec.compute) or spec.dataset is None:
            continue
        if kinds.needs_whole_dataset(spec.compute):
            whole.add(spec.dataset)
        columns.setdefault(spec.dataset, set()).add(_time_column(spec, project))
    return {
        name: RowWindow(sorted(cols), start, end)
        for name, cols in columns.items()
        if name not in whole
    }


def _columns_needed(spec: MetricSpec, project: Project) -> set[str]:
    used = kinds.columns_used(spec.compute, spec.parameters)
    used.add(_time_column(spec, project))
    for override in spec.overrides:
        used.update(override.when)
    return used


def run(
    project: Project,
    selected: list[MetricDef],
    *,
    explicit: bool,
    period: str,
    by: list[str],
    date_from: dt.date | None,
    date_to: dt.date | None,
    last: int | None,
    on_bad_rows: str,
    rejects_dir: Path | None,
    cache: CsvCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate `selected` metrics (see `tpmkit.project.evaluate`)."""
    step = progress or (lambda message: None)
    notes: list[str] = []
    sources = project.spec.sources
    if not explicit:  # a built-in metric for data the project does not have is simply not shown
        skipped = [m for m in selected if m.builtin and _datasets(project, m) - set(sources)]
        if skipped:
            missing = sorted({d for m in skipped for d in _datasets(project, m) - set(sources)})
            notes.append(
                f"{len(skipped)} built-in metric(s) not evaluated: no source for "
                f"{', '.join(missing)}"
            )
        selected = [m for m in selected if m not in skipped]
    everything = _closure(project, selected)
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
            for input_dataset in _datasets(project, metric) & set(needed):
                needed[input_dataset] |= when
    mode: OnBadRows = "quarantine" if on_bad_rows == "quarantine" else "fail"
    in_range = _rows_in_range(project, everything, date_from, date_to)
    loaded: dict[str, Dataset] = {}
    for name in sorted(needed):
        step(f"reading {name}")
        loaded[name] = load_dataset(
            name,
            sources[name],
            project.root,
            project.spec.timezone,
            needed[name] | set(by) | {"agent_id"},
            on_bad_rows=mode,
            rejects_dir=rejects_dir,
            cache=cache,
            rows_in=in_range.get(name),
        )
    frames = _join_roster(project, loaded, needed, by, mode, rejects_dir, cache)

    _check_group_columns(by, frames, loaded)
    _add_optional_columns(everything, frames, project.spec.timezone)
    grouping: dict[str, str] = {}
    for metric in everything:
        spec = metric.spec
        if spec.id in unavailable or kinds.over_metrics(spec.compute):
            continue
        columns = set(frames[str(spec.dataset)].collect_schema().names())
        absent = [c for c in by if c not in columns]
        if absent:
            grouping[spec.id] = (
                f"cannot group by {', '.join(absent)}: dataset `{spec.dataset}` has no such column"
            )
            continue
        horizon = kinds.horizon_columns(spec.compute)
        optional = set(spec.optional_columns) | (set(horizon) if columns & set(horizon) else set())
        lacking = sorted(kinds.columns_used(spec.compute, spec.parameters) - columns - optional)
        if lacking:
            dataset = loaded[str(spec.dataset)]
            unavailable[spec.id] = "; ".join(
                dataset.missing.get(c, f"column `{c}` is not in the `{spec.dataset}` export")
                for c in lacking
            )
    _formula_grouping(project, everything, grouping)
    asked = {m.id for m in selected}
    if explicit and any(m in asked for m in grouping):
        raise UsageError(
            "some metrics cannot be grouped as asked",
            [
                Issue(
                    f"{m}: {reason}",
                    hint="group by a column every input has (e.g. site), or leave this metric out",
                )
                for m, reason in grouping.items()
                if m in asked
            ],
        )
    unavailable.update(grouping)

    inputs = {name: Input(frame, loaded[name].time_column or "") for name, frame in frames.items()}
    plain_ok = [m for m in everything if m.id not in unavailable]
    shown = [m.spec for m in selected if m.id in {p.id for p in plain_ok}]
    helpers = [m.spec for m in plain_ok if m.id not in asked]
    request = Request(period, tuple(by), Window(date_from, date_to), last)
    step(f"computing {len(shown) + len(helpers)} metrics")
    try:
        records = compute_records(
            shown,
            inputs,
            request,
            project.spec.timezone,
            aliases=project.aliases,
            unavailable=unavailable,
            helpers=helpers,
        )
    except ComputeError as exc:
        raise _located(exc, project) from None
    records = _add_missing(records, selected, unavailable, by, project.spec.timezone)
    records = _add_quarantine(records, project, everything, loaded)
    summaries = [
        DatasetSummary(d.name, d.files, d.rows_read, d.quarantined, d.rejects_file, _latest_day(d))
        for d in loaded.values()
    ]
    for d in loaded.values():
        if d.deduplicated:
            notes.append(
                f"{d.deduplicated} repeated row(s) of `{d.name}` left out (dedupe: keep_last; "
                "the last copy of each id is kept)"
            )
        if d.quarantined:
            notes.append(
                f"{d.quarantined} row(s) of `{d.name}` were quarantined to "
                f"{d.rejects_file} and left out"
            )
    if cache is not None:
        notes.extend(cache.problems)
    names = {m.id: m.spec.name for m in selected}
    hits, misses = (cache.hits, cache.misses) if cache else (0, 0)
    return Evaluation(records, summaries, notes, list(by), period, names, hits, misses)


def _latest_day(dataset: Dataset) -> dt.date | None:
    column = dataset.time_column
    if not column or column not in dataset.frame.columns or dataset.frame.is_empty():
        return None
    series = dataset.frame.get_column(column)
    latest = series.max()
    if isinstance(latest, dt.datetime):
        return latest.date()  # the frame's times are in the project time zone
    return latest if isinstance(latest, dt.date) else None


def _join_roster(
    project: Project,
    loaded: dict[str, Dataset],
    needed: dict[str, set[str]],
    by: list[str],
    mode: OnBadRows,
    rejects_dir: Path | None,
    cache: CsvCache | None,
) -> dict[str, pl.LazyFrame]:
    frames = {name: d.frame.lazy() for name, d in loaded.items()}
    wants = {
        name: [
            c
            for c in (*by, *needed[name])
            if c not in loaded[name].columns and "agent_id" in loaded[name].columns
        ]
        for name in loaded
    }
    dims = sorted({c for cols in wants.values() for c in cols})
    if not dims or "agents" not in project.spec.sources:
        return frames
    roster = loaded.get("agents") or load_dataset(
        "agents",
        project.spec.sources["agents"],
        project.root,
        project.spec.timezone,
        {"agent_id", *dims, *ROSTER_DIMENSIONS},
        on_bad_rows=mode,
        rejects_dir=rejects_dir,
        cache=cache,
    )
    loaded.setdefault("agents", roster)
    for name, cols in wants.items():
        if cols and name != "agents":
            frames[name] = join_roster(frames[name], roster.frame, cols)
    return frames


def _located(error: ComputeError, project: Project) -> DefinitionError:
    """Point each failing metric at its compute block, with the data's complaint."""
    issues = []
    for metric_id, detail in error.failures.items():
        metric = project.metrics.get(metric_id)
        message = f"metric `{metric_id}` cannot be computed: {detail}"
        hint = (
            "check the column types its expressions use: a mean, sum or percentile "
            "needs numbers, a where/numerator needs a true/false condition"
        )
        if metric is None:
            issues.append(Issue(message, hint=hint))
        else:
            issues.append(metric.doc.issue((*metric.path, "compute"), message, hint=hint))
    return DefinitionError(error.message, issues)


def _add_optional_columns(
    everything: list[MetricDef], frames: dict[str, pl.LazyFrame], timezone: str
) -> None:
    """A metric's `optional_columns` that the export lacks are read as empty columns."""
    from tpmkit.data.coerce import polars_type

    for metric in everything:
        name = str(metric.spec.dataset)
        if name not in frames or not metric.spec.optional_columns:
            continue
        present = set(frames[name].collect_schema().names())
        contract = CANONICAL.get(name)
        for column in metric.spec.optional_columns:
            if column not in present:
                spec = contract.column(column) if contract else None
                dtype = polars_type(spec.type if spec else "text", timezone)
                frames[name] = frames[name].with_columns(pl.lit(None, dtype=dtype).alias(column))
                present.add(column)


def _check_group_columns(
    by: list[str], frames: dict[str, pl.LazyFrame], loaded: dict[str, Dataset]
) -> None:
    """A --by column that no dataset has is a typo, not a grouping some metrics lack."""
    if not frames:
        return
    from tpmkit.engine.records import RECORD_FIELDS

    reserved = [c for c in by if c in RECORD_FIELDS or c == "quarantined"]
    if reserved:
        raise UsageError(
            f"cannot group by `{reserved[0]}`: it is the name of an output field",
            [Issue("rename the column in the source's `columns:` mapping", severity="hint")],
        )
    known = {c for f in frames.values() for c in f.collect_schema().names()}
    known |= loaded["agents"].columns if "agents" in loaded else set()
    for column in by:
        if column not in known:
            from tpmkit.errors import did_you_mean

            hint = did_you_mean(column, sorted(known))
            raise UsageError(
                f"--by {column}: no dataset has a column `{column}`"
                + (f"; {hint}" if hint else ""),
                [Issue("columns: " + ", ".join(sorted(known)), severity="hint")],
            )


def _formula_grouping(
    project: Project, everything: list[MetricDef], grouping: dict[str, str]
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


def _add_missing(
    records: pl.DataFrame,
    selected: list[MetricDef],
    unavailable: dict[str, str],
    by: list[str],
    timezone: str,
) -> pl.DataFrame:
    """One no_data record (period `all`) for each metric that produced no cells at all."""
    present = set(records.get_column("metric").unique()) if not records.is_empty() else set()
    rows = []
    from tpmkit.engine.in_force import levels_table

    for metric in selected:
        if metric.id in present:
            continue
        reason = unavailable.get(metric.id, "no rows in the selected range")
        own = levels_table([metric.spec]).filter(pl.col("override") == -1)
        level = own.row(-1, named=True)  # the levels in force now
        rows.append(
            {
                "metric": metric.id,
                "period": "all",
                "value": None,
                "n": 0,
                "unit": metric.spec.unit,
                "direction": level["direction"],
                "status": "no_data",
                "target": level["target"],
                "target_upper": level["target_upper"],
                "warning": level["warning"],
                "warning_upper": level["warning_upper"],
                "critical": level["critical"],
                "critical_upper": level["critical_upper"],
                "definition_hash": level["definition_hash"],
                "reason": reason,
            }
        )
    if not rows:
        return records
    base = records if not records.is_empty() else empty_records(by, timezone)
    extra = pl.DataFrame(rows, schema={k: v for k, v in base.schema.items() if k in rows[0]})
    return pl.concat([base, extra], how="diagonal_relaxed").select(base.columns)


def _add_quarantine(
    records: pl.DataFrame, project: Project, everything: list[MetricDef], loaded: dict[str, Dataset]
) -> pl.DataFrame:
    """`quarantined`: rows left out of the datasets behind each record's metric."""
    by_id = {m.id: m for m in everything}

    def datasets(metric_id: str, trail: frozenset[str] = frozenset()) -> set[str]:
        spec = by_id[metric_id].spec if metric_id in by_id else project.metrics[metric_id].spec
        if not kinds.over_metrics(spec.compute):
            return {str(spec.dataset)}
        found: set[str] = set()
        for _, input_id in formula_inputs(spec, project.aliases):
            if input_id not in trail:
                found |= datasets(input_id, trail | {metric_id})
        return found

    counts = {m: sum(loaded[d].quarantined for d in datasets(m) if d in loaded) for m in by_id}
    return records.with_columns(
        pl.col("metric")
        .replace_strict(counts, default=0, return_dtype=pl.Int64)
        .alias("quarantined")
    )
