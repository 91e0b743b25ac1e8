"""The client side of one pass of the Ibis engines: what the pass's result holds besides
Ibis objects (each metric's aggregation, override and segment columns) and how its rows
are finished into cells by the kinds' own polars plans (`tpmkit.engine.cells.cell_frames`),
so both engines turn the same aggregates into values, n and components with the same code.
Nothing here imports Ibis: a pass whose SQL is compiled already (`tpmkit.engines.compiled`)
is run and finished without it; its query is built by `tpmkit.engines.cells`.

The backend sends the period back as epoch microseconds of its local start (an hour: of the
instant) and the first and last instant of each cell as epoch microseconds; the client makes
the instants (as polars does when it truncates a zoned time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from tpmkit.engine.cells import cell_frames
from tpmkit.engine.in_force import choose_override
from tpmkit.engine.kinds import Aggregation, kind_of
from tpmkit.engine.window import START
from tpmkit.engines.deferred import FLAGGED, SEEN
from tpmkit.engines.queries import Build, Runner
from tpmkit.spec.models import MetricSpec, Override

__all__ = ["PERIOD", "PassMeta", "pass_meta", "run_pass", "to_instants", "utc_instant"]

PERIOD = "__p"  # the period key: epoch µs of the local start (an hour: of the instant)


def to_instants(frame: pl.DataFrame, column: str, grain: str, timezone: str) -> pl.Expr:
    """The period key as the period's start instant in `timezone`."""
    raw = pl.from_epoch(pl.col(column), time_unit="us")
    if grain == "all":
        return pl.lit(None, dtype=pl.Datetime("us", timezone))
    if grain == "hour":
        return raw.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)
    return raw.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")


def utc_instant(column: str, timezone: str) -> pl.Expr:
    """Epoch microseconds (an instant) as a time in `timezone`."""
    raw = pl.from_epoch(pl.col(column), time_unit="us")
    return raw.dt.replace_time_zone("UTC").dt.convert_time_zone(timezone)


@dataclass
class PassMeta:
    """How to read a pass's result: each metric's aggregation, the columns of its override
    conditions, and the segment flags with the metrics that read them."""

    results: dict[str, Aggregation]
    choices: dict[str, list[str]]  # metric -> its override condition columns
    flags: dict[str, list[str]]


def pass_meta(
    metrics: list[MetricSpec],
    time_column: str,
    unavailable: Mapping[str, str],
    segments: Mapping[str, Mapping[str, Override]] | None,
    columns: set[str],
) -> PassMeta:
    """The pass's metadata (`columns`: the table's, where a segment's columns must be)."""
    results: dict[str, Aggregation] = {}
    choices: dict[str, list[str]] = {}
    for spec in metrics:
        if spec.id in unavailable:
            continue
        kind = kind_of(spec.compute)
        results[spec.id] = kind.aggregation(spec.compute, spec.parameters, spec.id, time_column)
        for index in range(len(spec.overrides)):
            choices.setdefault(spec.id, []).append(f"{spec.id}\x00override {index}")
    flags: dict[str, list[str]] = {}
    for spec in metrics:
        for flag, segment in (segments or {}).get(spec.id, {}).items():
            if set(segment.when) <= columns:
                flags.setdefault(flag, []).append(spec.id)
    return PassMeta(results, choices, flags)


def run_pass(
    runner: Runner,
    name: str,
    build: Build,
    meta: PassMeta,
    metrics: list[MetricSpec],
    grain: str,
    by: list[str],
    timezone: str,
    unavailable: Mapping[str, str],
    carried: Callable[[bool, int], None] | None = None,
) -> pl.DataFrame:
    """Cells of every metric in `metrics` (one dataset and time column): the pass's query
    run (`build` makes it where it is not compiled yet), its rows finished on the client.
    `carried` is given whether a deferred rule flag is up and the rows seen, where the
    pass aggregated them (`tpmkit.engines.deferred`)."""
    frame = runner.run(name, build)
    if FLAGGED in frame.columns:
        if carried is not None:
            carried(bool(frame.get_column(FLAGGED).any()), int(frame.get_column(SEEN).sum()))
        frame = frame.drop(FLAGGED, SEEN)
    frame = frame.with_columns(
        to_instants(frame, PERIOD, grain, timezone).alias(START),
        utc_instant("__first", timezone).alias("__first"),
        utc_instant("__last", timezone).alias("__last"),
    ).drop(PERIOD)
    frame = frame.with_columns(
        choose_override([(i, pl.col(n)) for i, n in enumerate(names)]).alias(
            f"{metric_id}\x00override"
        )
        for metric_id, names in meta.choices.items()
    )
    return cell_frames(
        frame.lazy(), metrics, meta.results, unavailable, meta.flags, by, recheck=False
    ).collect()
