"""Compute records from loaded frames and metric specs (one per metric × period × group):
the passes over each dataset, stocks, formulas, then periods, levels, status and trends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import polars as pl

from tpmkit.engine import local_periods, notes, order, periods, signals, slices, status, trend
from tpmkit.engine.cells import RECHECK, aggregate
from tpmkit.engine.in_force import join_levels
from tpmkit.engine.kinds import kind_of, metric_columns
from tpmkit.engine.kinds.formula import SEGMENT
from tpmkit.engine.signals import END_LOCAL
from tpmkit.engine.tenure import in_tenure_order
from tpmkit.engine.window import START, Window
from tpmkit.errors import ComputeError, first_line
from tpmkit.records import empty_records, ordered_columns
from tpmkit.spec.models import MetricSpec, Override


@dataclass(frozen=True)
class Request:
    """What to compute: grain, grouping and time range."""

    grain: str = "week"
    by: tuple[str, ...] = ()
    window: Window = field(default_factory=Window)
    last: int | None = None
    # annotations as spans (engine/notes.py): those with `exclude` keep their periods out
    # of trend fits, early warnings and control limits
    notes: pl.DataFrame | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Input:
    """A dataset frame ready for aggregation."""

    frame: pl.LazyFrame
    time_column: str
    # the first and last local day of its rows, when the load counted them (else a roster's
    # periods are found by reading the time column again)
    span: tuple[dt.date, dt.date] | None = None
    rows: int | None = None  # how many, when the load counted them
    # the rows without the columns the lookups attribute (`looked_up`): a pass that reads
    # none of those is planned on it, without the lookups' joins (10 M calls: 0.15 s of
    # CPU a pass for a roster join whose columns no metric of the pass reads)
    lean: pl.LazyFrame | None = None
    looked_up: frozenset[str] = frozenset()
    # (column, rows): the load left the rows' rule flags in `column`, unread
    # (`tpmkit.data.stream.check(defer=True)`); the first pass over every row aggregates
    # it and counts the rows it saw, else a query of its own does: a flag up, or fewer
    # rows seen than `rows`, raises `UncheckedRows`
    check: tuple[str, int] | None = None


class UncheckedRows(Exception):
    """A dataset's deferred rule flags were up, or the pass that was to look at them did
    not see every row: load it with the whole check (which names each problem) and
    compute again (`tpmkit.evaluation`)."""

    def __init__(self, dataset: str) -> None:
        super().__init__(dataset)
        self.dataset = dataset


NOT_JUDGED = "__not_judged"  # why a record is not judged (null: judged); dropped at the end
_TOWARD = "__toward"  # `trend.relative_change()`, made once for `trend.trend`
GroupKey = tuple[str, str, str]  # dataset, time column, censoring (as JSON, or "")
SliceCells = Callable[[pl.LazyFrame, Window, bool], pl.LazyFrame]


def _group_plain(
    metrics: list[MetricSpec], inputs: Mapping[str, Input]
) -> dict[GroupKey, list[MetricSpec]]:
    """Row-aggregated metrics grouped so that each group is one pass over one dataset."""
    groups: dict[GroupKey, list[MetricSpec]] = {}
    for spec in metrics:
        kind = kind_of(spec.compute)
        if kind.plan != "rows" or spec.dataset is None:
            continue
        if spec.dataset not in inputs:
            continue
        time_column = spec.time_column or inputs[spec.dataset].time_column
        censor = getattr(spec.compute, "censor", None)
        extra = censor.model_dump_json() if censor else ""
        if kind.own_pass:
            extra += f"|own pass: {spec.id}"
        key = (spec.dataset, time_column, extra)
        groups.setdefault(key, []).append(spec)
    return groups


def records_from_cells(
    cells: dict[str, pl.DataFrame],
    metrics: list[MetricSpec],
    everything: list[MetricSpec],
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
) -> pl.DataFrame:
    """The records of `metrics` from the cells of the row and stock kinds: formulas and
    derived metrics combined from their inputs' cells, then labelled and judged (`finish`);
    the polars engine and the Ibis engines both end here."""
    by = list(request.by)
    combine_formulas(cells, everything, by, aliases, unavailable)
    wanted = [cells[s.id] for s in metrics if s.id in cells]
    if not wanted:
        return empty_records(by, timezone)
    return finish(wanted, metrics, request, timezone, unavailable)


def combine_formulas(
    cells: dict[str, pl.DataFrame],
    everything: list[MetricSpec],
    by: list[str],
    aliases: Mapping[str, str],
    unavailable: dict[str, str],
) -> None:
    """Add the cells of every formula among `everything` to `cells`, from its inputs'."""
    specs = {s.id: s for s in everything}
    for spec in _formula_order(everything, aliases):
        inputs_ready = all(m in cells for _, m in formula_inputs(spec, aliases))
        if spec.id in unavailable or not inputs_ready:
            unavailable.setdefault(spec.id, "an input metric has no data source")
            continue
        kind = kind_of(spec.compute)
        cells[spec.id] = kind.combine(spec.compute, spec, cells, specs, by, aliases)


def local_cells(
    spec: MetricSpec, inputs: Mapping[str, Input], request: Request, timezone: str
) -> pl.DataFrame:
    """The cells of a kind that computes its own (a stock, the roster's counts), with
    polars, from its dataset's rows; a roster's periods are the other data's."""
    kind = kind_of(spec.compute)
    window = request.window
    if kind.spans_data:
        window = _data_span(inputs, str(spec.dataset), window)
    data = inputs[str(spec.dataset)]
    try:
        return kind.cells(
            spec.compute, data.frame, spec, request.grain, list(request.by), timezone, window
        )
    except pl.exceptions.PolarsError as exc:
        if data.check is not None:  # a value the deferred flags would have caught
            raise UncheckedRows(str(spec.dataset)) from None
        # a definition the data cannot answer (a `where` of text): located by the caller
        raise ComputeError({spec.id: first_line(exc)}) from None


def _data_span(inputs: Mapping[str, Input], own: str, window: Window) -> Window:
    """The selected range, its open ends closed by the first and last day of the other
    datasets read with it: a roster has no time of its own, its periods are the data's."""
    others = [(n, i) for n, i in inputs.items() if n != own and i.time_column]
    spans = [i.span for _, i in others if i.span is not None]
    days = [
        i.frame.select(
            pl.col(i.time_column).min().alias("a"), pl.col(i.time_column).max().alias("b")
        ).collect()
        for _, i in others
        if i.span is None and i.time_column in i.frame.collect_schema().names()
    ]
    firsts = [_day(d["a"][0]) for d in days if d["a"][0] is not None] + [a for a, _ in spans]
    lasts = [_day(d["b"][0]) for d in days if d["b"][0] is not None] + [b for _, b in spans]
    return Window(
        window.start or (min(firsts) if firsts else None),
        window.end or (max(lasts) if lasts else None),
    )


def _day(value: object) -> dt.date:
    """A local day from a date or a local timestamp."""
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def formula_inputs(spec: MetricSpec, aliases: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name as written, metric id) for each metric a formula uses (none for a metric
    that reads rows)."""
    names = kind_of(spec.compute).inputs(spec.compute, spec.parameters)
    return [(name, aliases.get(name, name)) for name in names]


def segment_flags(
    specs: list[MetricSpec], aliases: Mapping[str, str], by: list[str]
) -> dict[str, dict[str, Override]]:
    """For each plain metric, the override segments of the formulas built on it whose
    `when` columns are not group columns: flag name -> override."""
    by_id = {s.id: s for s in specs}

    def plain_inputs(metric_id: str, trail: frozenset[str]) -> set[str]:
        spec = by_id.get(metric_id)
        if spec is None or metric_id in trail:
            return set()
        if kind_of(spec.compute).plan != "metrics":
            return {metric_id}
        return {
            p
            for _, i in formula_inputs(spec, aliases)
            for p in plain_inputs(i, trail | {metric_id})
        }

    flags: dict[str, dict[str, Override]] = {}
    for spec in specs:
        if kind_of(spec.compute).plan != "metrics":
            continue
        for index, override in enumerate(spec.overrides):
            if set(override.when) <= set(by):
                continue  # decided from the group values directly
            flag = f"{SEGMENT}\x00{spec.id}\x00{index}"
            for plain in plain_inputs(spec.id, frozenset()):
                flags.setdefault(plain, {})[flag] = override
    return flags


def compute_records(
    metrics: list[MetricSpec],
    inputs: Mapping[str, Input],
    request: Request,
    timezone: str,
    *,
    aliases: Mapping[str, str] | None = None,
    unavailable: Mapping[str, str] | None = None,
    helpers: list[MetricSpec] | None = None,
) -> pl.DataFrame:
    """Records for `metrics`; `helpers` are formula inputs computed but not reported."""
    aliases = aliases or {}
    unavailable = dict(unavailable or {})
    everything = [*metrics, *(helpers or [])]
    cells = compute_cells(everything, inputs, request, timezone, aliases, unavailable)
    return records_from_cells(cells, metrics, everything, request, timezone, aliases, unavailable)


def compute_cells(
    everything: list[MetricSpec],
    inputs: Mapping[str, Input],
    request: Request,
    timezone: str,
    aliases: Mapping[str, str],
    unavailable: Mapping[str, str],
    only: set[str] | None = None,
) -> dict[str, pl.DataFrame]:
    """The cells of the row and stock kinds among `everything` (`only`: just these ids;
    formulas' override segments are still taken from all of `everything`), before
    `records_from_cells` finishes them; an incremental run (`tpmkit.increment`) caches them."""
    by = list(request.by)
    segments = segment_flags(everything, aliases, by)
    if only is not None:
        everything = [s for s in everything if s.id in only]
    groups = _group_plain(everything, inputs)
    days: dict[GroupKey, tuple[dt.date, dt.date] | None] = {}  # of each pass's time column
    carriers = _carriers(groups, inputs, request)

    def cells_of(key: GroupKey, group: list[MetricSpec], exact: bool) -> pl.LazyFrame:
        carry = inputs[key[0]].check if carriers.get(key[0]) == key else None
        return _cells(
            inputs,
            key,
            group,
            request,
            timezone,
            unavailable,
            segments,
            exact,
            days.get(key),
            carry[0] if carry else None,
        )

    def slice_of(key: GroupKey, group: list[MetricSpec]) -> SliceCells:
        def cells(rows: pl.LazyFrame, window: Window, exact: bool) -> pl.LazyFrame:
            whole = inputs[key[0]]
            ready = {**inputs, key[0]: Input(rows, whole.time_column, whole.span)}
            own = replace(request, window=window)
            return _cells(
                ready, key, group, own, timezone, unavailable, segments, exact, days.get(key)
            )

        return cells

    try:
        if request.grain in local_periods.GRAINS:  # periods of whole days
            days.update({k: _column_days(inputs[k[0]], k[1], timezone) for k in groups})
        for name, data in inputs.items():  # deferred flags no pass looks at: a query alone
            if data.check is not None and name not in carriers:
                flags = data.frame.select(*_carried(data.check[0]))
                _verify(name, data.check, flags.collect(engine="streaming"))
        # the plain passes in batches of about `SLICE_ROWS` rows (slices.batches); a pass
        # that sorts its whole dataset (the repeat window) beside its dataset's batch when
        # the dataset is no larger (10 M calls: the same peak, and no pass waits for the
        # tail of another), else on its own, over a long history slice by slice
        long = {key for key, group in groups.items() if slices.reach(group) is not None}
        whole = [key for key in groups if key not in long]
        done: dict[GroupKey, pl.DataFrame] = {}
        for keys in slices.beside(
            [[whole[i] for i in b] for b in slices.batches([inputs[k[0]].rows for k in whole])],
            [k for k in long if (inputs[k[0]].rows or 0) <= slices.SLICE_ROWS],
        ):
            lazy = [cells_of(key, groups[key], False) for key in keys]
            done.update(zip(keys, pl.collect_all(lazy, engine="streaming"), strict=True))
        for key, group in groups.items():
            if key not in done:
                data = inputs[key[0]]
                cut = slices.sliced(
                    data.frame,
                    key[1],
                    data.rows,
                    group,
                    request.grain,
                    request.window,
                    timezone,
                    slice_of(key, group),
                )
                whole_pass = cells_of(key, group, False)
                done[key] = cut if cut is not None else whole_pass.collect(engine="streaming")
        frames = []
        for key, group in groups.items():
            frame = done.pop(key)
            if RECHECK in frame.columns:
                # two keys hashed alike, or a row outside the known offsets: redo exactly
                if frame.get_column(RECHECK).any():
                    frame = cells_of(key, group, True).collect()
                frame = frame.drop(RECHECK, strict=False)
            if FLAGGED in frame.columns:  # the pass that looked at the deferred flags
                check = inputs[key[0]].check
                assert check is not None
                first = frame.filter(pl.col("metric") == group[0].id)
                _verify(key[0], check, first.select(pl.col(FLAGGED).any(), pl.col(SEEN).sum()))
                frame = frame.drop(FLAGGED, SEEN)
            frames.append(frame)
    except pl.exceptions.PolarsError:
        if any(data.check is not None for data in inputs.values()):
            # a value the deferred flags would have caught may have failed the pass
            raise UncheckedRows(next(n for n, d in inputs.items() if d.check)) from None
        raise _culprits(groups, inputs, request, timezone, unavailable) from None
    cells: dict[str, pl.DataFrame] = {}
    for group, frame in zip(groups.values(), frames, strict=True):
        parts = frame.partition_by("metric", as_dict=True)
        for spec in group:  # a metric with no row in range still has (no) cells
            cells[spec.id] = parts.get((spec.id,), frame.clear())
    # kinds that compute their own cells (a stock, time to proficiency): each of their
    # queries names the streaming engine (the default one holds all their rows at once);
    # not `pl.Config`, which is the process's: an incremental run computes cells on two
    # threads, and two `Config` blocks left in turn leave the process with the setting
    for spec in everything:
        kind = kind_of(spec.compute)
        if kind.plan == "cells" and spec.dataset in inputs and spec.id not in unavailable:
            cells[spec.id] = local_cells(spec, inputs, request, timezone)
    return cells


def _cells(
    inputs: Mapping[str, Input],
    key: GroupKey,
    group: list[MetricSpec],
    request: Request,
    timezone: str,
    unavailable: Mapping[str, str],
    segments: Mapping[str, Mapping[str, Override]] | None = None,
    exact: bool = False,
    days: tuple[dt.date, dt.date] | None = None,
    carry: str | None = None,
) -> pl.LazyFrame:
    """The cells of one pass: metrics of one dataset and time column (`days`: the first and
    last local day of that column's times, when known; `carry`: the column of deferred
    rule flags the pass aggregates, see `Input.check`)."""
    dataset, time_column, _ = key
    data = inputs[dataset]
    frame = data.frame
    if data.lean is not None and not data.looked_up & _pass_columns(
        group, time_column, list(request.by), segments or {}
    ):
        frame = data.lean
    return aggregate(
        frame,
        group,
        time_column,
        request.grain,
        list(request.by),
        timezone,
        request.window,
        unavailable,
        segments,
        getattr(group[0].compute, "censor", None),
        exact=exact,
        days=days,
        row_count=data.rows,
        carry=_carried(carry) if carry else (),
    )


def _carriers(
    groups: Mapping[GroupKey, list[MetricSpec]], inputs: Mapping[str, Input], request: Request
) -> dict[str, GroupKey]:
    """For each dataset whose rule flags were deferred, the pass that looks at them: its
    first plain pass over its own time column, with no censoring and no selected range,
    which then groups every row with a time (a row without one, or outside a range, is
    missing from the count it gives, and the dataset is checked the whole way)."""
    if request.window.start is not None or request.window.end is not None:
        return {}
    found: dict[str, GroupKey] = {}
    for key in groups:
        data = inputs[key[0]]
        if data.check is not None and key[1] == data.time_column and not key[2]:
            found.setdefault(key[0], key)
    return found


FLAGGED, SEEN = "__flagged", "__seen"  # a carrying pass's aggregates: some flag up, rows


def _carried(column: str) -> tuple[pl.Expr, pl.Expr]:
    """The aggregates over deferred rule flags: whether one is up, and the rows seen."""
    return pl.col(column).any().alias(FLAGGED), pl.len().cast(pl.Int64).alias(SEEN)


def _verify(name: str, check: tuple[str, int], found: pl.DataFrame) -> None:
    """Raise `UncheckedRows` when `found` (`FLAGGED`, `SEEN`) shows a flag up or fewer
    rows than the load counted."""
    flagged, seen = found.row(0)
    if flagged or (seen or 0) != check[1]:
        raise UncheckedRows(name)


def _column_days(data: Input, column: str, timezone: str) -> tuple[dt.date, dt.date] | None:
    """The first and last local day of a pass's time `column`: for the dataset's own, as
    the load counted them; for another, read from the rows (2.5 M tickets: 0.02 s of CPU,
    where truncating every row to its local period in the pass took 0.15 s); None when
    they are unknown or it is no zoned time."""
    if column == data.time_column:
        return data.span
    rows = data.lean if data.lean is not None and column not in data.looked_up else data.frame
    if rows.collect_schema().get(column) != pl.Datetime("us", timezone):
        return None
    found = rows.select(pl.col(column).min().alias("a"), pl.col(column).max().alias("b"))
    first, last = found.collect(engine="streaming").row(0)
    if not isinstance(first, dt.datetime) or not isinstance(last, dt.datetime):
        return None
    return first.date(), last.date()  # in the project time zone: local days


def _pass_columns(
    group: list[MetricSpec],
    time_column: str,
    by: list[str],
    segments: Mapping[str, Mapping[str, Override]],
) -> set[str]:
    """The columns a pass reads: its metrics' own (as the read plan names them, with the
    censoring and the overrides' conditions), their formulas' segments' conditions, the
    time and the group columns."""
    used = {time_column, *by}
    for spec in group:
        used |= metric_columns(spec)
        used.update(c for o in segments.get(spec.id, {}).values() for c in o.when)
    return used


def _culprits(
    groups: Mapping[GroupKey, list[MetricSpec]],
    inputs: Mapping[str, Input],
    request: Request,
    timezone: str,
    unavailable: Mapping[str, str],
) -> ComputeError:
    """Which metrics failed, computed one by one (only after a failure)."""
    failures: dict[str, str] = {}
    for key, group in groups.items():
        for spec in group:
            try:
                _cells(inputs, key, [spec], request, timezone, unavailable).collect()
            except pl.exceptions.PolarsError as exc:
                failures[spec.id] = first_line(exc)
    return ComputeError(failures or {"(several)": "the metrics failed together"})


def _formula_order(specs: list[MetricSpec], aliases: Mapping[str, str]) -> list[MetricSpec]:
    """Formula metrics ordered so that inputs come before the formulas using them."""
    formulas = {s.id: s for s in specs if kind_of(s.compute).plan == "metrics"}
    ordered: list[MetricSpec] = []
    done: set[str] = set()

    def visit(metric_id: str, trail: tuple[str, ...]) -> None:
        if metric_id in done or metric_id not in formulas or metric_id in trail:
            return
        for _, dependency in formula_inputs(formulas[metric_id], aliases):
            visit(dependency, (*trail, metric_id))
        done.add(metric_id)
        ordered.append(formulas[metric_id])

    for metric_id in formulas:
        visit(metric_id, ())
    return ordered


# Records finished at a time: labelling and judging widen the cells to some 35 columns and
# copy them a few times over; a bounded part of whole metrics keeps that working set small
# (1.4 M records: 1.5 GiB at once) and gives the same records, since every step works
# within a metric's series. Fewer records are still cut in `PARTS`: a part's copies are
# freed before the next part's are made (1 M calls by agent and week, 153 K records: a peak
# ~400 MiB in one part, ~320 in 4, ~295 in 8, ~288 in 16; each part costs ~8 ms of CPU).
PART_ROWS = 200_000
PARTS = 8
MIN_PART_ROWS = 10_000
FINISHING_THREADS = 2


def finish(
    cells: list[pl.DataFrame],
    metrics: list[MetricSpec],
    request: Request,
    timezone: str,
    unavailable: Mapping[str, str],
    limits: pl.DataFrame | None = None,
    origin: float | None = None,
    context: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add period bounds and labels, levels, status, gap, plan and trend to the cells of
    each metric (one frame a metric); the records in metric, period and group order.
    `limits`: control limits given per series (`signals.add_signals`); `origin`: the
    trend's first position when records before these cells are finished elsewhere (an
    incremental run's; default: these cells' first); `context`: values of earlier records
    of these series (`trend.add_slope`, `signals.add_signals`)."""
    everything = pl.concat(cells, how="diagonal_relaxed")
    bounds: tuple[object, object] | None = None
    if request.grain == "all":  # the span of the data, over all metrics
        first = everything.get_column("__first").min()
        last = everything.get_column("__last").max()
        bounds = _all_bounds(first, last, request.window, timezone)
    if origin is None:  # positions shared by all parts
        origin = trend.origin(everything, request.grain)
    del everything
    parts: list[list[pl.DataFrame]] = [[]]
    rows = 0
    limit = part_rows(sum(frame.height for frame in cells))
    for frame in cells:
        if rows and rows + frame.height > limit:
            parts.append([])
            rows = 0
        parts[-1].append(frame)
        rows += frame.height

    # each part is given only its own metrics' context and limits (every part joined all
    # of the limits: an incremental run by agent, 9 parts, 0.03 s of CPU)
    earlier = {} if context is None else context.partition_by("metric", as_dict=True)
    given = {} if limits is None else limits.partition_by("metric", as_dict=True)

    def finished(part: list[pl.DataFrame]) -> pl.DataFrame:
        table = pl.concat(part, how="diagonal_relaxed")
        names = table.get_column("metric").unique().to_list()
        mine = [earlier[(m,)] for m in names if (m,) in earlier]
        before = pl.concat(mine) if mine else None
        own = None
        if limits is not None:
            found = [given[(m,)] for m in names if (m,) in given]
            own = pl.concat(found) if found else limits.clear()
        args = (metrics, request, timezone, unavailable, bounds, origin, own, before)
        return _finish_part(table, *args)

    # two parts at a time: each is a chain of small steps, mostly on one core, and polars
    # lets go of Python's lock while it works (10 M calls: finishing 2.0 -> 1.1 s of wall)
    with ThreadPoolExecutor(max_workers=FINISHING_THREADS) as pool:
        done = list(pool.map(finished, parts))
    return pl.concat(done, how="vertical_relaxed") if len(done) > 1 else done[0]


def part_rows(records: int) -> int:
    """The records finished at a time: `PARTS` parts of whole metrics, each of
    `MIN_PART_ROWS` to `PART_ROWS`."""
    return max(MIN_PART_ROWS, min(PART_ROWS, -(-records // PARTS)))


def _finish_part(
    table: pl.DataFrame,
    metrics: list[MetricSpec],
    request: Request,
    timezone: str,
    unavailable: Mapping[str, str],
    bounds: tuple[object, object] | None,
    origin: float | None,
    limits: pl.DataFrame | None = None,
    context: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`finish` for the cells of some whole metrics."""
    by = list(request.by)
    for column in ("sd", "numerator", "denominator", "scale"):  # e.g. no spread of a formula
        if column not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    if bounds is not None:
        start_at, end_at = bounds
        # typed even when null (an export with no rows): later steps do time arithmetic
        moment = pl.Datetime("us", timezone)
        table = table.with_columns(
            pl.lit(start_at, dtype=moment).alias(START),
            pl.lit(end_at, dtype=moment).alias("period_end"),
        )
    # computed once per distinct period, not once per record, and joined at once: the end,
    # the label and the end as local wall time (for the signals' glide path)
    made = [periods.label(pl.col(START), request.grain).alias("period")]
    if bounds is None:
        end = periods.period_end(pl.col(START), request.grain)
        made = [end.alias("period_end"), *made, end.dt.replace_time_zone(None).alias(END_LOCAL)]
    # with the periods' ranks for the records' orders (engine/order.py): no join of its own
    starts = table.select(pl.col(START).unique()).sort(START, nulls_last=True)
    starts = starts.with_row_index(order.PERIOD_RANK).with_columns(
        pl.col(order.PERIOD_RANK).cast(pl.UInt64), *made
    )
    table = table.join(starts, on=START, how="left", nulls_equal=True)
    table = notes.mark_excluded(table, request.notes, by)
    metric_order = {s.id: i for i, s in enumerate(metrics)}
    # before the table widens: the two orders as packed integers (engine/order.py)
    keyed = order.with_orders(table, by, metric_order, in_tenure_order, starts.height)
    table = table.drop(order.PERIOD_RANK) if keyed is None else keyed
    series = order.SERIES if keyed is not None else None
    placing = trend.Placing()  # the context's records among the series: found once
    table = trend.add_slope(
        table,
        ["metric", *by],
        request.grain,
        origin=origin,
        order=series,
        context=context,
        placing=placing,
    )
    # the glide path's instants made on the few levels (a zone conversion per record cost
    # 0.3 ms a 15,000 records), and the reasons not to judge a record but its group's
    # (`unassigned`); the trend's relative change once, not once per branch
    ahead, not_judged = status.not_judged_by_level(metrics, by, request.grain)
    table = join_levels(table, metrics, [*status.plan_bounds(timezone), *ahead])
    table = table.with_columns(not_judged.alias(NOT_JUDGED), trend.relative_change().alias(_TOWARD))
    table = _partial_periods(table, metrics, request, timezone)
    table = table.with_columns(
        status.status(NOT_JUDGED).alias("status"),
        status.gap_to_target().alias("gap_to_target"),
        status.plan(timezone, ahead=True).alias("plan"),
        trend.trend(_TOWARD).alias("trend"),
    )
    table = table.with_columns(status.plan_status().alias("plan_status"))
    table = signals.add_signals(table, ["metric", *by], request.grain, limits, context, placing)
    table = signals.quiet(table, list(status.cadence_reasons(metrics, request.grain)))
    if request.last is not None and request.grain != "all" and not table.is_empty():
        # after the trend, so the first periods shown still have their history behind them;
        # each metric's own last periods, so that a metric shows the same periods alone or
        # beside metrics whose data reach further (a backlog stops at its tickets' horizon)
        newest = pl.col(START).max().over("metric")
        oldest = newest.dt.offset_by(periods.span(request.grain, -(request.last - 1)))
        table = table.filter(pl.col(START) >= oldest)
    # lookups per record only where some metric has such a reason (most runs: none)
    reasons = pl.lit(None, dtype=pl.String)
    if unavailable:
        reasons = pl.col("metric").replace_strict(
            dict(unavailable), default=None, return_dtype=pl.String
        )
    own_words = no_value_reasons(metrics)
    not_finite = pl.lit(NOT_FINITE)
    if own_words:
        not_finite = pl.col("metric").replace_strict(
            own_words, default=NOT_FINITE, return_dtype=pl.String
        )
    no_data = (
        pl.when(pl.col("value").is_null())
        .then(
            pl.coalesce(
                reasons,
                # rows counted, yet no value: the kind's result was infinite or undefined
                pl.when(pl.col("n") > 0).then(not_finite),
                pl.lit("no qualifying rows in this period and group"),
            )
        )
        .otherwise(None)
    )
    # a record not judged says why first, and keeps why it has no value after it
    table = table.with_columns(
        pl.when(pl.col(NOT_JUDGED).is_not_null())
        .then(pl.concat_str([pl.col(NOT_JUDGED), no_data], separator="; ", ignore_nulls=True))
        .otherwise(no_data)
        .alias("reason")
    )
    if keyed is not None:  # the records' columns only, then sorted: less to move
        wanted = table.select(*ordered_columns(by), order.OUTPUT)
        return wanted.sort(order.OUTPUT, multithreaded=False).drop(order.OUTPUT)
    table = table.with_columns(
        pl.col("metric").replace_strict(metric_order, return_dtype=pl.Int32).alias("__order")
    )
    table = table.sort(["__order", START, *(in_tenure_order(c) for c in by)], nulls_last=True)
    return table.select(*ordered_columns(by))


def _partial_periods(
    table: pl.DataFrame, metrics: list[MetricSpec], request: Request, timezone: str
) -> pl.DataFrame:
    """A period the selected range cuts keeps its label but is not judged: its value
    covers part of it (a stock, a level at the period's end, is whole)."""
    window = request.window
    if window.start is None and window.end is None:
        return table
    from tpmkit.engine.window import bounds

    first, last = bounds(window, timezone)
    words = f"{window.start or '…'} – {window.end or '…'}"
    flows = [s.id for s in metrics if not kind_of(s.compute).stock]
    why = periods.partial(pl.col(START), pl.col("period_end"), request.grain, first, last, words)
    partial = pl.when(pl.col("metric").is_in(flows)).then(why)
    return table.with_columns(pl.coalesce(pl.col(NOT_JUDGED), partial).alias(NOT_JUDGED))


NOT_FINITE = "no finite value: a zero denominator, a division by zero or an overflow"


def no_value_reasons(metrics: list[MetricSpec]) -> dict[str, str]:
    """Per metric whose kind says it in its own words, why rows counted gave no value."""
    said = {s.id: kind_of(s.compute).no_value(s.compute) for s in metrics}
    return {metric: reason for metric, reason in said.items() if reason is not None}


def _all_bounds(
    first: object, last: object, window: Window, timezone: str
) -> tuple[object, object]:
    from tpmkit.engine.window import bounds

    start, end = bounds(window, timezone)
    if start is None and first is not None:
        start = pl.select(pl.lit(first).dt.truncate("1d")).item()
    if end is None and last is not None:
        end = pl.select(pl.lit(last).dt.truncate("1d").dt.offset_by("1d")).item()
    return start, end
