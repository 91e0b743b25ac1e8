"""Execute one evaluation: load the datasets its plan names, attribute dimensions, run the
engine, and add records for metrics that could not be computed (with the reason). The plan
itself is `planning.py`; the result type is `records.py`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit import increment
from tpmkit.contract import (
    ATTRIBUTION,
    CANONICAL,
    QUEUE_DIMENSIONS,
    ROSTER_DIMENSIONS,
    TENURE_BAND,
)
from tpmkit.data import Dataset, OnBadRows, RowWindow, load_dataset
from tpmkit.data.attribution import attribute
from tpmkit.data.cache import CsvCache
from tpmkit.data.stream import UNCHECKED
from tpmkit.engine.compute import Input, Request, UncheckedRows, compute_records
from tpmkit.engine.tenure import tenure_band
from tpmkit.engine.window import Window
from tpmkit.errors import ComputeError, DefinitionError, Issue
from tpmkit.planning import (
    ReadPlan,
    check_group_columns,
    datasets_of,
    made_dimensions,
    plan_compute,
    plan_reads,
    unconfigured,
    unconfigured_note,
)
from tpmkit.records import UNGROUPABLE, DatasetSummary, Evaluation, empty_records
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.stitched import Stitched
from tpmkit.vocabulary import Status

__all__ = ["Loads", "run"]

# Datasets already read in this session, by what was asked of the reader: several
# evaluations of one report that read the same columns read the files once.
Loads = dict[tuple[Any, ...], Dataset]


def run(
    project: Definitions,
    selected: list[MetricDef],
    *,
    explicit: bool,
    period: str,
    by: list[str],
    start: dt.date | None,
    end: dt.date | None,
    last: int | None,
    on_bad_rows: str,
    rejects_dir: Path | None,
    cache: CsvCache | None = None,
    progress: Callable[[str], None] | None = None,
    data: Mapping[str, Any] | None = None,
    loads: Loads | None = None,
    backend: Any = None,
) -> Evaluation:
    """Evaluate `selected` metrics (see `tpmkit.project.Project.evaluate`); `backend` (a
    `tpmkit.engines.backend.Backend`): compute on that Ibis backend instead of polars."""
    arguments = dict(
        explicit=explicit,
        period=period,
        by=by,
        start=start,
        end=end,
        last=last,
        on_bad_rows=on_bad_rows,
        rejects_dir=rejects_dir,
        cache=cache,
        progress=progress,
        data=data,
        loads=loads,
        backend=backend,
    )
    try:
        return _run(project, selected, defer_checks=True, **arguments)
    except UncheckedRows:  # a deferred rule flag was up: check those rows the whole way
        return _run(project, selected, defer_checks=False, **arguments)


def _run(
    project: Definitions,
    selected: list[MetricDef],
    *,
    explicit: bool,
    period: str,
    by: list[str],
    start: dt.date | None,
    end: dt.date | None,
    last: int | None,
    on_bad_rows: str,
    rejects_dir: Path | None,
    cache: CsvCache | None,
    progress: Callable[[str], None] | None,
    data: Mapping[str, Any] | None,
    loads: Loads | None,
    backend: Any,
    defer_checks: bool,
) -> Evaluation:
    """`run`; `defer_checks`: a dataset's rule flags may be left to its first metric pass
    (polars, a whole run with no selected range: `data.load_dataset(defer_check=True)`),
    which raises `UncheckedRows` when one is up."""
    step = progress or (lambda message: None)
    data = data or {}
    loads = {} if loads is None else loads
    sources = project.spec.sources
    plan = plan_reads(
        project, selected, explicit=explicit, sources={*sources, *data}, start=start, end=end
    )
    notes = list(plan.notes)
    selected, everything = plan.selected, plan.everything
    mode: OnBadRows = "quarantine" if on_bad_rows == "quarantine" else "fail"
    session = (  # an incremental run: some periods from the records cache (tpmkit.increment)
        increment.begin(
            cache,
            project,
            plan,
            by=by,
            period=period,
            eligible=backend is None and not data and mode == "fail" and not (start or end),
            step=step,
        )
        if cache is not None
        else None
    )

    # the rule flags left to the passes: a whole run (the passes see every row), in the
    # polars reader's rows or in the views DuckDB reads (`data.in_duckdb`)
    deferring = defer_checks and session is None and not (start or end)
    lookups = {lookup for lookup, _ in ATTRIBUTION}  # joined to others: no flags column

    def read(
        name: str,
        columns: set[str],
        rows_in: RowWindow | None = None,
        paths: list[Path] | None = None,
        defer: bool = False,
    ) -> Dataset:
        window = (tuple(rows_in.columns), rows_in.start, rows_in.end) if rows_in else None
        key = (name, frozenset(columns), window, mode, rejects_dir, tuple(paths or ()), defer)
        if key not in loads:
            step(f"reading {name}")
            in_engine = backend.duckdb() if backend is not None and name not in data else None
            if in_engine is not None and rows_in is None:  # Parquet read and checked by DuckDB
                from tpmkit.data.in_duckdb import read_in_duckdb

                tz = project.spec.timezone
                found = read_in_duckdb(
                    in_engine, name, sources.get(name), project.root, tz, columns, defer
                )
                if found is not None:
                    loads[key] = found
                    return found
            elif backend is not None:  # a table checked where it is
                from tpmkit.data.in_tables import read_in_engine

                tz = project.spec.timezone
                table = read_in_engine(backend, name, sources.get(name), data, tz, columns, rows_in)
                if table is not None:
                    loads[key] = table
                    return table
            # an in-memory frame goes through the same mapping, coercion and rules as a file
            given = {"frame": data[name]} if name in data else {}
            loads[key] = load_dataset(
                name,
                sources.get(name),  # None: the frame alone
                project.root,
                project.spec.timezone,
                columns,
                on_bad_rows=mode,
                rejects_dir=rejects_dir,
                cache=cache,
                rows_in=rows_in,
                paths=paths,
                defer_check=defer and backend is None,
                **given,
            )
        return loads[key]

    given = {lookup for lookup, _ in ATTRIBUTION if lookup in sources or lookup in data}
    loaded = {
        name: read(
            name,
            plan.needed[name] | set(by) | _keys(name, plan, by, given),
            plan.rows_in.get(name),
            session.paths(name) if session else None,
            deferring and name not in lookups and name not in data,
        )
        for name in sorted(plan.needed)
    }
    attributed: dict[str, Any] = {}  # how: for the tables checked in the engine
    frames = _attribute(loaded, plan.needed, by, read, given, attributed)
    if frames:
        known = {c for f in frames.values() for c in f.collect_schema().names()}
        known |= loaded["agents"].columns if "agents" in loaded else set()
        check_group_columns(by, known | made_dimensions(everything, set(frames)))
    notes.extend(_add_optional_columns(everything, frames, project.spec.timezone))
    lean = (  # the polars engine's passes only
        _lean_frames(loaded, frames, attributed, everything, project.spec.timezone)
        if backend is None
        else {}
    )
    unavailable = plan_compute(
        project,
        plan,
        explicit=explicit,
        by=by,
        schemas={name: set(f.collect_schema().names()) for name, f in frames.items()},
        missing={name: d.missing for name, d in loaded.items()},
    )
    if not explicit:  # not configured: named once in a note, neither shown nor judged
        missing_parts = unconfigured(project, plan, unavailable)
        if missing_parts:
            notes.append(unconfigured_note(missing_parts))
            selected = [m for m in selected if m.id not in missing_parts]
        # not splittable as asked: each has one record saying why, which a summary table
        # does not show; said once here
        ungrouped = [m.id for m in selected if UNGROUPABLE in unavailable.get(m.id, "")]
        if ungrouped:
            notes.append(
                f"not grouped by {', '.join(by)} (their data cannot be split that way; "
                f"each record says why): {', '.join(ungrouped)}"
            )
    inputs = {
        name: Input(
            frame,
            loaded[name].time_column or "",
            _span(loaded[name]),
            loaded[name].rows_read,
            lean=lean[name][0] if name in lean else None,
            looked_up=lean[name][1] if name in lean else frozenset(),
            check=(UNCHECKED, loaded[name].rows_read) if loaded[name].unchecked else None,
        )
        for name, frame in frames.items()
    }
    asked = {m.id for m in selected}
    plain_ok = [m for m in everything if m.id not in unavailable]
    shown = [m.spec for m in selected if m.id in {p.id for p in plain_ok}]
    helpers = [m.spec for m in plain_ok if m.id not in asked]
    spans = _annotation_spans(project)
    request = Request(period, tuple(by), Window(start, end), last, spans)
    step(f"computing {len(shown) + len(helpers)} metrics")
    try:
        if session is not None:

            def whole(
                names: set[str], every: bool, paths: Mapping[str, list[Path]] | None
            ) -> dict[str, Input]:  # all files (`paths`: these)
                needed = increment.whole_columns(project, plan, session, names, every)
                full = {
                    n: read(
                        n,
                        needed[n] | set(by) | _keys(n, plan, by, given),
                        None,
                        paths.get(n) if paths else None,
                    )
                    for n in names
                }
                frames = _attribute(full, needed, by, read, given)
                _add_optional_columns(everything, frames, project.spec.timezone)
                return {n: Input(f, full[n].time_column or "") for n, f in frames.items()}

            records = increment.compute(
                session,
                shown,
                [*shown, *helpers],
                inputs,
                whole,
                request,
                project.spec.timezone,
                project.aliases,
                unavailable,
            )
        elif backend is None:
            records = compute_records(
                shown,
                inputs,
                request,
                project.spec.timezone,
                aliases=project.aliases,
                unavailable=unavailable,
                helpers=helpers,
            )
        else:
            from tpmkit.data.backend_attribution import on_backend
            from tpmkit.data.in_duckdb import CheckedParquet
            from tpmkit.engines.evaluate import compute_on

            views = {
                name: (d.view, d.columns)
                for name, d in loaded.items()
                if isinstance(d, CheckedParquet)
            }
            # tables checked in the database, and the lookups joined there
            ready = on_backend(backend, loaded, frames, attributed, project.spec.timezone)
            records = compute_on(
                backend,
                shown,
                inputs,
                request,
                project,
                unavailable=unavailable,
                helpers=helpers,
                views=views,
                ready=ready,
            )
    except ComputeError as exc:
        raise _located(exc, project) from None
    records = _add_missing(records, selected, unavailable, by, project.spec.timezone)
    records = _add_quarantine(records, project, everything, loaded)
    summaries = [(session and session.summary(d.name)) or _summary(d) for d in loaded.values()]
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
    return Evaluation(
        records,  # type: ignore[arg-type]  # a Stitched is read on first use (records._Held)
        summaries,
        notes,
        list(by),
        period,
        names,
        hits,
        misses,
        {m.id: m.spec for m in selected},
        project.spec.timezone,
        spans,
        dict(unavailable),
    )


def _summary(dataset: Dataset) -> DatasetSummary:
    latest, daily = dataset.day_counts
    return DatasetSummary(
        dataset.name,
        dataset.files,
        dataset.rows_read,
        dataset.quarantined,
        dataset.rejects_file,
        _latest_day(dataset),
        dataset.time_column,
        latest,
        daily,
    )


def _annotation_spans(project: Definitions) -> pl.DataFrame | None:
    """The project's annotations as spans for the engine (None when it has none); a note
    on an alias applies to the metric it names."""
    from tpmkit.annotations import read, spans

    notes = read(project, {*project.metrics, *project.aliases})
    if not notes:
        return None
    notes = [
        n.model_copy(update={"metric": project.aliases.get(n.metric, n.metric)}) if n.metric else n
        for n in notes
    ]
    return spans(notes, project.spec.timezone)


def _latest_day(dataset: Dataset) -> dt.date | None:
    latest = dataset.day_counts[0]  # the time column's latest value (None: none)
    if isinstance(latest, dt.datetime):
        return latest.date()
    return latest if isinstance(latest, dt.date) else None


def _span(dataset: Dataset) -> tuple[dt.date, dt.date] | None:
    """The first and last local day of a dataset's rows, from the day counts the load
    already made (None: no time column, or no rows)."""
    days = dataset.day_counts[1]
    return (min(days), max(days)) if days else None


def _attribute(
    loaded: dict[str, Dataset],
    needed: dict[str, set[str]],
    by: list[str],
    read: Callable[[str, set[str]], Dataset],
    given: set[str],
    how: dict[str, Any] | None = None,
) -> dict[str, pl.LazyFrame]:
    """Each dataset's frame with the dimensions it is grouped or filtered by attributed:
    its own column, then the roster (agent_id), then the queues (queue); a lookup dataset
    is read only when some dataset with its key needs a column it can supply. `how`
    receives the dimensions asked of each dataset and the lookups, for an engine that
    attributes on its backend (`tpmkit.data.backend_attribution`)."""
    frames = {name: d.rows for name, d in loaded.items()}
    wants = {name: _dimensions(name, [*by, *needed[name]], loaded[name].columns) for name in loaded}
    tables: list[tuple[str, pl.DataFrame]] = []
    for lookup, key in ATTRIBUTION:
        asked = {
            c
            for name, cols in wants.items()
            if name != lookup and key in loaded[name].columns
            for c in cols
        }
        if lookup == "queues" and "agents" in loaded:  # what the roster has is not the queue's
            asked = {c for c in asked if c in QUEUE_DIMENSIONS or c not in loaded["agents"].columns}
        if not asked or lookup not in given:
            continue
        extra = ROSTER_DIMENSIONS if lookup == "agents" else QUEUE_DIMENSIONS
        table = loaded.get(lookup) or read(lookup, {key, *asked, *extra})
        loaded.setdefault(lookup, table)
        tables.append((key, table.frame))
    if how is not None:
        how.update(wants={n: _with_hire(c) for n, c in wants.items()}, tables=tables)
    for name, cols in wants.items():
        if cols and tables and name not in {lookup for lookup, _ in ATTRIBUTION}:
            frames[name] = attribute(frames[name], _with_hire(cols), tables)
            if TENURE_BAND in cols:
                frames[name] = _add_tenure_band(frames[name], loaded[name], cols)
    return frames


def _lean_frames(
    loaded: dict[str, Dataset],
    frames: dict[str, pl.LazyFrame],
    attributed: dict[str, Any],
    everything: list[MetricDef],
    timezone: str,
) -> dict[str, tuple[pl.LazyFrame, frozenset[str]]]:
    """For each dataset the lookups attribute columns to: its rows without them (with the
    same optional columns added) and the names of those columns, for the passes that read
    none of them (`engine.compute.Input.lean`). A looked-up column the dataset has of its
    own is left out of the lean rows too: a pass that read it unexpectedly fails loudly
    rather than read the column unattributed."""
    if not attributed.get("tables"):
        return {}
    lookups = {lookup for lookup, _ in ATTRIBUTION}
    wanted = {
        name: frozenset(cols)
        for name, cols in attributed["wants"].items()
        if cols and name in frames and name not in lookups
    }
    lean = {name: loaded[name].rows for name in wanted}
    _add_optional_columns(everything, lean, timezone)
    return {
        name: (frame.drop(wanted[name], strict=False), wanted[name]) for name, frame in lean.items()
    }


def _with_hire(cols: list[str]) -> list[str]:
    """The roster columns to attribute: the tenure band needs the hire date."""
    return [*cols, "hire_date"] if TENURE_BAND in cols and "hire_date" not in cols else cols


def _add_tenure_band(frame: pl.LazyFrame, dataset: Dataset, cols: list[str]) -> pl.LazyFrame:
    """The tenure band on each row's own day (its time column), then the hire date dropped
    again unless it was asked for itself."""
    names = frame.collect_schema().names()
    if "hire_date" not in names or not dataset.time_column:
        return frame
    time = pl.col(dataset.time_column)
    if frame.collect_schema()[dataset.time_column] != pl.Date:
        time = time.dt.date()  # the local day: times are in the project time zone
    band = tenure_band(time, pl.col("hire_date")).alias(TENURE_BAND)
    frame = frame.with_columns(band)
    keep = "hire_date" in cols or "hire_date" in dataset.columns
    return frame if keep else frame.drop("hire_date")


def _keys(name: str, plan: ReadPlan, by: list[str], given: set[str]) -> set[str]:
    """The lookup keys to read with a dataset: agent_id always (scorecards and goals use
    it), queue only when the queues are given and some column may be attributed by it."""
    keys = {"agent_id"}
    if "queues" in given and _dimensions(name, [*by, *plan.needed[name]], set()):
        keys.add("queue")
    return keys


def _dimensions(name: str, columns: list[str], present: set[str]) -> list[str]:
    """The columns of `name` a lookup may attribute: not a key, not one of the dataset's
    own contract columns (a fact of the row), and absent or a known dimension."""
    contract = CANONICAL.get(name)
    own = set(contract.names) if contract else set()
    keys = {key for _, key in ATTRIBUTION}
    known = {*ROSTER_DIMENSIONS, *QUEUE_DIMENSIONS}
    return [
        c
        for c in dict.fromkeys(columns)
        if c not in keys and c not in own and (c not in present or c in known)
    ]


def _located(error: ComputeError, project: Definitions) -> DefinitionError:
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
) -> list[str]:
    """A metric's `optional_columns` that the export lacks: a duration counts as 0 (a hold
    or wrap-up that did not happen took no time; a note says so), any other column is
    read as empty (no calibration rows, no auto-fails)."""
    from tpmkit.data.coerce import polars_type

    notes = []
    for metric in everything:
        name = str(metric.spec.dataset)
        if name not in frames or not metric.spec.optional_columns:
            continue
        present = set(frames[name].collect_schema().names())
        contract = CANONICAL.get(name)
        zeroed = []
        for column in metric.spec.optional_columns:
            if column not in present:
                spec = contract.column(column) if contract else None
                type_ = spec.type if spec else "text"
                value = 0.0 if type_ == "duration" else None
                frames[name] = frames[name].with_columns(
                    pl.lit(value, dtype=polars_type(type_, timezone)).alias(column)
                )
                present.add(column)
                zeroed += [column] if value is not None else []
        if zeroed:
            notes.append(f"{metric.id}: {', '.join(zeroed)} absent — counted as 0")
    return notes


def _add_missing(
    records: pl.DataFrame | Stitched,
    selected: list[MetricDef],
    unavailable: dict[str, str],
    by: list[str],
    timezone: str,
) -> pl.DataFrame | Stitched:
    """One no_data record (period `all`) for each metric that produced no cells at all."""
    if isinstance(records, Stitched):
        present = records.metrics()
    else:
        present = set(records.get_column("metric").unique()) if not records.is_empty() else set()
    rows = []
    from tpmkit.engine.in_force import levels_table
    from tpmkit.engine.status import NO_THRESHOLDS, level_reasons

    for metric in selected:
        if metric.id in present:
            continue
        reason = unavailable.get(metric.id, "no rows in the selected range")
        own = levels_table([metric.spec]).filter(pl.col("override") == -1)
        level = own.row(-1, named=True)  # the levels in force now
        # not judged comes before no data (engine/status.py): say both, that first
        bounds = ("warning", "warning_upper", "critical", "critical_upper")
        thresholdless = all(level[c] is None for c in bounds)
        aside = level_reasons([metric.spec], by).get(metric.id)
        aside = aside or (NO_THRESHOLDS if thresholdless else None)
        rows.append(
            {
                "metric": metric.id,
                "period": "all",
                "value": None,
                "n": 0,
                "unit": metric.spec.unit,
                "direction": level["direction"],
                "status": Status.NOT_JUDGED if aside else Status.NO_DATA,
                "target": level["target"],
                "target_upper": level["target_upper"],
                "warning": level["warning"],
                "warning_upper": level["warning_upper"],
                "critical": level["critical"],
                "critical_upper": level["critical_upper"],
                "definition_hash": level["definition_hash"],
                "reason": f"{aside}; {reason}" if aside else reason,
            }
        )
    if not rows:
        return records
    if isinstance(records, Stitched):  # after its rows, with the new records' schema
        base = records.tail
        extra = pl.DataFrame(rows, schema={k: v for k, v in base.schema.items() if k in rows[0]})
        records.append(pl.concat([base.clear(), extra], how="diagonal_relaxed"))
        return records
    base = records if not records.is_empty() else empty_records(by, timezone)
    extra = pl.DataFrame(rows, schema={k: v for k, v in base.schema.items() if k in rows[0]})
    return pl.concat([base, extra], how="diagonal_relaxed").select(base.columns)


def _add_quarantine(
    records: pl.DataFrame | Stitched,
    project: Definitions,
    everything: list[MetricDef],
    loaded: dict[str, Dataset],
) -> pl.DataFrame | Stitched:
    """`quarantined`: rows left out of the datasets behind each record's metric."""
    counts = {
        m.id: sum(loaded[d].quarantined for d in datasets_of(project, m) if d in loaded)
        for m in everything
    }
    if isinstance(records, Stitched):
        if not any(counts.values()):  # always: an incremental run reads with `fail`
            return records.with_zero("quarantined")
        records = records.collect()
    return records.with_columns(
        pl.col("metric")
        .replace_strict(counts, default=0, return_dtype=pl.Int64)
        .alias("quarantined")
    )
