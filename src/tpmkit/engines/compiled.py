"""The compiled-query cache of the DuckDB engine: the SQL of every query of an evaluation
(its passes and stocks), compiled by Ibis once and kept, so that a later run with the same
definitions executes SQL strings, without building Ibis expressions, compiling them, or
importing Ibis at all (a third of a second of imports and as much compiling at 1 M calls).

An entry is found by a key of everything the SQL depends on: the metric definitions (each
spec in full), the helpers, aliases and metrics left out; the grain, grouping and window
asked; the project time zone; each table's name, columns and DuckDB types and whether it
was read by DuckDB or uploaded; the dialect; and the code that compiles (tpmkit's own
source files, Ibis, sqlglot and DuckDB, by version and file). Nothing of the data is in
it: a data horizon is a subquery of the SQL (`Dialect.horizon`), not a number. A run whose
key has no entry builds and compiles its queries and stores them (written atomically).

The cache holds no rows and cannot go stale on new data, so unlike the CSV and records
caches it is used under `--no-cache` too. It lives in `$TPMKIT_COMPILED_CACHE`, else
`$XDG_CACHE_HOME/tpmkit/compiled` (`~/.cache/tpmkit/compiled`); `TPMKIT_COMPILED_CACHE=off`
turns it off. The newest `KEEP` entries are kept. A folder that cannot be written is a cache
that is not filled: the run's records are the same either way."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.engines.queries import Compiled
from tpmkit.spec.models import MetricSpec

__all__ = ["FORMAT", "KEEP", "VARIABLE", "cache_key", "folder", "load", "store"]

VARIABLE = "TPMKIT_COMPILED_CACHE"
FORMAT = 2  # of an entry; a change makes every entry a miss
KEEP = 256  # entries kept (the newest by use)


def folder() -> Path | None:
    """Where entries are kept; None when the cache is off."""
    chosen = os.environ.get(VARIABLE)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "false", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tpmkit" / "compiled"


def cache_key(
    *,
    dialect: str,
    zones: tuple[str, ...],
    timezone: str,
    grain: str,
    by: list[str],
    window: tuple[str | None, str | None],
    metrics: list[MetricSpec],
    helpers: list[MetricSpec],
    aliases: Mapping[str, str],
    unavailable: Mapping[str, str],
    tables: Mapping[str, tuple[str, str, str, list[tuple[str, str]]]],
) -> str:
    """The entry's name: a digest of everything the compiled SQL depends on (`tables`:
    dataset -> (table, how it got there, time column, DuckDB columns and types))."""
    key = {
        "format": FORMAT,
        "code": code_fingerprint(),
        "dialect": dialect,
        "zones": list(zones),
        "timezone": timezone,
        "grain": grain,
        "by": by,
        "window": list(window),
        "metrics": [s.model_dump_json() for s in metrics],
        "helpers": [s.model_dump_json() for s in helpers],
        "aliases": sorted(aliases.items()),
        "unavailable": sorted(unavailable.items()),
        "tables": {k: [v[0], v[1], v[2], [list(c) for c in v[3]]] for k, v in tables.items()},
    }
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The code the SQL comes from: tpmkit's source files (path, size, modification time:
    an edited file is new code even at the same version; `__init__.py` holds the version),
    and Ibis, sqlglot and DuckDB,
    each by version and by its package file (a reinstall changes it)."""
    parts: list[str] = []
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package's
    for folder, subfolders, files in os.walk(root):  # faster than Path.rglob
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(folder, name))
                parts.append(f"{folder[len(root) :]}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    for name in ("ibis", "sqlglot", "duckdb"):
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            parts.append(f"{name}:absent")
            continue
        stat = Path(origin).stat()
        versions = sorted(p.name for p in Path(origin).parent.parent.glob(f"{name}*.dist-info"))
        parts.append(f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}:{versions}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(key: str) -> dict[str, Compiled]:
    """The queries compiled under `key` (empty: none, or an entry that cannot be read)."""
    where = folder()
    if where is None:
        return {}
    path = where / f"{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("format") != FORMAT:
            return {}
        found = {
            name: Compiled(query["sql"], _schema(query["schema"]))
            for name, query in entry["queries"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        return {}
    with contextlib.suppress(OSError):  # a folder only read still serves its entries
        os.utime(path)  # used: kept longer
    return found


def store(key: str, queries: Mapping[str, Compiled]) -> bool:
    """Keep `queries` under `key`; False when the folder cannot be written."""
    from tpmkit.atomic import write_text

    where = folder()
    if where is None:
        return False
    entry = {
        "format": FORMAT,
        "queries": {
            name: {"sql": c.sql, "schema": _schema_text(c.schema)} for name, c in queries.items()
        },
    }
    try:
        where.mkdir(parents=True, exist_ok=True)
        write_text(where / f"{key}.json", json.dumps(entry))
        _prune(where)
    except OSError:
        return False
    return True


def _prune(where: Path) -> None:
    """Remove all but the `KEEP` entries used last."""
    entries = list(where.glob("*.json"))
    if len(entries) <= KEEP:
        return
    entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)


# result types written by name (reading Arrow IPC for each query costs more than the rest
# of a hit); any other type as an empty one-column frame in Arrow IPC
_PLAIN = {
    str(t): t
    for t in (
        pl.Int8(),
        pl.Int16(),
        pl.Int32(),
        pl.Int64(),
        pl.UInt8(),
        pl.UInt16(),
        pl.UInt32(),
        pl.UInt64(),
        pl.Float32(),
        pl.Float64(),
        pl.Boolean(),
        pl.String(),
        pl.Date(),
        pl.Null(),
        pl.Binary(),
    )
}


def _schema_text(schema: pl.Schema) -> list[list[str]]:
    """A result's column names and polars types, exactly."""
    return [[name, _type_text(dtype)] for name, dtype in schema.items()]


def _type_text(dtype: pl.DataType) -> str:
    if str(dtype) in _PLAIN and _PLAIN[str(dtype)] == dtype:
        return str(dtype)
    if isinstance(dtype, pl.Datetime):
        return f"Datetime {dtype.time_unit} {dtype.time_zone or ''}".rstrip()
    buffer = pl.DataFrame(schema={"c": dtype}).write_ipc(None)
    return "ipc " + base64.b64encode(buffer.getvalue()).decode("ascii")


def _schema(columns: Any) -> pl.Schema:
    return pl.Schema({str(name): _type(str(text)) for name, text in columns})


def _type(text: str) -> pl.DataType:
    kind, _, rest = text.partition(" ")
    if not rest and kind in _PLAIN:
        return _PLAIN[kind]
    if kind == "Datetime":
        unit, _, zone = rest.partition(" ")
        if unit not in ("ms", "us", "ns"):
            raise ValueError(f"time unit {unit!r}")
        return pl.Datetime(unit, zone or None)  # type: ignore[arg-type]
    if kind == "ipc":
        frame = pl.read_ipc(io.BytesIO(base64.b64decode(rest, validate=True)))
        return frame.schema["c"]
    raise ValueError(f"unknown type {text!r}")
