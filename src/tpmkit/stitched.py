"""Records held as the last run's stored Parquet segments plus this run's new records (an
incremental run's output), in output order: per metric, each segment's rows of it, then
the new ones.

Materialising 7.85 M records only to write them again cost an incremental run by agent a
third of its CPU time; so the records stay stored until rows are needed. `collect` gives
the frame (renderers, the Python API); `write_parquet` copies the stored row groups into
the output byte for byte (`parquet_splice`) and encodes only the new records and the edges
of segments cut mid row group. For that, a large segment is written with one row group per
metric for its older periods and one per metric and period for its last `TAIL` (the ones
the next runs recompute and cut): its `groups` say which."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit import parquet_splice as splice
from tpmkit.atomic import write_with
from tpmkit.records import metric_runs

START = "period_start"
TAIL = 4  # periods a metric keeps in row groups of their own, at a segment's end
SPLICE_MIN = 100_000  # records: smaller segments are stored and read back whole
Group = tuple[str, int, int]  # a row group: its metric, first and last period (epoch µs)


def _at() -> pl.Expr:
    return pl.col(START).dt.epoch("us")


_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tpmkit-footer")


Span = tuple[int | None, int | None]  # periods [lo, hi) in epoch µs; None: unbounded


@dataclass(frozen=True)
class Stored:
    """The rows a stored segment serves: of the metrics kept, periods in [lo, hi), or in
    their own `spans` (the metrics whose records it serves over other periods: an
    incremental run stores each metric's from its own first recomputed period on)."""

    path: Path
    lo: int | None
    hi: int | None
    groups: list[Group] | None  # per row group; None: read it whole
    footer: splice.Footer | None = field(default=None, compare=False, repr=False)  # known
    # its footer being read meanwhile (`prefetch`)
    reading: Future[splice.Source] | None = field(default=None, compare=False, repr=False)
    spans: Mapping[str, Span] = field(default_factory=dict)

    def span(self, metric: str) -> Span:
        """The periods [lo, hi) of `metric` it serves."""
        return self.spans.get(metric, (self.lo, self.hi))

    def until(self, hi: int, his: Mapping[str, int]) -> Stored:
        """This segment serving no period from `hi` on (a metric's own `his`)."""

        def cut(span: Span, at: int) -> Span:
            return span[0], at if span[1] is None else min(span[1], at)

        spans = {m: cut(self.span(m), his.get(m, hi)) for m in {*self.spans, *his}}
        lo, top = cut((self.lo, self.hi), hi)
        return replace(self, lo=lo, hi=top, spans=spans)

    def source(self) -> splice.Source:
        """The file's footer (`parquet_splice.open_source`), read unless known."""
        if self.footer is not None:
            return splice.Source(self.path, self.footer)
        if self.reading is not None:
            return self.reading.result()
        return splice.open_source(self.path)

    def prefetch(self) -> Stored:
        """This segment, its footer read in a thread meanwhile: parsing a year's footer
        (thousands of column chunks, in Python) took 0.3 s, while the run's first steps
        are polars' (which lets the thread run)."""
        if self.groups is None or self.footer is not None or self.reading is not None:
            return self
        return replace(self, reading=_READER.submit(splice.open_source, self.path))

    def rows(self, kept: list[str] | None = None) -> pl.LazyFrame:
        """The rows it serves of the `kept` metrics (None: of every metric)."""
        metric = pl.col("metric")
        own = sorted(self.spans if kept is None else set(kept) & set(self.spans))
        wanted = [(metric == m) & _within(*self.spans[m]) for m in own]
        if kept is None:
            others = ~metric.is_in(pl.Series(own, dtype=pl.String).implode())
            wanted.append(others & _within(self.lo, self.hi))
        elif plain := [m for m in kept if m not in self.spans]:
            names = pl.Series(plain, dtype=pl.String).implode()
            wanted.append(metric.is_in(names) & _within(self.lo, self.hi))
        frame = pl.scan_parquet(self.path)
        return frame.filter(pl.any_horizontal(wanted)) if wanted else frame.clear()

    def serves(self, metric: str, lo: int, hi: int) -> str:
        """Whether a row group of `metric`'s periods [lo, hi] is served all, cut or not
        at all."""
        low, high = self.span(metric)
        if low is not None and high is not None and high <= low:
            return "none"
        below = low is None or lo >= low
        above = high is None or hi < high
        if below and above:
            return "all"
        if (low is not None and hi < low) or (high is not None and lo >= high):
            return "none"
        return "cut"


def _within(lo: int | None, hi: int | None) -> pl.Expr:
    """Periods in [lo, hi)."""
    at = _at()
    if lo is not None and hi is not None:
        return (at >= lo) & (at < hi)
    if lo is not None:
        return at >= lo
    if hi is not None:
        return at < hi
    return pl.lit(True)


class Stitched:
    """Records: the `stored` segments' rows of the `kept` metrics, then `tail` (the new
    records), per metric in `order`; then `extra` rows. The stored files hold every output
    column (`with_zero` names those added afterwards). `release` is called once they are
    read (or this is dropped)."""

    def __init__(
        self,
        stored: list[Stored],
        tail: pl.DataFrame,
        order: list[str],
        kept: set[str],
        release: Callable[[], None],
    ) -> None:
        self.stored, self.tail, self.order = stored, tail, order
        self.kept = [m for m in order if m in kept]
        self.extra: list[pl.DataFrame] = []
        self.saved: Stored | None = None  # `adopt`
        self._frame: pl.DataFrame | None = None
        self._release = weakref.finalize(self, release)
        self._holds: list[Any] = []  # weakref.finalize of each adopted hold

    def adopt(self, saved: Stored, hold: Path) -> None:
        """`saved`: the new records from its `lo` on, as stored in row groups for the next
        run (the output copies them instead of encoding them again); `hold` is released
        with the others."""
        self.saved = saved
        self._holds.append(weakref.finalize(self, hold.unlink, missing_ok=True))

    @property
    def columns(self) -> list[str]:
        return self.tail.columns

    def metrics(self) -> set[str]:
        """The metrics with a record."""
        if self._frame is not None:
            return set(self._frame.get_column("metric").unique().to_list())
        found = set(self.tail.get_column("metric").unique().to_list())
        for frame in self.extra:
            found |= set(frame.get_column("metric").unique().to_list())
        for segment in self.stored:
            if segment.groups is not None:
                found |= {
                    m
                    for m, lo, hi in segment.groups
                    if m in self.kept and segment.serves(m, lo, hi) != "none"
                }
            else:
                rows = segment.rows(self.kept).select(pl.col("metric").unique()).collect()
                found |= set(rows.get_column("metric").to_list())
        return found

    def append(self, frame: pl.DataFrame) -> None:
        """Rows after all the others (with every column)."""
        self.extra.append(frame.select(self.columns))
        if self._frame is not None:
            self._frame = pl.concat([self._frame, self.extra[-1]], how="vertical_relaxed")

    def with_zero(self, column: str) -> Stitched:
        """`column` (Int64) as 0 on the new and extra rows; the stored rows hold it as 0."""
        zero = pl.lit(0, dtype=pl.Int64).alias(column)
        self.tail = self.tail.with_columns(zero)
        self.extra = [f.with_columns(zero) for f in self.extra]
        if self._frame is not None:
            self._frame = self._frame.with_columns(zero)
        return self

    def collect(self) -> pl.DataFrame:
        """The records as one frame (read from the stored segments once)."""
        if self._frame is None:
            olds = [
                metric_runs(s.rows(self.kept).select(self.columns).collect())
                for s in self.stored
                if self.kept
            ]
            news = metric_runs(self.tail)
            parts = []
            for metric in self.order:
                parts += [old[metric] for old in olds if metric in old]
                if metric in news:
                    parts.append(news[metric])
            parts += self.extra
            self._frame = (
                pl.concat(parts, how="vertical_relaxed", rechunk=False)
                if parts
                else self.tail.clear()
            )
            self._let_go()
        return self._frame

    def _let_go(self) -> None:
        self._release()
        for hold in self._holds:
            hold()

    def write_parquet(self, target: Path) -> None:
        """Write the records to `target` as Parquet, atomically: the stored row groups
        copied, the rest encoded (or, when they cannot be put together, all encoded)."""

        def writer(temporary: Path) -> None:
            if self._frame is None:
                try:
                    self._splice(temporary)
                    return
                except (splice.Mismatch, OSError, pl.exceptions.PolarsError):
                    pass  # written whole below
            self.collect().write_parquet(temporary)

        # the holds stay until the records are read or dropped: `--record` reads them after
        write_with(target, writer)

    def _splice(self, target: Path) -> None:
        parts: list[tuple[splice.Source, int]] = []
        pending: list[pl.DataFrame] = []

        def flush() -> None:
            if any(not f.is_empty() for f in pending):
                frame = pl.concat(pending, how="vertical_relaxed")
                source = splice.encode(frame, frame.height)
                parts.extend((source, g) for g in range(len(source.groups)))
            pending.clear()

        sources = [None if s.groups is None else s.source() for s in self.stored]
        whole = [  # the segments read back whole, and the rows of row groups cut
            {}
            if s.groups is not None
            else metric_runs(s.rows(self.kept).select(self.columns).collect())
            for s in self.stored
        ]
        cut = [_cut_rows(s, self.kept, self.columns) for s in self.stored]
        news = metric_runs(self.tail)
        saved = None if self.saved is None else self.saved.source()
        kept = set(self.kept)
        for metric in self.order:
            for i, segment in enumerate(self.stored if metric in kept else []):
                source = sources[i]
                if source is None:
                    if metric in whole[i]:
                        pending.append(whole[i][metric])
                    continue
                for g, (m, lo, hi) in enumerate(segment.groups or []):
                    if m != metric:
                        continue
                    served = segment.serves(m, lo, hi)
                    if served == "all":
                        flush()
                        parts.append((source, g))
                    elif served == "cut":
                        mine = (pl.col("metric") == m) & _at().is_between(lo, hi)
                        pending.append(cut[i].filter(mine))
            if metric in news and saved is not None and self.saved and self.saved.groups:
                # the records from the saved segment's start on are its row groups
                start = self.saved.span(metric)[0] or 0
                ours = [g for g, (m, _, _) in enumerate(self.saved.groups) if m == metric]
                later = news[metric].filter(_at() >= start).height
                if later != sum(saved.rows(g) for g in ours):  # not the same records
                    raise splice.Mismatch("the saved segment does not hold the new records")
                pending.append(news[metric].filter(_at() < start))
                if ours:
                    flush()
                    parts.extend((saved, g) for g in ours)
            elif metric in news:
                pending.append(news[metric])
        pending.extend(self.extra)
        flush()
        if not parts:
            raise splice.Mismatch("no records")
        splice.splice(target, parts)


def _cut_rows(segment: Stored, kept: list[str], columns: list[str]) -> pl.DataFrame:
    """The rows served of a segment's row groups that are cut (read back)."""
    ranges = [
        (m, lo, hi) for m, lo, hi in segment.groups or [] if segment.serves(m, lo, hi) == "cut"
    ]
    if not ranges:
        return pl.DataFrame()
    wanted = pl.any_horizontal(
        [(pl.col("metric") == m) & _at().is_between(lo, hi) for m, lo, hi in ranges]
    )
    return segment.rows(kept).filter(wanted).select(columns).collect()


def write_segment(
    target: Path, records: pl.DataFrame
) -> tuple[list[Group] | None, str, splice.Footer | None]:
    """Store finished records (grouped by metric, each in period order) as Parquet,
    atomically; with `SPLICE_MIN` records or more, in row groups per metric and, for its
    last `TAIL` periods, per period. Returns the row groups (None: one file written
    whole), the file's content hash (checked before its bytes are copied) and, with row
    groups, its footer (`parquet_splice.Source.footer`: the output copies them)."""
    groups: list[Group] | None = None
    footer: list[splice.Footer] = []
    if records.height >= SPLICE_MIN and not records.is_empty():
        pieces = _pieces(records)
        encoded = []
        groups = []
        for metric, offset, rows, lo, hi in pieces.select(
            "metric", "__offset", "__rows", "__lo", "__hi"
        ).iter_rows():
            source = splice.encode(records.slice(offset, rows), rows)
            if len(source.groups) != 1:
                groups = None
                break
            encoded.append((source, 0))
            groups.append((str(metric), int(lo), int(hi)))
        if groups is not None:
            write_with(target, lambda temporary: footer.append(splice.splice(temporary, encoded)))
    if groups is None:
        write_with(target, lambda temporary: records.write_parquet(temporary))
    return groups, file_hash(target), footer[-1] if groups is not None else None


def _pieces(records: pl.DataFrame) -> pl.DataFrame:
    """The row groups of a segment: per run of a metric's rows, one for its periods before
    its last `TAIL` and one for each of those (`metric`, `__offset`, `__rows`, `__lo`,
    `__hi`). From the runs of rows with the same metric and period (a few thousand for
    millions of records), not from the rows: ranking every row cost 0.5 s at 7.85 M."""
    runs = (
        records.select(pl.struct("metric", _at().alias("__at")).rle().alias("__run"))
        .unnest("__run")
        .unnest("value")
        .with_columns((pl.col("len").cum_sum() - pl.col("len")).alias("__offset"))
    )
    rank = pl.col("__at").rank("dense").over("metric").cast(pl.Int64)
    bucket = pl.max_horizontal(rank - (rank.max().over("metric") - TAIL), 0)
    piece = pl.struct(pl.col("metric").rle_id(), bucket).rle_id()
    return runs.group_by(piece.alias("__piece"), maintain_order=True).agg(
        pl.col("metric").first(),
        pl.col("__offset").first(),
        pl.col("len").sum().alias("__rows"),
        pl.col("__at").min().alias("__lo"),
        pl.col("__at").max().alias("__hi"),
    )


def file_hash(path: Path) -> str:
    """A file's BLAKE2b content hash."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
