"""The mapping on a real vendor export: the public PwC call-centre sample.

The data live in ../shared/realdata/pwc-call-center/ (no licence to redistribute, never
copied here). Expected figures are computed independently with the csv module.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

import tpmkit
from conftest import SHARED, by_key, evaluate_records

EXPORT = SHARED / "realdata" / "pwc-call-center" / "Call-Center-Dataset.csv"
PROJECT = Path(__file__).resolve().parent / "realdata" / "pwc" / "tpmkit.yaml"

pytestmark = pytest.mark.skipif(
    not EXPORT.exists(), reason=f"real export not present at {EXPORT} (shared/ is not checked out)"
)


def independent_figures() -> dict[str, float]:
    with EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    answered = [r for r in rows if r["Answered (Y/N)"] == "Y"]
    speeds = [float(r["Speed of answer in seconds"]) for r in answered]
    ratings = [float(r["Satisfaction rating"]) for r in rows if r["Satisfaction rating"]]
    resolved = [r for r in answered if r["Resolved"] == "Y"]
    january = [r for r in rows if r["Date"].startswith("2021-01")]
    return {
        "contacts_offered": len(rows),
        "contacts_handled": len(answered),
        "asa": statistics.fmean(speeds),
        "csat_mean": statistics.fmean(ratings),
        "fcr": 100 * len(resolved) / len(answered),
        "january_offered": len(january),
    }


def test_headline_values_match_independent_computation():
    expected = independent_figures()
    ids = ["contacts_offered", "contacts_handled", "asa", "csat_mean", "fcr"]
    index = by_key(evaluate_records(PROJECT, ids, period="all"))
    assert expected["contacts_offered"] == 5000
    for metric in ids:
        record = index[(metric, "all")]
        assert record["value"] == pytest.approx(expected[metric], rel=1e-12), metric
    # n is the population behind each value
    assert index[("asa", "all")]["n"] == expected["contacts_handled"]
    assert index[("fcr", "all")]["n"] == expected["contacts_handled"]


def test_periods_and_groups_on_real_data():
    expected = independent_figures()
    months = by_key(evaluate_records(PROJECT, ["contacts_offered"], period="month"))
    assert months[("contacts_offered", "2021-01")]["value"] == expected["january_offered"]
    assert sum(r["value"] for r in months.values()) == 5000
    agents = evaluate_records(PROJECT, ["contacts_handled"], period="all", by=["agent_id"])
    assert len(agents) == 8
    assert sum(r["value"] for r in agents) == expected["contacts_handled"]


def seconds(clock: str) -> int:
    hours, minutes, secs = (int(part) for part in clock.split(":"))
    return 3600 * hours + 60 * minutes + secs


def test_columns_the_export_lacks_are_reported_not_guessed():
    index = by_key(evaluate_records(PROJECT, ["nps"], period="all"))
    assert index[("nps", "all")]["status"] == "no_data"
    assert "nps" in index[("nps", "all")]["reason"]


def test_aht_counts_the_absent_hold_and_wrap_up_as_zero():
    # issue 17 item 9: this test asserted AHT was no_data (no hold or ACW columns). AHT's
    # file now declares them optional, counted as 0: AHT is the mean talk time of the
    # answered calls, with a note saying so
    with EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Answered (Y/N)"] == "Y"]
    expected = statistics.fmean(seconds(r["AvgTalkDuration"]) for r in rows)
    assert expected == pytest.approx(224.922792, abs=5e-7)
    evaluation = tpmkit.load(PROJECT).evaluate(["aht"], period="all")
    record = by_key(evaluation.records.to_dicts())[("aht", "all")]
    assert record["value"] == pytest.approx(expected, rel=1e-12)
    assert record["n"] == len(rows) == 4054
    assert record["status"] == "ok"
    assert "aht: hold_seconds, acw_seconds absent — counted as 0" in evaluation.notes
