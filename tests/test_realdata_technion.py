"""A real ACD/VRU call log mapped without a script: the Technion "Anonymous Bank" calls of
February 1999 (tab-separated, CRLF, yymmdd dates, `0:00:00` for "did not happen", a call id
unique only with its VRU line, PHANTOM and VRU-only rows that are not offered contacts).

The data live in ../shared/realdata/technion-bank-calls-1999-02/ (never copied here). The
expected figures are computed here, independently, with the csv module, following the
mapping its SOURCE.md gives."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import SHARED, by_key, evaluate_records

EXPORT = SHARED / "realdata" / "technion-bank-calls-1999-02" / "data_anonymous_bank_february.txt"
PROJECT = (
    Path(__file__).resolve().parent / "realdata" / "technion-bank-calls-1999-02" / "tpmkit.yaml"
)

pytestmark = pytest.mark.skipif(
    not EXPORT.exists(), reason=f"real export not present at {EXPORT} (shared/ is not checked out)"
)
# the catalogue metrics a call log without dispositions, surveys or agent states supports
SUPPORTED = [
    "contacts_offered",
    "contacts_handled",
    "abandon_rate",
    "asa",
    "aht",
    "service_level",
    "fcr_repeat",
]
SHORT_ABANDON, ANSWER_WITHIN, REPEAT_WINDOW = 5, 20, dt.timedelta(days=7)


def seconds(clock: str) -> int:
    hours, minutes, secs = (int(p) for p in clock.split(":"))
    return 3600 * hours + 60 * minutes + secs


def offered_calls() -> list[dict]:
    """The offered contacts as SOURCE.md defines them, with their offered time."""
    with EXPORT.open(encoding="ascii", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 33344
    calls = []
    for row in rows:
        queued = row["q_start"] != "0:00:00" or int(row["q_time"]) > 0
        if not (row["outcome"] == "AGENT" or (row["outcome"] == "HANG" and queued)):
            continue
        clock = row["q_start"] if queued else row["vru_exit"]
        day = dt.datetime.strptime(row["date"], "%y%m%d")
        if seconds(clock) < seconds(row["vru_entry"]) - 12 * 3600:
            day += dt.timedelta(days=1)  # queued after midnight
        calls.append(
            {
                "id": (row["vru+line"], row["call_id"]),
                "vru_date": row["date"],
                "at": day + dt.timedelta(seconds=seconds(clock)),
                "answered": row["outcome"] == "AGENT",
                "wait": int(row["q_time"]),
                "talk": int(row["ser_time"]),
                "customer": None if row["customer_id"] == "0" else row["customer_id"],
                "agent": None if row["server"] == "NO_SERVER" else row["server"],
                "priority": row["priority"],
            }
        )
    return calls


def figures(calls: list[dict], horizon: dt.datetime, every: list[dict]) -> dict[str, float]:
    """The catalogue's definitions (metrics/*.yaml, default parameters) on `calls`."""
    answered = [c for c in calls if c["answered"]]
    counted = [c for c in calls if c["answered"] or c["wait"] >= SHORT_ABANDON]
    by_customer = defaultdict(list)
    for call in every:
        if call["customer"] is not None:
            by_customer[call["customer"]].append(call["at"])
    observable = [
        c for c in answered if c["customer"] is not None and c["at"] + REPEAT_WINDOW <= horizon
    ]
    no_repeat = [
        c
        for c in observable
        if not any(c["at"] < t <= c["at"] + REPEAT_WINDOW for t in by_customer[c["customer"]])
    ]
    result = {
        "contacts_offered": len(calls),
        "contacts_handled": len(answered),
        "abandon_rate": 100 * sum(not c["answered"] for c in counted) / len(counted),
        "asa": statistics.fmean(c["wait"] for c in answered),
        "aht": statistics.fmean(c["talk"] for c in answered),
        "service_level": 100
        * sum(c["answered"] and c["wait"] <= ANSWER_WITHIN for c in counted)
        / len(counted),
    }
    if observable:
        result["fcr_repeat"] = 100 * len(no_repeat) / len(observable)
    return result


def expected_by(period: str) -> dict[tuple[str, str], float]:
    calls = offered_calls()
    horizon = max(c["at"] for c in calls)
    label = (
        (lambda t: t.strftime("%Y-%m")) if period == "month" else (lambda t: t.date().isoformat())
    )
    groups = defaultdict(list)
    for call in calls:
        groups[label(call["at"])].append(call)
    return {
        (metric, key): value
        for key, members in groups.items()
        for metric, value in figures(members, horizon, calls).items()
    }


def test_the_mapping_keeps_the_offered_contacts():
    calls = offered_calls()
    assert len(calls) == 31125  # SOURCE.md: 27,162 AGENT + 3,963 queue abandons
    assert len({c["id"] for c in calls}) == 31125  # (vru+line, call_id) is unique
    index = by_key(evaluate_records(PROJECT, SUPPORTED, period="all"))
    assert index[("contacts_offered", "all")]["value"] == 31125
    assert index[("contacts_handled", "all")]["value"] == 27162
    # two calls entered the VRU before midnight and were queued after it, one of them
    # exactly at midnight (q_start 0:00:00 with q_time 27): each counts on the next day
    rolled = {c["id"]: c["at"] for c in calls if c["at"].strftime("%y%m%d") != c["vru_date"]}
    assert rolled == {
        ("AA0102", "31056"): dt.datetime(1999, 2, 16, 0, 0, 0),
        ("AA0115", "14375"): dt.datetime(1999, 2, 11, 0, 0, 2),
    }
    days = by_key(evaluate_records(PROJECT, ["contacts_offered"], period="day"))
    on_16th = sum(c["at"].date() == dt.date(1999, 2, 16) for c in calls)
    assert days[("contacts_offered", "1999-02-16")]["value"] == on_16th


@pytest.mark.parametrize("period", ["month", "day"])
def test_every_supported_metric_matches_the_independent_figures(period):
    expected = expected_by(period)
    records = evaluate_records(PROJECT, SUPPORTED, period=period)
    got = {(r["metric"], r["period"]): r["value"] for r in records if r["value"] is not None}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key
    if period == "day":
        assert len({p for _, p in got}) >= 28


def test_groups_by_agent_and_priority():
    calls = offered_calls()
    agents = evaluate_records(PROJECT, ["contacts_handled"], period="all", by=["agent_id"])
    expected = Counter(c["agent"] for c in calls if c["answered"])
    assert {r["agent_id"]: r["value"] for r in agents} == expected
    assert len([a for a in expected if a is not None]) == 24 and expected[None] == 491
    # `priority` is not mapped: an export column keeps its name and is a dimension
    rows = evaluate_records(PROJECT, ["contacts_offered"], period="all", by=["priority"])
    assert {r["priority"]: r["value"] for r in rows} == Counter(c["priority"] for c in calls)
