"""`no_repeat_within`: the share of `where` rows with no later row of the same `key`
within `window_days` (any row of the dataset counts as a repeat; rows at the same instant
do not). Rows whose window ends after the latest time in the dataset are left out."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import polars as pl

from tpmkit.engine.kinds.base import Extent, Kind, issue
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, prepared, safe_div
from tpmkit.engine.window import HORIZON
from tpmkit.errors import Issue
from tpmkit.spec import expressions
from tpmkit.spec.computes import NoRepeatCompute
from tpmkit.spec.fields import Params, resolve
from tpmkit.spec.loader import Definitions, MetricDef


def window_seconds(compute: NoRepeatCompute, params: Params) -> float:
    """The repeat window in seconds (`window_days` × 24 h of absolute time)."""
    days = resolve(compute.window_days, params)
    try:
        value = float(days)
    except ValueError:
        raise ValueError(f"window_days must be a number, not {days!r}") from None
    if value <= 0:
        raise ValueError("window_days must be positive")
    return value * 86400.0


class NoRepeat(Kind[NoRepeatCompute]):
    """Components: rows kept (no repeat) over observable rows, × scale."""

    name = "no_repeat_within"
    model = NoRepeatCompute
    column_fields = ("key",)
    binomial: ClassVar[bool] = True  # each row repeats or not: a Wilson interval
    own_pass: ClassVar[bool] = True  # its preparation sorts the whole dataset

    def check(
        self, compute: NoRepeatCompute, metric: MetricDef, project: Definitions
    ) -> list[Issue]:
        try:
            window_seconds(compute, metric.spec.parameters)
        except expressions.ExpressionError as exc:
            return [issue(metric, ("window_days",), exc.message)]
        except ValueError as exc:
            return [issue(metric, ("window_days",), str(exc))]
        return []

    def needs_whole_dataset(self, compute: NoRepeatCompute) -> bool:
        return True

    def observation_lag(self, compute: NoRepeatCompute, params: Params) -> dt.timedelta:
        """The window must have passed for a period's last contacts."""
        return dt.timedelta(seconds=window_seconds(compute, params))

    def prepare(
        self,
        frame: pl.LazyFrame,
        metric_id: str,
        compute: NoRepeatCompute,
        params: Params,
        time_column: str,
        *,
        exact: bool = False,
        extent: Extent | None = None,
    ) -> pl.LazyFrame:
        window = pl.duration(seconds=window_seconds(compute, params))
        layout = _layout(extent) if extent is not None else None
        return with_repeats(frame, metric_id, compute.key, time_column, window, exact, layout)

    def reach(self, compute: NoRepeatCompute, params: Params) -> dt.timedelta | None:
        """A row's repeat lies within the window after it."""
        return dt.timedelta(seconds=window_seconds(compute, params))

    def recheck(self, metric_id: str, compute: NoRepeatCompute) -> pl.Expr | None:
        # a hash collision between two keys: see `with_repeats`
        return pl.col(prepared(metric_id, "collision")).any()

    def aggregation(
        self, compute: NoRepeatCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        where = mask(compute.where, params)
        t = pl.col(time_column)
        window = pl.duration(seconds=window_seconds(compute, params))
        # the follow-up window must end by the latest time in the whole dataset
        observable = pl.col(prepared(metric_id, "horizon")) >= t + window
        population = pl.col(compute.key).is_not_null() & observable
        population = population if where is None else where & population
        repeated = pl.col(prepared(metric_id, "repeated"))  # a later row within the window
        size = parts.count("size", population)
        kept = parts.count("kept", population & ~repeated)
        return parts.done(
            safe_div(kept, size, compute.scale), size, components=(kept, size, compute.scale)
        )

    def describe(self, compute: NoRepeatCompute) -> str:
        among = f"rows where `{compute.where}`" if compute.where else "rows"
        return (
            f"{compute.scale:g} × share of {among} with a known `{compute.key}` and no later "
            f"row of the same `{compute.key}` within {compute.window_days} days; rows whose "
            "window ends after the latest time in the data are left out"
        )


_NO_LATER = 2**63 - 1  # stands for "no later row of this key" while filling
_WIDE = pl.UInt128  # the packed sort key: key hash | time | row


def key_hashes(key: str) -> tuple[pl.Expr, pl.Expr]:
    """Two independent 64-bit hashes of a key: rows are grouped by the first; a pair of
    neighbours with equal first and different second hash reveals a collision."""
    return pl.col(key).hash(seed=20260817), pl.col(key).hash(seed=7)


def _layout(extent: Extent) -> tuple[int, int] | None:
    """The bits of the row number and of the time in the packed key, from the rows the
    load counted and the local days their times lie on (None: either is unknown). A
    day's local midnight lies within 14 hours of UTC's, so the instants span less than
    the days plus two."""
    if extent.rows is None or extent.days is None:
        return None
    first, last = extent.days
    span = ((last - first).days + 3) * 86_400_000_000  # µs
    return max(1, extent.rows).bit_length(), (span + 1).bit_length()


def _bits(count: pl.Expr) -> pl.Expr:
    """Bits enough to write every whole number below `count` (≥ 1), as a scalar: one more
    than the floor of its base-2 logarithm (never fewer than needed: a float rounds the
    count to a power of two at worst, whose logarithm is exact)."""
    return (count.cast(pl.Float64).log(2).floor() + 1).cast(pl.UInt32)


def _power(bits: pl.Expr) -> pl.Expr:
    return pl.lit(2, dtype=_WIDE).pow(bits)


_ROW, _FLAG = "row", "flag"


def _sort_values(values: pl.Series) -> pl.Series:
    """The values sorted on one thread: polars' sort expression sorts on several, which
    on this data took twice the CPU and no less time (10 M 64-bit values: 0.26 s against
    0.13; 128-bit: 0.30 against 0.24)."""
    return values.sort(multithreaded=False)


def _put_back(rows: pl.Series) -> pl.Series:
    """The flags given in key order (`_FLAG`, with each one's row number, `_ROW`) in the
    rows' own order: written to their rows (10 M rows: 0.03 s of CPU, where sorting the
    numbers `row << 1 | flag` took 0.26 s)."""
    flags = rows.struct.field(_FLAG)
    return pl.repeat(False, len(rows), eager=True).scatter(rows.struct.field(_ROW), flags)


def with_repeats(
    frame: pl.LazyFrame,
    metric_id: str,
    key: str,
    time_column: str,
    window: pl.Expr,
    exact: bool,
    layout: tuple[int, int] | None = None,
) -> pl.LazyFrame:
    """Per row, whether a row with the same key follows strictly later within `window`
    (`repeated`), and the latest instant of the dataset (`horizon`).

    In the order of key and time a row's successor is its next contact; the rows of a run
    of equal instants all take the instant after the run (a contact at the identical
    instant is no repeat), filled back from the run's end; the last row of a key has none.

    Sorting by (text key, time) is slow on millions of rows, so by default each row becomes
    one 128-bit integer — the top bits of a 64-bit hash of its key, its time (µs after the
    earliest, 0 for none) and its row number, each in as many bits as the data needs — and
    those integers are sorted as plain values: the order of key and time, with each row's
    number in its low bits (10 M calls: 0.9 s of CPU against 1.4 for sorting by time, then
    stably by the hash, and gathering by the order; sorting values is three times as fast
    as an `arg_sort`). The time takes the bits its span needs (µs: 43 for three months,
    48 for nine years), the row number those the row count needs (24 for ten million),
    and the hash the rest, up to 64 (61 at ten million calls over three months). `layout`
    gives the row number's and the time's bits when the load's counts tell them (literal
    factors: 0.2 s of CPU less at 10 M calls than factors computed in the query); rows or
    times beyond them ask for the exact preparation. Two keys whose hashes share their top
    bits would interleave: neighbours with the same top bits whose second, independent
    hash differs flag it in `collision`, and the caller prepares again with `exact=True`,
    sorting by the key itself (both hashes equal for different keys: about 1 in 10^26 for
    ten million keys). The flags are then written back to their rows by their row
    numbers (`_put_back`)."""
    t = pl.col(time_column)
    # a time slice of the dataset carries the whole dataset's latest time (engine/slices.py)
    horizon = pl.col(HORIZON).first() if HORIZON in frame.collect_schema().names() else t.max()
    order, group, check, times, later, packed = (
        prepared(metric_id, n) for n in ("order", "group", "check", "times", "later", "packed")
    )
    first, second = key_hashes(key)
    beyond: pl.Expr | None = None
    if exact:
        frame = frame.with_columns(pl.arg_sort_by(pl.col(key), t).alias(order)).with_columns(
            pl.col(key).gather(pl.col(order)).alias(group),
            pl.lit(0).alias(check),
            t.dt.epoch("us").gather(pl.col(order)).alias(times),
        )
    else:  # each step is its own column so that no step is computed twice
        us = t.dt.epoch("us")
        earliest = us.min()
        span = (us.max() - earliest + 1).fill_null(1)  # time offsets: 1…span, 0 for none
        if layout is None:  # the bits the rows need, as scalars
            row_bits, time_bits = _bits(pl.max_horizontal(pl.len(), 1)), _bits(span + 1)
            low = row_bits + time_bits
            hash_bits = (pl.lit(128, dtype=pl.Int64) - low).clip(1, 64).cast(pl.UInt32)
            top = first // pl.lit(2, dtype=pl.UInt64).pow(64 - hash_bits)
            shift_low, shift_row, mask_time = _power(low), _power(row_bits), _power(time_bits)
        else:  # known before: literals, which polars multiplies and divides by faster
            rows_bits, span_bits = layout
            bits = min(64, max(1, 128 - rows_bits - span_bits))
            top = first // (1 << (64 - bits))
            shift_low = pl.lit(1 << (rows_bits + span_bits), dtype=_WIDE)
            shift_row = pl.lit(1 << rows_bits, dtype=_WIDE)
            mask_time = pl.lit(1 << span_bits, dtype=_WIDE)
            # rows or times beyond what was known: sort exactly (never with the load's counts)
            beyond = (pl.len() >= (1 << rows_bits)) | (span >= (1 << span_bits))
        offset = (us - earliest + 1).fill_null(0).cast(_WIDE)
        number = pl.int_range(pl.len(), dtype=pl.UInt64).cast(_WIDE)
        key_order = (top.cast(_WIDE) * shift_low + offset * shift_row + number).map_batches(
            _sort_values, return_dtype=_WIDE
        )
        frame = (
            frame.with_columns(key_order.alias(packed))
            .with_columns(
                (pl.col(packed) // shift_low).cast(pl.UInt64).alias(group),
                (pl.col(packed) % shift_row).cast(pl.UInt64).alias(order),
                ((pl.col(packed) // shift_row) % mask_time).cast(pl.Int64).alias(times),
            )
            .drop(packed)
            .with_columns(
                second.gather(pl.col(order)).alias(check),
                pl.when(pl.col(times) > 0).then(pl.col(times) - 1 + earliest).alias(times),
            )
        )
    at = pl.col(times)
    same_key = (pl.col(group).shift(-1) == pl.col(group)).fill_null(False)
    following = (
        pl.when(~same_key)
        .then(pl.lit(_NO_LATER, dtype=pl.Int64))
        .when(at.shift(-1) == at)
        .then(pl.lit(None, dtype=pl.Int64))
        .otherwise(at.shift(-1))
        .backward_fill()
    )
    collision = (same_key & (pl.col(check) != pl.col(check).shift(-1))).any()
    if beyond is not None:
        collision = collision | beyond
    # in key order: a first later instant by the end of the row's own window
    dtype = frame.collect_schema()[time_column]
    if exact or not isinstance(dtype, pl.Datetime) or dtype.time_unit != "us":
        limit = (t + window).dt.epoch("us").gather(pl.col(order))
    else:  # µs since the epoch plus the window's µs: no gather by the order
        limit = at + window.dt.total_microseconds()
    # a row without a time has no window: false (a null would be written as one)
    repeated = ((following != _NO_LATER) & (following <= limit)).fill_null(False)
    # the hashes and times are dropped before the flags are put back in the rows' order
    return (
        frame.with_columns(repeated.alias(later), collision.alias(prepared(metric_id, "collision")))
        .drop(group, check, times)
        .with_columns(
            pl.struct(pl.col(order).alias(_ROW), pl.col(later).alias(_FLAG))
            .map_batches(_put_back, return_dtype=pl.Boolean)
            .alias(prepared(metric_id, "repeated")),
            horizon.alias(prepared(metric_id, "horizon")),
        )
        .drop(order, later)
    )
