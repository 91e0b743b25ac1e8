"""Computing an incremental run: the cells of the periods to recompute from the files read,
the cached cells of the others, the whole-dataset metrics from every file, the records
finished (`finishing`) and the state saved."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import polars as pl

from tpmkit.engine.compute import Input, Request, compute_cells
from tpmkit.engine.kinds import kind_of
from tpmkit.increment import fingerprints, finishing, parts, reach
from tpmkit.increment.session import Session
from tpmkit.planning import ReadPlan
from tpmkit.spec.loader import Definitions
from tpmkit.spec.models import MetricSpec
from tpmkit.stitched import Stitched


class WholeInputs(Protocol):
    """Reads datasets from every file (or, `paths`, from these files), attributed."""

    def __call__(
        self, names: set[str], every: bool, paths: Mapping[str, list[Path]] | None
    ) -> dict[str, Input]: ...


def compute(
    session: Session,
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    inputs: Mapping[str, Input],
    whole_inputs: WholeInputs,
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
) -> pl.DataFrame | Stitched:
    """Records of `metrics` (see `tpmkit.engine.compute.compute_records`): the cacheable
    metrics' cells recomputed for the periods to recompute and taken from the cache for
    the others, the whole-dataset metrics' cells from all the files, then finished as on
    a full run; the cache is saved. The records before the first recomputed period stay
    in the last run's files (`Stitched`) when they are the last run's."""
    ids = {s.id for s in everything}
    cacheable = set(session.cacheable) & ids
    if grown := session.widen():  # files sharing an id with those read: read with them
        paths = {n: session.parts[n].read for n in grown}
        inputs = {**inputs, **whole_inputs(grown, True, paths)}
    # records depend on annotations only through those that exclude a period
    # (`engine.notes.mark_excluded`); the context read from the last run's records does
    # not say which it excluded, so with such a note every record is finished
    excluding = finishing.excluding(request.notes)
    key = finishing.key(metrics, unavailable, aliases, excluding)
    plain = excluding is None and not session.compacting
    stitch = plain and not finishing.mixed(metrics, everything, session, aliases)
    args = (session, metrics, everything, inputs, whole_inputs, request, timezone, aliases)
    # the cells of the periods recomputed depend neither on the whole-dataset metrics' nor
    # on the last run's records: computed beside them (polars lets go of Python's lock)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tpmkit-fresh") as pool:
        job = pool.submit(
            compute_cells, everything, inputs, request, timezone, aliases, unavailable, cacheable
        )
        try:
            try:
                return _compute(*args, unavailable, job.result, key, stitch)
            except finishing.Unreadable:  # the last run's records: finish every record instead
                return _compute(*args, unavailable, job.result, key, False)
        except Exception:
            # their error first, as when they were computed before the rest
            if (error := job.exception()) is not None:
                raise error from None
            raise
        finally:
            session.release()


def _compute(
    session: Session,
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    inputs: Mapping[str, Input],
    whole_inputs: WholeInputs,
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
    recomputed: Callable[[], dict[str, pl.DataFrame]],
    key: str,
    stitch: bool,
) -> pl.DataFrame | Stitched:
    """`compute` from the cells recomputed (`recomputed` waits for them); with `stitch`,
    the records before the first recomputed period are the last run's (if they were
    finished with `key`). Raises `finishing.Unreadable` when those cannot be read."""
    cacheable = set(session.cacheable) & {s.id for s in everything}
    kept = finishing.kept_metrics(metrics, everything, session, aliases)
    # each kept metric's records from its own first recomputed period on are finished now
    session.firsts = finishing.firsts(metrics, everything, session, aliases) if stitch else {}
    head = session.finished(key, kept) if stitch else None
    if head is None:
        session.firsts = {}
    by = list(request.by)
    extra = _whole_cells(
        session, everything, inputs, whole_inputs, request, timezone, aliases, unavailable
    )
    # whole-dataset metrics whose cells before the first recomputed period are those of
    # the last run's records: their records there are the last run's too
    fresh = recomputed()
    if head is not None and not session.intact():  # a segment changed on disk: finish all
        session.release()
        head, session.firsts = None, {}
    ours = fingerprints.of_cells(extra, extra)
    stored = (session.state.get("finished") or {}).get(fingerprints.STATE)
    stable = (
        finishing.stable(head, extra, everything, session.first, by, stored, ours)
        if head
        else set()
    )
    session.fingerprints = (ours, stable)
    if head and session.first is not None:  # those whose cells change only later: from there
        session.firsts.update(finishing.whole_firsts(stable, stored, ours, session.first))
        # back to where a young series' control limits change its records (no summary:
        # every metric from the first recomputed period, as before)
        moved = finishing.young(session, {**fresh, **{m: extra[m] for m in stable}}, by)
        session.firsts = {} if moved is None else {**session.firsts, **moved}
    periods, limits, starts, values = (
        finishing.context(
            head, {**fresh, **{m: extra[m] for m in stable}}, session, by, kept | stable
        )
        if head
        else finishing.Context(None, None, None)
    )
    if not session.load_cached(periods):  # a chunk removed under us: recompute everything
        head, limits, stable, starts, values = None, None, set(), None, None
        session.fingerprints = (ours, set())
        partial = {n for n, p in session.parts.items() if p.partial}
        given = {**inputs, **(whole_inputs(partial, True, None) if partial else {})}
        fresh = compute_cells(everything, given, request, timezone, aliases, unavailable, cacheable)
        session.reset(fresh)
    cells = session.merge(fresh)
    cells.update(extra)
    del extra
    session.stage(cells)
    records = finishing.finish_records(
        session,
        cells,
        metrics,
        everything,
        request,
        timezone,
        aliases,
        dict(unavailable),
        head,
        key,
        limits,
        (stable, periods or set()),
        starts,
        values,
    )
    with contextlib.suppress(OSError):  # a cache that cannot be written is skipped
        session.save()
    if isinstance(records, Stitched) and (saved := session.saved_segment()) is not None:
        records.adopt(*saved)  # the new records, encoded once
    return records


def _whole_cells(
    session: Session,
    everything: list[MetricSpec],
    inputs: Mapping[str, Input],
    whole_inputs: WholeInputs,
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
) -> dict[str, pl.DataFrame]:
    """The cells of the whole-dataset metrics: from every file's parts (`parts`), or from
    every file (only the columns they use)."""
    cacheable = set(session.cacheable)
    whole = {s.id for s in everything if s.id not in cacheable} & session.whole
    whole = {
        i
        for i in whole
        if kind_of(next(s for s in everything if s.id == i).compute).plan != "metrics"
    }
    cells: dict[str, pl.DataFrame] = {}
    by_parts = [s for s in everything if s.id in whole and parts.supported(s, session)]
    if by_parts:  # from every file's parts: only the files without them are read

        def read(paths: Mapping[str, list[Path]]) -> dict[str, Input]:
            return whole_inputs(set(paths), False, paths)

        cells.update(parts.cells(session, by_parts, inputs, read, request, timezone))
        whole -= {s.id for s in by_parts}
    if whole:
        partial = {n for n, p in session.parts.items() if p.partial}
        datasets = {str(s.dataset) for s in everything if s.id in whole}
        full = whole_inputs(datasets & partial, False, None) if datasets & partial else {}
        spans = _spans(session, inputs)
        # a roster's periods are the other data's days: known from the files' summaries,
        # not read again from every file (once for each roster metric)
        full = {n: replace(i, span=spans[n].span) if n in spans else i for n, i in full.items()}
        given = {**spans, **{n: i for n, i in inputs.items() if n not in partial}, **full}
        cells.update(
            compute_cells(everything, given, request, timezone, aliases, unavailable, whole)
        )
    return cells


def _spans(session: Session, inputs: Mapping[str, Input]) -> dict[str, Input]:
    """For a partly read dataset: a two-row frame of its first and last time (from the
    files' summaries) and their local days (`Input.span`), all a roster's periods need
    of it (`compute._data_span`)."""
    out = {}
    for name, part in session.parts.items():
        if not part.partial or name not in inputs:
            continue
        column = inputs[name].time_column
        firsts = [s.spans[column][0] for s in part.summaries.values() if column in s.spans]
        lasts = [s.spans[column][1] for s in part.summaries.values() if column in s.spans]
        if not firsts:
            continue
        values = [
            reach.moment(min(firsts), session.timezone),
            reach.moment(max(lasts), session.timezone),
        ]
        days = (values[0].date(), values[1].date())
        out[name] = Input(pl.LazyFrame({column: values}), column, days)
    return out


def whole_columns(
    project: Definitions, plan: ReadPlan, session: Session, names: set[str], every: bool = False
) -> dict[str, set[str]]:
    """Per dataset in `names`: the columns its whole-dataset metrics read (with the
    override segments of formulas), for their read of every file (`every`: all the
    columns the run reads)."""
    if every:
        return {n: set(plan.needed[n]) for n in names}
    from tpmkit.planning import _columns_needed

    out: dict[str, set[str]] = {n: set() for n in names}
    for metric in plan.everything:
        spec = metric.spec
        if spec.id in session.whole and spec.dataset in out:
            out[str(spec.dataset)] |= _columns_needed(spec, project)
    when = {c for m in plan.everything for o in m.spec.overrides for c in o.when}
    return {n: cols | (when & plan.needed[n]) for n, cols in out.items()}
