"""The incremental plan of one run (`Session`): per dataset the files read and the periods
recomputed (`Part`), the cached cells served, the new state saved afterwards; made by
`tpmkit.increment.planner`, used by `tpmkit.increment.run`."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.contract import ATTRIBUTION
from tpmkit.engine.window import START
from tpmkit.increment import store, summaries
from tpmkit.increment.fingerprints import Fingerprints
from tpmkit.increment.inventory import FileSummary, file_key
from tpmkit.records import DatasetSummary
from tpmkit.stitched import Stitched, Stored, file_hash

# the output's column of quarantined rows: 0 in every incremental run (it reads with
# `on_bad_rows: fail`), stored with the finished records so that they are the output's rows
QUARANTINED = "quarantined"

LOOKUPS = {lookup for lookup, _ in ATTRIBUTION}
AT = "__at"


@dataclass
class Part:
    """One dataset of the run: its files, what is read and recomputed."""

    name: str
    files: dict[Path, str]  # every file -> content hash, in the glob's order
    summaries: dict[Path, FileSummary]
    read: list[Path]  # the files read this run
    recompute: set[int] = field(default_factory=set)  # period starts (epoch µs)
    open: set[int] = field(default_factory=set)  # never cached
    horizons: dict[str, int] = field(default_factory=dict)  # column -> latest instant
    column: str | None = None  # the dataset's time column

    @property
    def partial(self) -> bool:
        return len(self.read) < len(self.files)


@dataclass
class Session:
    """The incremental plan of one run (see the module docstring)."""

    folder: Path  # the context's folder
    grain: str
    timezone: str
    parts: dict[str, Part]
    cacheable: dict[str, tuple[str, str]]  # metric -> (dataset, key)
    whole: set[str]
    cached: dict[str, pl.DataFrame]  # metric -> cells of the periods served from the cache
    state: dict[str, Any]  # as read
    columns: dict[str, list[str]] = field(default_factory=dict)  # metric -> cell columns
    # `keep_finished`: key, records, since, kept, the metrics finished whole
    done: tuple[str, pl.DataFrame | Stitched, int | None, set[str], set[str]] | None = None
    index: pl.DataFrame | None = None  # the cached cells to serve: metric, period, chunk
    staged: tuple[dict[str, Any], pl.DataFrame | None] | None = None  # `stage`: state, cells
    held: list[Path] = field(default_factory=list)  # holds on the last run's records
    stored: list[Stored] = field(default_factory=list)  # `finished`: what each one serves
    saved: dict[str, Any] | None = None  # the segment `save` stored
    # `finished`: its series summary (`summaries`) and that summary cut at the first
    # recomputed period, read and cut on a thread of their own (`series`)
    series_job: (
        Future[tuple[pl.DataFrame | None, pl.DataFrame | None, tuple[int, dict[str, int]] | None]]
        | None
    ) = None
    by: list[str] = field(default_factory=list)  # `keep_finished`: the grouping
    # the whole-dataset metrics' cells' fingerprints, and those whose records before the
    # first recomputed period are the last run's (`finishing.stable`)
    fingerprints: tuple[Fingerprints, set[str]] = field(default_factory=lambda: ({}, set()))
    # per dataset, the unread files sharing an id with a file read (`planner._shared`),
    # being found; `widen` adds them, and names the datasets it widened in `widened`
    sharing: Future[dict[str, set[Path]]] | None = None
    widened: set[str] = field(default_factory=set)
    # per cacheable metric, the first period of its own that the planner recomputes (a
    # metric's periods the others' reach widens are recomputed to the same cells)
    own: dict[str, int] = field(default_factory=dict)
    # per metric whose records before a period of its own are the last run's, that period
    # (`finishing.firsts`; the others: from `first`)
    firsts: dict[str, int] = field(default_factory=dict)
    # the trend's origin of the records finished now (`finishing.finish_records`)
    origin: float | None = None
    checking: Future[bool] | None = None  # `finished`: the segments' hashes being checked

    @property
    def recomputed(self) -> int | None:
        """The first period recomputed, in any dataset (epoch µs)."""
        return min((min(p.recompute) for p in self.parts.values() if p.recompute), default=None)

    @property
    def first(self) -> int | None:
        """The first period whose records of some metric are finished now (epoch µs): the
        first recomputed, or a metric's own earlier one (`firsts`: a young series whose
        control limits change)."""
        recomputed = self.recomputed
        if recomputed is None or not self.firsts:
            return recomputed
        return min(recomputed, min(self.firsts.values()))

    def first_of(self, metric: str) -> int | None:
        """The first period whose record of `metric` is finished now (epoch µs): its own,
        else the first recomputed one."""
        return self.firsts.get(metric, self.first)

    def cuts(self) -> pl.Expr:
        """Per row of records (`metric`), its metric's `first_of` (epoch µs)."""
        first = self.first if self.first is not None else 0
        if not self.firsts:
            return pl.lit(first, dtype=pl.Int64)
        return pl.col("metric").replace_strict(
            self.firsts, default=pl.lit(first, dtype=pl.Int64), return_dtype=pl.Int64
        )

    @property
    def compacting(self) -> bool:
        """True when this save rewrites every cached cell into one chunk."""
        return store.chunk_count(self.state) >= store.MAX_CHUNKS

    def reset(self, cells: Mapping[str, pl.DataFrame]) -> None:
        """Serve nothing from the cache: every period of `cells` is recomputed."""
        self.state, self.cached, self.index = {}, {}, None
        self.own, self.firsts = {}, {}
        for metric, (dataset, _) in self.cacheable.items():
            if metric in cells:
                starts = cells[metric].get_column(START).dt.epoch("us").unique().to_list()
                self.parts[dataset].recompute |= {int(a) for a in starts}

    def load_cached(self, periods: set[int] | None) -> bool:
        """Read the cached cells to serve (`periods`: only those); False when a chunk
        cannot be read (the caller then recomputes everything)."""
        index = self.index
        if index is None or index.is_empty():
            self.cached = {}
            return True
        if periods is not None:  # and every cached period from the first recomputed one
            wanted = pl.Series(sorted(periods), dtype=pl.Int64).implode()
            index = index.filter(pl.col(AT).is_in(wanted) | (pl.col(AT) >= (self.first or 0)))
        cells = store.read_chunks(self.folder, index)
        if cells is None:
            return index.is_empty()
        self.cached = {}
        for (metric,), frame in cells.partition_by("metric", as_dict=True).items():
            columns = self.state["metrics"][metric].get("columns") or frame.columns
            self.cached[str(metric)] = frame.select([c for c in columns if c in frame.columns])
        return True

    def finished(self, key: str, kept: set[str]) -> list[pl.LazyFrame] | None:
        """The last run's finished records when they were finished with `key` and hold
        the records of `kept` (the metrics not finished whole): per stored segment
        (`store.segments`), oldest first, a lazy scan of the rows it serves (read late and
        only in part: the run would otherwise hold them all while it computes); `release`
        when done. Ask `intact` before reading them; reading them may still fail."""
        entry = self.state.get("finished") or {}
        chain = store.segments(self.state)
        if entry.get("key") != key or not chain or not kept <= set(entry.get("kept") or []):
            return None
        self.release()
        heads = []
        for segment, ((lo, hi), own) in zip(chain, store.spans(chain), strict=True):
            held = store.hold(self.folder, segment["file"])
            if held is None:  # deleted by a concurrent save: finish everything
                self.release()
                return None
            self.held.append(held)
            groups = segment.get("groups")
            stored = Stored(
                held,
                lo,
                hi,
                None if groups is None else [(str(m), int(a), int(b)) for m, a, b in groups],
                spans=own,
            )
            # Parquet (not Arrow IPC): read back in under half the memory
            heads.append(stored.rows())
            self.stored.append(stored.prefetch())
        # their bytes may be copied into the output as they are: checked first (`intact`),
        # hashed on a thread of their own (0.1 s for a year at 10 M calls by agent)
        hashes = [(p, s.get("hash")) for p, s in zip(self.held, chain, strict=True)]
        checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tpmkit-hash")
        self.checking = checker.submit(_intact, hashes)
        checker.shutdown(wait=False)  # the thread ends with its one job
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tpmkit-summary")
        self.series_job = pool.submit(
            self._summary_cut, entry.get("summary"), self.first, dict(self.firsts)
        )
        pool.shutdown(wait=False)  # the thread ends with its one job
        return heads

    def intact(self) -> bool:
        """Whether the segments `finished` read hold the bytes the state says (their
        content hashes): to be asked before any of their rows is read or copied."""
        checking, self.checking = self.checking, None
        return True if checking is None else checking.result()

    def series(
        self, at: int | None = None, firsts: Mapping[str, int] | None = None
    ) -> pl.DataFrame | None:
        """The last run's records' summary read by `finished` (None: none, changed or
        unreadable); `at`: cut there (`summaries.cut`; a metric's own cut in `firsts`)."""
        if self.series_job is None:
            return None
        whole, cut, made = self.series_job.result()
        if at is None or whole is None:
            return whole
        firsts = dict(firsts or {})
        if cut is None or made is None or made[0] != at:
            return summaries.cut(whole, at, firsts)
        # the metrics cut elsewhere than on the thread (a whole-dataset one's own first,
        # known later): only their rows cut again
        was = made[1]
        moved = sorted(m for m in {*was, *firsts} if was.get(m, at) != firsts.get(m, at))
        if not moved:
            return cut
        names = pl.Series(moved, dtype=pl.String).implode()
        again = summaries.cut(whole.filter(pl.col("metric").is_in(names)), at, firsts)
        kept = cut.filter(~pl.col("metric").is_in(names))
        return pl.concat([kept, again], how="vertical_relaxed")

    def _summary_cut(
        self, entry: Any, first: int | None, firsts: dict[str, int]
    ) -> tuple[pl.DataFrame | None, pl.DataFrame | None, tuple[int, dict[str, int]] | None]:
        """The summary (`_read_summary`), that summary cut at `first` (a metric's own
        in `firsts`), and where it was cut (the cut serves only there): an independent
        read of ~0.1 s and a cut of ~0.05 s at 10 M calls by agent, done while the cells
        are computed."""
        whole = self._read_summary(entry)
        if whole is None or first is None:
            return whole, None, None
        return whole, summaries.cut(whole, first, firsts), (first, firsts)

    def _read_summary(self, entry: Any) -> pl.DataFrame | None:
        """The last run's records' summary (None: none, changed or unreadable)."""
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            return None
        held = store.hold(self.folder, entry["file"])
        if held is None:
            return None
        try:
            if file_hash(held) != entry.get("hash"):
                return None
            return pl.read_parquet(held)
        except (OSError, pl.exceptions.PolarsError):
            return None
        finally:
            store.release(held)

    def release(self) -> None:
        """Drop the holds on the last run's finished records."""
        for held in self.held:
            store.release(held)
        self.held, self.stored = [], []

    def hand_over(self) -> tuple[list[Stored], list[Path]]:
        """The segments read (`finished`) and their holds, now the caller's to release
        (records that stay in them until they are written or read)."""
        out = (self.stored, self.held)
        self.stored, self.held = [], []
        return out

    def keep_finished(
        self,
        key: str,
        records: pl.DataFrame | Stitched,
        since: int | None,
        kept: set[str],
        by: list[str],
        whole: Collection[str] = (),
    ) -> None:
        """Store these finished records with the state (`save`): with `since` (the first
        recomputed period, when the records before it are the last run's), only those from
        it on, as a segment after the last run's; of the metrics finished `whole` (their
        records before it are new too), every record."""
        self.done = (key, records, since, kept, set(whole))
        self.by = by

    def widen(self) -> set[str]:
        """Wait for the id check (`sharing`) and add the unread files sharing an id with a
        file read to the files read; the datasets whose files grew, which the caller reads
        again (a repeated id across files is then reported, located, as on a full run)."""
        found = self.sharing.result() if self.sharing is not None else {}
        self.sharing = None
        grown = set()
        for name, extra in found.items():
            part = self.parts[name]
            if extra - set(part.read):
                wanted = set(part.read) | extra
                part.read = [p for p in part.files if p in wanted]
                grown.add(name)
        self.widened |= grown
        return grown

    def paths(self, name: str) -> list[Path] | None:
        """The files of `name` to read (None: every file, as without the cache)."""
        part = self.parts.get(name)
        return part.read if part is not None and part.partial else None

    def summary(self, name: str) -> DatasetSummary | None:
        """What a full read of a partly read dataset would report (from the files'
        summaries); None when it was read whole."""
        part = self.parts.get(name)
        if part is None or (not part.partial and name not in self.widened):
            return None
        sums = [part.summaries[p] for p in part.files]
        daily: dict[dt.date, int] = {}
        for s in sums:
            for day, rows in s.days.items():
                key = dt.date.fromisoformat(day)
                daily[key] = daily.get(key, 0) + rows
        latest = max((s.latest for s in sums if s.latest is not None), default=None)
        latest_day = latest.date() if isinstance(latest, dt.datetime) else latest
        from tpmkit.data.sources import _display

        return DatasetSummary(
            name,
            [_display(p) for p in part.files],
            sum(s.rows for s in sums),
            0,
            None,
            latest_day,
            part.column,
            latest,
            daily,
        )

    def merge(self, cells: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        """The cells of every cacheable metric: recomputed periods from `cells`, the others
        from the cache."""
        out = dict(cells)
        for metric, (dataset, _) in self.cacheable.items():
            if metric not in cells:
                continue
            keep = pl.Series(sorted(self.parts[dataset].recompute), dtype=pl.Int64)
            fresh = cells[metric].filter(pl.col(START).dt.epoch("us").is_in(keep.implode()))
            self.columns[metric] = fresh.columns
            old = self.cached.get(metric)
            if old is not None and not old.is_empty():
                old = old.select([c for c in fresh.columns if c in old.columns])
                fresh = pl.concat([fresh, old], how="diagonal_relaxed").select(fresh.columns)
            out[metric] = fresh
        self.cached = {}  # now in `out`: not held twice
        return out

    def stage(self, cells: Mapping[str, pl.DataFrame]) -> None:
        """Prepare the state to save and the cells it stores (those of the closed periods
        recomputed now), so that `cells` can be dropped before the records are stitched."""
        state: dict[str, Any] = {
            "datasets": dict(self.state.get("datasets", {})),
            "metrics": {},
        }
        for name, part in self.parts.items():
            state["datasets"][name] = {
                "files": {file_key(p): part.summaries[p].key for p in part.files},
                "horizons": part.horizons,
                "open": sorted(part.open),  # finished, not cached: `planner._periods`
            }
        for metric, entry in self.state.get("metrics", {}).items():
            dataset = entry.get("dataset")
            before = self.state.get("datasets", {}).get(dataset)
            if metric not in self.cacheable and before == state["datasets"].get(dataset):
                state["metrics"][metric] = entry  # another selection's, its files unchanged
        fresh = []
        compact = store.chunk_count(self.state) >= store.MAX_CHUNKS
        for metric, (dataset, key) in self.cacheable.items():
            if metric not in cells:
                continue
            part = self.parts[dataset]
            closed = part.recompute - part.open
            old = self.state.get("metrics", {}).get(metric, {})
            held = dict(old.get("periods", {})) if old.get("key") == key else {}
            # cached periods before the metric's own first, recomputed for another's reach
            # (`planner._periods`): their cells are those cached, which stay where they are
            own = self.own.get(metric)
            same = {int(a) for a in held if own is not None and int(a) < own} & part.recompute
            served = {a: c for a, c in held.items() if int(a) not in part.recompute - same}
            frame = cells[metric]
            at = pl.col(START).dt.epoch("us")
            if compact:
                keep = {int(a) for a in served} | closed
                served = {}
            else:
                keep = closed - same
            fresh.append(frame.filter(at.is_in(pl.Series(sorted(keep), dtype=pl.Int64).implode())))
            served.update({str(a): "" for a in keep})
            state["metrics"][metric] = {
                "dataset": dataset,
                "key": key,
                "columns": self.columns.get(metric, frame.columns),
                "periods": served,
            }
        chunk = pl.concat(fresh, how="diagonal_relaxed") if fresh else None
        self.staged = (state, chunk)

    def save(self) -> None:
        """Store the `stage`d cells and state, and the finished records kept."""
        if self.staged is None:
            return
        finished = None
        if self.done is not None:
            key, held, since, kept, again = self.done
            chain = store.segments(self.state)
            same = (self.state.get("finished") or {}).get("key") == key
            if since is not None and same and chain and len(chain) < store.MAX_SEGMENTS:
                # this run's records of each metric from its own first period on: the
                # segments serving none of the others any more are left out
                firsts = {m: a for m, a in self.firsts.items() if a > since}
                # a metric finished whole: all its records stored, served from here (the
                # older segments' may be stale: their trend, limits, from other cells)
                redone = sorted(again)
                whole = pl.col("metric").is_in(pl.Series(redone, dtype=pl.String).implode())
                owns = firsts | dict.fromkeys(redone, store.EVER)
                stub = {"file": "", "from": since, "firsts": owns}
                chain = store.serving([*chain, stub])[:-1]
                before = set((self.state.get("finished") or {}).get("kept") or [])
                new = held.tail if isinstance(held, Stitched) else held
                records = new.filter(whole | (pl.col(START).dt.epoch("us") >= self.cuts()))
                summary: Callable[[], pl.DataFrame | None] | None = None
                if (old := self.series(since, firsts)) is not None:  # the old records'
                    by, old = self.by, old.filter(~whole)  # summary, with these added
                    summary = functools.partial(summaries.add, old, records, by)
                elif isinstance(held, Stitched):  # none (lost, changed): made again, once
                    served, by = sorted(before & kept), self.by
                    summary = functools.partial(
                        _rebuilt, held.stored, served, self.cuts(), records, by
                    )
                # only where the records kept are those the cells were finished to now
                ours, steady = self.fingerprints
                cells = {m: f for m, f in ours.items() if m in steady or m in again}
                finished = store.Finished(
                    key,
                    _zero(records),
                    since,
                    chain,
                    sorted(before & kept),
                    summary,
                    cells,
                    owns,
                    self.origin,
                )
            else:
                records = held.collect() if isinstance(held, Stitched) else held
                summary = functools.partial(summaries.of_records, records, self.by)
                cells = self.fingerprints[0]  # every record finished from these cells
                finished = store.Finished(
                    key, _zero(records), None, [], sorted(kept), summary, cells, {}, self.origin
                )
        self.saved = store.save(self.folder, *self.staged, finished)

    def saved_segment(self) -> tuple[Stored, Path] | None:
        """The segment `save` stored from this run's first recomputed period on, in row
        groups, and a hold on it (for the output to copy, not encode again); None when
        there is none or it is already gone."""
        entry = self.saved
        if entry is None or entry.get("from") is None or not entry.get("groups"):
            return None
        held = store.hold(self.folder, entry["file"])
        if held is None:
            return None
        groups = [(str(m), int(a), int(b)) for m, a, b in entry["groups"]]
        own = {str(m): (int(a), None) for m, a in (entry.get("firsts") or {}).items()}
        stored = Stored(held, int(entry["from"]), None, groups, entry.get("footer"), spans=own)
        return stored, held


def _intact(files: list[tuple[Path, object]]) -> bool:
    """Whether each file has its content hash."""
    try:
        return all(file_hash(path) == digest for path, digest in files)
    except OSError:
        return False


def _rebuilt(
    stored: list[Stored], kept: list[str], since: pl.Expr, records: pl.DataFrame, by: list[str]
) -> pl.DataFrame | None:
    """The summary of the records a new chain serves: the `kept` metrics' records before
    `since` (per row: its metric's first period finished now) in the `stored` segments
    (their keys and values read), then `records`; None when they cannot be read (the
    next run scans, as without a summary)."""
    at = pl.col(START).dt.epoch("us")
    columns = ["metric", *by, START, "value"]
    try:
        frames = [s.rows(kept).filter(at < since).select(columns).collect() for s in stored]
    except (OSError, pl.exceptions.PolarsError):
        return None
    old = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    if old.is_empty():
        return summaries.of_records(records, by)
    return summaries.add(summaries.of_records(old, by), records, by)


def _zero(records: pl.DataFrame) -> pl.DataFrame:
    """The records with the output's `QUARANTINED` column (0: see there)."""
    if QUARANTINED in records.columns:
        return records
    return records.with_columns(pl.lit(0, dtype=pl.Int64).alias(QUARANTINED))
