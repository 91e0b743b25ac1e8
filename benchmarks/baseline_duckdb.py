"""Independent DuckDB implementation of tpmkit's built-in metric catalogue.

Hand-written SQL that a benchmark times against tpmkit and uses to check tpmkit's numbers.
It follows ``kpi-catalogue.md`` (formulas and "Precise readings") and the default
parameters of ``metrics/*.yaml``; nothing here is shared with tpmkit's engine.

Cells are agent_id × ISO week (Monday start) cut in Europe/Berlin. A cell exists when a row
of the metric's dataset falls in it by the metric's time column; a ratio without qualifying
rows there is null with n 0. Every dataset is aggregated once per time column, the wide
aggregates are turned into long rows with ``UNNEST`` of a list of structs, and the ISO-week
label is formatted only on the aggregated rows.

Cost metrics (``total_cost``, ``cost_per_contact``) are left out: the benchmark has no costs.
The roster (``agents``) is not needed, cells are by ``agent_id`` only.

Every cell's ``status`` is judged in SQL from a ``levels`` table built from the metric files
(read with pyyaml, not through tpmkit): no value -> no_data, n below min_sample ->
insufficient_sample, beyond the critical / warning threshold in the metric's direction
(strictly: on the threshold is not a breach; a band breaches outside [lower, upper]) ->
critical / warning, else ok. A dated threshold entry (``from:``) is found with an ASOF join
on the week's Monday.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from string import Template
from typing import Any

import duckdb
import polars as pl
import yaml

from benchmarks.data import dataset_path

TIMEZONE = "Europe/Berlin"
METRIC_FILES = Path(__file__).resolve().parent.parent / "metrics"

# Catalogue defaults (metrics/*.yaml parameters and fixed constants of the formulas).
PARAMETERS = {
    "answer_within_seconds": 20,  # service_level
    "short_abandon_seconds": 5,  # service_level, abandon_rate
    "window_days": 7,  # fcr_repeat
    "pass_mark": 85,  # qa_pass_rate
    "qa_within_hours": 48,  # qa_within_48h
}

# Canonical columns in file order with their types (data-contract.md). Views expose them
# all; DuckDB's projection pushdown reads only those the query uses.
SCHEMAS: dict[str, dict[str, str]] = {
    "calls": {
        "contact_id": "VARCHAR",
        "offered_at": "TIMESTAMPTZ",
        "channel": "VARCHAR",
        "queue": "VARCHAR",
        "agent_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "answered": "BOOLEAN",
        "wait_seconds": "DOUBLE",
        "talk_seconds": "DOUBLE",
        "hold_seconds": "DOUBLE",
        "acw_seconds": "DOUBLE",
        "transferred": "BOOLEAN",
        "escalated": "BOOLEAN",
        "resolved": "BOOLEAN",
        "csat": "BIGINT",
        "nps": "BIGINT",
        "dsat_root_cause": "VARCHAR",
    },
    "tickets": {
        "ticket_id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "first_response_at": "TIMESTAMPTZ",
        "resolved_at": "TIMESTAMPTZ",
        "agent_id": "VARCHAR",
        "priority": "VARCHAR",
        "channel": "VARCHAR",
        "customer_id": "VARCHAR",
        "reopens": "BIGINT",
        "escalated": "BOOLEAN",
        "due_at": "TIMESTAMPTZ",
        "csat": "BIGINT",
    },
    "qa": {
        "evaluation_id": "VARCHAR",
        "agent_id": "VARCHAR",
        "evaluated_at": "TIMESTAMPTZ",
        "score": "DOUBLE",
        "max_score": "DOUBLE",
        "contact_id": "VARCHAR",
        "interaction_at": "TIMESTAMPTZ",
        "evaluator_id": "VARCHAR",
        "auto_fail": "BOOLEAN",
        "calibration_id": "VARCHAR",
        "error_category": "VARCHAR",
        "root_cause": "VARCHAR",
    },
    "schedule": {
        "agent_id": "VARCHAR",
        "date": "DATE",
        "scheduled_seconds": "DOUBLE",
        "adherent_seconds": "DOUBLE",
        "logged_in_seconds": "DOUBLE",
        "handle_seconds": "DOUBLE",
        "available_seconds": "DOUBLE",
        "paid_seconds": "DOUBLE",
    },
}

MACROS = f"""
SET TimeZone = 'UTC';
-- local Monday 00:00 of the ISO week a UTC instant falls in
CREATE MACRO local_week(ts) AS date_trunc('week', timezone('{TIMEZONE}', ts));
CREATE MACRO hours_between(start_ts, end_ts) AS
    (epoch_us(end_ts) - epoch_us(start_ts)) / 3600e6;
-- percent of a ratio; a zero (or missing) denominator is no data
CREATE MACRO pct(num, den) AS 100.0 * num / nullif(den, 0);
-- worse than a threshold in the metric's direction; on the threshold is not a breach
CREATE MACRO beyond(direction, value, low, high) AS coalesce(CASE direction
    WHEN 'higher_is_better' THEN value < low
    WHEN 'lower_is_better' THEN value > low
    WHEN 'within_band' THEN coalesce(value < low, false) OR coalesce(value > high, false)
END, false);
-- one long row of the result
CREATE MACRO m(metric, value, n) AS {{'metric': metric, 'value': value::DOUBLE, 'n': n::BIGINT}};
"""

CALLS = """
calls_rows AS (
    SELECT
        local_week(offered_at) AS week,
        agent_id,
        answered,
        wait_seconds,
        coalesce(talk_seconds, 0) + coalesce(hold_seconds, 0) + coalesce(acw_seconds, 0)
            AS handle_seconds,
        transferred,
        escalated,
        resolved,
        csat,
        nps,
        dsat_root_cause,
        answered OR coalesce(wait_seconds >= $short_abandon_seconds, true) AS not_short_abandon,
        -- fcr_repeat: a known customer whose follow-up window is observable in the data ...
        customer_id IS NOT NULL
            AND offered_at + to_hours($window_days * 24) <= (SELECT max(offered_at) FROM calls)
            AS repeat_observable,
        -- ... and a later contact of that customer within the window (same instant excluded)
        max(offered_at) OVER (
            PARTITION BY customer_id ORDER BY offered_at
            RANGE BETWEEN CURRENT ROW AND to_hours($window_days * 24) FOLLOWING
        ) > offered_at AS repeated
    FROM calls
),
calls_cells AS (
    SELECT
        week,
        agent_id,
        count(*) AS offered,
        count(*) FILTER (answered) AS handled,
        avg(handle_seconds) FILTER (answered) AS aht,
        avg(wait_seconds) FILTER (answered) AS asa,
        count(wait_seconds) FILTER (answered) AS asa_n,
        count(*) FILTER (not_short_abandon) AS sl_den,
        count(*) FILTER (answered AND wait_seconds <= $answer_within_seconds) AS sl_met,
        count(*) FILTER (NOT answered AND not_short_abandon) AS abandoned,
        count(resolved) FILTER (answered) AS fcr_den,
        count(*) FILTER (answered AND resolved) AS fcr_num,
        count(*) FILTER (answered AND repeat_observable) AS fcr_repeat_den,
        count(*) FILTER (answered AND repeat_observable AND NOT repeated) AS fcr_repeat_num,
        count(transferred) FILTER (answered) AS transfer_den,
        count(*) FILTER (answered AND transferred) AS transfer_num,
        count(escalated) FILTER (answered) AS escalation_den,
        count(*) FILTER (answered AND escalated) AS escalation_num,
        count(csat) AS surveys,
        count(*) FILTER (csat >= 4) AS csat_top2,
        count(*) FILTER (csat <= 2) AS csat_bottom2,
        avg(csat) AS csat_mean,
        count(nps) AS nps_n,
        -- the mean of +100 (9–10) / 0 / −100 (0–6) per answer
        avg(CASE WHEN nps >= 9 THEN 100.0 WHEN nps <= 6 THEN -100.0 ELSE 0.0 END)
            FILTER (nps IS NOT NULL) AS nps,
        count(*) FILTER (csat <= 2 AND dsat_root_cause IS NOT NULL) AS dsat_cause_den,
        count(*) FILTER (csat <= 2 AND dsat_root_cause = 'training') AS dsat_training
    FROM calls_rows
    GROUP BY ALL
),
calls_long AS (
    SELECT week, agent_id, unnest([
        m('contacts_offered', offered, offered),
        m('contacts_handled', handled, handled),
        m('aht', aht, handled),
        m('asa', asa, asa_n),
        m('service_level', pct(sl_met, sl_den), sl_den),
        m('abandon_rate', pct(abandoned, sl_den), sl_den),
        m('fcr', pct(fcr_num, fcr_den), fcr_den),
        m('fcr_repeat', pct(fcr_repeat_num, fcr_repeat_den), fcr_repeat_den),
        m('transfer_rate', pct(transfer_num, transfer_den), transfer_den),
        m('escalation_rate', pct(escalation_num, escalation_den), escalation_den),
        m('csat', pct(csat_top2, surveys), surveys),
        m('csat_mean', csat_mean, surveys),
        m('dsat_rate', pct(csat_bottom2, surveys), surveys),
        m('nps', nps, nps_n),
        m('dsat_training_share', pct(dsat_training, dsat_cause_den), dsat_cause_den)
    ], recursive := true)
    FROM calls_cells
)"""

TICKETS = """
ticket_horizon AS (
    -- latest created_at, first_response_at or resolved_at (never due_at)
    SELECT greatest(max(created_at), max(first_response_at), max(resolved_at)) AS horizon
    FROM tickets
),
ticket_rows AS (
    SELECT
        agent_id,
        local_week(created_at) AS created_week,
        local_week(resolved_at) AS resolved_week,
        local_week(due_at) AS due_week,
        hours_between(created_at, first_response_at) AS first_response_hours,
        hours_between(created_at, resolved_at) AS resolution_hours,
        coalesce(reopens, 0) > 0 AS reopened,
        escalated,
        csat,
        due_at <= (SELECT horizon FROM ticket_horizon) AS due_observable,
        coalesce(resolved_at <= due_at, false) AS resolved_in_time
    FROM tickets
),
tickets_by_created AS (
    SELECT week, agent_id, unnest([
        m('tickets_created', count(*), count(*)),
        m('first_response_time', median(first_response_hours), count(first_response_hours)),
        m('ticket_escalation_rate', pct(count(*) FILTER (escalated), count(escalated)),
            count(escalated))
    ], recursive := true)
    FROM (SELECT created_week AS week, * FROM ticket_rows)
    GROUP BY week, agent_id
),
tickets_by_resolved AS (
    SELECT week, agent_id, unnest([
        m('tickets_resolved', count(*), count(*)),
        m('resolution_time', avg(resolution_hours), count(resolution_hours)),
        m('reopen_rate', pct(count(*) FILTER (reopened), count(*)), count(*)),
        m('ticket_csat', pct(count(*) FILTER (csat >= 4), count(csat)), count(csat))
    ], recursive := true)
    FROM (SELECT resolved_week AS week, * FROM ticket_rows WHERE resolved_week IS NOT NULL)
    GROUP BY week, agent_id
),
tickets_by_due AS (
    -- tickets due after the horizon are dropped before cells are formed
    SELECT week, agent_id, unnest([
        m('resolution_sla', pct(count(*) FILTER (resolved_in_time), count(*)), count(*))
    ], recursive := true)
    FROM (SELECT due_week AS week, * FROM ticket_rows WHERE due_observable)
    GROUP BY week, agent_id
),
backlog_weeks AS (
    -- every week from the first created_at to the last week ending at or before the horizon
    SELECT unnest(generate_series(
        (SELECT min(created_week) FROM ticket_rows),
        date_trunc('week', timezone('$timezone', horizon) - INTERVAL 7 DAY),
        INTERVAL 7 DAY
    )) AS week
    FROM ticket_horizon
),
backlog_flows AS (
    -- +1 in the week a ticket is created, -1 in the week it is resolved; a zero for every
    -- (agent seen in tickets, reported week) so each cell exists, 0 included
    SELECT agent_id, created_week AS week, 1 AS delta FROM ticket_rows
    UNION ALL
    SELECT agent_id, resolved_week, -1 FROM ticket_rows WHERE resolved_week IS NOT NULL
    UNION ALL
    SELECT agent_id, week, 0 FROM (SELECT DISTINCT agent_id FROM ticket_rows), backlog_weeks
),
backlog_long AS (
    -- open at week end: created before the next week starts and not resolved before it
    SELECT week, agent_id, 'backlog' AS metric, open::DOUBLE AS value, open::BIGINT AS n
    FROM (
        SELECT
            week,
            agent_id,
            sum(sum(delta)) OVER (PARTITION BY agent_id ORDER BY week) AS open
        FROM backlog_flows
        GROUP BY week, agent_id
        QUALIFY week <= (SELECT max(week) FROM backlog_weeks)
    )
),
tickets_long AS (
    SELECT * FROM tickets_by_created
    UNION ALL SELECT * FROM tickets_by_resolved
    UNION ALL SELECT * FROM tickets_by_due
    UNION ALL SELECT * FROM backlog_long
)"""

QA = """
qa_percent AS (
    SELECT
        *,
        -- evaluation percent: 0 when auto-failed, else 100 × score ÷ max_score in that order
        CASE WHEN coalesce(auto_fail, false) THEN 0.0
             ELSE 100.0 * score / coalesce(max_score, 100.0) END AS percent
    FROM qa
),
qa_rows AS (
    SELECT
        local_week(evaluated_at) AS week,
        agent_id,
        calibration_id IS NULL AS regular,
        percent,
        auto_fail,
        interaction_at IS NOT NULL AS has_interaction,
        hours_between(interaction_at, evaluated_at) <= $qa_within_hours AS within_hours,
        error_category IN ('product', 'process') AND root_cause IS NOT NULL AS has_root_cause,
        root_cause = 'training' AS training_cause,
        -- calibration session size and mean over the whole session
        CASE WHEN calibration_id IS NOT NULL
             AND count(*) OVER session >= 2
             THEN abs(percent - avg(percent) OVER session) END AS calibration_deviation
    FROM qa_percent
    WINDOW session AS (PARTITION BY calibration_id)
),
qa_cells AS (
    SELECT
        week,
        agent_id,
        avg(percent) FILTER (regular) AS qa_score,
        count(percent) FILTER (regular) AS evaluations,
        count(*) FILTER (regular AND percent >= $pass_mark) AS passed,
        count(auto_fail) FILTER (regular) AS auto_fail_den,
        count(*) FILTER (regular AND auto_fail) AS auto_failed,
        count(*) FILTER (regular AND has_interaction) AS timed,
        count(*) FILTER (regular AND has_interaction AND within_hours) AS timely,
        avg(calibration_deviation) AS calibration_variance,
        count(calibration_deviation) AS calibration_n,
        count(*) FILTER (regular AND has_root_cause) AS root_caused,
        count(*) FILTER (regular AND has_root_cause AND training_cause) AS training_caused
    FROM qa_rows
    GROUP BY ALL
),
qa_long AS (
    SELECT week, agent_id, unnest([
        m('qa_score', qa_score, evaluations),
        m('qa_pass_rate', pct(passed, evaluations), evaluations),
        m('auto_fail_rate', pct(auto_failed, auto_fail_den), auto_fail_den),
        m('qa_within_48h', pct(timely, timed), timed),
        m('qa_calibration_variance', calibration_variance, calibration_n),
        m('training_error_share', pct(training_caused, root_caused), root_caused)
    ], recursive := true)
    FROM qa_cells
)"""

SCHEDULE = """
schedule_cells AS (
    -- a sum of nulls is 0, so a zero denominator gives no data
    SELECT
        date_trunc('week', date)::TIMESTAMP AS week,
        agent_id,
        count(*) AS rows,
        coalesce(sum(scheduled_seconds), 0) AS scheduled,
        coalesce(sum(adherent_seconds), 0) AS adherent,
        coalesce(sum(logged_in_seconds), 0) AS logged_in,
        coalesce(sum(handle_seconds), 0) AS handle,
        coalesce(sum(coalesce(handle_seconds, 0) + coalesce(available_seconds, 0)), 0)
            AS handle_available,
        coalesce(sum(paid_seconds), 0) AS paid,
        coalesce(sum(coalesce(paid_seconds, 0) - coalesce(logged_in_seconds, 0)), 0)
            AS paid_not_logged_in
    FROM schedule
    GROUP BY ALL
),
schedule_long AS (
    SELECT week, agent_id, unnest([
        m('schedule_adherence', pct(adherent, scheduled), rows),
        m('occupancy', pct(handle, handle_available), rows),
        m('utilization', pct(logged_in, paid), rows),
        m('shrinkage', pct(paid_not_logged_in, paid), rows),
        m('logged_in_time', logged_in, rows)
    ], recursive := true)
    FROM schedule_cells
)"""

DERIVED = """
contacts_per_hour_long AS (
    -- outer join of the inputs' cells: a missing count is 0, a missing sum is no data;
    -- n is the schedule row count
    SELECT
        week,
        agent_id,
        'contacts_per_hour' AS metric,
        3600.0 * coalesce(sum(handled), 0) / nullif(sum(logged_in), 0) AS value,
        coalesce(sum(rows), 0)::BIGINT AS n
    FROM (
        SELECT week, agent_id, handled, NULL AS logged_in, NULL AS rows FROM calls_cells
        UNION ALL
        SELECT week, agent_id, NULL, logged_in, rows FROM schedule_cells
    )
    GROUP BY ALL
)"""

# the status of every row of `cells` (week, agent_id, metric, value, n), from `levels`
JUDGE = """
SELECT
    c.metric,
    strftime(c.week, '%G-W%V') AS period,
    c.agent_id,
    c.value::DOUBLE AS value,
    c.n::BIGINT AS n,
    CASE
        -- not judged first: not an agent measure, no agent (unassigned), no thresholds
        WHEN NOT l.at_agent OR c.agent_id IS NULL OR (l.warning IS NULL
            AND l.warning_upper IS NULL AND l.critical IS NULL AND l.critical_upper IS NULL)
            THEN 'not_judged'
        WHEN c.value IS NULL THEN 'no_data'
        WHEN c.n < coalesce(l.min_sample, 0) THEN 'insufficient_sample'
        WHEN beyond(l.direction, c.value, l.critical, l.critical_upper) THEN 'critical'
        WHEN beyond(l.direction, c.value, l.warning, l.warning_upper) THEN 'warning'
        ELSE 'ok'
    END AS status
FROM cells c
ASOF LEFT JOIN levels l ON c.metric = l.metric AND c.week >= l.since
ORDER BY c.metric, period, c.agent_id
"""

QUERY = (
    Template("WITH" + ",".join([CALLS, TICKETS, QA, SCHEDULE, DERIVED])).substitute(
        PARAMETERS, timezone=TIMEZONE
    )
    + """,
cells AS (
    SELECT * FROM calls_long
    UNION ALL SELECT * FROM tickets_long
    UNION ALL SELECT * FROM qa_long
    UNION ALL SELECT * FROM schedule_long
    UNION ALL SELECT * FROM contacts_per_hour_long
)"""
    + JUDGE
)


def _sql(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str | date):
        return "'" + str(value).replace("'", "''") + "'"
    return repr(float(value))


def levels_sql(folder: Path = METRIC_FILES) -> str:
    """CREATE TABLE levels: one row per metric file and dated threshold entry (the first
    entry is in force from the start of time)."""
    rows = []
    for path in sorted(folder.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if spec.get("overrides"):  # cells are by agent only: nothing to apply them to
            raise ValueError(f"{path.name}: overrides are not judged by this baseline")
        thresholds = spec.get("thresholds") or {}
        entries = thresholds if isinstance(thresholds, list) else [thresholds]
        for index, entry in enumerate(entries):
            bounds = []
            for level in ("warning", "critical"):
                given = entry.get(level)
                band = isinstance(given, dict)
                bounds += [
                    given.get("lower") if band else given,
                    given.get("upper") if band else None,
                ]
            since = date(1, 1, 1) if index == 0 else entry["from"]
            # cells are by agent: judged only where agent is one of the metric's levels
            at_agent = "agent" in spec.get("judged_at", ["agent"])
            values = [spec["id"], since, spec.get("direction"), *bounds, spec.get("min_sample", 0)]
            values.append(at_agent)
            rows.append("(" + ", ".join(_sql(v) for v in values) + ")")
    return (
        "CREATE TABLE levels (metric VARCHAR, since TIMESTAMP, direction VARCHAR, "
        "warning DOUBLE, warning_upper DOUBLE, critical DOUBLE, critical_upper DOUBLE, "
        "min_sample BIGINT, at_agent BOOLEAN);\n"
        f"INSERT INTO levels VALUES {', '.join(rows)};"
    )


def source_sql(path: Path, fmt: str, schema: dict[str, str]) -> str:
    """A SELECT reading one canonical file with explicit column types."""
    path_sql = str(path).replace("'", "''")
    if fmt == "parquet":
        columns = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in schema.items())
        return f"SELECT {columns} FROM read_parquet('{path_sql}')"
    if fmt == "csv":
        types = ", ".join(f"'{name}': '{kind}'" for name, kind in schema.items())
        return (
            f"SELECT {', '.join(schema)} FROM read_csv('{path_sql}', header = true, "
            f"auto_detect = false, columns = {{{types}}})"
        )
    raise ValueError(f"unknown format {fmt!r} (parquet or csv)")


def compute(folder: Path, fmt: str, threads: int | None = None) -> pl.DataFrame:
    """Every built-in metric (costs aside) by agent_id × ISO week, in long form."""
    con = duckdb.connect(":memory:")
    try:
        if threads is not None:
            con.execute(f"PRAGMA threads = {int(threads)}")
        con.execute(MACROS)
        con.execute(levels_sql())
        for dataset, schema in SCHEMAS.items():
            path = dataset_path(Path(folder), fmt, dataset)
            con.execute(f"CREATE VIEW {dataset} AS {source_sql(path, fmt, schema)}")
        # Arrow PyCapsule stream into polars: like .pl(), without needing pyarrow installed
        return pl.DataFrame(con.sql(QUERY))
    finally:
        con.close()
