"""Hand-written polars baseline of tpmkit's built-in metric catalogue (weekly, per agent).

An independent implementation of the catalogue (``/work/shared/kpi-catalogue.md`` and
``metrics/*.yaml``, default parameters, cost metrics left out), written the way one would
hand-code it for speed: each dataset is scanned once with only the columns it needs, every
time column gets one ``group_by`` computing all of that column's aggregations, and the
wide result is unpivoted to one row per (metric, period, agent_id) cell.

Cells are ISO weeks (Monday start) cut in Europe/Berlin, crossed with ``agent_id`` (a null
agent is its own group). A cell exists for a metric when at least one row of its dataset
falls in it by the metric's time column; a ratio or mean with no qualifying row there is
value null, n 0. Internally a week is keyed by its local Monday (a ``Date``); the ISO label
(``2026-W34``) is only formatted on the small final frame.

Each cell's ``status`` is judged here too, from the metric files themselves (read with
pyyaml, not through tpmkit): no value -> ``no_data``; ``n < min_sample`` ->
``insufficient_sample``; else ``critical`` / ``warning`` when the value is beyond that
threshold in the metric's direction (a value exactly on a threshold is not a breach;
``within_band`` breaches below the lower or above the upper bound); else ``ok``. Dated
thresholds (a list with ``from:``) apply from the week that starts on or after their date.
"""

from __future__ import annotations

from datetime import UTC as UTC_TZ
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from benchmarks.data import dataset_path

TZ = "Europe/Berlin"
METRICS = Path(__file__).resolve().parent.parent / "metrics"  # the built-in metric files
KEYS = ["week", "agent_id"]
UTC = pl.Datetime("us", "UTC")
F64, I64, STR, BOOL = pl.Float64, pl.Int64, pl.String, pl.Boolean

# Default parameters of the catalogue.
SHORT_ABANDON_SECONDS = 5
ANSWER_WITHIN_SECONDS = 20
WINDOW_DAYS = 7
PASS_MARK = 85
QA_WITHIN_HOURS = 48
HOUR_US = 3_600_000_000
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC_TZ)

# Canonical columns used here and their types (a column missing from a file is all null).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "calls": {
        "offered_at": UTC, "agent_id": STR, "customer_id": STR, "answered": BOOL,
        "wait_seconds": F64, "talk_seconds": F64, "hold_seconds": F64, "acw_seconds": F64,
        "transferred": BOOL, "escalated": BOOL, "resolved": BOOL, "csat": I64, "nps": I64,
        "dsat_root_cause": STR,
    },
    "tickets": {
        "created_at": UTC, "first_response_at": UTC, "resolved_at": UTC, "agent_id": STR,
        "reopens": I64, "escalated": BOOL, "due_at": UTC, "csat": I64,
    },
    "qa": {
        "agent_id": STR, "evaluated_at": UTC, "score": F64, "max_score": F64,
        "interaction_at": UTC, "auto_fail": BOOL, "calibration_id": STR,
        "error_category": STR, "root_cause": STR,
    },
    "schedule": {
        "agent_id": STR, "date": pl.Date, "scheduled_seconds": F64, "adherent_seconds": F64,
        "logged_in_seconds": F64, "handle_seconds": F64, "available_seconds": F64,
        "paid_seconds": F64,
    },
}  # fmt: skip


# --------------------------------------------------------------------------- helpers


def _scan(folder: Path, fmt: str, dataset: str) -> pl.LazyFrame:
    """Lazy scan of one canonical file, typed, with absent optional columns as nulls."""
    path = dataset_path(folder, fmt, dataset)
    schema = SCHEMAS[dataset]
    if fmt == "parquet":
        lf = pl.scan_parquet(path)
        present = set(lf.collect_schema().names())
    elif fmt == "csv":
        present = set(pl.scan_csv(path, n_rows=0, infer_schema=False).collect_schema().names())
        overrides = {c: t for c, t in schema.items() if c in present}
        lf = pl.scan_csv(path, schema_overrides=overrides, infer_schema=False)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return lf.select(
        pl.col(c).cast(t) if c in present else pl.lit(None, dtype=t).alias(c)
        for c, t in schema.items()
    )


def _week(ts: str) -> pl.Expr:
    """Local Monday (Europe/Berlin) of the ISO week a UTC timestamp falls in."""
    return pl.col(ts).dt.convert_time_zone(TZ).dt.date().dt.truncate("1w")


def _hours(end: str, start: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / HOUR_US


class _Metrics:
    """Collects, for one group_by, the aggregations and the per-metric (value, n) structs."""

    rows = pl.col("#rows")

    def __init__(self) -> None:
        self.aggs: list[pl.Expr] = [pl.len().alias("#rows")]
        self.cells: list[pl.Expr] = []

    def _agg(self, name: str, part: str, expr: pl.Expr) -> pl.Expr:
        self.aggs.append(expr.alias(f"{name}#{part}"))
        return pl.col(f"{name}#{part}")

    def cell(self, name: str, value: pl.Expr, n: pl.Expr, valid: pl.Expr) -> None:
        n = n.cast(I64)
        value = pl.when(valid).then(value.cast(F64))
        self.cells.append(pl.struct(value=value, n=n).alias(name))

    def count(self, name: str, where: pl.Expr | None = None) -> None:
        """Count metric: rows (optionally filtered); n = value."""
        n = self._agg(name, "n", pl.len() if where is None else where.fill_null(False).sum())
        self.cell(name, n, n, pl.lit(True))

    def ratio(self, name: str, numerator: pl.Expr, where: pl.Expr | None = None) -> None:
        """Percent of rows passing `where` (SQL: null = out) with a non-null numerator."""
        keep = numerator.is_not_null()
        if where is not None:
            keep = where.fill_null(False) & keep
        hits = self._agg(name, "hits", (keep & numerator.fill_null(False)).sum())
        n = self._agg(name, "n", keep.sum())
        self.cell(name, 100.0 * hits / n, n, n > 0)

    def mean(
        self, name: str, expr: pl.Expr, where: pl.Expr | None = None, how: str = "mean"
    ) -> None:
        """Mean (or median) of `expr` over rows passing `where`; n = non-null values."""
        if where is not None:
            expr = expr.filter(where.fill_null(False))
        value = self._agg(name, "v", expr.median() if how == "median" else expr.mean())
        n = self._agg(name, "n", expr.count())
        self.cell(name, value, n, n > 0)

    def ratio_of_sums(self, name: str, numerator: pl.Expr, denominator: pl.Expr) -> None:
        """100 × sum(numerator) ÷ sum(denominator) (nulls sum as 0); n = rows in the cell."""
        num = self._agg(name, "num", numerator.sum())
        den = self._agg(name, "den", denominator.sum())
        self.cell(name, 100.0 * num / den, self.rows, den != 0)

    def total(self, name: str, expr: pl.Expr) -> None:
        """Sum metric (nulls sum as 0); n = rows in the cell."""
        total = self._agg(name, "sum", expr.sum())
        self.cell(name, total, self.rows, pl.lit(True))

    def wide(self, lf: pl.LazyFrame, week: pl.Expr) -> pl.LazyFrame:
        """Group `lf` by (week, agent_id) once: one (value, n) struct column per metric."""
        return (
            lf.group_by(week.alias("week"), "agent_id").agg(*self.aggs).select(*KEYS, *self.cells)
        )

    def long(self, lf: pl.LazyFrame, week: pl.Expr) -> pl.LazyFrame:
        """The cells of `wide` in long form."""
        return _unpivot(self.wide(lf, week))


def _unpivot(wide: pl.LazyFrame) -> pl.LazyFrame:
    return wide.unpivot(index=KEYS, variable_name="metric").unnest("value")


# --------------------------------------------------------------------------- calls


def _repeat_flags(calls: pl.LazyFrame) -> pl.LazyFrame:
    """fcr_repeat inputs per call: `fcr_eligible` and `fcr_no_repeat`.

    A call's next contact is the first later row (strictly later instant) of the same
    customer, found on the frame sorted by customer (categorical id) and time: equal-instant
    neighbours are blanked and back-filled from the end of their run; the last row of a
    customer gets FAR_FUTURE.
    Eligible: answered, known customer, and the window (absolute hours) ends at or before
    the latest offered_at of the whole dataset.
    """
    t, cust = pl.col("offered_at"), pl.col("customer_id")
    window = pl.duration(hours=24 * WINDOW_DAYS)
    same_customer = (cust.shift(-1) == cust).fill_null(False)
    following = (
        pl.when(~same_customer)
        .then(pl.lit(FAR_FUTURE, dtype=UTC))
        .when(t.shift(-1) == t)
        .then(None)
        .otherwise(t.shift(-1))
        .backward_fill()
    )
    eligible = pl.col("answered").fill_null(False) & cust.is_not_null()
    eligible = eligible & (t + window <= t.max())
    return (
        calls.with_columns(fcr_eligible=eligible)
        .sort(cust.cast(pl.Categorical).to_physical(), "offered_at")  # int key: fast, exact
        .with_columns(fcr_no_repeat=pl.col("fcr_eligible") & (following > t + window))
    )


def _calls(calls: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Calls metrics by offered_at; also returns contacts_handled per cell (for derived)."""
    answered, wait, csat = pl.col("answered"), pl.col("wait_seconds"), pl.col("csat")
    not_short = answered | (wait >= SHORT_ABANDON_SECONDS).fill_null(True)
    handle = (
        pl.col("talk_seconds").fill_null(0)
        + pl.col("hold_seconds").fill_null(0)
        + pl.col("acw_seconds").fill_null(0)
    )
    nps = pl.col("nps")
    promoter = pl.when(nps >= 9).then(100.0).when(nps <= 6).then(-100.0).otherwise(0.0)

    m = _Metrics()
    m.count("contacts_offered")
    m.count("contacts_handled", answered)
    m.mean("aht", handle, answered)
    m.mean("asa", wait, answered)
    m.ratio("service_level", (wait <= ANSWER_WITHIN_SECONDS).fill_null(False) & answered, not_short)
    m.ratio("abandon_rate", ~answered, not_short)
    m.ratio("fcr", pl.col("resolved"), answered)
    m.ratio("fcr_repeat", pl.col("fcr_no_repeat"), pl.col("fcr_eligible"))
    m.ratio("transfer_rate", pl.col("transferred"), answered)
    m.ratio("escalation_rate", pl.col("escalated"), answered)
    m.ratio("csat", csat >= 4)
    m.mean("csat_mean", csat)
    m.ratio("dsat_rate", csat <= 2)
    m.mean("nps", promoter, nps.is_not_null())
    root = pl.col("dsat_root_cause")
    m.ratio("dsat_training_share", root == "training", (csat <= 2) & root.is_not_null())

    wide = m.wide(_repeat_flags(calls), _week("offered_at"))
    handled = wide.select(*KEYS, handled=pl.col("contacts_handled").struct.field("value"))
    return _unpivot(wide), handled


# --------------------------------------------------------------------------- tickets


def _tickets(tickets: pl.LazyFrame) -> pl.LazyFrame:
    """Tickets metrics, one group_by per time column (created_at, resolved_at, due_at).

    resolution_sla drops rows due after the horizon (latest created_at, first_response_at
    or resolved_at) before cells are formed.
    """
    created = _Metrics()
    created.count("tickets_created")
    created.mean("first_response_time", _hours("first_response_at", "created_at"), how="median")
    created.ratio("ticket_escalation_rate", pl.col("escalated"))

    resolved = _Metrics()
    resolved.count("tickets_resolved")
    resolved.mean("resolution_time", _hours("resolved_at", "created_at"))
    resolved.ratio("reopen_rate", pl.col("reopens").fill_null(0) > 0)
    resolved.ratio("ticket_csat", pl.col("csat") >= 4)

    due = _Metrics()
    due.ratio("resolution_sla", (pl.col("resolved_at") <= pl.col("due_at")).fill_null(False))

    horizon = pl.max_horizontal(
        pl.col("created_at").max(), pl.col("first_response_at").max(), pl.col("resolved_at").max()
    )
    resolved_rows = tickets.filter(pl.col("resolved_at").is_not_null())
    return pl.concat(
        [
            created.long(tickets, _week("created_at")),
            resolved.long(resolved_rows, _week("resolved_at")),
            due.long(tickets.filter(pl.col("due_at") <= horizon), _week("due_at")),
            _backlog(tickets, horizon),
        ]
    )


def _backlog(tickets: pl.LazyFrame, horizon: pl.Expr) -> pl.LazyFrame:
    """Open tickets at each week end: created before the next Monday, not resolved by then.

    Since a ticket is resolved no earlier than its creation week, backlog(w) = tickets
    created in weeks <= w − tickets resolved in weeks <= w, a running sum over a grid of
    every agent seen in tickets × every week from the first creation week to the last week
    ending at or before the horizon (the week before the horizon's week).
    """
    weeks = tickets.select(
        week=pl.date_range(
            _week("created_at").min(),
            horizon.dt.convert_time_zone(TZ).dt.date().dt.truncate("1w") - pl.duration(days=7),
            interval="1w",
        )
    )
    agents = tickets.select(pl.col("agent_id").unique())
    opened = tickets.group_by(_week("created_at").alias("week"), "agent_id").agg(opened=pl.len())
    closed = (
        tickets.filter(pl.col("resolved_at").is_not_null())
        .group_by(_week("resolved_at").alias("week"), "agent_id")
        .agg(closed=pl.len())
    )
    flow = pl.col("opened").fill_null(0) - pl.col("closed").fill_null(0)
    stock = flow.cum_sum().over("agent_id", order_by="week")
    return (
        agents.join(weeks, how="cross")
        .join(opened, on=KEYS, how="left", nulls_equal=True)
        .join(closed, on=KEYS, how="left", nulls_equal=True)
        .select(*KEYS, metric=pl.lit("backlog"), value=stock.cast(F64), n=stock.cast(I64))
    )


# --------------------------------------------------------------------------- qa


def _qa(qa: pl.LazyFrame) -> pl.LazyFrame:
    """QA metrics by evaluated_at; calibration rows only feed qa_calibration_variance.

    Percent = 0 when auto-failed, else 100 × score ÷ max_score (default 100). A calibration
    session's mean and size span the whole session before its rows are placed in cells.
    """
    auto_fail, cal = pl.col("auto_fail"), pl.col("calibration_id")
    percent = (
        pl.when(auto_fail.fill_null(False))
        .then(0.0)
        .otherwise(100.0 * pl.col("score") / pl.col("max_score").fill_null(100.0))
    )
    regular = cal.is_null()
    within = pl.col("evaluated_at") - pl.col("interaction_at") <= pl.duration(hours=QA_WITHIN_HOURS)
    root = pl.col("root_cause")
    product_process = pl.col("error_category").is_in(["product", "process"])
    deviation = pl.when(cal.is_not_null() & (pl.len().over(cal) >= 2)).then(
        (pl.col("percent") - pl.col("percent").mean().over(cal)).abs()
    )

    m = _Metrics()
    m.mean("qa_score", pl.col("percent"), regular)
    m.ratio("qa_pass_rate", pl.col("percent") >= PASS_MARK, regular)
    m.ratio("auto_fail_rate", auto_fail, regular)
    m.ratio("qa_within_48h", within, regular & pl.col("interaction_at").is_not_null())
    m.mean("qa_calibration_variance", pl.col("deviation"))
    m.ratio(
        "training_error_share", root == "training", regular & product_process & root.is_not_null()
    )
    prepared = qa.with_columns(percent=percent).with_columns(deviation=deviation)
    return m.long(prepared, _week("evaluated_at"))


# --------------------------------------------------------------------------- schedule


def _schedule(schedule: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Schedule ratios of sums by date (n = schedule rows); also logged-in seconds per cell."""
    logged, paid = pl.col("logged_in_seconds"), pl.col("paid_seconds")
    handle = pl.col("handle_seconds")
    m = _Metrics()
    m.ratio_of_sums("schedule_adherence", pl.col("adherent_seconds"), pl.col("scheduled_seconds"))
    m.ratio_of_sums(
        "occupancy", handle, handle.fill_null(0) + pl.col("available_seconds").fill_null(0)
    )
    m.ratio_of_sums("utilization", logged, paid)
    m.ratio_of_sums("shrinkage", paid.fill_null(0) - logged.fill_null(0), paid)
    m.total("logged_in_time", logged)

    wide = m.wide(schedule, pl.col("date").dt.truncate("1w"))
    total = pl.col("logged_in_time").struct
    logged_in = wide.select(*KEYS, logged=total.field("value"), rows=total.field("n"))
    return _unpivot(wide), logged_in


# --------------------------------------------------------------------------- derived


def _contacts_per_hour(handled: pl.LazyFrame, logged_in: pl.LazyFrame) -> pl.LazyFrame:
    """3600 × contacts_handled ÷ logged-in seconds over the outer join of both inputs.

    A missing count is 0, a missing (or zero) logged-in sum is no data; n = schedule rows.
    """
    logged = pl.col("logged")
    rows = pl.col("rows").fill_null(0)
    return handled.join(logged_in, on=KEYS, how="full", nulls_equal=True, coalesce=True).select(
        *KEYS,
        metric=pl.lit("contacts_per_hour"),
        value=pl.when(logged != 0).then(3600.0 * pl.col("handled").fill_null(0) / logged),
        n=rows.cast(I64),
    )


# --------------------------------------------------------------------------- status


def _bounds(level: Any) -> tuple[float | None, float | None]:
    """A threshold as (lower side, upper side): a number, or a {lower, upper} band."""
    if isinstance(level, dict):
        return level.get("lower"), level.get("upper")
    return level, None


def levels(folder: Path = METRICS) -> pl.DataFrame:
    """One row per metric and dated threshold entry: direction, warning/critical (with the
    band's upper side), min_sample, and the day from which the entry is in force (the
    first entry: always)."""
    rows = []
    for path in sorted(folder.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if spec.get("overrides"):  # the benchmark groups by agent only: none to apply
            raise ValueError(f"{path.name}: overrides are not judged by this baseline")
        entries = spec.get("thresholds") or {}
        entries = entries if isinstance(entries, list) else [entries]
        for index, entry in enumerate(entries or [{}]):
            warning, warning_upper = _bounds(entry.get("warning"))
            critical, critical_upper = _bounds(entry.get("critical"))
            rows.append(
                {
                    "metric": spec["id"],
                    "since": date.min if index == 0 else entry["from"],
                    "direction": spec.get("direction"),
                    "warning": warning,
                    "warning_upper": warning_upper,
                    "critical": critical,
                    "critical_upper": critical_upper,
                    "min_sample": spec.get("min_sample", 0),
                    # the benchmark groups by agent: judged only where agent is a level
                    "at_agent": "agent" in spec.get("judged_at", ["agent"]),
                }
            )
    schema = {"metric": STR, "since": pl.Date, "direction": STR, "min_sample": I64}
    schema |= {"at_agent": pl.Boolean}
    schema |= {c: F64 for c in ("warning", "warning_upper", "critical", "critical_upper")}
    return pl.DataFrame(rows, schema=schema)


def _beyond(level: str) -> pl.Expr:
    """The value is worse than a threshold in the metric's direction (strictly)."""
    value, direction = pl.col("value"), pl.col("direction")
    low, high = pl.col(level), pl.col(f"{level}_upper")
    return (
        pl.when(direction == "higher_is_better")
        .then(value < low)
        .when(direction == "lower_is_better")
        .then(value > low)
        .when(direction == "within_band")
        .then((value < low).fill_null(False) | (value > high).fill_null(False))
        .fill_null(False)
    )


def judge(cells: pl.LazyFrame, table: pl.DataFrame) -> pl.LazyFrame:
    """`cells` (week, agent_id, metric, value, n) with the status of each."""
    in_force = cells.join(table.lazy(), on="metric", how="left")
    if not table.get_column("metric").is_unique().all():  # dated thresholds: the latest due
        in_force = (
            in_force.filter(pl.col("since").is_null() | (pl.col("since") <= pl.col("week")))
            .sort("since")
            .unique(["metric", "week", "agent_id"], keep="last")
        )
    thresholdless = pl.all_horizontal(
        pl.col(c).is_null() for c in ("warning", "warning_upper", "critical", "critical_upper")
    )
    # not judged first: not an agent measure, no agent (unassigned), or no thresholds
    status = (
        pl.when(~pl.col("at_agent") | pl.col("agent_id").is_null() | thresholdless)
        .then(pl.lit("not_judged"))
        .when(pl.col("value").is_null())
        .then(pl.lit("no_data"))
        .when(pl.col("n") < pl.col("min_sample"))
        .then(pl.lit("insufficient_sample"))
        .when(_beyond("critical"))
        .then(pl.lit("critical"))
        .when(_beyond("warning"))
        .then(pl.lit("warning"))
        .otherwise(pl.lit("ok"))
    )
    return in_force.with_columns(status=status)


# --------------------------------------------------------------------------- entry point


def compute(folder: Path, fmt: str) -> pl.DataFrame:
    """Every built-in metric except the cost ones, by ISO week (Europe/Berlin) × agent_id."""
    folder = Path(folder)
    calls, handled = _calls(_scan(folder, fmt, "calls"))
    schedule, logged_in = _schedule(_scan(folder, fmt, "schedule"))
    parts = [
        calls,
        _tickets(_scan(folder, fmt, "tickets")),
        _qa(_scan(folder, fmt, "qa")),
        schedule,
        _contacts_per_hour(handled, logged_in),
    ]
    week = pl.col("week")
    period = pl.format("{}-W{}", week.dt.iso_year(), week.dt.week().cast(STR).str.zfill(2))
    cells = pl.concat([p.select("week", "agent_id", "metric", "value", "n") for p in parts])
    return (
        judge(cells, levels())
        .select("metric", period.alias("period"), "agent_id", "value", "n", "status")
        .sort("metric", "period", "agent_id", nulls_last=True)
        .collect()
    )
