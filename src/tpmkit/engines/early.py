"""Finishing records while the last queries run. On DuckDB a query lets go of Python's
lock, and the short passes at the end of an evaluation keep about one core busy, so the
records of the metrics whose cells are in are finished meanwhile, on threads of their own,
in parts of whole metrics as `tpmkit.engine.compute.finish` cuts them.

The records are the same as `finish` gives for all metrics at once: each of its steps
works within one metric's series, so a part finishes as it would among any others, given
the same first trend position (`origin`). That position is the smallest over every
metric's cells, known only once all are in: a part is finished with the smallest so far,
and again at the end if the final one differs (so too if a reason given for one of its
metrics changed). A part that failed on its thread is finished again on the caller's,
which raises the error there as it always has. A request over the whole range (`all`)
is finished at the end: its bounds are the span of every metric's cells."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from tpmkit.engine import trend
from tpmkit.engine.compute import FINISHING_THREADS, Request, _finish_part, finish, part_rows
from tpmkit.records import metric_runs
from tpmkit.spec.models import MetricSpec

__all__ = ["EarlyFinish"]


@dataclass
class _Part:
    """Metrics finished together: their cells, the origin and reasons they were finished
    with, and the records to come."""

    ids: list[str]
    cells: list[pl.DataFrame]
    origin: float | None
    reasons: dict[str, str | None]
    records: Future[pl.DataFrame]


class EarlyFinish:
    """Finishes the records of `metrics` part by part as their cells come in (`offer`),
    and the rest at the end (`records`), as `finish` would at once (see module doc)."""

    def __init__(
        self,
        metrics: list[MetricSpec],
        request: Request,
        timezone: str,
        unavailable: Mapping[str, str],
    ) -> None:
        self.metrics = metrics
        self.request = request
        self.timezone = timezone
        self.unavailable = unavailable  # the caller's, as it grows
        self.parts: list[_Part] = []
        self.offered: set[str] = set()
        self.first: float | None = None  # the smallest trend position so far
        self.limit: int | None = None  # a part's records
        self.waiting: list[tuple[str, pl.DataFrame]] = []  # offered, not yet a whole part
        self._pool: ThreadPoolExecutor | None = None

    def offer(self, cells: Mapping[str, pl.DataFrame]) -> None:
        """Start finishing the metrics of `cells` not offered before."""
        if self.request.grain == "all":
            return
        ids = [s.id for s in self.metrics if s.id in cells and s.id not in self.offered]
        if not ids:
            return
        self.offered.update(ids)
        frames = [cells[i] for i in ids]
        self.first = _smaller(self.first, trend.origin(_joined(frames), self.request.grain))
        if self.limit is None:
            # the parts `finish` would cut from every metric's records, the metrics still to
            # come guessed as large as these (any cut gives the same records; each part costs
            # some fixed work, and holds its copies while it is finished)
            share = len(ids) / max(1, sum(1 for s in self.metrics))
            self.limit = part_rows(int(sum(f.height for f in frames) / share))
        self.waiting += list(zip(ids, frames, strict=True))
        self.waiting = self._submit(self.waiting, self.first, self.unavailable, whole=False)

    def _submit(
        self,
        metrics: list[tuple[str, pl.DataFrame]],
        origin: float | None,
        unavailable: Mapping[str, str],
        *,
        whole: bool,
    ) -> list[tuple[str, pl.DataFrame]]:
        """Cut whole metrics into parts of about `limit` records, each finished on the
        pool; the last, smaller part waits for more (`whole`: it is finished too)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(FINISHING_THREADS, thread_name_prefix="tpmkit-finish")
        limit = self.limit or part_rows(sum(f.height for _, f in metrics))
        start, rows = 0, 0
        for end, (_, frame) in enumerate(metrics):
            if rows and rows + frame.height > limit:
                self._start(metrics[start:end], origin, unavailable)
                start, rows = end, 0
            rows += frame.height
        if whole or rows >= limit:
            self._start(metrics[start:], origin, unavailable)
            return []
        return metrics[start:]

    def _start(
        self,
        metrics: list[tuple[str, pl.DataFrame]],
        origin: float | None,
        unavailable: Mapping[str, str],
    ) -> None:
        assert self._pool is not None
        if not metrics:
            return
        ids, frames = [i for i, _ in metrics], [f for _, f in metrics]
        reasons = {i: unavailable.get(i) for i in ids}
        future = self._pool.submit(self._finish, frames, dict(unavailable), origin, ids)
        self.parts.append(_Part(ids, frames, origin, reasons, future))

    def _finish(
        self,
        frames: list[pl.DataFrame],
        unavailable: Mapping[str, str],
        origin: float | None,
        ids: list[str],
    ) -> pl.DataFrame:
        """The records of the metrics `ids`, whose cells are `frames`. Only their own
        definitions are given to `_finish_part`: each of its steps reads a metric's own
        (levels, reasons, order among the others), so the levels, reasons and cadences
        of every metric of the evaluation are not made again for each part."""
        table = pl.concat(frames, how="diagonal_relaxed")
        wanted = set(ids)
        own = [s for s in self.metrics if s.id in wanted]
        args = (self.request, self.timezone, unavailable, None, origin)
        return _finish_part(table, own, *args)

    def records(
        self, cells: Mapping[str, pl.DataFrame], unavailable: Mapping[str, str]
    ) -> pl.DataFrame:
        """The records of every metric of `cells`, in the records' order: the parts
        finished early (again where their origin or reasons were not the final ones), the
        rest now."""
        try:
            return self._records(cells, unavailable)
        finally:
            self.close()

    def _records(
        self, cells: Mapping[str, pl.DataFrame], unavailable: Mapping[str, str]
    ) -> pl.DataFrame:
        wanted = [cells[s.id] for s in self.metrics if s.id in cells]
        if not self.offered:
            return finish(wanted, self.metrics, self.request, self.timezone, dict(unavailable))
        origin = trend.origin(_joined(wanted), self.request.grain)
        rest = [(s.id, cells[s.id]) for s in self.metrics if s.id in cells]
        rest = [*self.waiting, *((i, f) for i, f in rest if i not in self.offered)]
        self.waiting = self._submit(rest, origin, unavailable, whole=True)
        pieces: list[pl.DataFrame] = []
        for part in self.parts:
            same = part.origin == origin and all(
                unavailable.get(i) == r for i, r in part.reasons.items()
            )
            if same and part.records.exception() is None:
                pieces.append(part.records.result())
            else:  # finished again here: with the final origin, or to raise its error here
                pieces.append(self._finish(part.cells, dict(unavailable), origin, part.ids))
        if not any(piece.height for piece in pieces):  # no records: as `finish` types them
            return finish(wanted, self.metrics, self.request, self.timezone, dict(unavailable))
        return _in_metric_order(pieces, [s.id for s in self.metrics])

    def close(self) -> None:
        """Stop finishing early (a part under way is let finish; none waits to start)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _joined(cells: list[pl.DataFrame]) -> pl.DataFrame:
    """The cells as one frame, as `finish` joins them."""
    return pl.concat(cells, how="diagonal_relaxed") if cells else pl.DataFrame()


def _smaller(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _in_metric_order(pieces: list[pl.DataFrame], order: list[str]) -> pl.DataFrame:
    """The records of `pieces` (each in metric order) as one frame in metric order: each
    metric's records are one run of rows in its piece, taken whole."""
    runs: dict[str, pl.DataFrame] = {}
    for piece in pieces:
        runs.update(metric_runs(piece))
    return pl.concat([runs[m] for m in order if m in runs], how="vertical_relaxed")
