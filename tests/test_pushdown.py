"""--from/--to reads only the rows in range when every metric of a dataset looks at one
period at a time; metrics that need rows outside the range (repeat window, stock, horizon,
calibration session) still get the whole dataset. The numbers are the same either way."""

from __future__ import annotations

import datetime as dt

import pytest

from tpmkit import planning
from tpmkit import project as api
from tpmkit.errors import DataError

PROJECT = """
name: Pushdown
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""
METRICS = {
    "handled": "id: handled\nname: Handled\nunit: count\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: count, where: answered}\n",
    "fcr_repeat": "id: fcr_repeat\nname: FCR\nunit: percent\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: no_repeat_within, key: customer_id, window_days: 7,"
    " where: answered}\n",
}
ROWS = [
    ("c1", "2026-03-01 23:30:00", "k1", "Y", "3"),  # Sunday, before the range
    ("c2", "2026-03-02 00:00:00", "k1", "Y", "3"),  # first instant of the range
    ("c3", "2026-03-08 23:59:59", "k2", "Y", "3"),  # last second of the range
    ("c4", "2026-03-09 00:00:00", "k2", "Y", "3"),  # after the range: a repeat of c3
    ("c5", "2026-03-20 10:00:00", "k3", "N", ""),
]


def calls(extra: str = "") -> str:
    lines = ["contact_id,offered_at,customer_id,answered,wait_seconds"]
    lines += [",".join(row) for row in ROWS]
    return "\n".join(lines) + "\n" + extra


def records(project_file, ids, **options):
    loaded = api.load(project_file)
    result = loaded.evaluate(ids, cache=False, **options)
    return {
        (r["metric"], r["period"]): (r["value"], r["n"]) for r in result.records.to_dicts()
    }, result


RANGE = {"start": dt.date(2026, 3, 2), "end": dt.date(2026, 3, 8), "period": "week"}


def test_same_numbers_with_and_without_pushdown(make, monkeypatch):
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": calls()})
    pushed, result = records(project_file, ["handled"], **RANGE)
    assert result.datasets[0].rows_read == 2  # c2 and c3 only
    monkeypatch.setattr(planning, "rows_in_range", lambda *args: {})
    whole, result = records(project_file, ["handled"], **RANGE)
    assert result.datasets[0].rows_read == 5
    assert pushed == whole == {("handled", "2026-W10"): (2.0, 2)}


def test_a_repeat_window_still_sees_rows_after_the_range(make):
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": calls()})
    values, result = records(project_file, ["handled", "fcr_repeat"], **RANGE)
    assert result.datasets[0].rows_read == 5  # fcr_repeat needs the whole dataset
    # c2 (k1): no later k1 contact; c3 (k2) is repeated by c4 one second later; c2's
    # window ends by the horizon (2026-03-20), c3's too
    assert values[("fcr_repeat", "2026-W10")] == (50.0, 2)


def test_a_bad_row_outside_the_range_does_not_stop_a_run_that_does_not_read_it(make):
    bad = calls("c6,2026-04-02 10:00:00,k9,maybe,3\n")
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": bad})
    values, _ = records(project_file, ["handled"], **RANGE)
    assert values == {("handled", "2026-W10"): (2.0, 2)}
    with pytest.raises(DataError):  # the whole dataset is read: the bad row is reported
        records(project_file, ["handled", "fcr_repeat"], **RANGE)
    with pytest.raises(DataError):  # no range: every row is read
        records(project_file, ["handled"], period="week")


def test_a_row_with_an_unreadable_time_is_always_reported(make):
    bad = calls("c6,sometime,k9,Y,3\n")
    project_file = make.project(PROJECT, metrics=METRICS, files={"calls.csv": bad})
    with pytest.raises(DataError) as caught:
        records(project_file, ["handled"], **RANGE)
    assert caught.value.issues[0].line == 7
