"""The report's first screen (issue 15, item 3), worked by hand on a small operation: two
vendors, each with one site (so vendor = site); two queues, each served by one team (so
queue = team, for the call metrics both have), q1 taking 6 of vendor P's 10 calls and q2 the
other 4 and vendor H's 10; and a group no level reaches (`unassigned`), which is never a
place and never a breach.

Records (one week; lower is better for `wait`, higher for `sl` and `fcr`):
  wait (judged everywhere; warning 40, critical 60, target 20): operation 50 warning (n 20);
      vendor P = site L 70 critical (n 10), vendor H = site B 30 ok (n 10);
      queue q1 = team T1 90 critical (n 6), queue q2 = team T2 38 ok (n 14).
  sl (judged at operation, vendor, site, queue; warning 75, critical 65, target 80):
      operation 70 warning; vendor P = site L 60 critical, H = B 80 ok; queue q1 58
      critical, q2 77 ok; the teams' records are not judged (same n and value as the queues).
  fcr (a ticket metric: teams, no queues; warning 70, critical 60, target 85): operation 80
      ok; team T1 80 ok, T2 50 critical.
"""

from __future__ import annotations

from typing import Any

from tpmkit.report import places
from tpmkit.report.model import Card, GroupRow, GroupTable


def rec(value: float, status: str, n: int = 10, **levels: float) -> dict[str, Any]:
    return {"value": value, "status": status, "n": n, "direction": None, **levels}


WAIT = {"warning": 40.0, "critical": 60.0, "target": 20.0, "direction": "lower_is_better"}
SL = {"warning": 75.0, "critical": 65.0, "target": 80.0, "direction": "higher_is_better"}
FCR = {"warning": 70.0, "critical": 60.0, "target": 85.0, "direction": "higher_is_better"}


def with_levels(record: dict[str, Any], levels: dict[str, Any]) -> dict[str, Any]:
    return {**record, **levels}


def card(metric: str, record: dict[str, Any], owner: str) -> Card:
    return Card(
        metric, metric.upper(), "", "", None, owner, "W1", record, None, [], None,
        {"critical": f"{owner}: act now", "warning": f"{owner}: watch"},
    )  # fmt: skip


def table(columns: list[str], metric: str, rows: list[tuple[Any, dict[str, Any]]]) -> GroupTable:
    return GroupTable(
        columns, metric, metric.upper(), "", [GroupRow({columns[0]: g}, r, None) for g, r in rows]
    )


def w(value: float, status: str, n: int = 10) -> dict[str, Any]:
    return with_levels(rec(value, status, n), WAIT)


def s(value: float, status: str, n: int = 10) -> dict[str, Any]:
    return with_levels(rec(value, status, n), SL)


def f(value: float, status: str, n: int = 10) -> dict[str, Any]:
    return with_levels(rec(value, status, n), FCR)


CARDS = [
    card("wait", w(50, "warning", 20), "team_lead"),
    card("sl", s(70, "warning", 20), "operations_manager"),
    card("fcr", f(80, "ok", 20), "team_lead"),
]
TABLES = [
    table(["vendor"], "wait", [("P", w(70, "critical")), ("H", w(30, "ok"))]),
    table(["vendor"], "sl", [("P", s(60, "critical")), ("H", s(80, "ok"))]),
    table(["site"], "wait", [("L", w(70, "critical")), ("B", w(30, "ok"))]),
    table(["site"], "sl", [("L", s(60, "critical")), ("B", s(80, "ok"))]),
    table(["queue"], "wait", [("q1", w(90, "critical", 6)), ("q2", w(38, "ok", 14))]),
    table(["queue"], "sl", [("q1", s(58, "critical", 6)), ("q2", s(77, "ok", 14)), (None, s(0, "not_judged", 3))]),
    table(["team"], "wait", [("T1", w(90, "critical", 6)), ("T2", w(38, "ok", 14))]),
    table(["team"], "sl", [("T1", s(58, "not_judged", 6)), ("T2", s(77, "not_judged", 14))]),
    table(["team"], "fcr", [("T1", f(80, "ok", 6)), ("T2", f(50, "critical", 14))]),
]  # fmt: skip


def test_groups_of_one_population_are_named_once_under_the_coarsest_level():
    found = places.places(CARDS, TABLES)
    names = [p.tagged for p in found if p.alias_of is None]
    # vendor P is site L (same n and value on both metrics), queue q1 is team T1 (wait and sl
    # shared: sl's team record is not judged but has the same n and value); unassigned is no
    # place at all
    assert names == [
        "operation",
        "vendor H = site B",
        "vendor P = site L",
        "queue q1 = team T1",
        "queue q2 = team T2",
    ]
    q1 = next(p for p in found if p.value == "q1")
    # the queue's judged sl, not the team's not-judged one; fcr only the team has
    assert q1.record("sl")["status"] == "critical" and q1.record("fcr")["value"] == 80
    assert [p.tagged for p in places.grid_columns(found)] == names


def test_every_breach_is_listed_once_by_level_with_owner_and_action():
    found = places.places(CARDS, TABLES)
    rows = places.breach_rows(found, CARDS, agents=False, reader="operations_manager")
    summary = [
        (r.metric, r.level.value, r.status, r.action, [(p.tagged_for(r.metric), rec["value"]) for p, rec in r.entries])
        for r in rows
    ]  # fmt: skip
    assert summary == [
        # operation level: the reader's own metric (sl) before the other (wait)
        (
            "sl",
            "operation",
            "critical",
            "operations_manager: act now",
            [("operation", 70.0), ("vendor P = site L", 60.0), ("queue q1 = team T1", 58.0)],
        ),
        (
            "wait",
            "operation",
            "critical",
            "team_lead: act now",
            [("operation", 50.0), ("vendor P = site L", 70.0), ("queue q1 = team T1", 90.0)],
        ),
        # fcr breaches only at a team (tickets carry no queue): under the team level, named
        # as the team alone (queue q2 has no fcr)
        ("fcr", "team", "critical", "team_lead: act now", [("team T2", 50.0)]),
    ]


def test_worst_first_is_measured_from_the_level_passed_in_units_of_its_distance_to_target():
    # sl 60 is 5 below critical 65, whose distance to the target 80 is 15: 1/3;
    # wait 90 is 30 above critical 60, whose distance to the target 20 is 40: 3/4 -> worse
    assert places._excess(s(60, "critical")) == 5 / 15
    assert places._excess(w(90, "critical")) == 30 / 40
    assert places._worst_first(w(90, "critical")) < places._worst_first(s(60, "critical"))
    assert places._worst_first(s(60, "critical")) < places._worst_first(w(50, "warning"))
    # without a reader, the row with the worst breach of a level first: wait's queue q1 at 90
    # ((90 - 60) / 40 = 0.75) before sl's q1 at 58 ((65 - 58) / 15 = 0.47); fcr breaches
    # worst of all ((60 - 30) / 25 = 1.2) but not for the whole operation, so it comes after
    found = places.places(CARDS, [*TABLES, table(["vendor"], "fcr", [("P", f(30, "critical"))])])
    rows = places.breach_rows(found, CARDS, agents=False)
    assert [(r.metric, r.level.value) for r in rows] == [
        ("wait", "operation"),
        ("sl", "operation"),
        ("fcr", "vendor"),
    ]
    assert rows[0].worst == places._worst_first(w(90, "critical"))


def test_a_group_that_differs_is_not_merged():
    tables = [
        table(["vendor"], "wait", [("P", w(70, "critical", 10))]),
        table(["vendor"], "sl", [("P", s(60, "critical", 10))]),
        table(["site"], "wait", [("L", w(70, "critical", 11))]),  # one more call: another population
        table(["site"], "sl", [("L", s(60, "critical", 10))]),
    ]  # fmt: skip
    found = places.places(CARDS, tables)
    assert [p.tagged for p in found if p.alias_of is None] == ["operation", "vendor P", "site L"]
    rows = places.breach_rows(found, CARDS, agents=False)
    assert [p.tagged for p, _ in rows[0].entries] == ["operation", "vendor P", "site L"]


def test_agents_are_listed_only_when_asked_and_named_with_their_team():
    agent_table = GroupTable(
        ["team", "agent_id"],
        "wait",
        "WAIT",
        "",
        [
            GroupRow({"team": "T1", "agent_id": "a1"}, w(90, "critical", 4), 70.0),
            GroupRow({"team": "T1", "agent_id": "a2"}, w(62, "critical", 6), 70.0),
        ],
    )
    found = places.places(CARDS, [*TABLES, agent_table])
    without = places.breach_rows(found, CARDS, agents=False)
    assert all(p.level.value != "agent" for r in without for p, _ in r.entries)
    wait = next(r for r in places.breach_rows(found, CARDS, agents=True) if r.metric == "wait")
    # agents after every coarser level, worst first: a1 (90) before a2 (62)
    assert [p.tagged for p, _ in wait.entries][-2:] == ["agent a1 (T1)", "agent a2 (T1)"]
    assert [p.name for p in places.agents(found)] == ["a1", "a2"]


def test_a_metric_without_a_value_does_not_keep_two_groups_of_one_population_apart():
    # vendor P has an fcr record with no data (no evaluations that week), site L none at all:
    # the two values they both have agree, so they are one population (the example's QA view)
    tables = [
        table(["vendor"], "wait", [("P", w(70, "critical"))]),
        table(["vendor"], "sl", [("P", s(60, "critical"))]),
        table(["vendor"], "fcr", [("P", {**f(0, "no_data", 0), "value": None})]),
        table(["site"], "wait", [("L", w(70, "critical"))]),
        table(["site"], "sl", [("L", s(60, "critical"))]),
    ]
    found = places.places(CARDS, tables)
    assert [p.tagged for p in found if p.alias_of is None] == ["operation", "vendor P = site L"]
