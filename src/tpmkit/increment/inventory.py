"""What an incremental run knows about each export file: its content hash and a summary of
its rows — per time column the first and last instant, the rows per local day, the
canonical columns it has, and (beside it, in Parquet) a 64-bit hash of every id.

The summary is a function of the file's content and of how it is read (the source's
settings, the project time zone, the tpmkit and polars versions), so it is stored under
both and computed once per content: a new or rewritten export costs one read of a few
columns. The content hash itself is remembered per path beside size, modification time,
inode and status-change time (`ctime`, which no user tool can set back), and recomputed
when any of them differs: an export rewritten in place with the same size and the same
modification time still gets a new ctime, so its content is hashed again and the change is
seen. A file changed within the last two seconds is not remembered (it may still be being
written)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.contract import CANONICAL
from tpmkit.data import columns as cols
from tpmkit.data.cache import content_hash
from tpmkit.data.read import collect
from tpmkit.data.sources import FILE, ScannedFile, scan_file
from tpmkit.data.typed import typed
from tpmkit.engine import periods
from tpmkit.increment.store import write_atomically
from tpmkit.spec.models import Source

ID_SEED = 20261201  # the seed of the id hashes (polars' hash is stable within a version)
_RECENT_NS = 2_000_000_000  # a file changed this recently may still be being written


@dataclass(frozen=True)
class FileSummary:
    """One export file's rows, summarised (see the module docstring)."""

    key: str  # content hash and reading shape: where the summary is stored
    rows: int
    columns: tuple[str, ...]  # canonical columns
    spans: dict[str, tuple[int, int]]  # time column -> first, last instant (epoch µs)
    days: dict[str, int]  # the dataset time column's local day (ISO) -> rows
    latest: Any  # the dataset time column's latest value, as read (date or local time)
    ids: Path | None  # the id hashes (Parquet), None when the dataset has no id column


class Hashes:
    """Content hashes by path, remembered in one JSON file (see the module docstring)."""

    def __init__(self, memo: Path) -> None:
        self.memo = memo
        try:
            known = json.loads(memo.read_text())
        except (OSError, ValueError):
            known = {}
        self.known: dict[str, Any] = known if isinstance(known, dict) else {}
        self.changed = False

    def of(self, path: Path) -> str:
        """The BLAKE2b hash of the file's content."""
        path = path.resolve()
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]
        entry = self.known.get(str(path))
        if isinstance(entry, dict) and entry.get("stat") == stamp:
            return str(entry["hash"])
        digest = content_hash(path)
        if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > _RECENT_NS:
            self.known[str(path)] = {"stat": stamp, "hash": digest}
            self.changed = True
        return digest

    def save(self) -> None:
        """Remember the hashes (best effort: a memo that cannot be written is recomputed)."""
        if self.changed:
            with contextlib.suppress(OSError):
                write_atomically(self.memo, json.dumps(self.known).encode())


def summarise(
    name: str,
    source: Source,
    root: Path,
    timezone: str,
    files: dict[Path, str],
    folder: Path,
    time_columns: list[str],
    shape: str,
) -> dict[Path, FileSummary]:
    """The summary of each file (path -> content hash), read from `folder` or computed;
    `time_columns` are the columns rows are placed in periods by (the dataset's first)."""
    contract = CANONICAL.get(name)
    id_column = source.id_column or (contract.id_column if contract else None)
    found: dict[Path, FileSummary] = {}
    todo: list[tuple[Path, str]] = []
    for path, digest in files.items():
        key = f"{digest[:32]}-{shape}"
        summary = _stored(folder, key)
        if summary is None:
            todo.append((path, key))
        else:
            found[path] = summary
    if not todo:
        return found
    types = cols.column_types(name, source, contract)
    scanned = [scan_file(path, source, root, name) for path, _ in todo]
    plans = []
    for item in scanned:
        present = [
            c for c in dict.fromkeys([*time_columns, id_column or ""]) if c in item.canonical
        ]
        plans.append(_plan(item, present, types, contract, timezone, time_columns, id_column))
    frames = [collect(p, name, scanned) for p in plans]
    for (path, key), item, frame in zip(todo, scanned, frames, strict=True):
        found[path] = _store(folder, key, item, frame, time_columns, id_column, timezone)
    return found


def _plan(
    item: ScannedFile,
    present: list[str],
    types: dict[str, str],
    contract: Any,
    timezone: str,
    time_columns: list[str],
    id_column: str | None,
) -> pl.LazyFrame:
    frame = typed(item, present, types, contract, timezone).drop(FILE)
    schema = frame.collect_schema()
    instants = [
        periods.instant(pl.col(c), schema[c], timezone).dt.epoch("us").alias(c)
        for c in time_columns
        if c in present and isinstance(schema[c], pl.Datetime | pl.Date)
    ]
    extra = []
    if id_column and id_column in present:
        extra.append(pl.col(id_column).cast(pl.String).hash(seed=ID_SEED).alias("__id"))
    first = time_columns[0]
    if first in present and isinstance(schema[first], pl.Datetime | pl.Date):
        day = pl.col(first).dt.date() if isinstance(schema[first], pl.Datetime) else pl.col(first)
        extra += [day.alias("__day"), pl.col(first).alias("__value")]
    return frame.select(*instants, *extra)


def _store(
    folder: Path,
    key: str,
    item: ScannedFile,
    frame: pl.DataFrame,
    time_columns: list[str],
    id_column: str | None,
    timezone: str,
) -> FileSummary:
    spans: dict[str, tuple[int, int]] = {}
    for column in (c for c in time_columns if c in frame.columns):
        values = frame.get_column(column).drop_nulls()
        if values.len():
            spans[column] = (int(values.min()), int(values.max()))  # type: ignore[arg-type]
    days: dict[str, int] = {}
    latest = None
    if "__day" in frame.columns:
        counts = frame.drop_nulls("__day").group_by("__day").len()
        days = {
            d.isoformat(): int(n)
            for d, n in zip(counts.get_column("__day"), counts.get_column("len"), strict=True)
        }
        latest = frame.get_column("__value").max()
    ids = None
    if "__id" in frame.columns:
        ids = folder / f"{key}.ids.parquet"
        hashes = frame.select(pl.col("__id").drop_nulls())
        write_atomically(ids, hashes)
    summary = FileSummary(
        key, frame.height, tuple(sorted(item.canonical)), spans, days, latest, ids
    )
    record = {
        "rows": summary.rows,
        "columns": list(summary.columns),
        "spans": {c: list(s) for c, s in spans.items()},
        "days": days,
        "latest": _encode(latest),
        "ids": ids.name if ids else None,
    }
    write_atomically(folder / f"{key}.json", json.dumps(record).encode())
    return summary


def _stored(folder: Path, key: str) -> FileSummary | None:
    try:
        data = json.loads((folder / f"{key}.json").read_text())
        ids = folder / data["ids"] if data["ids"] else None
        if ids is not None and not ids.exists():
            return None
        return FileSummary(
            key,
            int(data["rows"]),
            tuple(data["columns"]),
            {c: (int(s[0]), int(s[1])) for c, s in data["spans"].items()},
            {str(d): int(n) for d, n in data["days"].items()},
            _decode(data["latest"]),
            ids,
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _encode(value: Any) -> list[str] | None:
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat(), str(value.tzinfo)]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    return None


def _decode(value: Any) -> Any:
    if not value:
        return None
    if value[0] == "date":
        return dt.date.fromisoformat(value[1])
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(value[1])
    return moment.astimezone(ZoneInfo(value[2])) if value[2] != "None" else moment


def file_key(path: Path) -> str:
    """A file's name in the state: absolute, so that a run given the project file by a
    relative path (`-p tpmkit.yaml`) knows the files of one given it absolute (a cron
    job's), instead of taking every file for new."""
    return os.path.abspath(path)


def shape_key(*parts: Any) -> str:
    """A short hash of everything that shapes a summary or a cache entry."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
