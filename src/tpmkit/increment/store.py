"""The records cache on disk: one folder per context (everything that shapes cells: the
grain, the grouping, the time zone, the sources' settings, the lookup tables' contents,
the tpmkit and polars versions), holding immutable chunks of cells (Parquet) and a state
(JSON) naming which chunk serves each metric's period.

Writers never expose a partial file: every file is written under a unique temporary name
and renamed into place, and a new state is published by renaming `state.json` over the old
one, under an exclusive lock (`.state.json.lock`, `tpmkit.locks`), so two runs saving at
once take turns; chunks no state names any more are deleted under the same lock. A reader
takes the state and its chunks without the lock: a chunk deleted under it (a concurrent
save) or unreadable is a miss — the run computes everything afresh — never a wrong number.
The last run's finished records are read lazily, late in the run (`hold`): a hard link
taken first keeps them readable even if a concurrent save deletes them in between. They
are stored in segments: a run that reuses the last run's records before its first
recomputed period stores only its records from that period on (a week's, not the whole
history's) — each metric's from its own first (`firsts`) — after the segments it read
(`spans`: the latest segment holding a metric's period serves it); past `MAX_SEGMENTS`,
or when it finished every record, one segment holds all."""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit.atomic import atomic_path
from tpmkit.engine.window import START
from tpmkit.increment.fingerprints import STATE
from tpmkit.locks import exclusive
from tpmkit.stitched import Span, file_hash, write_segment

# bump when the layout of the state or a chunk changes (2: finished records in row groups
# per metric and period, with every output column and a content hash; 3: a segment's own
# first period per metric, `firsts`, and the trend's origin of the records stored)
FORMAT = 3
MAX_CHUNKS = 8  # more than this: the live cells are rewritten into one chunk
STALE_HOLD = 86_400  # seconds: a hold older than this was left by a run that died
# a segment's first period of a metric stored whole in it (`firsts`): before every period
EVER = -(2**62)
MAX_SEGMENTS = 8  # more than this: the run's finished records are stored whole, as one


def write_atomically(target: Path, content: bytes | pl.DataFrame | pl.LazyFrame) -> None:
    """Write `content` (bytes, or a frame: as Parquet) to `target` atomically."""
    with atomic_path(target) as temporary:
        if isinstance(content, pl.DataFrame):
            content.write_parquet(temporary)
        elif isinstance(content, pl.LazyFrame):
            content.sink_parquet(temporary)
        else:
            temporary.write_bytes(content)


BATCHES = 64  # at most this many ranges of periods in a chunk's order (`_in_period_order`)


def _in_period_order(chunk: pl.DataFrame) -> pl.LazyFrame:
    """The cells of `chunk` in period order, as a stream of ranges of periods (at most
    `BATCHES`; one period each for a year of weeks). A run reads a few periods of a chunk
    that holds the year: in that order the row groups' statistics let the reader skip the
    others (10 M calls by agent: 0.16 -> 0.02 s of CPU for one period; the file is 41 MB
    instead of 72). Streamed range by range, not sorted: a sort of 6.3 M cells held a
    second copy of them (+1.3 GB) at the first run."""
    at = pl.col(START)
    starts = chunk.get_column(START).drop_nulls().unique().sort().to_list()
    step = max(1, -(-len(starts) // BATCHES))
    bounds = starts[::step]
    ranges = [
        chunk.lazy().filter((at >= lo) & (at < hi) if hi is not None else at >= lo)
        for lo, hi in zip(bounds, [*bounds[1:], None], strict=True)
    ]
    if chunk.get_column(START).null_count():
        ranges.append(chunk.lazy().filter(at.is_null()))
    return pl.concat(ranges) if ranges else chunk.lazy()


SAVE_WAIT = 600.0  # seconds a save waits for another run's save (writing 7.85 M records: ~3 s)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the folder's exclusive lock (saves take turns)."""
    with exclusive(folder / "state.json", wait=SAVE_WAIT, writer="run saving the records cache"):
        yield


def read_state(folder: Path) -> dict[str, Any]:
    """The context's state, or an empty one (none yet, unreadable, another format)."""
    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return {}
    return state


def read_chunks(folder: Path, wanted: pl.DataFrame) -> pl.DataFrame | None:
    """The cached cells named by `wanted` (metric, period start in epoch µs, chunk), from
    their chunks; None when a chunk is missing or unreadable."""
    if wanted.is_empty():
        return None
    parts = []
    try:
        for (chunk,), rows in wanted.partition_by("chunk", as_dict=True).items():
            keys = rows.select("metric", "__at")
            # the periods filtered in the scan: only their rows are decoded whole (an
            # incremental run wants a few weeks of a chunk that holds the whole year)
            periods = keys.get_column("__at").unique().implode()
            at = pl.col("period_start").dt.epoch("us")
            parts.append(
                pl.scan_parquet(folder / "chunks" / str(chunk))
                .filter(at.is_in(periods))
                .with_columns(at.alias("__at"))
                .join(keys.lazy(), on=["metric", "__at"], how="semi")
                .drop("__at")
                .collect()
            )
    except (OSError, pl.exceptions.PolarsError):
        return None
    return pl.concat(parts, how="diagonal_relaxed")


def hold(folder: Path, name: str) -> Path | None:
    """A private hard link to the finished records `name` (None: gone or unlinkable),
    for `release` once read."""
    source = folder / "finished" / name
    # its age in its name: a hard link has the records' own times, which may be weeks old
    held = source.with_name(f".{name}.{time.time_ns()}.{uuid.uuid4().hex}.held")
    try:
        os.link(source, held)
    except OSError:
        return None
    _HOLDING.add(held)
    return held


def release(held: Path | None) -> None:
    """Drop a `hold`."""
    if held is not None:
        _HOLDING.discard(held)
        held.unlink(missing_ok=True)


_HOLDING: set[Path] = set()  # this process's holds: never cleaned up as stale


def _stale(path: Path, now: float) -> bool:
    """Whether a hold (by the time in its name) or a temporary file (by its own time) was
    left by a run that died: older than `STALE_HOLD`."""
    if path in _HOLDING:
        return False
    parts = path.name.rsplit(".", 3)  # .<records>.<ns>.<uuid>.held
    if path.suffix == ".held" and len(parts) == 4 and parts[1].isdigit():
        return now - int(parts[1]) / 1e9 > STALE_HOLD
    return now - path.stat().st_mtime > STALE_HOLD


def save(
    folder: Path,
    state: dict[str, Any],
    chunk: pl.DataFrame | None,
    finished: Finished | None = None,
) -> dict[str, Any] | None:
    """Publish a new state (with `chunk`, the cells it adds, if any, and the run's
    finished records: a new segment after the `Finished` ones); chunks and records no
    longer named are deleted. Returns the new segment's entry (None: none stored), with
    its footer under "footer" (not in the state: the output copies its row groups). Errors
    writing the cache are the caller's to report."""
    segment, footer = None, None
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tpmkit-save")
    with locked(folder), pool:  # the pool's tasks all ended before the lock is let go
        # the cells' chunk and the summary made and written beside the segment (each mostly
        # polars; the chunk used to be written after it): an error in any is raised once
        # all ended, and nothing is published
        added, writing = None, None
        if chunk is not None and not chunk.is_empty():
            added = f"{uuid.uuid4().hex}.parquet"
            cells = _in_period_order(chunk)
            writing = pool.submit(write_atomically, folder / "chunks" / added, cells)
        # a segment a concurrent save deleted: not stored, the next run finishes everything
        chain = finished.segments if finished is not None else []
        if finished is not None and all((folder / "finished" / s["file"]).exists() for s in chain):
            name = f"{uuid.uuid4().hex}.parquet"
            summarised = pool.submit(_write_summary, folder, finished.summary)
            try:
                groups, digest, footer = write_segment(folder / "finished" / name, finished.records)
            finally:
                if writing is not None:
                    writing.result()
                summary = summarised.result()
            entry: dict[str, Any] = {
                "file": name,
                "from": finished.since,
                "hash": digest,
                "groups": groups,
            }
            if finished.firsts:
                entry["firsts"] = {m: int(a) for m, a in sorted(finished.firsts.items())}
            segment = entry
            state["finished"] = {
                "key": finished.key,
                "kept": finished.kept,
                "segments": [*chain, segment],
            }
            if finished.origin is not None:
                state["finished"]["origin"] = finished.origin
            if finished.cells:
                state["finished"][STATE] = finished.cells
            if summary is not None:
                state["finished"]["summary"] = summary
        elif writing is not None:
            writing.result()
        for entry in state["metrics"].values():
            entry["periods"] = {
                at: (served if served != "" else added)
                for at, served in entry["periods"].items()
                if served != "" or added is not None
            }
        # a concurrent save may have removed a chunk (one listing, not a look-up a period)
        present = {p.name for p in (folder / "chunks").glob("*.parquet")}
        for entry in state["metrics"].values():
            entry["periods"] = {at: c for at, c in entry["periods"].items() if c in present}
        state["format"] = FORMAT
        write_atomically(folder / "state.json", json.dumps(state).encode())
        named = {c for e in state["metrics"].values() for c in e["periods"].values()}
        for old in (folder / "chunks").glob("*.parquet"):
            if old.name not in named:
                old.unlink(missing_ok=True)
        kept = {s["file"] for s in segments(state)}
        described = (state.get("finished") or {}).get("summary")
        if isinstance(described, dict) and isinstance(described.get("file"), str):
            kept.add(described["file"])
        for old in (folder / "finished").glob("*.*"):
            if old.name not in kept and old.suffix in (".parquet", ".arrow", ".summary"):
                old.unlink(missing_ok=True)
        # holds and temporary files (a write a run was killed in) left by runs that died
        now = time.time()
        finished_dir, chunks_dir = folder / "finished", folder / "chunks"
        left = (
            *finished_dir.glob(".*.held"),
            *finished_dir.glob(".*.tmp"),
            *chunks_dir.glob(".*.tmp"),
        )
        for old in left:
            with contextlib.suppress(OSError):
                if _stale(old, now):
                    old.unlink()
    return None if segment is None else {**segment, "footer": footer}


def _write_summary(
    folder: Path, summary: pl.DataFrame | Callable[[], pl.DataFrame | None] | None
) -> dict[str, str] | None:
    """Write the records' summary (made first if a function); its state entry."""
    frame = summary() if callable(summary) else summary
    if frame is None:
        return None
    name = f"{uuid.uuid4().hex}.summary"  # Parquet
    write_atomically(folder / "finished" / name, frame)
    return {"file": name, "hash": file_hash(folder / "finished" / name)}


@dataclass(frozen=True)
class Finished:
    """A run's finished records to store: those from period `since` (epoch µs; None:
    all) appended to the last run's `segments`; `kept` the metrics whose records before
    `since` the segments hold (not finished whole)."""

    key: str
    records: pl.DataFrame
    since: int | None
    segments: list[dict[str, Any]]
    kept: list[str]
    # of the records the segments serve (`summaries`; a function: made while they are saved)
    summary: pl.DataFrame | Callable[[], pl.DataFrame | None] | None = None
    # the whole-dataset metrics' cells these records were finished from (`fingerprints`)
    cells: dict[str, Any] | None = None
    # the metrics whose records are stored from a later period than `since`: their own
    firsts: dict[str, int] = field(default_factory=dict)
    # the trend's first position every record served was finished with (`trend.origin`)
    origin: float | None = None


def segments(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The finished records' segments the state names (file, `from` period), oldest first:
    segment i holds the records from its `from` (the first: all) to the next one's."""
    found = (state.get("finished") or {}).get("segments")
    if not isinstance(found, list):
        return []
    return [s for s in found if isinstance(s, dict) and isinstance(s.get("file"), str)]


def spans(chain: list[dict[str, Any]]) -> list[tuple[Span, dict[str, Span]]]:
    """What each segment of `chain` serves: its periods [lo, hi), and those of the metrics
    it serves over other periods. A metric's records come from the segment it is
    stored in from its own first period (its `firsts`, else the segment's `from`) up to
    where a later segment's records of it begin: the latest segment holding a period
    serves it."""

    def low(segment: dict[str, Any], metric: str | None) -> int | None:
        own = (segment.get("firsts") or {}).get(metric) if metric is not None else None
        at = own if own is not None else segment.get("from")
        return None if at is None else int(at)

    def high(later: list[dict[str, Any]], metric: str | None) -> int | None:
        found = [at for s in later if (at := low(s, metric)) is not None]
        return min(found) if found else None

    out: list[tuple[Span, dict[str, Span]]] = []
    for i, segment in enumerate(chain):
        later = chain[i + 1 :]
        named = {str(m) for s in chain[i:] for m in (s.get("firsts") or {})}
        default = (low(segment, None), high(later, None))
        own = {m: (low(segment, m), high(later, m)) for m in sorted(named)}
        out.append((default, {m: span for m, span in own.items() if span != default}))
    return out


def serving(chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The segments of `chain` that still serve a record (the others' are all in later
    segments): the last one always."""

    def empty(span: Span) -> bool:
        return span[0] is not None and span[1] is not None and span[1] <= span[0]

    served = spans(chain)
    return [
        s
        for i, s in enumerate(chain)
        if i == len(chain) - 1
        or not empty(served[i][0])
        or any(not empty(span) for span in served[i][1].values())
    ]


def chunk_count(state: dict[str, Any]) -> int:
    """How many chunks the state names."""
    return len({c for e in state.get("metrics", {}).values() for c in e["periods"].values()})
