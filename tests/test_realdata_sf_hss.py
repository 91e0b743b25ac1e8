"""A real monthly queue report as a custom dataset with its own metrics: the San Francisco
Health Service System call-centre figures (`Apr 2024` month labels, newest first, blanks in
the middle of a series, a published rate that disagrees with its own counts).

The data live in ../shared/realdata/sf-hss-call-center-monthly/ (never copied here). The
expected figures are computed here, independently, with the csv module."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import SHARED, by_key, evaluate_records

EXPORT = (
    SHARED
    / "realdata"
    / "sf-hss-call-center-monthly"
    / "Call_Center_Metrics_for_the_Health_Service_System.csv"
)
PROJECT = (
    Path(__file__).resolve().parent / "realdata" / "sf-hss-call-center-monthly" / "tpmkit.yaml"
)
METRICS = [
    "hss_calls_handled",
    "hss_calls_offered",
    "hss_abandon_rate",
    "hss_asa",
    "hss_in_person_visits",
]

pytestmark = pytest.mark.skipif(
    not EXPORT.exists(), reason=f"real export not present at {EXPORT} (shared/ is not checked out)"
)


def months() -> list[dict]:
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def number(text: str) -> float | None:
        return float(text) if text.strip() else None

    return [
        {
            "month": dt.datetime.strptime(row["Month"], "%b %Y").date(),
            "handled": number(row["Inbound Calls"]),
            "abandoned": number(row["Abandoned Calls"]),
            "asa": number(row["Average Speed of Answer in Secs"]),
            "visits": number(row["In-person visits"]),
            "published": number(row["Call Abandonment Rate"]),
        }
        for row in rows
    ]


def label(month: dt.date, period: str) -> str:
    if period == "month":
        return month.strftime("%Y-%m")
    if period == "quarter":
        return f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    return "all" if period == "all" else str(month.year)


def expected_by(period: str) -> dict[tuple[str, str], tuple[float | None, int]]:
    """(value, n) per metric and period; a sum over no month is 0 with n = 0 (the `sum`
    kind counts empty values as 0), a ratio over no month has no value."""
    groups = defaultdict(list)
    for row in months():
        groups[label(row["month"], period)].append(row)
    figures = {}
    for key, rows in groups.items():
        both = [r for r in rows if r["handled"] is not None and r["abandoned"] is not None]
        timed = [r for r in rows if r["asa"] is not None and r["handled"] is not None]
        handled = [r["handled"] for r in rows if r["handled"] is not None]
        visits = [r["visits"] for r in rows if r["visits"] is not None]
        offered = sum(r["handled"] + r["abandoned"] for r in both)
        weights = sum(r["handled"] for r in timed)
        figures[("hss_calls_handled", key)] = (sum(handled), len(handled))
        figures[("hss_in_person_visits", key)] = (sum(visits), len(visits))
        figures[("hss_calls_offered", key)] = (offered, len(both))
        figures[("hss_abandon_rate", key)] = (
            100 * sum(r["abandoned"] for r in both) / offered if offered else None,
            len(both),
        )
        figures[("hss_asa", key)] = (
            sum(r["asa"] * r["handled"] for r in timed) / weights if weights else None,
            len(timed),
        )
    return figures


def test_the_report_as_its_source_describes_it():
    rows = months()
    assert len(rows) == 160 and len({r["month"] for r in rows}) == 160
    assert rows[0]["month"] == dt.date(2024, 4, 1) and rows[-1]["month"] == dt.date(2011, 1, 1)
    assert sum(r["asa"] is None for r in rows) == 8
    # 2023-01 publishes 25 % where its counts give 45.7 %: the metric recomputes
    january = next(r for r in rows if r["month"] == dt.date(2023, 1, 1))
    recomputed = 100 * january["abandoned"] / (january["handled"] + january["abandoned"])
    assert january["published"] == 25 and round(recomputed, 1) == 45.7
    index = by_key(evaluate_records(PROJECT, ["hss_abandon_rate"], period="month"))
    assert index[("hss_abandon_rate", "2023-01")]["value"] == pytest.approx(recomputed, rel=1e-12)


@pytest.mark.parametrize("period", ["month", "quarter", "year", "all"])
def test_every_metric_matches_the_independent_figures(period):
    expected = expected_by(period)
    records = evaluate_records(PROJECT, METRICS, period=period)
    got = {(r["metric"], r["period"]): (r["value"], r["n"]) for r in records}
    assert got.keys() == expected.keys()
    for key, (value, n) in expected.items():
        assert got[key][1] == n, key
        assert got[key][0] == (None if value is None else pytest.approx(value, rel=1e-12)), key
    if period == "month":
        # May-Aug 2022 report no abandoned calls: no abandon rate, and no offered calls
        assert got[("hss_abandon_rate", "2022-05")] == (None, 0)
        assert got[("hss_calls_offered", "2022-05")] == (0, 0)


def test_the_call_weighted_asa_is_not_the_mean_of_monthly_asas():
    rows = [r for r in months() if r["month"].year == 2022 and r["asa"] is not None]
    simple = sum(r["asa"] for r in rows) / len(rows)
    index = by_key(evaluate_records(PROJECT, ["hss_asa"], period="year"))
    weighted = index[("hss_asa", "2022")]["value"]
    assert weighted == pytest.approx(expected_by("year")[("hss_asa", "2022")][0], rel=1e-12)
    assert abs(weighted - simple) > 1  # the 3,427 s outlier month weighs by its calls
