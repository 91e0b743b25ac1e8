"""A local cache of CSV exports converted to typed Parquet, reused while the export is
unchanged.

Parsing and checking CSV text is the slow part of a run; analysts re-run on the same
exports many times a day. The first run converts each CSV file once — every column mapped,
coerced to its contract type, with its data-rule problems kept beside it — and later runs
read that Parquet instead. Problems are stored, not fixed: a cached file reports the same
errors (with the same file and line) as the CSV would.

An entry's key is a hash of the file's fingerprint — resolved path, size, modification
time and a full BLAKE2b hash of its content — and of everything that shapes the conversion
(the source's mapping, derived columns and types, the project time zone, the tpmkit and
polars versions). The content hash is remembered per path beside size, modification time
and a hash of the first and last MiB, and recomputed only when one of those changes: an
unchanged export costs a `stat` and two 1 MiB reads, not a read of the whole file. (An
edit in the middle of a file that keeps its size and modification time is not seen;
`--no-cache` reads afresh.)

Writers never expose a partial file: an entry is written to a unique temporary name in
the cache folder and renamed into place, so two runs filling the cache at once each write a
complete, identical entry and the last rename wins. An unreadable or corrupt entry is a
miss. A cache that cannot be written is skipped with a note; it never fails a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

FORMAT = 1  # bump when the layout of an entry changes
_CHUNK = 1 << 20


def content_hash(path: Path) -> str:
    """BLAKE2b (160 bit) of the whole file."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sample_hash(path: Path, size: int) -> str:
    """BLAKE2b of the first and the last MiB: a cheap check that a file whose size and
    modification time are unchanged was not rewritten in place."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as handle:
        digest.update(handle.read(_CHUNK))
        if size > _CHUNK:
            handle.seek(max(_CHUNK, size - _CHUNK))
            digest.update(handle.read(_CHUNK))
    return digest.hexdigest()


def _replace_atomically(target: Path, write: Any) -> None:
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass
class CsvCache:
    """The cache folder; `problems` collects why the cache could not be used, if ever."""

    folder: Path
    problems: list[str] = field(default_factory=list)
    hits: int = 0
    misses: int = 0

    def _ready(self) -> bool:
        if self.problems:
            return False
        try:
            (self.folder / "index").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.problems.append(f"cache not used: cannot create {self.folder} ({exc.strerror})")
            return False
        return True

    def _index_file(self, path: Path) -> Path:
        name = hashlib.sha256(str(path).encode()).hexdigest()[:32]
        return self.folder / "index" / f"{name}.json"

    def fingerprint(self, path: Path) -> dict[str, Any]:
        """Path, size, modification time and content hash of an export file."""
        path = path.resolve()
        stat = path.stat()
        known = self._read_index(path)
        fingerprint: dict[str, Any] = {
            "path": str(path),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sample": sample_hash(path, stat.st_size),
        }
        same = known and all(known.get(k) == v for k, v in fingerprint.items())
        fingerprint["hash"] = known["hash"] if same and known else content_hash(path)
        return fingerprint

    def _read_index(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(self._index_file(path).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and "hash" in data else None

    def entry(self, path: Path, shape: dict[str, Any]) -> tuple[Path, dict[str, Any]] | None:
        """Where the converted file for `path` converted as `shape` lives (None: no cache)."""
        if not self._ready():
            return None
        fingerprint = self.fingerprint(path)
        key_source = json.dumps(
            {"format": FORMAT, "polars": pl.__version__, "file": fingerprint, "shape": shape},
            sort_keys=True,
            default=str,
        )
        key = hashlib.sha256(key_source.encode()).hexdigest()[:40]
        return self.folder / f"{key}.parquet", fingerprint

    def usable(self, entry: Path) -> bool:
        """True when `entry` exists and is a readable Parquet file."""
        if not entry.exists():
            return False
        try:
            pl.read_parquet_schema(entry)
        except Exception:  # any unreadable entry is simply a miss
            entry.unlink(missing_ok=True)
            return False
        return True

    def store(
        self,
        entry: Path,
        fingerprint: dict[str, Any],
        frame: pl.LazyFrame,
        sparse: tuple[str, ...] = (),
    ) -> bool:
        """Write `frame` as the entry (atomically) and remember the file's fingerprint;
        the entry this path had before is removed. Columns whose names start with one of
        `sparse` are mostly empty: which of them are entirely empty is noted beside the
        entry (`empty_columns`), so a reader need not load them. False when the cache cannot
        be written or the file cannot be converted (the caller then reads it directly and
        reports why)."""

        def write(temporary: Path) -> None:
            frame.sink_parquet(temporary)
            scan = pl.scan_parquet(temporary)
            names = [n for n in scan.collect_schema().names() if n.startswith(sparse)]
            filled = (
                scan.select(pl.col(names).is_not_null().any()).collect().row(0, named=True)
                if names
                else {}
            )
            empty = sorted(n for n in names if not filled[n])
            _replace_atomically(
                _sidecar(entry), lambda tmp: tmp.write_text(json.dumps({"empty": empty}))
            )

        try:
            _replace_atomically(entry, write)
        except pl.exceptions.PolarsError:
            return False
        except OSError as exc:
            self.problems.append(f"cache not used: cannot write to {self.folder} ({exc})")
            return False
        try:
            index = self._index_file(Path(fingerprint["path"]))
            before = self._read_index(Path(fingerprint["path"]))
            record = {**fingerprint, "entry": entry.name}
            _replace_atomically(index, lambda tmp: tmp.write_text(json.dumps(record)))
        except OSError as exc:
            self.problems.append(f"cache not used: cannot write to {self.folder} ({exc})")
            return False
        if before and before.get("entry") not in (None, entry.name):
            (self.folder / str(before["entry"])).unlink(missing_ok=True)
            _sidecar(self.folder / str(before["entry"])).unlink(missing_ok=True)
        return True

    def empty_columns(self, entry: Path) -> set[str]:
        """Columns of `entry` known to hold no value (none known: an empty set)."""
        try:
            data = json.loads(_sidecar(entry).read_text())
        except (OSError, ValueError):
            return set()
        empty = data.get("empty") if isinstance(data, dict) else None
        return {str(c) for c in empty} if isinstance(empty, list) else set()


def _sidecar(entry: Path) -> Path:
    return entry.with_suffix(".json")
