"""Finishing records incrementally: each metric's records of periods before its own first
period finished now (`firsts`, `Session.first_of`; else the first recomputed one) are the
last run's, only the others are finished again.

A finished record depends on its own cell and on the records of its series before it, never
after: the trend is fitted on the last `trend.WINDOW` records, a change is against the
previous record, a run counts consecutive records back (at least `signals.RUN` of them
decide it), and control limits come from the series' first `signals.CONTROL_WINDOW`
records. So for the series with a record in a recomputed period, each series' own
`HISTORY` records before the first recomputed period (all of them for a series with fewer
than `signals.CONTROL_WINDOW`) are the context: their values are given to the trend and
the signals of the new records (`trend.add_slope`, `signals.add_signals`), not finished
again, and the control limits of the others are taken from the last run's records; every
record before that period is the last run's. Metrics whose cells do not come
from the cells cache (a stock, the roster's counts, and formulas over them) are finished
whole. With annotations that `exclude` periods (which change which records count), a
different metric set, definitions or reasons, everything is finished (and stored for the
next run)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from tpmkit.engine import periods, signals, trend
from tpmkit.engine.compute import Request, combine_formulas, finish, formula_inputs
from tpmkit.engine.kinds import kind_of
from tpmkit.engine.window import START
from tpmkit.increment import fingerprints, store, summaries
from tpmkit.increment.inventory import shape_key
from tpmkit.records import empty_records
from tpmkit.spec.hashing import definition_hash
from tpmkit.spec.models import MetricSpec
from tpmkit.stitched import Stitched

if TYPE_CHECKING:
    from tpmkit.increment.session import Session

# records before the first recomputed period: a trend window ending at it (the record and
# `trend.WINDOW - 1` before it), a run reaching it (`signals.RUN - 1` before it), a change
# against the previous record
HISTORY = max(trend.WINDOW, signals.RUN) - 1


def key(
    metrics: list[MetricSpec],
    unavailable: Mapping[str, str],
    aliases: Mapping[str, str],
    excluding: pl.DataFrame | None = None,
) -> str:
    """What the finished records of a run depend on besides their cells (`excluding`: the
    annotations that exclude a period, `excluding`)."""
    parts: list[object] = [
        [(s.id, definition_hash(s)) for s in metrics],
        sorted(unavailable.items()),
        sorted(aliases.items()),
    ]
    if excluding is not None:  # records stored with a period excluded serve no other run
        parts.append(sorted(map(str, excluding.rows())))
    return shape_key(*parts)


def excluding(notes: pl.DataFrame | None) -> pl.DataFrame | None:
    """The annotations (`Request.notes`) that exclude a period: the only ones records
    depend on (`engine.notes.mark_excluded`); None when there are none."""
    if notes is None:
        return None
    found = notes.filter(pl.col("exclude"))
    return None if found.is_empty() else found.drop("text", "kind")


class Context(NamedTuple):
    """What the last run's records say of the context (see `context`)."""

    periods: set[int] | None  # the cached periods read (None: all)
    limits: pl.DataFrame | None  # series keys, `__mean`, `__sd`, `__count`
    starts: pl.DataFrame | None  # series keys, `__start`: its first period finished again
    # the context's values (series keys, period start, value; from the summary): no
    # cached cell before the first recomputed period is then read
    values: pl.DataFrame | None = None


class Unreadable(Exception):
    """The last run's finished records could not be read (the run finishes everything)."""


def context(
    heads: list[pl.LazyFrame],
    fresh: Mapping[str, pl.DataFrame],
    session: Session,
    by: list[str],
    kept: set[str],
) -> Context:
    """The periods before the first recomputed one whose cached cells are finished again
    as context, for the groups with a recomputed cell: the `HISTORY` records before it,
    and the first records of the series with fewer than `signals.CONTROL_WINDOW` before
    it; with the control limits of the others, from their first records in the last
    run's records (of which only the keys and values are read; only for the `kept`
    metrics, those not finished whole), and each series' first period needed (its
    `HISTORY`-th last, or its first when young: `finish_records` finishes no earlier
    cell of it). Raises `Unreadable`."""
    first = session.first
    if first is None:
        return Context(None, None, None)
    at = pl.col(START).dt.epoch("us")
    tails = [
        f.filter(at >= own).select(by) if by else f.filter(at >= own).select(pl.lit(1))
        for m, f in fresh.items()
        if (m in session.cacheable or m in kept)  # with the whole-dataset metrics reused
        and (own := session.first_of(m)) is not None
    ]
    groups = pl.concat(tails, how="vertical_relaxed").unique() if by and tails else None
    series = ["metric", *by]
    cut = session.series(first, session.firsts)  # each metric's at its own first
    summary = _from_summary(session.series(), groups, first, by, cut)
    values = None
    if summary is not None:  # no record read
        per_series, periods, values = summary
        if per_series.is_empty():
            return Context(set(), None, None)
        if values is not None:  # nor any cell of the context
            periods = set()
            values = values.with_columns(
                pl.from_epoch("period_start", time_unit="us")
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone(session.timezone)
            )
    else:
        head = pl.concat(heads, how="diagonal_relaxed") if len(heads) > 1 else heads[0]
        keys = head.select("metric", *by, at.alias("__at"), "value")
        keys = keys.filter(pl.col("__at") < session.cuts())
        if groups is not None:  # in the records' order (`_per_series` relies on it)
            keys = keys.join(
                groups.lazy(), on=by, how="semi", nulls_equal=True, maintain_order="left"
            )
        old = _collect(keys)
        if old.is_empty():
            return Context(set(), None, None)
        per_series = _per_series(old, series)
        since = int(per_series.get_column("__from").min())  # type: ignore[arg-type]
        periods = set(old.filter(pl.col("__at") >= since).get_column("__at").unique().to_list())
        young = per_series.filter(pl.col("__records") < signals.CONTROL_WINDOW).select(series)
        if not young.is_empty():  # all their records: fewer than the control window
            firsts = old.join(young, on=series, how="semi", nulls_equal=True)
            periods |= set(firsts.get_column("__at").unique().to_list())
    mature = (pl.col("__records") >= signals.CONTROL_WINDOW) & pl.col("metric").is_in(
        pl.Series(sorted(kept), dtype=pl.String).implode()
    )
    given = per_series.filter(mature).select(*series, "__mean", "__sd", "__count")
    young_ = pl.col("__records") < signals.CONTROL_WINDOW
    start = pl.when(young_).then(pl.col("__first")).otherwise(pl.col("__from"))
    starts = per_series.select(*series, start.alias("__start"))
    return Context(periods, given, starts, values)


def _from_summary(
    summary: pl.DataFrame | None,
    groups: pl.DataFrame | None,
    first: int,
    by: list[str],
    cut: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, set[int], pl.DataFrame | None] | None:
    """What `_per_series` gives, the periods to read, and the context's values (series
    keys, `period_start` in epoch µs, `value`; None when the summary has no values) from
    the last run's records' summary (`summaries`) cut at `first` (`cut`, when it is
    already), for the series of `groups`; None when there is no summary or one of those
    series' is not exact there (then the records are read)."""
    if summary is None:
        return None
    cut = summaries.cut(summary, first) if cut is None else cut
    if groups is not None:
        cut = cut.join(groups, on=by, how="semi", nulls_equal=True)
    head, recent = pl.col("head"), pl.col("recent")
    # what is left of `recent` must hold the context: the last HISTORY periods, and all
    # of a young series' (whose records all count towards its control limits)
    young = pl.col("count") < signals.CONTROL_WINDOW
    enough = recent.list.len() >= pl.when(young).then(pl.col("count")).otherwise(HISTORY)
    if not cut.select(pl.col("valid") & enough).to_series().all():
        return None
    per_series = cut.select(
        "metric",
        *by,
        recent.list.tail(HISTORY).list.first().alias("__from"),
        pl.col("first").alias("__first"),
        head.list.mean().alias("__mean"),
        head.list.std().alias("__sd"),
        head.list.eval(pl.element().is_not_null()).list.sum().cast(pl.UInt32).alias("__count"),
        pl.col("count").clip(upper_bound=signals.CONTROL_WINDOW).alias("__records"),
    )
    if per_series.is_empty():
        return per_series, set(), None
    since = int(per_series.get_column("__from").min())  # type: ignore[arg-type]
    later = recent.list.filter(pl.element() >= since)
    wanted = cut.select(pl.when(young).then(recent).otherwise(later).alias("recent"))
    wanted = wanted.explode("recent")
    periods = {int(a) for a in wanted.get_column("recent").drop_nulls().unique().to_list()}
    values = None
    if summaries.valued(cut):  # each series' own context: all of a young one's records
        own = pl.when(young).then(pl.col("count")).otherwise(HISTORY)
        aligned = pl.col("values").list.len() == recent.list.len()
        if cut.select(aligned.all()).item():
            values = cut.select(
                "metric",
                *by,
                recent.list.tail(own).alias("period_start"),
                pl.col("values").list.tail(own).alias("value"),
            ).explode("period_start", "value")
    return per_series, periods, values


def _per_series(old: pl.DataFrame, series: list[str]) -> pl.DataFrame:
    """Per series of `old` (the last run's keys and values): `__from`, the period of its
    `HISTORY`-th last record, and `__first`, of its first; its control limits as
    `signals._control` computes them, over its first `signals.CONTROL_WINDOW` records in
    period order (`__mean`, `__sd`, `__count`); and `__records`, how many of those it has.
    The last run's records are in metric, then period order (`_stitch`), and a group keeps
    its rows' order: so the first and last records are heads and tails, with no sort of
    the millions of rows (which took most of the context's time). Records out of that
    order are sorted first."""
    if not summaries.in_order(old):
        old = old.sort([*series, "__at"], nulls_last=True)
    window = signals.CONTROL_WINDOW
    opening = pl.col("value").head(window)
    return old.group_by(series).agg(
        pl.col("__at").tail(HISTORY).first().alias("__from"),
        pl.col("__at").first().alias("__first"),
        opening.mean().alias("__mean"),
        opening.std().alias("__sd"),
        opening.count().alias("__count"),
        pl.len().clip(upper_bound=window).alias("__records"),
    )


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    """Read from the last run's records; `Unreadable` when they cannot be."""
    try:
        return frame.collect()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise Unreadable(str(exc)) from exc


def finish_records(
    session: Session,
    cells: dict[str, pl.DataFrame],
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
    heads: list[pl.LazyFrame] | None,
    key_: str,
    limits: pl.DataFrame | None = None,
    stable: tuple[set[str], set[int]] = (set(), set()),
    starts: pl.DataFrame | None = None,
    values: pl.DataFrame | None = None,
) -> pl.DataFrame | Stitched:
    """The records of `metrics` from their cells (as `compute.records_from_cells`). With
    `head` (the last run's records, finished with `key_`), `cells` hold, for the cached
    metrics, only the `context` periods and those from the first recomputed one: the
    records before that period are `head`'s, read only now (after the cells are finished
    and dropped: `cells` is emptied) and only those rows; of the cells before it, only
    each series' from its `starts` (`context`) are finished. Raises `Unreadable`."""
    by = list(request.by)
    combine_formulas(cells, everything, by, aliases, unavailable)
    first = session.first
    steady, periods = stable if heads is not None and first is not None else (set(), set())
    at = pl.col(START).dt.epoch("us")
    for metric in steady & set(cells):  # as the cached metrics: the context and the new
        known = pl.Series(sorted(periods), dtype=pl.Int64).implode()
        own = session.first_of(metric)
        cells[metric] = cells[metric].filter(at.is_in(known) | (at >= own))
    kept = kept_metrics(metrics, everything, session, aliases)
    if heads is not None and first is not None and starts is not None:
        for metric in (kept | steady) & set(cells):
            own = session.first_of(metric) or first
            cells[metric] = _series_context(cells[metric], starts, metric, by, own)
    wanted = [cells[s.id] for s in metrics if s.id in cells]
    if not wanted:
        return empty_records(by, timezone)
    whole = replace(request, last=None)
    thin = None
    if heads is not None and first is not None:  # the full run's: over the stitched records
        origin = _origin(heads, wanted, kept | steady, session, request.grain)
        # the records kept were finished with the last run's origin: the same, or
        # every record is finished again (records added before all the others)
        if origin != (session.state.get("finished") or {}).get("origin"):
            raise Unreadable("the trend's origin moved")
        if starts is not None:  # the context: only what the new records' trend and signals read
            # (from the summary's values when it has them: no cell of it read)
            thin = _thin(cells, kept | steady, by, session, values)
            wanted = [cells[s.id] for s in metrics if s.id in cells]
    else:  # kept with the records: the next run's check of the above
        origin = trend.origin(pl.concat([c.select(START) for c in wanted]), request.grain)
    session.origin = origin
    records = finish(wanted, metrics, whole, timezone, unavailable, limits, origin, thin)
    del wanted
    cells.clear()  # finished (and staged by the caller): not held while `head` is read
    if heads is None or first is None:
        session.keep_finished(key_, records, None, kept, by)
        return _last(records, request)
    again = {s.id for s in metrics} - kept - steady
    records = _without_context(records, again, session.cuts())
    stitched = _stitch(session, records, metrics, again, first)
    session.keep_finished(key_, stitched, first, kept, by, again)
    if request.last is not None:
        return _last(stitched.collect(), request)
    return stitched


def _series_context(
    cells: pl.DataFrame, starts: pl.DataFrame, metric: str, by: list[str], first: int
) -> pl.DataFrame:
    """A metric's cells from `first` on, and before it only each series' from its start
    (`context`): the periods read are those of the series reaching furthest back, the
    other series need fewer (a fifth of the records finished at 10 M calls by agent). A
    series without a start (none in the last run's records) keeps every cell given."""
    at = pl.col(START).dt.epoch("us")
    mine = starts.filter(pl.col("metric") == metric).drop("metric")
    if not by:  # one series
        return cells if mine.is_empty() else cells.filter(at >= min(first, mine.item(0, 0)))
    joined = cells.join(mine, on=by, how="left", nulls_equal=True, maintain_order="left")
    start = pl.col("__start")
    return joined.filter((at >= first) | start.is_null() | (at >= start)).drop("__start")


def _thin(
    cells: dict[str, pl.DataFrame],
    metrics: set[str],
    by: list[str],
    session: Session,
    values: pl.DataFrame | None = None,
) -> pl.DataFrame | None:
    """The context of `metrics` (their cells before their `first`, `Session.first_of`) as
    the values the trend and the signals of the records from it on read of them (`trend.add_slope`,
    `signals.add_signals`); those cells are left out of `cells`, not finished: their
    records are the last run's (finishing them was two thirds of the records finished at
    10 M calls by agent). `values`: the context's values from the summary (`context`),
    given instead of those of the cells."""
    at = pl.col(START).dt.epoch("us")
    thin = []
    for metric in sorted(metrics & set(cells)):
        frame = cells[metric]
        first = session.first_of(metric) or 0
        if values is None:
            thin.append(frame.filter(at < first).select("metric", *by, START, "value"))
        cells[metric] = frame.filter(at >= first)
    if values is not None:
        return _summarised(values, metrics, by)
    return pl.concat(thin, how="vertical_relaxed") if thin else None


def _summarised(values: pl.DataFrame, metrics: set[str], by: list[str]) -> pl.DataFrame | None:
    """The context's values (`context`) of `metrics`, as `_thin` gives them from cells."""
    names = pl.Series(sorted(metrics), dtype=pl.String).implode()
    mine = values.filter(pl.col("metric").is_in(names)).select("metric", *by, START, "value")
    return None if mine.is_empty() else mine


def _origin(
    heads: list[pl.LazyFrame],
    cells: list[pl.DataFrame],
    kept: set[str],
    session: Session,
    grain: str,
) -> float | None:
    """The trend's first position over the records of the run: the last run's kept ones
    before their metric's first period finished now (`Session.first_of`) and those
    finished now (the fitted lines' last bits depend on it)."""
    names = pl.Series(sorted(kept), dtype=pl.String).implode()
    at, first = pl.col(START).dt.epoch("us"), session.first or 0
    # the earliest record before the first recomputed period, if any, is before all those
    # kept after it: a plain bound the reader checks against its row groups' statistics
    # (the per-metric one cost 0.1 s at 10 M calls by agent)
    kept_before = [
        _collect(h.filter(pl.col("metric").is_in(names) & (at < first)).select(pl.col(START).min()))
        for h in heads
    ]
    if session.firsts and all(f.get_column(START).null_count() == f.height for f in kept_before):
        before = pl.col("metric").is_in(names) & (at < session.cuts())
        kept_before = [_collect(h.filter(before).select(pl.col(START).min())) for h in heads]
    starts = pl.concat([*(c.select(START) for c in cells), *kept_before], how="vertical_relaxed")
    return trend.origin(starts, grain)


def mixed(
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
) -> bool:
    """True when a metric finished whole reads a cached metric's cells (a formula over a
    stock and a flow): then every cached cell is needed."""
    again = _finished_whole(metrics, everything, session, aliases)
    specs = {s.id: s for s in everything}
    return any(_through_formulas(m, specs, session, aliases, any) for m in again)


def stable(
    heads: list[pl.LazyFrame],
    cells: Mapping[str, pl.DataFrame],
    everything: list[MetricSpec],
    first: int | None,
    by: list[str],
    stored: Mapping[str, object] | None = None,
    prints: fingerprints.Fingerprints | None = None,
) -> set[str]:
    """The whole-dataset metrics (`cells`, computed now from every file) without overrides
    whose cells before `first` are exactly those of the last run's records there (every
    period and group; value, n and components): their records there are the last run's,
    so only their context and new records are finished. A metric with `stored`
    fingerprints (the last run's, `fingerprints`) is compared by them with `prints` (its
    cells'), the others with the records read back. Raises `Unreadable`."""
    specs = {s.id: s for s in everything}
    candidates = sorted(m for m in cells if m in specs and not specs[m].overrides)
    if first is None or not candidates:
        return set()
    out = set()
    if stored is not None and prints is not None:
        known = [m for m in candidates if m in stored and m in prints]
        out = {m for m in known if fingerprints.same_before(stored[m], prints[m], first)}
        candidates = [m for m in candidates if m not in known]
        if not candidates:
            return out
    head = pl.concat(heads, how="diagonal_relaxed") if len(heads) > 1 else heads[0]
    at = pl.col(START).dt.epoch("us")
    names = pl.Series(candidates, dtype=pl.String).implode()
    try:
        present = set(head.collect_schema().names())
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise Unreadable(str(exc)) from exc
    columns = [c for c in ("value", "n", "numerator", "denominator", "scale", "sd") if c in present]
    old = _collect(
        head.filter(pl.col("metric").is_in(names) & (at < first)).select(
            "metric", START, *by, *columns
        )
    )
    olds = old.partition_by("metric", as_dict=True)
    keys = [START, *by]
    for metric in candidates:
        new = cells[metric].filter(at < first)
        mine = olds.get((metric,), old.clear())
        shared = [c for c in columns if c in new.columns]
        if new.height != mine.height or any(c not in new.columns for c in columns if c != "sd"):
            continue
        ours = new.select(*keys, *shared).sort(keys, nulls_last=True)
        theirs = mine.select(*keys, *shared).cast(ours.schema).sort(keys, nulls_last=True)
        if ours.equals(theirs):
            out.add(metric)
    return out


def firsts(
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
) -> dict[str, int]:
    """Per metric kept (`kept_metrics`), the first period whose record is finished now: a
    cached metric's own first recomputed period (`Session.own`), a formula's the earliest
    of its inputs'; a metric left out finishes from the first recomputed period. A
    finished record depends only on its cell and on its series' earlier records (module
    docstring), so a metric's records before the first of its cells recomputed are the
    last run's; the others' reach (a repeat window) recomputes its earlier cells to those
    cached."""
    if session.recomputed is None:
        return {}
    specs = {s.id: s for s in everything}
    kept = kept_metrics(metrics, everything, session, aliases)
    return {m: at for m in sorted(kept) if (at := _own(m, specs, session, aliases)) is not None}


def _own(
    metric_id: str,
    specs: Mapping[str, MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
    trail: frozenset[str] = frozenset(),
) -> int | None:
    """A metric's own first recomputed period (`firsts`), followed through formulas;
    None when unknown."""
    spec = specs.get(metric_id)
    if spec is None or metric_id in trail:
        return None
    if kind_of(spec.compute).plan != "metrics":
        return session.own.get(metric_id) if metric_id in session.cacheable else None
    found = [
        _own(i, specs, session, aliases, trail | {metric_id})
        for _, i in formula_inputs(spec, aliases)
    ]
    if not found or any(f is None for f in found):
        return None
    return min(f for f in found if f is not None)


def whole_firsts(
    steady: set[str],
    stored: Mapping[str, object] | None,
    prints: fingerprints.Fingerprints,
    first: int,
) -> dict[str, int]:
    """The whole-dataset metrics of `steady` (their cells before `first` the last run's)
    whose first record finished now can be later: the first period from `first` on where
    their cells' fingerprints differ from those stored (or, none differing, their last
    period: at least one record is finished); the others finish from `first`."""
    out = {}
    for metric in sorted(steady):
        if stored is None or metric not in stored or metric not in prints:
            continue
        at = fingerprints.first_change(stored[metric], prints[metric], first)
        if at is not None:
            out[metric] = at
    return out


def young(
    session: Session,
    cells: Mapping[str, pl.DataFrame],
    by: list[str],
) -> dict[str, int] | None:
    """The metrics of `Session.firsts` whose records before their own first can change
    after all, and the period to finish them from instead. A series' control limits come
    from its first `signals.CONTROL_WINDOW` records: while it has fewer before its
    metric's first (a new agent), a record from there on changes them, and with them the
    signals of its records before — a value cannot be outside limits it is one of
    `CONTROL_WINDOW` values of (at most (n - 1) / sqrt(n) = 2.5 sd for n = 8), but its
    `signals.RUN`-th record can end a run on one side of the new mean. So such a series
    (from `RUN` to `CONTROL_WINDOW - 1` records before the first, and one from there on,
    in the last run or in `cells`) moves its metric's first back to its `RUN`-th period
    (its first, when the summary does not say). From the last run's summary, repeated
    until no first moves (each move can make another series young); None when there is
    no summary (then the caller keeps no metric's own first)."""
    assert signals.CONTROL_WINDOW < 11  # else a value could be outside its own limits
    whole = session.series()
    if whole is None:
        return None
    at = pl.col(START).dt.epoch("us")
    series = ["metric", *by]
    moved: dict[str, int] = {}
    for _ in range(len(session.firsts) * signals.CONTROL_WINDOW + 1):
        firsts = {**session.firsts, **moved}
        first = session.recomputed or 0
        cut = session.series(min(first, *firsts.values()) if firsts else first, firsts)
        if cut is None:
            return None
        names = pl.Series(sorted(firsts), dtype=pl.String).implode()
        young = cut.filter(
            pl.col("metric").is_in(names)
            & pl.col("count").is_between(signals.RUN, signals.CONTROL_WINDOW - 1)
        )
        if young.is_empty():
            return moved
        # a record from the first on: in the last run (more than those before it) ...
        counted = whole.select(*series, pl.col("count").alias("__all"))
        young = young.join(counted, on=series, how="left", nulls_equal=True)
        later = [
            (f.filter(at >= firsts[m]).select(by) if by else f.filter(at >= firsts[m]).head(1))
            .unique()
            .with_columns(pl.lit(m, dtype=pl.String).alias("metric"))
            .select(series)
            for m, f in cells.items()
            if m in firsts
        ]
        # ... or now (a formula's: any group with a record now, of any metric)
        known = set(cells)
        fresh = pl.concat(later, how="vertical_relaxed").unique() if later else None
        any_group = fresh.select(by).unique() if fresh is not None and by else fresh
        flag = pl.lit(True).alias("__now")
        if fresh is not None:
            young = young.join(fresh.with_columns(flag), on=series, how="left", nulls_equal=True)
        else:
            young = young.with_columns(pl.lit(None, dtype=pl.Boolean).alias("__now"))
        if any_group is not None and by:
            young = young.join(
                any_group.with_columns(flag.alias("__any")), on=by, how="left", nulls_equal=True
            )
        else:
            young = young.with_columns(pl.lit(any_group is not None).alias("__any"))
        mine = pl.col("metric").is_in(pl.Series(sorted(known), dtype=pl.String).implode())
        now = pl.when(mine).then(pl.col("__now")).otherwise(pl.col("__any")).fill_null(False)
        recent = pl.col("recent")
        back = (
            pl.when(recent.list.len() >= pl.col("count"))
            .then(recent.list.get(signals.RUN - 1, null_on_oob=True))
            .otherwise(pl.col("first"))
        )
        hits = (
            young.filter((pl.col("__all") > pl.col("count")) | now)
            .group_by("metric")
            .agg(back.min().alias("__back"))
        )
        step = {
            str(m): int(a)
            for m, a in hits.iter_rows()
            if a is not None and int(a) < firsts.get(str(m), first)
        }
        if not step:
            return moved
        moved.update(step)
    return moved


def kept_metrics(
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
) -> set[str]:
    """The metrics whose records before the first recomputed period are the last run's
    (those not finished whole)."""
    return {s.id for s in metrics} - _finished_whole(metrics, everything, session, aliases)


def _finished_whole(
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
) -> set[str]:
    """The metrics whose cells are not all from the cells cache: finished whole."""
    specs = {s.id: s for s in everything}
    return {s.id for s in metrics if not _through_formulas(s.id, specs, session, aliases, all)}


def _through_formulas(
    metric_id: str,
    specs: Mapping[str, MetricSpec],
    session: Session,
    aliases: Mapping[str, str],
    combine: Callable[[Iterable[bool]], bool],
    trail: frozenset[str] = frozenset(),
) -> bool:
    """Whether a metric's cells come from the cells cache, followed through formulas to
    the metrics they read: `all` of its inputs (wholly cached) or `any` (reads a cached one)."""
    spec = specs.get(metric_id)
    if spec is None or metric_id in trail:
        return False
    if kind_of(spec.compute).plan != "metrics":
        return metric_id in session.cacheable
    return combine(
        _through_formulas(i, specs, session, aliases, combine, trail | {metric_id})
        for _, i in formula_inputs(spec, aliases)
    )


def _without_context(records: pl.DataFrame, again: set[str], first: pl.Expr) -> pl.DataFrame:
    """The records to keep of those finished now: those from `first` on (per row: its
    metric's), and every record
    of the metrics finished whole. The context before `first` (often more than half of
    them) is the last run's too: a copy without it frees that memory before those are read."""
    whole = pl.Series(sorted(again), dtype=pl.String).implode()
    return records.filter(pl.col("metric").is_in(whole) | (pl.col(START).dt.epoch("us") >= first))


def _stitch(
    session: Session,
    tail: pl.DataFrame,
    metrics: list[MetricSpec],
    again: set[str],
    first: int,
) -> Stitched:
    """Per metric, in the metrics' order: the last run's records before `first` (none for
    the metrics in `again`), segment by segment, then the new ones (`tail`, without its
    context). All are ordered by metric, then period and group, and the segments follow
    each other in time, so each metric's records are runs of rows: they stay in the
    segments' files until they are written (copied) or read (`tpmkit.stitched`)."""
    stored, held = session.hand_over()
    kept = {s.id for s in metrics if s.id not in again}
    cut = [s.until(first, session.firsts) for s in stored]

    def release() -> None:
        for path in held:
            store.release(path)

    return Stitched(cut, tail, [s.id for s in metrics], kept, release)


def _last(records: pl.DataFrame, request: Request) -> pl.DataFrame:
    """Each metric's last `request.last` periods (as `compute.finish` cuts them)."""
    if request.last is None or request.grain == "all" or records.is_empty():
        return records
    newest = pl.col(START).max().over("metric")
    oldest = newest.dt.offset_by(periods.span(request.grain, -(request.last - 1)))
    return records.filter(pl.col(START) >= oldest)
