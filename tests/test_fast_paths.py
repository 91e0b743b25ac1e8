"""The fast paths of the engine give exactly the numbers of the slow, obvious ones.

- The repeat-contact window sorts by a hash of the customer; a hash collision is detected
  and the pass redone sorting by the customer itself.
- Trends are sums over shifted rows of each series, not rolling windows per group.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tpmkit.engine.cells import aggregate
from tpmkit.engine.kinds import no_repeat_within
from tpmkit.engine.trend import add_trend
from tpmkit.engine.window import Window
from tpmkit.spec.models import MetricSpec

FCR = MetricSpec.model_validate(
    {
        "id": "fcr_repeat",
        "name": "FCR",
        "unit": "percent",
        "direction": "higher_is_better",
        "dataset": "calls",
        "compute": {
            "kind": "no_repeat_within",
            "key": "customer_id",
            "window_days": 2,
            "where": "answered",
        },
    }
)
START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def cells(frame: pl.DataFrame, *, exact: bool = False, known: bool = False) -> dict[tuple, tuple]:
    # `known`: the rows' count and local days given, as the load counts them (the repeat
    # window then sizes its sort key before it runs)
    times = frame.get_column("offered_at").drop_nulls()
    days = (times.min().date(), times.max().date()) if known and len(times) else None
    result = aggregate(
        frame.lazy(),
        [FCR],
        "offered_at",
        "day",
        [],
        "UTC",
        Window(),
        {},
        exact=exact,
        days=days,
        row_count=frame.height if known else None,
    ).collect()
    return {
        (r["period_start"],): (r["value"], r["n"])
        for r in result.to_dicts()
        if r["metric"] == "fcr_repeat"
    }


def naive(frame: pl.DataFrame, window: dt.timedelta) -> dict[tuple, tuple]:
    """The definition, row by row in Python: the reference the engine must match."""
    rows = [r for r in frame.to_dicts() if r["offered_at"] is not None]  # no time: no contact
    horizon = max(r["offered_at"] for r in rows)
    out: dict[tuple, list[int]] = {}
    for r in rows:
        day = r["offered_at"].replace(hour=0, minute=0, second=0, microsecond=0)
        cell = out.setdefault((day,), [0, 0])
        if not r["answered"] or r["customer_id"] is None or r["offered_at"] + window > horizon:
            continue
        repeated = any(
            o["customer_id"] == r["customer_id"]
            and r["offered_at"] < o["offered_at"] <= r["offered_at"] + window
            for o in rows
        )
        cell[0] += 1
        cell[1] += 0 if repeated else 1
    return {k: ((100.0 * kept / n) if n else None, n) for k, (n, kept) in out.items()}


calls_frames = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", None]),
        st.integers(min_value=0, max_value=8 * 24),  # hour of the first 8 days
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
).map(
    lambda rows: pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "offered_at": [START + dt.timedelta(hours=r[1]) for r in rows],
            "answered": [r[2] for r in rows],
        },
        schema={
            "customer_id": pl.String,
            "offered_at": pl.Datetime("us", "UTC"),
            "answered": pl.Boolean,
        },
    )
)


@settings(max_examples=60, deadline=None)
@given(calls_frames)
def test_repeat_window_fast_and_exact_paths_match_the_definition(frame):
    expected = naive(frame, dt.timedelta(days=2))
    assert cells(frame) == expected
    assert cells(frame, known=True) == expected
    assert cells(frame, exact=True) == expected


# times across centuries (before 1970 too) and at single microseconds, some rows without a
# time: the fast path packs each row's time, as µs after the earliest, beside the key's hash
LONG_AGO = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
long_frames = (
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.sampled_from([0, 2**40, 2**52, 2**52 + 1]),  # µs: the same day, 12 days, 142 years
            st.integers(min_value=0, max_value=5 * 24),  # hours
            st.integers(min_value=0, max_value=2),  # µs
            st.booleans(),
            st.booleans(),  # has a time
        ),
        min_size=1,
        max_size=40,
    )
    .filter(lambda rows: any(r[5] for r in rows))
    .map(
        lambda rows: pl.DataFrame(
            {
                "customer_id": [r[0] for r in rows],
                "offered_at": [
                    LONG_AGO + dt.timedelta(microseconds=r[1] + r[3], hours=r[2]) if r[5] else None
                    for r in rows
                ],
                "answered": [r[4] for r in rows],
            },
            schema={
                "customer_id": pl.String,
                "offered_at": pl.Datetime("us", "UTC"),
                "answered": pl.Boolean,
            },
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(long_frames)
def test_repeat_window_fast_path_over_centuries_and_rows_without_time(frame):
    expected = naive(frame, dt.timedelta(days=2))
    assert cells(frame) == expected
    assert cells(frame, known=True) == expected
    assert cells(frame, exact=True) == expected


def test_rows_beyond_the_known_count_or_days_ask_for_the_exact_sort():
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b", "a", "a"],
            "offered_at": [START + dt.timedelta(hours=h) for h in (0, 1, 30, 300)],
            "answered": [True] * 4,
        },
        schema={
            "customer_id": pl.String,
            "offered_at": pl.Datetime("us", "UTC"),
            "answered": pl.Boolean,
        },
    )

    def recheck(days: tuple[dt.date, dt.date], rows: int) -> bool:
        args = (frame.lazy(), [FCR], "offered_at", "day", [], "UTC", Window(), {})
        found = aggregate(*args, days=days, row_count=rows).collect()
        return bool(found.get_column("__recheck").any())

    first, last = START.date(), (START + dt.timedelta(hours=300)).date()
    assert not recheck((first, last), 4)
    assert recheck((first, last), 3)  # a fourth row needs another bit for its number
    assert recheck((first, first), 4)  # the 12th day lies beyond the span sized for
    # and the records are those of the exact sort all the same
    from tpmkit.engine.compute import Input, Request, compute_records

    def records(data: Input) -> list[tuple]:
        found = compute_records([FCR], {"calls": data}, Request("day"), "UTC")
        return found.select("period", "value", "n").rows()

    truth = records(Input(frame.lazy(), "offered_at"))
    assert records(Input(frame.lazy(), "offered_at", (first, first), 2)) == truth
    # a's call at 0 h is repeated at 30 h, b's is not; a's at 30 h has no repeat within
    # two days; at 300 h the window has not passed by the latest time
    assert truth == [("2026-03-02", 50.0, 2), ("2026-03-03", 100.0, 1), ("2026-03-14", None, 0)]


def test_a_hash_collision_is_detected_and_redone_exactly(monkeypatch):
    frame = pl.DataFrame(
        {
            "customer_id": ["aa", "bb", "aa", "bb", "cc"],
            "offered_at": [START + dt.timedelta(hours=h) for h in (0, 1, 30, 200, 300)],
            "answered": [True] * 5,
        },
        schema={
            "customer_id": pl.String,
            "offered_at": pl.Datetime("us", "UTC"),
            "answered": pl.Boolean,
        },
    )
    expected = cells(frame, exact=True)

    def colliding(key: str) -> tuple[pl.Expr, pl.Expr]:
        # "aa" and "bb" share the first hash (same length); the second tells them apart
        first = pl.col(key).str.len_bytes().cast(pl.UInt64)
        return first, pl.col(key).hash(seed=7)

    monkeypatch.setattr(no_repeat_within, "key_hashes", colliding)
    fast = aggregate(frame.lazy(), [FCR], "offered_at", "day", [], "UTC", Window(), {})
    flagged = fast.collect()
    assert flagged.get_column("__recheck").any()  # the fast pass knows it cannot be trusted

    from tpmkit.engine.compute import Input, Request, compute_records

    records = compute_records(
        [FCR], {"calls": Input(frame.lazy(), "offered_at")}, Request("day"), "UTC"
    )
    got = {(r["period_start"],): (r["value"], r["n"]) for r in records.to_dicts()}
    assert got == expected


def test_trend_by_shifted_sums_matches_a_direct_least_squares_fit():
    periods = [dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(weeks=i) for i in range(9)]
    values = {"x": [1, 2, 3, 5, 8, 13, 21, 34, 55], "y": [9, 9, None, 9, 9, 9.5, 9, 9, 9]}
    records = pl.DataFrame(
        [
            {
                "metric": "m",
                "group": group,
                "period_start": p,
                "value": None if v is None else float(v),
                "direction": "higher_is_better",
                "target": None,
                "target_upper": None,
            }
            for group, series in values.items()
            for p, v in zip(periods, series, strict=True)
        ],
        schema_overrides={"period_start": pl.Datetime("us", "UTC")},
    )
    out = add_trend(records, ["metric", "group"], "week")
    slopes = {(r["group"], r["period_start"]): r["slope"] for r in out.to_dicts()}
    for group, series in values.items():
        for end in range(len(periods)):
            # the last 6 records of the series (a null value is a record with no data)
            window = [
                (i, series[i]) for i in range(max(0, end - 5), end + 1) if series[i] is not None
            ]
            slope = slopes[(group, periods[end])]
            if len(window) < 3 or series[end] is None:
                assert slope is None
                continue
            n = len(window)
            sx = sum(i for i, _ in window)
            sy = sum(v for _, v in window)
            sxy = sum(i * v for i, v in window)
            sxx = sum(i * i for i, _ in window)
            expected = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            assert abs(slope - expected) < 1e-9, (group, end)
    flat = out.filter(pl.col("group") == "y").sort("period_start")
    assert flat.get_column("trend").drop_nulls().to_list()[-1] == "stable"


BERLIN = "Europe/Berlin"
BACKLOG = MetricSpec.model_validate(
    {
        "id": "backlog",
        "name": "Backlog",
        "unit": "count",
        "direction": "lower_is_better",
        "dataset": "tickets",
        "compute": {
            "kind": "open_at_period_end",
            "opened": "created_at",
            "closed": "resolved_at",
            "horizon": ["created_at"],  # a close after the last opening lies past the horizon
        },
    }
)
# hours from 2026-03-20 (Berlin springs forward on 2026-03-29, falls back on 2026-10-25)
AROUND_DST = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
tickets_frames = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.integers(min_value=0, max_value=24 * 230),  # opened: hours after AROUND_DST
        st.one_of(st.none(), st.integers(min_value=0, max_value=24 * 40)),  # open for (h)
    ),
    min_size=1,
    max_size=30,
).map(
    lambda rows: pl.DataFrame(
        {
            "agent_id": [r[0] for r in rows],
            "created_at": [AROUND_DST + dt.timedelta(hours=r[1]) for r in rows],
            "resolved_at": [
                None if r[2] is None else AROUND_DST + dt.timedelta(hours=r[1] + r[2]) for r in rows
            ],
        },
        schema={
            "agent_id": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "resolved_at": pl.Datetime("us", "UTC"),
        },
    ).with_columns(pl.col("created_at", "resolved_at").dt.convert_time_zone(BERLIN))
)


@settings(max_examples=40, deadline=None)
@given(tickets_frames, st.sampled_from(["day", "week", "month"]))
def test_a_stock_counted_by_local_period_numbers_matches_the_truncation(frame, grain):
    # the stock counts openings and closes per local period as numbers (across both DST
    # changes); with no period grain known to that path it truncates every row instead
    import pytest

    from tpmkit.engine import local_periods
    from tpmkit.engine.kinds.open_at_period_end import open_at_end

    def stock() -> list[tuple]:
        cells = open_at_end(
            frame.lazy(), BACKLOG, BACKLOG.compute, grain, ["agent_id"], BERLIN, Window()
        )
        return sorted(cells.select("period_start", "agent_id", "value", "n").rows())

    fast = stock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_periods, "GRAINS", ())
        assert stock() == fast
