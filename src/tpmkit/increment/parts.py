"""Whole-dataset metrics from parts cached per file: time to proficiency and a stock
(`open_at_period_end`) without overrides.

Their cells need every row of the dataset, but what they need of each row adds up over
files. Per export file an incremental run keeps, beside the records cache, the file's
*parts* (Parquet, one per piece, keyed by the file's content hash and the metric's
definition, in the context's folder, so a changed file or definition is never served):

- time to proficiency: per agent, team, hire date and ISO week the sum and count of the
  handle-time expression (a week spread over several files adds up), each agent's last
  value of the other groups, the groups seen, and the file's first day;
- a stock: per period and group the rows opened and the rows closed (the +1 and −1 of
  the running sum), the groups seen, and the latest value of each horizon column.

The cells are then computed from the parts of every file exactly as a full run computes
them from the rows (`proficiency.cohort_cells`, `open_at_period_end.stock_cells`): only
the files without parts are read — on a weekly run, the new week's.

The files read in one pass (those the run reads anyway, or those without parts) are told
apart by their rows' instants: when the files' spans of the dataset's time column do not
overlap (one export per day or week), a row belongs to the file whose span holds it; when
they overlap, each file without parts is read on its own.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from tpmkit.engine import periods
from tpmkit.engine.compute import Input, Request
from tpmkit.engine.in_force import NO_OVERRIDE
from tpmkit.engine.kinds import kind_of
from tpmkit.engine.kinds.open_at_period_end import OpenAtEnd, stock_cells
from tpmkit.engine.kinds.proficiency import (
    Proficiency,
    agent_weeks,
    cohort_cells,
    times_from_weeks,
)
from tpmkit.engine.kinds.rows import row_expr
from tpmkit.engine.window import START
from tpmkit.increment import store
from tpmkit.increment.inventory import shape_key
from tpmkit.increment.session import Part, Session
from tpmkit.spec.computes import OpenAtEndCompute, ProficiencyCompute
from tpmkit.spec.hashing import definition_hash
from tpmkit.spec.models import MetricSpec

FORMAT = 1  # bump when a piece's layout changes
PART = "__part"  # the file a row came from (its index among the files read together)
PIECES = {
    "proficiency": ("weeks", "own", "groups", "first"),
    "stock": ("opened", "closed", "groups", "horizon"),
}
Reader = Callable[[Mapping[str, list[Path]]], dict[str, Input]]


def supported(spec: MetricSpec, session: Session) -> bool:
    """True when this whole-dataset metric's cells can come from per-file parts."""
    kind = kind_of(spec.compute)
    part = session.parts.get(str(spec.dataset))
    return (
        isinstance(kind, Proficiency | OpenAtEnd)
        and not spec.overrides
        and part is not None
        and part.column is not None
        and session.grain != "all"
    )


def _family(spec: MetricSpec) -> str:
    return "proficiency" if isinstance(spec.compute, ProficiencyCompute) else "stock"


def pieces(spec: MetricSpec, frame: pl.LazyFrame, by: list[str], grain: str) -> list[pl.LazyFrame]:
    """The metric's pieces (`PIECES`) of the rows of `frame`, per file (`PART`)."""
    groups = frame.select(PART, *by).unique()
    compute = spec.compute
    if isinstance(compute, ProficiencyCompute):
        own = [b for b in by if b != compute.agent]
        weeks = agent_weeks(frame, spec, compute, [PART])
        last = frame.group_by(PART, compute.agent).agg(pl.col(b).drop_nulls().last() for b in own)
        first = frame.group_by(PART).agg(pl.col(compute.at).min().dt.date().alias("first"))
        return [weeks, last, groups, first]
    assert isinstance(compute, OpenAtEndCompute)
    where = (
        row_expr(compute.where, spec.parameters).fill_null(False) if compute.where else pl.lit(True)
    )
    opened, closed = pl.col(compute.opened), pl.col(compute.closed)
    counted = frame.filter(where & opened.is_not_null())
    arrivals = counted.group_by(PART, periods.period_start(opened, grain).alias(START), *by).agg(
        pl.len().cast(pl.Int64).alias("__d")
    )
    departures = (
        counted.filter(closed.is_not_null())
        .group_by(PART, periods.period_start(closed, grain).alias(START), *by)
        .agg(-pl.len().cast(pl.Int64).alias("__d"))
    )
    present = set(frame.collect_schema().names())
    latest = [pl.col(c).max().alias(c) for c in compute.horizon if c in present]
    horizon = frame.group_by(PART).agg(*latest) if latest else frame.select(PART).unique()
    return [arrivals, departures, groups, horizon]


def cells(
    session: Session,
    specs: list[MetricSpec],
    inputs: Mapping[str, Input],
    read: Reader,
    request: Request,
    timezone: str,
) -> dict[str, pl.DataFrame]:
    """The cells of `specs` (each `supported`) from every file's parts: the files without
    stored parts are read (those the run read already from `inputs`, others with `read`),
    their parts computed and stored."""
    by = list(request.by)
    out: dict[str, pl.DataFrame] = {}
    for dataset in sorted({str(s.dataset) for s in specs}):
        mine = [s for s in specs if s.dataset == dataset]
        part = session.parts[dataset]
        found = _gather(session, part, mine, inputs.get(dataset), read, by, request.grain)
        for spec in mine:
            frames = [pl.concat(found[spec.id][i], how="diagonal_relaxed") for i in range(4)]
            out[spec.id] = _combine(spec, frames, by, request, timezone)
    return out


def _key(spec: MetricSpec, part: Part, path: Path) -> str:
    columns = sorted({c for s in part.summaries.values() for c in s.columns})
    return shape_key(FORMAT, definition_hash(spec), columns, part.summaries[path].key)


def _where(session: Session, spec: MetricSpec) -> Path:
    return session.folder / "parts" / spec.id


def _gather(
    session: Session,
    part: Part,
    specs: list[MetricSpec],
    given: Input | None,
    read: Reader,
    by: list[str],
    grain: str,
) -> dict[str, list[list[pl.DataFrame]]]:
    """Per metric and piece: the piece of every file, in the files' order (the stored
    ones read back, the others computed now and stored)."""
    files = list(part.files)
    keys = {s.id: {p: _key(s, part, p) for p in files} for s in specs}
    stored = _stored_all(session, specs, files, keys)
    todo = [p for p in files if any(stored[s.id][p] is None for s in specs)]
    fresh: dict[Path, dict[str, list[pl.DataFrame]]] = {}
    if todo:
        batches: list[tuple[list[Path], pl.LazyFrame]] = []
        if given is not None and set(todo) <= set(part.read) and _apart(part, part.read):
            batches.append((part.read, given.frame))
        elif _apart(part, todo):
            batches.append((todo, read({part.name: todo})[part.name].frame))
        else:
            batches += [([p], read({part.name: [p]})[part.name].frame) for p in todo]
        for paths, frame in batches:
            done = _computed(part, session.timezone, paths, frame, specs, by, grain, set(todo))
            fresh.update(done)
    out: dict[str, list[list[pl.DataFrame]]] = {}
    for spec in specs:
        folder = _where(session, spec)
        lists: list[list[pl.DataFrame]] = [[], [], [], []]
        for order, path in enumerate(files):
            got = stored[spec.id][path]
            if got is None:
                got = fresh[path][spec.id]
                with contextlib.suppress(OSError):  # a part that cannot be stored is redone
                    _store(folder, keys[spec.id][path], spec, got)
            for i, piece in enumerate(got):
                lists[i].append(piece.with_columns(pl.lit(order, dtype=pl.Int64).alias(PART)))
        out[spec.id] = lists
        _prune(folder, set(keys[spec.id].values()))
    return out


def _apart(part: Part, paths: list[Path]) -> bool:
    """True when the rows of `paths` can be told apart by their time (spans that do not
    overlap; a file with rows has a span)."""
    column = str(part.column)
    spans = []
    for path in paths:
        summary = part.summaries[path]
        if column in summary.spans:
            spans.append(summary.spans[column])
        elif summary.rows:
            return False
    spans.sort()
    return all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def _computed(
    part: Part,
    timezone: str,
    paths: list[Path],
    frame: pl.LazyFrame,
    specs: list[MetricSpec],
    by: list[str],
    grain: str,
    wanted: set[Path] | None = None,
) -> dict[Path, dict[str, list[pl.DataFrame]]]:
    """The pieces of each of `paths` (read together as `frame`), per metric; `wanted`: of
    those only (the rows of the others are left out before any piece is computed: a
    weekly run reads a few weeks of tickets, of which only the new one has no parts)."""
    column = str(part.column)
    spanned = sorted(
        (part.summaries[p].spans[column][0], i)
        for i, p in enumerate(paths)
        if column in part.summaries[p].spans
    )
    lows = pl.Series([lo for lo, _ in spanned], dtype=pl.Int64)
    index = pl.Series([i for _, i in spanned], dtype=pl.Int64)
    dtype = frame.collect_schema()[column]
    instant = periods.instant(pl.col(column), dtype, timezone).dt.epoch("us")
    slot = pl.lit(lows).search_sorted(instant, side="right").cast(pl.Int64) - 1
    which = pl.lit(index).gather(slot.clip(0)) if len(spanned) > 1 else pl.lit(0, pl.Int64)
    tagged = frame.with_columns(which.cast(pl.Int64).alias(PART))
    keep = [i for i, p in enumerate(paths) if wanted is None or p in wanted]
    if len(keep) < len(paths):
        tagged = tagged.filter(pl.col(PART).is_in(pl.Series(keep, dtype=pl.Int64).implode()))
    plans = [q for s in specs for q in pieces(s, tagged, by, grain)]
    done = pl.collect_all(plans, engine="streaming")
    out: dict[Path, dict[str, list[pl.DataFrame]]] = {paths[i]: {} for i in keep}
    for n, spec in enumerate(specs):
        split = [d.partition_by(PART, as_dict=True) for d in done[4 * n : 4 * n + 4]]
        for i in keep:
            out[paths[i]][spec.id] = [
                parts.get((i,), whole.clear()).drop(PART)
                for parts, whole in zip(split, done[4 * n : 4 * n + 4], strict=True)
            ]
    return out


def _combine(
    spec: MetricSpec,
    frames: list[pl.DataFrame],
    by: list[str],
    request: Request,
    timezone: str,
) -> pl.DataFrame:
    """The metric's cells from its pieces of every file (tagged with the file's order)."""
    grain, window = request.grain, request.window
    groups = frames[2].lazy().select(*by).unique() if by else pl.LazyFrame({"__one": [0]})
    groups = groups.with_columns(pl.lit(NO_OVERRIDE, dtype=pl.Int32).alias("override"))
    if not by:
        groups = groups.drop("__one")
    compute = spec.compute
    if isinstance(compute, ProficiencyCompute):
        keys = [compute.agent, compute.team, compute.hired, "__week"]
        weeks = frames[0].lazy().group_by(keys).agg(pl.col("__sum").sum(), pl.col("__rows").sum())
        own = [b for b in by if b != compute.agent]
        per_agent = (
            frames[1]
            .lazy()
            .sort(PART, maintain_order=True)
            .group_by(compute.agent, maintain_order=True)
            .agg(pl.col(b).drop_nulls().last() for b in own)
        )
        first = frames[3].get_column("first").min() if frames[3].height else None
        times = times_from_weeks(weeks, first, compute).collect().lazy()  # type: ignore[arg-type]
        return cohort_cells(times, groups, per_agent, spec, compute, grain, by, timezone, window)
    assert isinstance(compute, OpenAtEndCompute)
    deltas = (
        pl.concat([frames[0].lazy(), frames[1].lazy()], how="diagonal_relaxed")
        .group_by([START, *by])
        .agg(pl.col("__d").sum())
    )
    present = [c for c in compute.horizon if c in frames[3].columns]
    first = frames[0].get_column(START).min() if frames[0].height else None
    final = None
    if present and first is not None:
        latest = pl.max_horizontal(pl.col(c).max() for c in present)
        final = (
            frames[3]
            .select(periods.period_start(latest, grain).dt.offset_by(periods.span(grain, -1)))
            .item()
        )
    span = pl.DataFrame(
        {"first": [first], "last": [final]},
        schema={"first": pl.Datetime("us", timezone), "last": pl.Datetime("us", timezone)},
    )
    return stock_cells(span, groups, deltas, spec, grain, by, timezone, window)


def _stored_all(
    session: Session, specs: list[MetricSpec], files: list[Path], keys: dict[str, dict[Path, str]]
) -> dict[str, dict[Path, list[pl.DataFrame] | None]]:
    """`_stored` of every metric and file: the pieces there read in one batch (a weekly
    run reads some 200 small files: one by one, most of the time went to the calls),
    file by file only when one of them cannot be read."""
    wanted: list[tuple[str, Path, Path]] = []  # metric, file, piece
    for spec in specs:
        folder = _where(session, spec)
        for path in files:
            names = [folder / f"{keys[spec.id][path]}.{n}.parquet" for n in PIECES[_family(spec)]]
            if all(n.is_file() for n in names):
                wanted += [(spec.id, path, n) for n in names]
    out: dict[str, dict[Path, list[pl.DataFrame] | None]] = {
        s.id: dict.fromkeys(files) for s in specs
    }
    try:
        frames = pl.collect_all([pl.scan_parquet(n) for _, _, n in wanted])
    except (OSError, pl.exceptions.PolarsError):  # one by one: those unreadable are redone
        specs_by_id = {s.id: s for s in specs}
        for metric, path in dict.fromkeys((m, p) for m, p, _ in wanted):
            folder = _where(session, specs_by_id[metric])
            out[metric][path] = _stored(folder, keys[metric][path], specs_by_id[metric])
        return out
    for (metric, path, _), frame in zip(wanted, frames, strict=True):
        pieces = out[metric][path]
        if pieces is None:
            pieces = out[metric][path] = []
        pieces.append(frame)
    return out


def _stored(folder: Path, key: str, spec: MetricSpec) -> list[pl.DataFrame] | None:
    """The file's stored pieces of this metric, or None (none, or one unreadable)."""
    try:
        return [pl.read_parquet(folder / f"{key}.{name}.parquet") for name in PIECES[_family(spec)]]
    except (OSError, pl.exceptions.PolarsError):
        return None


def _store(folder: Path, key: str, spec: MetricSpec, frames: list[pl.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(PIECES[_family(spec)], frames, strict=True):
        store.write_atomically(folder / f"{key}.{name}.parquet", frame)


def _prune(folder: Path, keep: set[str]) -> None:
    """Delete the parts of files no longer there or changed (best effort)."""
    with contextlib.suppress(OSError):
        for path in folder.glob("*.parquet"):
            if path.name.split(".", 1)[0] not in keep:
                path.unlink(missing_ok=True)
