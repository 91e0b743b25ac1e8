"""The built-in tickets metrics against kpi-catalogue.md, values computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Tickets catalogue
timezone: {tz}
metrics: [builtin]
sources:
  tickets: {{path: tickets.csv}}
{extra}"""


def project(make, tickets: str, *, tz: str = "UTC", extra: str = "") -> object:
    return make.project(PROJECT.format(tz=tz, extra=extra), files={"tickets.csv": tickets})


# W02 = Mon 2026-01-05 .. Sun 01-11, W03 = 01-12 .. 01-18 (UTC).
# t1, t2 are created and resolved in W02; t3 is created in W02 and resolved in W03;
# t4, t5 are created in W02 and still open (t5 has no reply yet); t6 is all in W03.
TICKETS = """
ticket_id,created_at,first_response_at,resolved_at,agent_id,reopens,escalated,csat
t1,2026-01-05 08:00:00,2026-01-05 10:00:00,2026-01-06 08:00:00,a1,0,false,5
t2,2026-01-05 12:00:00,2026-01-05 16:00:00,2026-01-07 12:00:00,a1,2,true,3
t3,2026-01-06 09:00:00,2026-01-06 10:00:00,2026-01-13 09:00:00,a2,,,4
t4,2026-01-07 09:00:00,2026-01-07 19:00:00,,a2,0,false,
t5,2026-01-08 09:00:00,,,a1,1,true,
t6,2026-01-12 09:00:00,2026-01-12 09:30:00,2026-01-12 21:00:00,a2,1,false,4
"""

FLOW = [
    "tickets_created",
    "tickets_resolved",
    "first_response_time",
    "resolution_time",
    "reopen_rate",
    "ticket_escalation_rate",
    "ticket_csat",
]


@pytest.fixture
def index(make):
    return by_key(evaluate_records(project(make, TICKETS), FLOW))


def test_tickets_created_by_created_at(index):
    # W02: t1..t5 created -> 5; W03: t6 -> 1; a count reports n = value
    assert index[("tickets_created", "2026-W02")]["value"] == 5.0
    assert index[("tickets_created", "2026-W02")]["n"] == 5
    assert index[("tickets_created", "2026-W03")]["value"] == 1.0
    assert index[("tickets_created", "2026-W03")]["n"] == 1


def test_tickets_resolved_by_resolved_at(index):
    # W02: t1 (01-06), t2 (01-07) -> 2 (not 3 = the W02-created tickets that are resolved)
    assert index[("tickets_resolved", "2026-W02")]["value"] == 2.0
    assert index[("tickets_resolved", "2026-W02")]["n"] == 2
    # W03: t3 (resolved 01-13, created in W02) + t6 -> 2
    assert index[("tickets_resolved", "2026-W03")]["value"] == 2.0
    assert index[("tickets_resolved", "2026-W03")]["n"] == 2


def test_first_response_time_is_the_median_in_hours(index):
    # W02 (by created_at), rows with a reply: t1 2 h, t2 4 h, t3 1 h, t4 10 h; t5 has none
    # sorted [1, 2, 4, 10] -> median (2 + 4) / 2 = 3 h, n 4
    record = index[("first_response_time", "2026-W02")]
    assert record["value"] == pytest.approx((2 + 4) / 2)
    assert record["n"] == 4
    assert record["unit"] == "hours"
    # min_sample 20 > 4: the value is still shown
    assert record["status"] == "insufficient_sample"
    # W03: t6 replied after 30 min -> 0.5 h
    assert index[("first_response_time", "2026-W03")]["value"] == pytest.approx(0.5)
    assert index[("first_response_time", "2026-W03")]["n"] == 1


def test_first_response_time_statistic_mean(make):
    extra = "customize:\n  first_response_time: {parameters: {statistic: mean}}\n"
    index = by_key(evaluate_records(project(make, TICKETS, extra=extra), ["first_response_time"]))
    # (1 + 2 + 4 + 10) / 4 = 4.25 h
    assert index[("first_response_time", "2026-W02")]["value"] == pytest.approx(17 / 4)
    assert index[("first_response_time", "2026-W02")]["n"] == 4


def test_first_response_time_statistic_p90(make):
    extra = "customize:\n  first_response_time: {parameters: {statistic: p90}}\n"
    index = by_key(evaluate_records(project(make, TICKETS, extra=extra), ["first_response_time"]))
    # sorted [1, 2, 4, 10], position 0.9 x (4 - 1) = 2.7 -> 4 + 0.7 x (10 - 4) = 8.2 h
    assert index[("first_response_time", "2026-W02")]["value"] == pytest.approx(4 + 0.7 * 6)
    assert index[("first_response_time", "2026-W02")]["n"] == 4


def test_tat_and_trt_are_aliases(make):
    records = evaluate_records(project(make, TICKETS), ["tat", "trt"])
    index = by_key(records)
    assert {r["metric"] for r in records} == {"first_response_time", "resolution_time"}
    assert index[("first_response_time", "2026-W02")]["value"] == pytest.approx(3.0)
    assert index[("resolution_time", "2026-W02")]["value"] == pytest.approx(36.0)


def test_resolution_time_mean_hours_by_resolved_at(index):
    # W02 (by resolved_at): t1 24 h, t2 48 h -> 36 h, n 2 (by created_at it would also
    # take t3's 168 h)
    record = index[("resolution_time", "2026-W02")]
    assert record["value"] == pytest.approx((24 + 48) / 2)
    assert record["n"] == 2
    # W03: t3 7 days = 168 h, t6 12 h -> 90 h
    assert index[("resolution_time", "2026-W03")]["value"] == pytest.approx((168 + 12) / 2)
    assert index[("resolution_time", "2026-W03")]["n"] == 2


def test_reopen_rate_among_resolved(index):
    # W02 resolved: t1 0 reopens, t2 2 -> 1 / 2; open t5 (1 reopen) is not resolved
    assert index[("reopen_rate", "2026-W02")]["value"] == pytest.approx(100 * 1 / 2)
    assert index[("reopen_rate", "2026-W02")]["n"] == 2
    # W03 resolved: t3 (reopens empty = 0), t6 1 -> 1 / 2, t3 stays in the denominator
    assert index[("reopen_rate", "2026-W03")]["value"] == pytest.approx(100 * 1 / 2)
    assert index[("reopen_rate", "2026-W03")]["n"] == 2


def test_ticket_escalation_rate_by_created_at(index):
    # W02: t1 no, t2 yes, t3 unknown (leaves), t4 no, t5 yes -> 2 / 4
    assert index[("ticket_escalation_rate", "2026-W02")]["value"] == pytest.approx(100 * 2 / 4)
    assert index[("ticket_escalation_rate", "2026-W02")]["n"] == 4
    # W03: t6 not escalated -> 0 %, n 1
    assert index[("ticket_escalation_rate", "2026-W03")]["value"] == 0.0
    assert index[("ticket_escalation_rate", "2026-W03")]["n"] == 1


def test_ticket_csat_top2_by_resolved_at(index):
    # W02 resolved: t1 5, t2 3 -> 1 / 2 (by created_at t3's 4 would make it 2 / 3)
    assert index[("ticket_csat", "2026-W02")]["value"] == pytest.approx(100 * 1 / 2)
    assert index[("ticket_csat", "2026-W02")]["n"] == 2
    # W03 resolved: t3 4, t6 4 -> 100 %
    assert index[("ticket_csat", "2026-W03")]["value"] == pytest.approx(100.0)
    assert index[("ticket_csat", "2026-W03")]["n"] == 2


def test_ticket_periods_are_cut_in_the_project_time_zone(make):
    tickets = (
        "ticket_id,created_at\n"
        "z1,2026-01-11T23:30:00Z\n"  # Berlin: Mon 2026-01-12 00:30 -> W03
        "z2,2026-01-11 23:30:00\n"  # naive = Berlin local Sunday -> W02
    )
    index = by_key(evaluate_records(project(make, tickets, tz="Europe/Berlin"), FLOW[:1]))
    assert index[("tickets_created", "2026-W02")]["value"] == 1.0
    assert index[("tickets_created", "2026-W03")]["value"] == 1.0


# ---------------------------------------------------------------- resolution SLA
# Horizon = latest created/first_response/resolved = s8's first reply 2026-01-20 12:00
# (never due_at). W02 due: s1 met, s2 resolved exactly at due (met), s3 late, s4 open.
SLA = """
ticket_id,created_at,first_response_at,resolved_at,due_at
s1,2026-01-05 08:00:00,,2026-01-06 08:00:00,2026-01-07 08:00:00
s2,2026-01-05 09:00:00,,2026-01-07 12:00:00,2026-01-07 12:00:00
s3,2026-01-05 10:00:00,,2026-01-09 10:00:00,2026-01-08 10:00:00
s4,2026-01-06 10:00:00,,,2026-01-09 10:00:00
s5,2026-01-06 11:00:00,,2026-01-13 11:00:00,
s6,2026-01-09 10:00:00,,2026-01-14 10:00:00,2026-01-15 10:00:00
s7,2026-01-13 10:00:00,,,2026-01-22 10:00:00
s8,2026-01-14 10:00:00,2026-01-20 12:00:00,,2026-01-20 11:00:00
s9,2026-01-14 11:00:00,,2026-01-15 11:00:00,2026-01-30 10:00:00
"""


@pytest.fixture
def sla(make):
    return project(make, SLA)


def test_resolution_sla_by_due_at(sla):
    index = by_key(evaluate_records(sla, ["resolution_sla"]))
    # W02 by due_at: s1 met, s2 met (resolved exactly at due), s3 late, s4 unresolved and
    # due before the horizon (a miss); s5 has no due time -> 2 / 4
    w02 = index[("resolution_sla", "2026-W02")]
    assert w02["value"] == pytest.approx(100 * 2 / 4)
    assert w02["n"] == 4
    # W03: s6 (created in W02, due 01-15) met -> 1 / 1
    assert index[("resolution_sla", "2026-W03")]["value"] == pytest.approx(100.0)
    assert index[("resolution_sla", "2026-W03")]["n"] == 1


def test_resolution_sla_drops_rows_due_after_the_horizon(sla):
    index = by_key(evaluate_records(sla, ["resolution_sla"]))
    # W04: s8 due 01-20 11:00 is before the horizon (its own first reply, 01-20 12:00) and
    # unresolved -> a miss; s7 (due 01-22) is after the horizon and dropped -> 0 / 1
    w04 = index[("resolution_sla", "2026-W04")]
    assert w04["value"] == 0.0
    assert w04["n"] == 1
    # s9 is due 01-30 (W05), after the horizon: dropped although it was resolved in time,
    # so no W05 cell exists at all
    assert ("resolution_sla", "2026-W05") not in index
    assert {period for (_, period) in index} == {"2026-W02", "2026-W03", "2026-W04"}


def test_resolution_sla_horizon_uses_the_whole_dataset(sla):
    # selecting only W04 does not move the horizon (still 01-20 12:00): same W04 record
    records = evaluate_records(sla, ["resolution_sla"], start=dt.date(2026, 1, 19))
    index = by_key(records)
    assert index[("resolution_sla", "2026-W04")]["value"] == 0.0
    assert index[("resolution_sla", "2026-W04")]["n"] == 1
    assert len(records) == 1


# ---------------------------------------------------------------- backlog
# Horizon = b5's first reply Tue 2026-02-03 10:00 (W06), so the last period ending at or
# before it is W05 (ends Mon 02-02 00:00). No ticket is created in W04; agent a3's only
# ticket is created in W05.
BACKLOG = """
ticket_id,created_at,first_response_at,resolved_at,agent_id
b1,2026-01-05 09:00:00,,2026-01-06 09:00:00,a1
b2,2026-01-06 09:00:00,,2026-01-12 00:00:00,a1
b3,2026-01-07 09:00:00,,2026-01-21 09:00:00,a2
b4,2026-01-12 00:00:00,,,a2
b5,2026-01-26 10:00:00,2026-02-03 10:00:00,,a3
"""


@pytest.fixture
def backlog(make):
    return project(make, BACKLOG)


def test_backlog_is_open_at_period_end(backlog):
    records = evaluate_records(backlog, ["backlog"])
    index = by_key(records)
    # W02 end = W03 start 01-12 00:00: b1 resolved before; b2 resolved exactly at the next
    # period start (>= it: still open); b3 open; b4 created exactly at it (not < it) -> 2
    assert index[("backlog", "2026-W02")]["value"] == 2.0
    # W03 end 01-19: b2 gone; b3 and b4 open -> 2
    assert index[("backlog", "2026-W03")]["value"] == 2.0
    # W04 (no new ticket, still emitted), end 01-26: b3 resolved 01-21; b4 open -> 1
    assert index[("backlog", "2026-W04")]["value"] == 1.0
    # W05 end 02-02: b4 and b5 open -> 2
    assert index[("backlog", "2026-W05")]["value"] == 2.0
    # a count: n = value
    assert all(r["n"] == r["value"] for r in records)
    # W06 ends 02-09, after the horizon (02-03 10:00): not emitted
    assert [r["period"] for r in records] == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]


def test_backlog_per_agent_includes_zero(backlog):
    records = evaluate_records(backlog, ["backlog"], by=["agent_id"])
    index = by_key(records, "agent_id")
    values = {(period, agent): r["value"] for (_, period, agent), r in index.items()}
    assert values == {
        ("2026-W02", "a1"): 1.0,  # b2
        ("2026-W02", "a2"): 1.0,  # b3
        ("2026-W03", "a1"): 0.0,  # nothing open, still a record
        ("2026-W03", "a2"): 2.0,  # b3, b4
        ("2026-W04", "a1"): 0.0,
        ("2026-W04", "a2"): 1.0,  # b4
        ("2026-W05", "a1"): 0.0,
        ("2026-W05", "a2"): 1.0,  # b4
        # a3 is a group seen in tickets: 0 before its first ticket, then b5
        ("2026-W02", "a3"): 0.0,
        ("2026-W03", "a3"): 0.0,
        ("2026-W04", "a3"): 0.0,
        ("2026-W05", "a3"): 1.0,
    }
    assert index[("backlog", "2026-W03", "a1")]["n"] == 0
    assert index[("backlog", "2026-W03", "a1")]["status"] != "no_data"


def test_backlog_is_a_stock_not_a_sum(backlog):
    records = evaluate_records(backlog, ["backlog"], period="month")
    # January ends 02-01 00:00 (before the horizon): open b4, b5 -> 2, not the sum of the
    # weekly stocks (2 + 2 + 1 + 2); February ends after the horizon and is not emitted
    assert [(r["period"], r["value"]) for r in records] == [("2026-01", 2.0)]


def test_backlog_for_all_is_open_at_the_horizon(backlog):
    (record,) = evaluate_records(backlog, ["backlog"], period="all")
    # at 2026-02-03 10:00: b4 and b5 open -> 2
    assert record["period"] == "all"
    assert record["value"] == 2.0
    assert record["n"] == 2
    index = by_key(
        evaluate_records(backlog, ["backlog"], period="all", by=["agent_id"]), "agent_id"
    )
    assert index[("backlog", "all", "a1")]["value"] == 0.0
    assert index[("backlog", "all", "a2")]["value"] == 1.0  # b4
    assert index[("backlog", "all", "a3")]["value"] == 1.0  # b5


def test_backlog_for_all_at_the_horizon_instant(make):
    # the horizon (02-03 10:00, b5's first response) is the `all` period's last instant:
    # b6, resolved exactly then, is resolved (not open); b7, created exactly then, is open
    resolved_then = BACKLOG + "b6,2026-01-27 09:00:00,,2026-02-03 10:00:00,a1\n"
    (record,) = evaluate_records(project(make, resolved_then), ["backlog"], period="all")
    assert record["value"] == 2.0  # b4, b5 (not b6)
    created_then = BACKLOG + "b7,2026-02-03 10:00:00,,,a1\n"
    (record,) = evaluate_records(project(make, created_then), ["backlog"], period="all")
    assert record["value"] == 3.0  # b4, b5, b7


def test_backlog_horizon_ignores_the_selected_range(backlog):
    # --to 2026-01-25 selects W02..W04; the horizon (02-03 10:00) and the stock carried in
    # from before stay those of the whole dataset
    records = evaluate_records(backlog, ["backlog"], end=dt.date(2026, 1, 25))
    assert [(r["period"], r["value"]) for r in records] == [
        ("2026-W02", 2.0),
        ("2026-W03", 2.0),
        ("2026-W04", 1.0),
    ]
    # --from 2026-01-19: W04 still counts b4 (created in W03) -> 1, W05 -> 2
    records = evaluate_records(backlog, ["backlog"], start=dt.date(2026, 1, 19))
    assert [(r["period"], r["value"]) for r in records] == [("2026-W04", 1.0), ("2026-W05", 2.0)]


def test_backlog_weeks_across_the_dst_change(make):
    # Europe/Berlin switches to summer time on Sun 2026-03-29. Horizon = r2's resolution
    # Wed 04-15 (W16), so W13..W15 are shown; W14 starts Mon 03-30 00:00 +02:00.
    tickets = (
        "ticket_id,created_at,first_response_at,resolved_at\n"
        "r1,2026-03-23 09:00:00,,\n"
        "r2,2026-03-29 12:00:00,,2026-04-15 09:00:00\n"  # Sunday after the switch: W13
        "r3,2026-03-30 00:00:00,,2026-04-01 09:00:00\n"  # created at W14's start, local
    )
    records = evaluate_records(project(make, tickets, tz="Europe/Berlin"), ["backlog"])
    # W13 end (03-30 00:00 local): r1, r2 (r3 created exactly then: not yet) -> 2
    # W14 end: r1, r2 (r3 resolved 04-01) -> 2; W15 end: r1, r2 -> 2
    assert [(r["period"], r["value"]) for r in records] == [
        ("2026-W13", 2.0),
        ("2026-W14", 2.0),
        ("2026-W15", 2.0),
    ]
    w14 = records[1]
    assert w14["period_start"].astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 22, tzinfo=dt.UTC)


# An export without the optional first_response_at column: the horizon is the latest
# created_at or resolved_at (n4's resolution, Tue 2026-01-20 10:00). first_response_at is
# optional in data-contract.md and neither metric's formula reads it; an all-empty
# first_response_at column gives these same values.
NO_REPLY_COLUMN = """
ticket_id,created_at,resolved_at,due_at
n1,2026-01-05 09:00:00,2026-01-07 09:00:00,2026-01-08 09:00:00
n2,2026-01-06 09:00:00,,2026-01-09 09:00:00
n3,2026-01-13 09:00:00,,2026-01-30 09:00:00
n4,2026-01-14 09:00:00,2026-01-20 10:00:00,
"""


@pytest.mark.parametrize("with_empty_column", [True, False])
def test_horizon_metrics_without_first_response_column(make, with_empty_column):
    tickets = NO_REPLY_COLUMN
    if with_empty_column:
        lines = tickets.strip("\n").split("\n")
        tickets = (
            "\n".join([lines[0] + ",first_response_at", *(line + "," for line in lines[1:])]) + "\n"
        )
    records = evaluate_records(project(make, tickets), ["backlog", "resolution_sla"])
    found = {(r["metric"], r["period"]): (r["value"], r["n"], r["reason"]) for r in records}
    assert found == {
        # W02 due: n1 met, n2 open past its due time -> 1 / 2; n3 (due 01-30, after the
        # horizon) is dropped, so no W05 cell
        ("resolution_sla", "2026-W02"): (100 * 1 / 2, 2, None),
        # backlog W02 end: n2 -> 1; W03 end (01-19): n2, n3, n4 -> 3; W04 ends after the
        # horizon; backlog has no thresholds, so it is not judged and says why
        ("backlog", "2026-W02"): (1.0, 1, "no thresholds"),
        ("backlog", "2026-W03"): (3.0, 3, "no thresholds"),
    }
