"""A real IT service-desk export mapped without a script: the UCI ServiceNow incident log
(`?` as the empty value, unpadded day-first timestamps, the final state of each incident).

The data live in ../shared/realdata/uci-servicenow-incidents/ (never copied here). The
expected figures are computed here, independently, with the csv module, following the
mapping its SOURCE.md gives and the catalogue's definitions (metrics/*.yaml)."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import statistics
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import SHARED, by_key, evaluate_records
from tpmkit.errors import DataError

FOLDER = SHARED / "realdata" / "uci-servicenow-incidents"
EXPORT = FOLDER / "incidents_final_state.csv"
PROJECT = Path(__file__).resolve().parent / "realdata" / "uci-servicenow-incidents" / "tpmkit.yaml"

pytestmark = pytest.mark.skipif(
    not EXPORT.exists(), reason=f"real export not present at {EXPORT} (shared/ is not checked out)"
)
# the catalogue metrics an export without first response, due time, survey or escalation
# flag supports
FLOWS = ["tickets_created", "tickets_resolved", "resolution_time", "reopen_rate"]
SUPPORTED = [*FLOWS, "backlog"]


def read_tickets() -> list[dict]:
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def stamp(text: str) -> dt.datetime | None:
        return None if text == "?" else dt.datetime.strptime(text, "%d/%m/%Y %H:%M")

    return [
        {
            "id": row["number"],
            "created": stamp(row["opened_at"]),
            "resolved": stamp(row["resolved_at"]),
            "reopens": int(row["reopen_count"]),
            "priority": row["priority"],
        }
        for row in rows
    ]


def labeller(period: str):
    if period == "month":
        return lambda t: t.strftime("%Y-%m")
    return lambda t: t.date().isoformat()


def period_starts(first: dt.datetime, horizon: dt.datetime, period: str) -> list[str]:
    """Every period from the first opening's to the last one that ends by the horizon."""
    label, found = labeller(period), []
    day = first.date()
    while True:
        end = (
            (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            if period == "month"
            else day + dt.timedelta(days=1)
        )
        if dt.datetime.combine(end, dt.time()) > horizon:
            return found
        found.append(label(dt.datetime.combine(day, dt.time())))
        day = end


def expected_by(period: str) -> dict[tuple[str, str], float]:
    tickets = read_tickets()
    label = labeller(period)
    created = Counter(label(t["created"]) for t in tickets)
    resolved = defaultdict(list)
    for ticket in tickets:
        if ticket["resolved"] is not None:
            resolved[label(ticket["resolved"])].append(ticket)
    figures: dict[tuple[str, str], float] = {}
    for key, count in created.items():
        figures[("tickets_created", key)] = count
    for key, members in resolved.items():
        figures[("tickets_resolved", key)] = len(members)
        figures[("resolution_time", key)] = statistics.fmean(
            (t["resolved"] - t["created"]) / dt.timedelta(hours=1) for t in members
        )
        figures[("reopen_rate", key)] = 100 * sum(t["reopens"] > 0 for t in members) / len(members)
    # backlog: open at the end of each period (a ticket never resolved stays open)
    horizon = max(
        max(t["created"] for t in tickets), max(t["resolved"] for t in tickets if t["resolved"])
    )
    # open at the end of P: created in P or before, and not resolved in P or before
    opened = sorted(label(t["created"]) for t in tickets)
    closed = sorted(label(t["resolved"]) for t in tickets if t["resolved"] is not None)
    for key in period_starts(min(t["created"] for t in tickets), horizon, period):
        figures[("backlog", key)] = bisect.bisect_right(opened, key) - bisect.bisect_right(
            closed, key
        )
    return figures


def test_the_export_as_its_source_describes_it():
    tickets = read_tickets()
    assert len(tickets) == 24918 and len({t["id"] for t in tickets}) == 24918
    assert sum(t["resolved"] is None for t in tickets) == 1556
    index = by_key(
        evaluate_records(PROJECT, ["tickets_created"], period="all", by=["priority"]), "priority"
    )
    counts = Counter(t["priority"] for t in tickets)
    assert counts == {"1 - Critical": 270, "2 - High": 408, "3 - Moderate": 23466, "4 - Low": 774}
    assert {k[2]: r["value"] for k, r in index.items()} == {
        "urgent": 270,
        "high": 408,
        "normal": 23466,
        "low": 774,
    }


@pytest.mark.parametrize("period", ["month", "day"])
def test_every_supported_metric_matches_the_independent_figures(period):
    expected = expected_by(period)
    records = evaluate_records(PROJECT, SUPPORTED, period=period)
    got = {(r["metric"], r["period"]): r["value"] for r in records if r["value"] is not None}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key
    if period == "month":
        # 1,556 incidents closed without a resolution time stay in the backlog
        assert got[("backlog", "2017-01")] >= 1556


def test_the_raw_event_log_with_keep_last_gives_the_final_state(tmp_path):
    """The event log has a row per update of an incident; `dedupe: keep_last` keeps each
    incident's last row, which is exactly how the final-state file was cut (SOURCE.md)."""
    log = FOLDER / "incident_event_log.zip"
    if not log.exists():
        pytest.skip(f"{log} is not present")
    with zipfile.ZipFile(log) as archive:
        archive.extract("incident_event_log.csv", tmp_path)
    text = PROJECT.read_text(encoding="utf-8")
    final_state = "../../../../shared/realdata/uci-servicenow-incidents/incidents_final_state.csv"
    text = text.replace(final_state, "incident_event_log.csv")
    project_file = tmp_path / "tpmkit.yaml"
    project_file.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as caught:  # one row per event: the ids repeat
        evaluate_records(project_file, ["tickets_created"], period="all", cache=False)
    assert "duplicate" in caught.value.issues[0].message
    project_file.write_text(text.replace("    columns:", "    dedupe: keep_last\n    columns:"))
    from_log = evaluate_records(project_file, SUPPORTED, period="month", cache=False)
    from_final = evaluate_records(PROJECT, SUPPORTED, period="month")

    final = {(r["metric"], r["period"]): r for r in from_final}
    assert {(r["metric"], r["period"]) for r in from_log} == final.keys()
    for record in from_log:  # the same rows in another order: sums may differ in the last bit
        expected = final[(record["metric"], record["period"])]
        assert record["n"] == expected["n"]
        assert record["value"] == pytest.approx(expected["value"], rel=1e-12)
