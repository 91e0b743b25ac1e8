"""Workforce metrics from the roster's hire and leave dates (kpi-catalogue.md, "workforce";
issue 20 item 1), every expected value computed by hand below."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Workforce
timezone: Europe/Berlin
metrics: [builtin]
sources:
  agents: {path: agents.csv}
"""

WORKFORCE = ["headcount", "attrition_rate", "early_attrition_rate"]

# Twelve agents (a01..a12) and one team lead, who is not counted (role team_lead).
# January 2026: a01 (hired 2025-11-15) leaves on 01-09 after 55 days (15 days of November
# from the 16th, 31 of December, 9 of January); a02 leaves on 01-20, a03 on 01-30; a12
# joins on 01-12. February: b1 is hired on 02-03 and leaves on 02-20 (17 days). March: a04
# leaves on the month's first day, a05 on its last.
ROSTER = """agent_id,team,role,hire_date,leave_date,leave_reason
a01,North,agent,2025-11-15,2026-01-09,voluntary
a02,North,agent,2023-03-01,2026-01-20,voluntary
a03,South,agent,2024-06-01,2026-01-30,involuntary
a04,South,agent,2024-01-08,2026-03-01,voluntary
a05,North,agent,2024-02-12,2026-03-31,transfer
a06,North,agent,2024-04-02,,
a07,North,agent,2024-05-06,,
a08,South,agent,2024-07-01,,
a09,South,agent,2024-09-02,,
a10,South,agent,2025-01-06,,
a11,North,agent,2025-03-03,,
a12,North,agent,2026-01-12,,
b1,South,,2026-02-03,2026-02-20,voluntary
tl1,North,team_lead,2020-01-01,2026-01-15,voluntary
"""


@pytest.fixture
def index(make):
    path = make.project(PROJECT, files={"agents.csv": ROSTER})
    options = {"period": "month", "start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)}
    return by_key(evaluate_records(path, WORKFORCE, **options))


def test_the_issues_january(index):
    # 1 January: a01..a11 employed (a12 not yet, the team lead not counted) -> 11;
    # 31 January: 11 - 3 leavers + a12 -> 9
    headcount = index[("headcount", "2026-01")]
    assert (headcount["value"], headcount["n"]) == (9.0, 9)
    # 3 leavers ÷ mean(11, 9) = 10, × 365.25 ÷ 31 days × 100 = 353.467…
    attrition = index[("attrition_rate", "2026-01")]
    assert attrition["value"] == pytest.approx(3 / 10 * 365.25 / 31 * 100)
    assert round(attrition["value"], 2) == 353.47
    assert attrition["n"] == 3
    # early leavers: a01 (55 days < 90) -> 1; hires in (2025-10-03, 2026-01-31]: a01, a12 -> 2
    early = index[("early_attrition_rate", "2026-01")]
    assert (early["value"], early["n"]) == (50.0, 2)


def test_hired_and_leaving_inside_one_period(index):
    # b1 (no role: counted as an agent) is in on neither 1 nor 28 February: 9 and 9
    assert index[("headcount", "2026-02")]["value"] == 9.0
    # 1 leaver ÷ 9 × 365.25 ÷ 28 × 100
    attrition = index[("attrition_rate", "2026-02")]
    assert attrition["value"] == pytest.approx(1 / 9 * 365.25 / 28 * 100)
    assert attrition["n"] == 1
    # early: b1 (17 days) ÷ hires in (2025-11-03, 2026-02-28]: a01, a12, b1
    early = index[("early_attrition_rate", "2026-02")]
    assert early["value"] == pytest.approx(100 / 3) and early["n"] == 3


def test_attrition_without_anyone_on_either_day_says_why_it_has_no_value(make):
    """Team East's only person joined on 2 February and left on 20 February: one leaver,
    nobody on the first or the last day, so no rate (not 0 %, not infinite) — and the
    record says why in the roster's words, not as a division by zero."""
    roster = "agent_id,team,hire_date,leave_date\ne1,East,2026-02-02,2026-02-20\n"
    roster += "w1,West,2025-01-01,\n"
    path = make.project(PROJECT, files={"agents.csv": roster})
    options = {"period": "month", "start": dt.date(2026, 2, 1), "end": dt.date(2026, 2, 28)}
    records = evaluate_records(path, ["attrition_rate", "headcount"], by=["team"], **options)
    index = by_key(records, "team")
    east = index[("attrition_rate", "2026-02", "East")]
    assert (east["value"], east["n"], east["status"]) == (None, 1, "no_data")
    assert "nobody of this group employed on the period's first or last day" in east["reason"]
    assert "zero denominator" not in east["reason"]
    west = index[("attrition_rate", "2026-02", "West")]
    assert (west["value"], west["n"], west["reason"]) == (0.0, 0, None)
    assert index[("headcount", "2026-02", "East")]["value"] == 0.0


def test_leaves_on_the_periods_first_and_last_day(index):
    # the leave date is the last working day: a04 counts on 1 March, a05 on 31 March
    # 1 March: 9 (a04 still in); 31 March: 9 - a04 = 8 (a05 still in on her last day)
    assert index[("headcount", "2026-03")]["value"] == 8.0
    attrition = index[("attrition_rate", "2026-03")]
    assert attrition["value"] == pytest.approx(2 / 8.5 * 365.25 / 31 * 100)
    assert attrition["n"] == 2
    # neither leaver is early; hires in (2025-12-01, 2026-03-31]: a12, b1 -> 0 of 2
    early = index[("early_attrition_rate", "2026-03")]
    assert (early["value"], early["n"]) == (0.0, 2)
    # a04 left on 1 March, so February's 28th still counts her: February has one leaver
    assert index[("attrition_rate", "2026-02")]["n"] == 1


def test_by_team_every_team_every_month(make):
    path = make.project(PROJECT, files={"agents.csv": ROSTER})
    options = {"period": "month", "start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 31)}
    index = by_key(evaluate_records(path, WORKFORCE, by=["team"], **options), "team")
    # North on 1 Jan: a01 a02 a05 a06 a07 a11 -> 6; 31 Jan: a05 a06 a07 a11 a12 -> 5
    # leavers a01, a02 -> 2 ÷ 5.5 × 365.25 ÷ 31 × 100
    north = index[("attrition_rate", "2026-01", "North")]
    assert north["value"] == pytest.approx(2 / 5.5 * 365.25 / 31 * 100)
    assert index[("headcount", "2026-01", "North")]["value"] == 5.0
    # South on 1 Jan: a03 a04 a08 a09 a10 -> 5; 31 Jan: 4; a03 left -> 1 ÷ 4.5
    assert index[("attrition_rate", "2026-01", "South")]["value"] == pytest.approx(
        1 / 4.5 * 365.25 / 31 * 100
    )
    assert index[("headcount", "2026-01", "South")]["value"] == 4.0


def test_no_leavers_is_zero_not_no_data(make):
    roster = "agent_id,hire_date,leave_date\nx1,2024-01-01,\nx2,2025-05-05,\nx3,2025-06-01,\n"
    path = make.project(PROJECT, files={"agents.csv": roster})
    options = {"period": "month", "start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 31)}
    index = by_key(evaluate_records(path, WORKFORCE, **options))
    attrition = index[("attrition_rate", "2026-01")]
    assert (attrition["value"], attrition["n"], attrition["status"]) == (0.0, 0, "ok")
    assert index[("headcount", "2026-01")]["value"] == 3.0
    # no hire in (2025-10-03, 2026-01-31]: early attrition has nothing to divide by
    assert index[("early_attrition_rate", "2026-01")]["status"] == "no_data"


def test_a_roster_without_leave_dates_still_has_a_headcount(make):
    roster = "agent_id,team,hire_date\nx1,A,2025-01-01\nx2,A,2025-12-15\n"
    path = make.project(PROJECT, files={"agents.csv": roster})
    options = {"period": "month", "start": dt.date(2025, 12, 1), "end": dt.date(2025, 12, 31)}
    index = by_key(evaluate_records(path, ["headcount", "attrition_rate"], **options))
    assert index[("headcount", "2025-12")]["value"] == 2.0
    # 1 Dec: x1 -> 1; 31 Dec: 2; no leavers -> 0 %
    assert index[("attrition_rate", "2025-12")]["value"] == 0.0


def test_headcount_and_attrition_by_tenure_band(make):
    """Each person in the band of their tenure on the day counted (0 on the hire day)."""
    path = make.project(PROJECT, files={"agents.csv": ROSTER})
    options = {"period": "month", "start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 31)}
    records = evaluate_records(path, ["headcount", "attrition_rate"], by=["tenure_band"], **options)
    index = by_key(records, "tenure_band")
    # 1 January (first day), tenure: a01 47 days (31-90); a10 360 and a11 304 (181-365);
    # a02..a09 over a year (>365) -> 1, 2, 8.
    # 31 January (last day): a12 19 days (0-30); a11 334 (181-365); a10 now 390 and
    # a04..a09 (>365) -> 1, 1, 7 (9 in all, the month's headcount).
    headcount = {b: index[("headcount", "2026-01", b)]["value"] for b in BANDS}
    assert headcount == {"0-30": 1.0, "31-90": 0.0, "91-180": 0.0, "181-365": 1.0, ">365": 7.0}
    # leavers on their leave date: a01 after 55 days (31-90); a02 and a03 (>365)
    scale = 365.25 / 31 * 100
    attrition = {b: index[("attrition_rate", "2026-01", b)] for b in BANDS}
    assert {b: r["n"] for b, r in attrition.items()} == {
        "0-30": 0,
        "31-90": 1,
        "91-180": 0,
        "181-365": 0,
        ">365": 2,
    }
    assert attrition["0-30"]["value"] == 0.0  # nobody left; mean headcount (0 + 1) / 2
    assert attrition["31-90"]["value"] == pytest.approx(1 / 0.5 * scale)  # (1 + 0) / 2
    assert attrition["91-180"]["value"] is None  # nobody in the band on either day
    assert attrition["181-365"]["value"] == 0.0  # (2 + 1) / 2, no leaver
    assert attrition[">365"]["value"] == pytest.approx(2 / 7.5 * scale)  # (8 + 7) / 2
    # bands in tenure order, each month
    assert [r["tenure_band"] for r in records if r["metric"] == "headcount"] == BANDS


def test_tenure_bands_add_up_to_the_whole(make):
    """Over the example's roster, every month: the bands' headcounts sum to the
    headcount, their leavers to the leavers."""
    options = {"period": "month", "start": dt.date(2025, 1, 1), "end": dt.date(2026, 11, 30)}
    metrics = ["headcount", "attrition_rate"]
    project = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"
    whole = by_key(evaluate_records(project, metrics, cache=False, **options))
    banded = evaluate_records(project, metrics, by=["tenure_band"], cache=False, **options)
    sums: dict[tuple[str, str], tuple[float, int]] = {}
    for r in banded:
        value, n = sums.get((r["metric"], r["period"]), (0.0, 0))
        sums[(r["metric"], r["period"])] = (value + (r["value"] or 0.0), n + r["n"])
    assert len(sums) == len(whole) == 2 * 23
    for key, record in whole.items():
        if key[0] == "headcount":
            assert sums[key][0] == record["value"], key
        assert sums[key][1] == record["n"], key


def test_explain_splits_a_headcount_change_by_band_and_team(make):
    """A headcount adds up across teams and tenure bands: its change splits by difference."""
    import tpmkit

    path = make.project(PROJECT, files={"agents.csv": ROSTER})
    project = tpmkit.load(path)
    options = {"period": "month", "at": "2026-03", "vs": "2026-01"}
    explanation = project.explain("headcount", by=["tenure_band"], **options)
    (decomposition,) = explanation.decompositions
    parts = {s.key["tenure_band"]: s.contribution for s in decomposition.segments}
    assert any("move from band to band" in n for n in decomposition.notes)
    # 31 January: a12 (0-30), a11 (181-365), a04..a10 (>365) -> 9; 31 March: a04 and a05
    # left on 03-01 and 03-31 (a05 still counts on her last day): a12 78 days (31-90), a11
    # now 393 days (>365), a05..a10 (>365) -> 8
    assert parts == {"0-30": -1.0, "31-90": 1.0, "91-180": 0.0, "181-365": -1.0, ">365": 0.0}
    assert sum(parts.values()) == decomposition.change == -1.0
    explanation = project.explain("headcount", by=["team"], **options)
    (decomposition,) = explanation.decompositions
    # North: a05 a06 a07 a11 a12 -> the same five; South: a04 a08 a09 a10 -> a08 a09 a10
    parts = {s.key["team"]: s.contribution for s in decomposition.segments}
    assert parts == {"North": 0.0, "South": -1.0}


def test_early_attrition_is_not_split_by_tenure_band(make):
    from tpmkit.errors import UsageError

    path = make.project(PROJECT, files={"agents.csv": ROSTER})
    with pytest.raises(UsageError) as caught:
        evaluate_records(path, ["early_attrition_rate"], period="month", by=["tenure_band"])
    text = "\n".join(str(i) for i in caught.value.issues)
    assert "early_attrition_rate: cannot group by tenure_band" in text
    assert "headcount and attrition_rate by tenure band" in text


BANDS = ["0-30", "31-90", "91-180", "181-365", ">365"]

CALLS_PROJECT = """
name: Tenure
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
  agents: {path: agents.csv}
"""

# t1 hired 2026-01-01: on 01-31 her tenure is 30 days (0-30), on 02-01 31 days (31-90).
# t2 hired 2025-01-01: 2026-01-01 is day 365 (181-365), 2026-01-02 day 366 (>365).
TENURE_ROSTER = "agent_id,team,hire_date\nt1,A,2026-01-01\nt2,A,2025-01-01\nt3,A,\n"
TENURE_CALLS = """contact_id,offered_at,wait_seconds,answered,talk_seconds,agent_id
c1,2026-01-31 23:30:00,5,true,100,t1
c2,2026-02-01 00:30:00,5,true,200,t1
c3,2026-01-01 12:00:00,5,true,300,t2
c4,2026-01-02 12:00:00,5,true,500,t2
c5,2026-01-02 12:00:00,5,true,700,t3
c6,2025-12-31 12:00:00,5,true,900,t1
"""


def test_tenure_band_on_each_contacts_own_local_day(make):
    path = make.project(
        CALLS_PROJECT, files={"calls.csv": TENURE_CALLS, "agents.csv": TENURE_ROSTER}
    )
    records = evaluate_records(path, ["aht"], period="all", by=["tenure_band"])
    values = {r["tenure_band"]: r["value"] for r in records}
    # c1 local 01-31 (30 days) -> 0-30; c2 local 02-01 (31) -> 31-90; c3 -> 181-365;
    # c4 -> >365; c5 (no hire date) and c6 (a day before the hire date) have no band
    assert values == {
        "0-30": 100.0,
        "31-90": 200.0,
        "181-365": 300.0,
        ">365": 500.0,
        None: (700.0 + 900.0) / 2,
    }
    # in tenure order, not as text ("181-365" sorted before "31-90"); no band last
    assert list(values) == ["0-30", "31-90", "181-365", ">365", None]


def test_tenure_band_in_explain_and_by_with_team(make):
    path = make.project(
        CALLS_PROJECT, files={"calls.csv": TENURE_CALLS, "agents.csv": TENURE_ROSTER}
    )
    records = evaluate_records(path, ["aht"], period="all", by=["team", "tenure_band"])
    assert {(r["team"], r["tenure_band"]) for r in records} >= {("A", "0-30"), ("A", ">365")}


def test_explain_splits_a_change_by_tenure_band(make):
    import tpmkit

    path = make.project(
        CALLS_PROJECT, files={"calls.csv": TENURE_CALLS, "agents.csv": TENURE_ROSTER}
    )
    explanation = tpmkit.load(path).explain(
        "aht", period="month", at="2026-02", vs="2026-01", by=["tenure_band"]
    )
    (decomposition,) = explanation.decompositions
    labels = {s.key["tenure_band"] for s in decomposition.segments}
    # January's contacts: 0-30 (c1), 181-365 (c3), >365 (c4), no band (c5); February: 31-90
    assert {"0-30", "31-90", "181-365", ">365"} <= {str(v) for v in labels}
    # a band does not say what it is: its label does ("why: … 91-180 +0.4 pp" read as noise)
    assert "tenure 0-30 days" in {s.label for s in decomposition.segments}


# Time to proficiency: team A's veterans handle at 300 s; the January cohort (h1..h4) and
# a February hire (h5). 30 answered calls per agent and week, from the hire week, for the
# 8 weeks from Monday 2026-01-05 (the first day of data).
PROFICIENCY_ROSTER = """agent_id,team,hire_date
v1,A,2020-01-01
v2,A,2020-01-01
v3,A,2020-01-01
h1,A,2026-01-05
h2,A,2026-01-07
h3,A,2026-01-05
h4,A,2026-01-12
h5,A,2026-02-02
"""


def _aht(agent: str, week: int) -> float | None:
    """AHT of `agent` in week `week` (0 = 2026-01-05), None before the hire week."""
    start = {"h4": 1, "h5": 4}.get(agent, 0)
    if week < start:
        return None
    if agent.startswith("v"):
        return 300.0
    return {
        "h1": 500.0 if week < 2 else 300.0,  # proficient in week 2 (01-19 .. 01-25)
        "h2": 290.0,  # proficient in its first week
        "h3": 600.0,  # never: censored
        "h4": 500.0 if week < 4 else 300.0,  # proficient in week 4 (02-02 .. 02-08)
        "h5": 600.0,  # never: censored
    }[agent]


def _proficiency_calls() -> str:
    lines = ["contact_id,offered_at,wait_seconds,answered,talk_seconds,agent_id"]
    agents = ["v1", "v2", "v3", "h1", "h2", "h3", "h4", "h5"]
    for week in range(8):
        monday = dt.date(2026, 1, 5) + dt.timedelta(weeks=week)
        for agent in agents:
            value = _aht(agent, week)
            for i in range(30 if value is not None else 0):
                at = f"{monday + dt.timedelta(days=i % 5)} {8 + i % 9:02d}:00:00"
                lines.append(f"{agent}-{week}-{i},{at},5,true,{value},{agent}")
    return "\n".join(lines) + "\n"


def test_time_to_proficiency_kaplan_meier(make):
    files = {"calls.csv": _proficiency_calls(), "agents.csv": PROFICIENCY_ROSTER}
    path = make.project(CALLS_PROJECT, files=files)
    index = by_key(evaluate_records(path, ["time_to_proficiency"], period="month"))
    # January cohort, weeks from hire to the end of the first proficient week:
    # h2 (01-07 -> 01-12) 5/7, h1 (01-05 -> 01-26) 3, h4 (01-12 -> 02-09) 4, h3 censored
    # at the end of the data (01-05 -> 03-02) 8. Kaplan–Meier: S = 3/4 after 5/7, then
    # 3/4 × (1 − 1/3) = 1/2 at 3 weeks: the median is 3; 1 of 4 censored (< half)
    january = index[("time_to_proficiency", "2026-01")]
    assert (january["value"], january["n"]) == (3.0, 4)
    # February: h5 alone and never proficient: half or more censored -> no value
    february = index[("time_to_proficiency", "2026-02")]
    assert february["value"] is None and february["n"] == 1


def test_agents_not_yet_proficient_are_listed(make):
    import tpmkit
    from tpmkit.commands import Evaluator
    from tpmkit.workforce.run import not_proficient

    files = {"calls.csv": _proficiency_calls(), "agents.csv": PROFICIENCY_ROSTER}
    loaded = tpmkit.load(make.project(CALLS_PROJECT, files=files))
    listed = not_proficient(loaded, Evaluator(loaded))
    # h3 and h5 never reach the team median: censored, listed by hire date
    assert [(a.agent_id, a.team, a.hired) for a in listed] == [
        ("h3", "A", dt.date(2026, 1, 5)),
        ("h5", "A", dt.date(2026, 2, 2)),
    ]


def test_a_grouping_some_metrics_cannot_have_is_said_once():
    """Evaluating every metric by tenure band: those whose data cannot be split that way
    keep one record saying why, and one note names them all (a summary shows no reason)."""
    import tpmkit

    project = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"
    result = tpmkit.load(project).evaluate(period="month", by=["tenure_band"], cache=False)
    (note,) = [n for n in result.notes if n.startswith("not grouped by tenure_band")]
    for metric in ("cost_per_contact", "total_cost", "early_attrition_rate"):
        assert metric in note
        (record,) = result.records.filter(pl.col("metric") == metric).to_dicts()
        assert "cannot group by" in record["reason"]
    assert "aht" not in note.split(":", 1)[1]
