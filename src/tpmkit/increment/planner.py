"""One incremental run: which files to read and which periods to recompute, the cached
cells of the other (closed) periods, and the new state saved afterwards.

Per dataset with a time column, every export file is summarised (`inventory`). A file is
dirty when it is new, changed (another content hash) or removed; its rows' span (the old
summary's too) marks the periods it touches. Per metric, the periods recomputed are those
the cache does not hold, the dirty ones widened by the metric's reach (`reach`), and the
open period (the one holding the dataset's latest time), which is never cached; the
dataset's recomputed periods are the union over its metrics. The files read are those
whose rows fall in a recomputed period or in the repeat window after it, plus the file
holding each horizon (the latest time, the latest of a censor's columns).

Rules across files stay checked: the rows read are checked as always, and a 64-bit hash of
every id of each file is kept, so an id of a file read that some unread file also has
makes that file read too — the duplicate is reported, with its file and line, as on a full
run. Metrics that need the whole dataset (`reach.Reach.whole`) are computed from all its
files (only the columns they use) on every run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from tpmkit import __version__
from tpmkit.contract import CANONICAL
from tpmkit.data.cache import CsvCache
from tpmkit.data.sources import source_files
from tpmkit.engine.kinds import kind_of
from tpmkit.errors import DataError
from tpmkit.increment import reach, store
from tpmkit.increment.inventory import FileSummary, Hashes, file_key, shape_key, summarise
from tpmkit.increment.session import AT, LOOKUPS, Part, Session
from tpmkit.planning import ReadPlan, time_column
from tpmkit.spec.hashing import definition_hash
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.spec.models import MetricSpec


def begin(
    cache: CsvCache,
    project: Definitions,
    plan: ReadPlan,
    *,
    by: list[str],
    period: str,
    eligible: bool,
    step: Callable[[str], None],
) -> Session | None:
    """The incremental plan of a run, or None when the run is not incremental (the grain
    `all`, a start or end, quarantine, frames given, `dedupe: keep_last`, the Ibis
    engines — `eligible` — or no dataset with a time column)."""
    sources = project.spec.sources
    if not eligible or period == "all" or cache.problems:
        return None
    if any(sources[n].dedupe == "keep_last" for n in plan.needed if n in sources):
        return None
    folder = cache.folder / "records"
    try:
        hashes = Hashes(folder / "hashes.json")
        context = _context(project, hashes, by, period)
        session = _plan(project, plan, hashes, folder, context, period, step)
        hashes.save()
    except OSError as exc:
        cache.problems.append(f"records cache not used: {exc}")
        return None
    except DataError:  # a missing or unreadable export: the full read reports it, located
        return None
    return session


def _context(project: Definitions, hashes: Hashes, by: list[str], period: str) -> str:
    """The key of everything that shapes cells beyond the metrics and the period files."""
    sources = project.spec.sources
    lookups = {}
    for name in sorted(LOOKUPS & set(sources)):
        try:
            files = source_files(sources[name], project.root, name)
        except DataError:
            continue
        lookups[name] = [hashes.of(p) for p in files]
    return shape_key(
        store.FORMAT,
        __version__,
        pl.__version__,
        project.spec.timezone,
        period,
        by,
        {
            n: s.model_dump(mode="json", exclude={"freshness", "completeness"})
            for n, s in sources.items()
        },
        lookups,
    )


def _plan(
    project: Definitions,
    plan: ReadPlan,
    hashes: Hashes,
    folder: Path,
    context: str,
    grain: str,
    step: Callable[[str], None],
) -> Session | None:
    timezone = project.spec.timezone
    sources = project.spec.sources
    here = folder / context
    state = store.read_state(here)
    reaches: dict[str, reach.Reach] = {}
    by_dataset: dict[str, list[MetricDef]] = {}
    whole: set[str] = set()
    for metric in plan.everything:
        spec = metric.spec
        if kind_of(spec.compute).plan == "metrics" or spec.id in plan.unavailable:
            continue
        name = str(spec.dataset)
        contract = CANONICAL.get(name)
        own = sources[name].time_column or (contract.time_column if contract else None)
        if name in LOOKUPS or not own:
            whole.add(spec.id)
            continue
        reaches[spec.id] = reach.reach_of(spec, time_column(spec, project))
        if reaches[spec.id].whole:
            whole.add(spec.id)
        else:
            by_dataset.setdefault(name, []).append(metric)
    if not by_dataset:
        return None
    parts: dict[str, Part] = {}
    cacheable: dict[str, tuple[str, str]] = {}
    for name, metrics in sorted(by_dataset.items()):
        source = sources[name]
        contract = CANONICAL.get(name)
        own = str(source.time_column or (contract.time_column if contract else None))
        stat_columns = [own]
        for m in metrics:
            r = reaches[m.id]
            stat_columns += [r.column, *([r.censor] if r.censor else []), *r.horizons]
        stat_columns = list(dict.fromkeys(stat_columns))
        files = {p: hashes.of(p) for p in source_files(source, project.root, name)}
        shape = shape_key(context, name, stat_columns)
        summaries = summarise(
            name, source, project.root, timezone, files, folder / "files", stat_columns, shape
        )
        if any(
            m.spec.time_column and not _spanned(summaries, reaches[m.id].column) for m in metrics
        ):
            whole.update(m.id for m in metrics)  # a time column no file has (derived): whole
            continue
        columns = sorted({c for s in summaries.values() for c in s.columns})
        for m in metrics:
            key = shape_key(definition_hash(m.spec), _segments(m.spec, plan, project), columns)
            cacheable[m.id] = (name, key)
        parts[name] = Part(name, files, summaries, list(files), column=own)
    if not parts:
        return None
    session = Session(here, grain, timezone, parts, cacheable, whole, {}, state)
    for name, part in parts.items():
        metrics = [m for m in by_dataset[name] if m.id in cacheable]
        _periods(session, part, [m.spec for m in metrics], reaches, folder / "files")
    session.index = _index(session)
    if session.index is None:  # a chunk is gone: recompute everything (and save afresh)
        session.state = {}
        for name, part in parts.items():
            metrics = [m for m in by_dataset[name] if m.id in cacheable]
            _periods(session, part, [m.spec for m in metrics], reaches, folder / "files")
        session.index = _index(session)
    for name, part in parts.items():
        specs = [m.spec for m in by_dataset[name] if m.id in cacheable]
        _reads(session, part, specs, reaches)
        if part.partial:
            step(f"records cache: reading {len(part.read)} of {len(part.files)} files of {name}")
    # the id check reads every file's id hashes (~0.15 s at 10 M calls): beside the reads
    # of the files it almost never adds to
    # (copies: the thread never sees `widen` change the files read)
    checked = [Part(p.name, p.files, p.summaries, list(p.read)) for p in parts.values()]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tpmkit-ids")
    session.sharing = pool.submit(_shared, [p for p in checked if p.partial])
    pool.shutdown(wait=False)  # the thread ends with its one job
    return session


def _spanned(summaries: Mapping[Path, FileSummary], column: str) -> bool:
    return any(column in s.columns for s in summaries.values())


def _segments(spec: MetricSpec, plan: ReadPlan, project: Definitions) -> str:
    """The formulas' override segments that shape this metric's cells (flag columns)."""
    from tpmkit.engine.compute import segment_flags

    flags = segment_flags([m.spec for m in plan.everything], project.aliases, [])
    mine = flags.get(spec.id, {})
    return json.dumps({f: o.model_dump(mode="json") for f, o in sorted(mine.items())}, default=str)


def _old_summary(folder: Path, key: str) -> FileSummary | None:
    from tpmkit.increment.inventory import _stored

    return _stored(folder, key)


def _periods(
    session: Session,
    part: Part,
    metrics: list[MetricSpec],
    reaches: Mapping[str, reach.Reach],
    files_folder: Path,
) -> None:
    """The periods of `part` to recompute (see the module docstring)."""
    grain, timezone = session.grain, session.timezone
    old = session.state.get("datasets", {}).get(part.name, {})
    old_files: dict[str, str] = old.get("files", {})
    old_horizons: dict[str, int] = {c: int(v) for c, v in old.get("horizons", {}).items()}
    old_open = {int(a) for a in old.get("open", [])}  # the last run's: its cells not cached
    named = {file_key(p): part.summaries[p] for p in part.files}
    now = {name: summary.key for name, summary in named.items()}
    dirty: list[FileSummary] = [s for n, s in named.items() if old_files.get(n) != s.key]
    lost = False
    for path, key in old_files.items():
        if now.get(path) != key:
            summary = _old_summary(files_folder, key)
            if summary is None:
                lost = True  # the removed file's span is unknown: recompute everything
            else:
                dirty.append(summary)
    columns = {c for m in metrics for c in (reaches[m.id].column, *reaches[m.id].horizons)}
    columns |= {reaches[m.id].censor for m in metrics if reaches[m.id].censor}  # type: ignore[misc]
    for column in sorted(c for c in columns if c):
        latest = [s.spans[column][1] for s in part.summaries.values() if column in s.spans]
        if latest:
            part.horizons[column] = max(latest)
    recompute: set[int] = set()
    for spec in metrics:
        r = reaches[spec.id]
        spans = [s.spans[r.column] for s in part.summaries.values() if r.column in s.spans]
        every = reach.covered(spans, grain, timezone)
        if not spans:
            continue
        newest = max(hi for _, hi in spans)
        part.open |= set(reach.starts(newest, newest, grain, timezone))
        entry = session.state.get("metrics", {}).get(spec.id, {})
        valid = entry.get("key") == session.cacheable[spec.id][1] and not lost
        held = {int(a) for a in entry.get("periods", {})} if valid else set()
        widened = [
            (s.spans[r.column][0] - r.window, s.spans[r.column][1])
            for s in dirty
            if r.column in s.spans
        ]
        need = reach.covered(widened, grain, timezone) | part.open
        if r.horizon:
            before = old_horizons.get(r.column)
            if before != part.horizons.get(r.column):
                low = min(v for v in (before, part.horizons.get(r.column)) if v is not None)
                need |= {
                    a for a in every if a >= reach.starts(low - r.window, low, grain, timezone)[0]
                }
        if r.censor:
            cut = _censor_horizon(part.horizons, r.horizons)
            was = _censor_horizon(old_horizons, r.horizons)
            if cut != was:
                low = min(v for v in (cut, was) if v is not None) if (cut or was) else 0
                late = [
                    s.spans[r.column]
                    for s in part.summaries.values()
                    if r.censor in s.spans and s.spans[r.censor][1] > low and r.column in s.spans
                ]
                need |= reach.covered(late, grain, timezone)
        unheld = every - held
        mine = (need | unheld) & (every | held)  # a period neither has nor had cells: none
        recompute |= mine
        # the metric's own first period whose cells can differ from those the last run
        # finished its records from: its cells of the dataset's earlier recomputed periods
        # (another metric's reach) are recomputed to those cached (its reach says so), and
        # so are those of the last run's open period (not cached, yet finished) that no
        # file changed and no horizon reaches
        changed = (need | (unheld - old_open if valid else unheld)) & (every | held)
        if changed:
            session.own[spec.id] = min(changed)
        else:
            session.own.pop(spec.id, None)
    part.recompute = recompute


def _censor_horizon(horizons: Mapping[str, int], columns: tuple[str, ...]) -> int | None:
    values = [horizons[c] for c in columns if c in horizons]
    return max(values) if values else None


def _index(session: Session) -> pl.DataFrame | None:
    """The cached cells to serve (metric, period start, chunk); None when a chunk is gone."""
    rows = []
    for metric, (dataset, key) in session.cacheable.items():
        entry = session.state.get("metrics", {}).get(metric, {})
        if entry.get("key") != key:
            continue
        recompute = session.parts[dataset].recompute
        rows += [
            (metric, int(at), chunk)
            for at, chunk in entry.get("periods", {}).items()
            if int(at) not in recompute
        ]
    index = pl.DataFrame(
        rows, schema={"metric": pl.String, AT: pl.Int64, "chunk": pl.String}, orient="row"
    )
    chunks = index.get_column("chunk").unique().to_list()
    if any(not (session.folder / "chunks" / c).exists() for c in chunks):
        return None
    return index


def _reads(
    session: Session, part: Part, metrics: list[MetricSpec], reaches: Mapping[str, reach.Reach]
) -> None:
    """The files to read: those with rows in a recomputed period or the window after it,
    and the holders of each horizon (those sharing an id with them: `_shared`)."""
    runs = reach.runs(part.recompute, session.grain, session.timezone)
    read: set[Path] = set()
    for spec in metrics:
        r = reaches[spec.id]
        for path, s in part.summaries.items():
            if r.column in s.spans:
                lo, hi = s.spans[r.column]
                if any(lo < end + r.window and hi >= start for start, end in runs):
                    read.add(path)
        for column in ([r.column] if r.horizon else []) + list(r.horizons):
            latest = part.horizons.get(column)
            read |= {
                p
                for p, s in part.summaries.items()
                if column in s.spans and s.spans[column][1] == latest
            }
    every = {c for s in part.summaries.values() for c in s.columns}
    if {c for p in read for c in part.summaries[p].columns} != every:
        read = set(part.files)  # the files read must have every column the others have
    part.read = [p for p in part.files if p in read]


def _shared(parts: list[Part]) -> dict[str, set[Path]]:
    """Per dataset, the unread files sharing an id with a file read (`_sharing_ids`):
    checked on a thread of its own while the files are read (`Session.widen`). When the
    stored id hashes cannot be read (removed, broken), every file of the dataset is read,
    so the repeated-id check stays whole, and its hashes are dropped: the next run
    summarises its files again."""
    found = {}
    for part in parts:
        read = set(part.read)
        try:
            found[part.name] = _sharing_ids(part, read)
        except (OSError, pl.exceptions.PolarsError):
            for summary in part.summaries.values():
                if summary.ids is not None:
                    with contextlib.suppress(OSError):
                        summary.ids.unlink(missing_ok=True)
            found[part.name] = set(part.files) - read
    return found


def _sharing_ids(part: Part, read: set[Path]) -> set[Path]:
    """Unread files with an id (by its 64-bit hash) that a file read also has."""
    unread = {str(s.ids): p for p, s in part.summaries.items() if p not in read and s.ids}
    mine = [str(part.summaries[p].ids) for p in read if part.summaries[p].ids is not None]
    if not unread or not mine:
        return set()
    ids = pl.scan_parquet(mine).unique()
    hits = (
        pl.scan_parquet(list(unread), include_file_paths="__path")
        .join(ids, on="__id", how="semi")
        .select(pl.col("__path").unique())
        .collect()
        .get_column("__path")
    )
    return {unread[h] for h in hits}
