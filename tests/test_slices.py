"""The repeat-contact window cut into time slices (engine/slices.py) gives exactly the cells
of the whole-dataset pass: a repeat just after a slice's end is still seen, and whether a
row's window has passed is judged against the whole dataset's latest time."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tpmkit.engine.slices as slices
from conftest import REPO, by_key, evaluate_records
from tpmkit import project as api

# Berlin times; weeks start on Monday 2026-01-05, 01-12, 01-19, 01-26
CALLS = """\
contact_id,offered_at,agent_id,customer_id,answered,wait_seconds
c1,2026-01-05 10:00:00,a1,B,Y,5
c2,2026-01-11 20:00:00,a1,A,Y,5
c3,2026-01-12 09:00:00,a1,A,Y,5
c4,2026-01-13 09:00:00,a1,C,Y,5
c5,2026-01-21 09:00:00,a1,C,Y,5
c6,2026-01-28 09:00:00,a1,D,Y,5
"""

PROJECT = """
name: Slices
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "calls.csv").write_text(CALLS)
    (tmp_path / "tpmkit.yaml").write_text(PROJECT)
    return tmp_path / "tpmkit.yaml"


def fcr(project: Path) -> dict[tuple[str, ...], dict[str, object]]:
    records = evaluate_records(project, ["fcr_repeat"], period="week", cache=False)
    return by_key(records)


def test_a_repeat_across_a_slice_boundary_is_counted(project, monkeypatch):
    whole = fcr(project)
    monkeypatch.setattr(slices, "SLICE_ROWS", 1)  # six rows: a slice a week
    windows = []
    original = slices.sliced

    def spy(*args, **kwargs):
        cells = args[-1]
        args = (
            *args[:-1],
            lambda rows, window, exact: windows.append(window) or cells(rows, window, exact),
        )
        return original(*args, **kwargs)

    monkeypatch.setattr(slices, "sliced", spy)
    cut = fcr(project)
    assert len(windows) == 4  # four weeks, four slices
    assert cut == whole
    # by hand, 7-day window, latest contact 01-28 09:00: rows up to 01-21 09:00 observable
    # W02: c1 (B, no repeat) kept, c2 (A, repeated by c3 the next week, in the next slice)
    week2 = cut[("fcr_repeat", "2026-W02")]
    assert (week2["numerator"], week2["denominator"], week2["value"]) == (1.0, 2.0, 50.0)
    # W03: c3 kept (A has no later contact), c4 repeated by c5 8 days later? no: 01-13 to
    # 01-21 is 8 days, beyond the window: kept
    week3 = cut[("fcr_repeat", "2026-W03")]
    assert (week3["numerator"], week3["denominator"]) == (2.0, 2.0)
    # W04: c5's window ends 01-28 09:00, the latest time of the whole data, not of its slice
    week4 = cut[("fcr_repeat", "2026-W04")]
    assert (week4["numerator"], week4["denominator"]) == (1.0, 1.0)


def test_the_example_gives_the_same_records_sliced(monkeypatch):
    loaded = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    options = {"by": ["team"], "period": "week", "cache": False}
    whole = loaded.evaluate(["fcr_repeat"], **options).records
    monkeypatch.setattr(slices, "SLICE_ROWS", 2_000)  # some twelve slices of a week
    cut = loaded.evaluate(["fcr_repeat"], **options).records
    assert_frame_equal(whole, cut)
    assert whole.filter(pl.col("value").is_not_null()).height > 20


# Spring DST in Berlin: Sun 2026-03-29 02:00 -> 03:00. K1 calls Sun 22 Mar 23:30 CET and
# again Thu 2 Apr 00:15 CEST: 9 days 23 h 45 min later (elapsed), inside a 10-day window.
DST_CALLS = """\
contact_id,offered_at,agent_id,customer_id,answered,wait_seconds
k1,2026-03-22 23:30:00,a1,K1,Y,5
k2,2026-04-02 00:15:00,a1,K1,Y,5
f1,2026-03-20 10:00:00,a1,F1,Y,5
f2,2026-04-20 10:00:00,a1,F2,Y,5
"""
DST_FCR = (
    "id: fcr\nname: FCR\nunit: percent\ndirection: higher_is_better\ndataset: calls\n"
    "compute: {kind: no_repeat_within, where: answered, key: customer_id, window_days: 10}\n"
)


def test_a_slice_reaches_its_window_in_elapsed_time_across_spring_dst(make, monkeypatch):
    # the slice of W12 (16-22 Mar) keeps rows up to its end + 10 days; added to a zoned
    # datetime that was wall-clock time, an hour short across the spring change, so k2 was
    # cut off and k1 counted as resolved (review, 2026-12-01)
    path = make.project(
        PROJECT.replace("[builtin]", "[metrics/]"),
        metrics={"fcr": DST_FCR},
        files={"calls.csv": DST_CALLS},
    )
    whole = by_key(evaluate_records(path, ["fcr"], period="week", cache=False))
    monkeypatch.setattr(slices, "SLICE_ROWS", 1)  # a slice a week
    cut = by_key(evaluate_records(path, ["fcr"], period="week", cache=False))
    week12 = cut[("fcr", "2026-W12")]
    # by hand: f1 (no repeat) resolved, k1 repeated by k2 within 10 days: 1 of 2
    assert (week12["numerator"], week12["denominator"], week12["value"]) == (1.0, 2.0, 50.0)
    assert cut == whole
