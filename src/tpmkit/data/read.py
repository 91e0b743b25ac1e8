"""Read a dataset's typed columns: from its files (CSV through the cache), or a frame,
and only the rows in a time window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.contract import DatasetContract
from tpmkit.data import coerce, diagnose
from tpmkit.data.cache import CsvCache
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.frames import scan_frame
from tpmkit.data.sources import FILE, ROW, ScannedFile, scan_file, source_files
from tpmkit.data.typed import typed
from tpmkit.errors import DataError, Issue, first_line
from tpmkit.spec.models import Source


@dataclass(frozen=True)
class RowWindow:
    """Read only rows with one of `columns` in [start, end) (or null, to report it)."""

    columns: list[str]
    start: dt.datetime | None
    end: dt.datetime | None

    def keep(self, present: set[str]) -> pl.Expr | None:
        """The filter keeping the rows inside the window (None: no such column)."""
        tests = []
        for column in (c for c in self.columns if c in present):
            inside = pl.col(column).is_null()
            if self.start is not None and self.end is not None:
                inside = inside | pl.col(column).is_between(self.start, self.end, closed="left")
            elif self.start is not None:
                inside = inside | (pl.col(column) >= self.start)
            elif self.end is not None:
                inside = inside | (pl.col(column) < self.end)
            tests.append(inside)
        return pl.any_horizontal(tests) if tests else None


def scan(
    name: str, source: Source, root: Path, frame: Any = None, paths: list[Path] | None = None
) -> list[ScannedFile]:
    """The dataset's exports, scanned: the given in-memory frame, else `paths` (some of the
    source's files, for an incremental run), else every file of the source."""
    if frame is not None:
        return [scan_frame(frame, source, name)]
    files = paths if paths is not None else source_files(source, root, name)
    return [scan_file(path, source, root, name) for path in files]


def typed_file(
    item: ScannedFile,
    wanted: list[str],
    types: dict[str, str],
    contract: DatasetContract | None,
    timezone: str,
    cache: CsvCache | None,
    shape: dict[str, object],
) -> pl.LazyFrame:
    """A file's wanted columns, typed: from the cache when the file is a CSV export the
    cache holds (converting it first, all columns, when it does not)."""
    path = item.path
    located = cache.entry(path, shape) if cache and path and item.format == "csv" else None
    if cache is None or located is None:
        return typed(item, wanted, types, contract, timezone)
    entry, fingerprint = located
    if cache.usable(entry):
        cache.hits += 1
    else:
        converted = typed(item, sorted(item.canonical), types, contract, timezone).drop(FILE)
        if not cache.store(entry, fingerprint, converted, (PROBLEM, coerce.RETRY)):
            return typed(item, wanted, types, contract, timezone)
        cache.misses += 1
    stored = pl.scan_parquet(entry)
    present = set(stored.collect_schema().names())
    # `union: by_name`: a column this file lacks is empty, typed as the reader types it
    lacking = [c for c in wanted if c not in present]
    kinds = typed(item, lacking, types, contract, timezone).collect_schema() if lacking else {}
    # problem columns are nearly always empty: not read
    empty = cache.empty_columns(entry) | {f"{PROBLEM}{c}" for c in lacking}
    side = [f"{PROBLEM}{c}" for c in wanted if c in types]
    side += [r for r in (f"{coerce.RETRY}{c}" for c in wanted) if r in present]
    return stored.select(
        pl.lit(item.display).alias(FILE),
        pl.col(ROW),
        *(pl.lit(None, dtype=kinds[c]).alias(c) if c in kinds else pl.col(c) for c in wanted),
        *(pl.lit(None, dtype=pl.String).alias(c) if c in empty else pl.col(c) for c in side),
    )


def collect(frame: pl.LazyFrame, name: str, scanned: list[ScannedFile]) -> pl.DataFrame:
    """Run the load; a file polars cannot parse (encoding, ragged rows, stray quotes,
    types it cannot turn into text) is a data error naming the files, not a crash."""
    try:
        return frame.collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(exc, name, scanned) from None


def collect_each(
    frames: list[pl.LazyFrame], name: str, scanned: list[ScannedFile], together: bool = False
) -> list[pl.DataFrame]:
    """Run several queries over one dataset on the streaming engine, one after another:
    run together they hold far more (100 M calls: 6.7 GiB instead of 1.6); `together`
    (for a small dataset, the queries reading one cached plan): at once, in one streaming
    graph that reads the shared part once. Unreadable files are reported as by `collect`."""
    try:
        if together and len(frames) > 1:
            return pl.collect_all(frames, engine="streaming")
        return [frame.collect(engine="streaming") for frame in frames]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(exc, name, scanned) from None


def _unreadable(exc: Exception, name: str, scanned: list[ScannedFile]) -> DataError:
    """The data error for files polars could not read: the first with a located reason."""
    detail = first_line(exc)
    for item in scanned:  # the first file with a reason the user can act on
        located = (
            diagnose.failed_cast(name, item.display, item.path, item.source, str(exc))
            or diagnose.unreadable(name, item.display, item.path, item.source)
            if item.format == "csv"
            else None
        )
        if located is not None:
            return located
    hint = "check that it is UTF-8 CSV with one header line, or valid Parquet"
    if "utf-8" in detail.lower() or "utf8" in detail.lower():
        hint = "save the export as UTF-8 (or re-export it) and run again"
    return DataError(
        f"dataset `{name}`: cannot read its export(s): {detail}",
        [Issue("could not be parsed", file=item.display, hint=hint) for item in scanned],
    )
