"""Load a dataset: read its exports (or a frame), coerce types, enforce the data rules,
handle repeated ids and bad rows. Each step is its own module; this one orders them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl

from tpmkit import __version__
from tpmkit.contract import CANONICAL, DatasetContract
from tpmkit.data import columns as cols
from tpmkit.data import duplicates, rules, stream
from tpmkit.data.cache import CsvCache
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.derive import apply_defaults, apply_derivations
from tpmkit.data.frames import frame_label
from tpmkit.data.freshness import DayCounts, day_counts
from tpmkit.data.problems import bad_cells, data_error
from tpmkit.data.read import RowWindow, collect, scan, typed_file
from tpmkit.data.rejects import write_rejects
from tpmkit.data.sources import FILE, ROW, ScannedFile
from tpmkit.data.typed import infer_untyped, retry
from tpmkit.errors import DataError, Issue
from tpmkit.spec.models import Source

OnBadRows = Literal["fail", "quarantine"]
BAD = "__bad"  # the one flag per row of the lean read (see `_lean`)

__all__ = ["Dataset", "OnBadRows", "RowWindow", "load_dataset"]


@dataclass
class Dataset:
    """A dataset ready for the engine: canonical columns, coerced, bad rows handled.

    `rows` is what the engine reads: the checked rows in memory, or — when the check ran as
    a streaming pass (`stream.check`) — a plan that reads them again from the typed source,
    so that each metric pass streams from the files instead of a held copy."""

    name: str
    rows: pl.LazyFrame
    files: list[str]
    time_column: str | None
    missing: dict[str, str] = field(default_factory=dict)  # optional column -> why unavailable
    rows_read: int = 0
    quarantined: int = 0
    rejects_file: str | None = None
    deduplicated: int = 0  # rows left out by `dedupe: keep_last`
    counted: DayCounts | None = None  # counted by the streaming check, else on first use
    # the check's rule flags are left to a metric pass: `rows` carry them in
    # `stream.UNCHECKED` (`load_dataset(defer_check=True)`)
    unchecked: bool = False

    @cached_property
    def frame(self) -> pl.DataFrame:
        """The rows in memory (read on first use when the load streamed)."""
        return self.rows.collect()

    @cached_property
    def columns(self) -> set[str]:
        return set(self.rows.collect_schema().names()) - {stream.UNCHECKED}

    @cached_property
    def day_counts(self) -> DayCounts:
        """The latest timestamp and rows per local day (once per loaded dataset: the
        evaluations of one report share it)."""
        return self.counted or day_counts(self.rows, self.time_column)


def load_dataset(
    name: str,
    source: Source | None,
    root: Path,
    timezone: str,
    needed: set[str] | None = None,
    *,
    on_bad_rows: OnBadRows = "fail",
    rejects_dir: Path | None = None,
    cache: CsvCache | None = None,
    rows_in: RowWindow | None = None,
    first_rows: int | None = None,
    frame: Any = None,
    paths: list[Path] | None = None,
    defer_check: bool = False,
) -> Dataset:
    """Read, map, coerce and check one dataset; only `needed` columns (None: all) are read,
    and with `rows_in` only the rows in that time range (rows outside it are not checked);
    `first_rows` reads only the first rows of each file (a sample, for `validate`).
    `frame` (a polars DataFrame or LazyFrame, or a pyarrow Table shaped like the export)
    replaces the source's files; `source` may then be None (no mapping). `paths`: read only
    these of the source's files (an incremental run, `tpmkit.increment`). `defer_check`:
    a small Parquet dataset's rule flags may be left in the rows for the first metric
    pass over all of them (`stream.check`; `Dataset.unchecked` says whether they were),
    which must then make sure no flag is up (`engine.compute.Input.check`)."""
    if source is None:
        if frame is None:
            raise DataError(
                f"dataset `{name}`: no source and no frame",
                [Issue(f"give a source for `{name}` or a frame as {frame_label(name)}")],
            )
        source = Source(path=frame_label(name))
    contract = CANONICAL.get(name)
    scanned = scan(name, source, root, frame, paths)
    cols.check_required(name, scanned, contract, source)
    types = cols.column_types(name, source, contract)
    time_column = source.time_column or (contract.time_column if contract else None)
    wanted = cols.wanted_columns(scanned, contract, source, needed, time_column)
    cols.check_union(name, scanned, source, wanted)
    missing = cols.missing_columns(name, scanned, contract)

    shape: dict[str, object] = {
        "dataset": name,
        "timezone": timezone,
        "types": types,
        "tpmkit": __version__,
        "source": source.model_dump(mode="json", exclude={"path", "freshness", "completeness"}),
    }
    if first_rows is not None:
        scanned = [replace(item, frame=item.frame.head(first_rows)) for item in scanned]
        cache = None
    frames = [typed_file(item, wanted, types, contract, timezone, cache, shape) for item in scanned]
    typed = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    keep = rows_in.keep(set(wanted)) if rows_in else None
    if keep is not None:
        typed = typed.filter(keep)
    coerced = {c for c in wanted if c in types}
    id_column = source.id_column or (contract.id_column if contract else None)
    marked = source.dedupe == "keep_last" and id_column in wanted
    if marked:
        typed = duplicates.mark_repeats(typed, str(id_column))
    deduplicated = 0
    files = [s.display for s in scanned]
    streamed = first_rows is None and stream.streamable(scanned, cache is not None) and not marked
    if streamed:
        checked = stream.check(
            typed,
            name,
            scanned,
            contract,
            source,
            wanted,
            types,
            id_column,
            time_column,
            defer=defer_check and keep is None,
        )
        if checked is not None:
            rows = apply_derivations(apply_defaults(checked.rows, contract), contract)
            names = set(rows.collect_schema().names())
            missing = {k: v for k, v in missing.items() if k not in names}
            return Dataset(
                name,
                rows,
                files,
                time_column,
                missing,
                checked.height,
                counted=checked.day_counts,
                unchecked=checked.deferred,
            )
    # the streaming check found a problem: straight to the read that locates it
    df = (
        None if streamed else _lean(typed, name, scanned, types, contract, source, wanted, timezone)
    )
    if df is not None:
        df, deduplicated = duplicates.drop_repeats(df)
        df = duplicates.flag_duplicates(df, id_column)
        if any(c.startswith(PROBLEM) for c in df.columns):
            df = None  # a repeated id: read again, naming every problem
    if df is None:  # some row breaks a rule: read again, naming every problem
        df, _ = retry(collect(typed, name, scanned), types, contract, timezone, source)
        df, deduplicated = duplicates.drop_repeats(df)
        df = df.with_columns(*rules.problem_columns(contract, source, wanted, coerced))
        df = duplicates.flag_duplicates(df, id_column)
    rows_read = df.height + deduplicated

    cells = bad_cells(df)
    quarantined, rejects_file = 0, None
    if cells:
        if on_bad_rows == "fail":
            raise data_error(name, cells, scanned)
        quarantined = len({(c.file, c.row) for c in cells})
        rejects_file = write_rejects(name, cells, scanned, rejects_dir or root / ".tpmkit/rejects")
        df = df.filter(~pl.any_horizontal(pl.col(f"^{PROBLEM}.*$").is_not_null()))
    df = df.drop([c for c in df.columns if c.startswith(PROBLEM)], ROW, FILE)
    df = infer_untyped(df, types)
    df = apply_defaults(df, contract)
    df = apply_derivations(df, contract)
    missing = {k: v for k, v in missing.items() if k not in df.columns}
    dataset = Dataset(
        name,
        df.lazy(),
        files,
        time_column,
        missing,
        rows_read,
        quarantined,
        rejects_file,
        deduplicated,
    )
    dataset.frame = df  # already in memory  # type: ignore[misc]
    return dataset


def _lean(
    typed: pl.LazyFrame,
    name: str,
    scanned: list[ScannedFile],
    types: dict[str, str],
    contract: DatasetContract | None,
    source: Source,
    wanted: list[str],
    timezone: str,
) -> pl.DataFrame | None:
    """The dataset when no row breaks a rule, else None.

    A problem column per data column costs 16 bytes a row even when empty (a third of the
    memory on ten million rows). Nearly always every row is good, so the data is first
    read with one flag per row instead; only when a flag is up is it read again with the
    problem columns (`load_dataset`)."""
    names = typed.collect_schema().names()
    problems = [c for c in names if c.startswith(PROBLEM)]
    flag = pl.any_horizontal(pl.col(problems).is_not_null()) if problems else pl.lit(False)
    df = collect(
        typed.select(*(c for c in names if c not in problems), flag.alias(BAD)), name, scanned
    )
    df, retried_bad = retry(df, types, contract, timezone, source)
    conditions = [condition for _, condition, _ in rules.conditions(contract, source, wanted)]
    broken = (
        df.select(pl.any_horizontal(pl.col(BAD), *conditions).any()).item() if conditions else False
    )
    if retried_bad or broken or df.get_column(BAD).any():
        return None
    return df.drop(BAD)
