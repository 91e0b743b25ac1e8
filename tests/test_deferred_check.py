"""A small Parquet dataset's rule flags are left to the first metric pass over all its rows
(`data.stream.check(defer=True)`, `engine.compute.Input.check`): a clean export gives the
records computed by hand; a broken rule, a row the pass does not see (no time) or a
dataset no such pass reads still ends in the located error or the quarantine, as if
the load had looked at the flags itself."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest

from conftest import ProjectFactory, by_key, evaluate_records
from tpmkit.engine import compute
from tpmkit.errors import DataError

PROJECT = """
name: Deferred
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.parquet}
"""
COUNT = """
id: offered
name: Offered
unit: count
dataset: calls
compute: {kind: count}
"""
WAIT = """
id: wait
name: Wait
unit: seconds
dataset: calls
compute: {kind: mean, expr: wait_seconds}
"""
# a pass over another time column: it does not see the rows without an answer
ANSWERED = """
id: answered_count
name: Answered
unit: count
dataset: calls
time_column: answered_at
compute: {kind: count}
"""
UTC = dt.UTC


def calls(**changes: list[object]) -> bytes:
    """Four calls in ISO week 2026-W02, three answered."""
    data: dict[str, list[object]] = {
        "contact_id": ["C1", "C2", "C3", "C4"],
        "offered_at": [dt.datetime(2026, 1, 5, h, tzinfo=UTC) for h in (8, 9, 10, 11)],
        "answered_at": [dt.datetime(2026, 1, 5, h, 1, tzinfo=UTC) for h in (8, 9, 10)] + [None],
        "agent_id": ["A1", "A1", "A2", "A2"],
        "answered": [True, True, True, False],
        "wait_seconds": [10.0, 30.0, 20.0, 40.0],
    }
    data.update(changes)
    buffer = io.BytesIO()
    pl.DataFrame(data).write_parquet(buffer)
    return buffer.getvalue()


def project(make: ProjectFactory, data: bytes, metrics: dict[str, str] | None = None) -> Path:
    chosen = metrics or {"offered": COUNT, "wait": WAIT}
    return make.project(PROJECT, metrics=chosen, files={"calls.parquet": data})


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The datasets whose deferred flags were looked at (and by which way: a pass or a
    query of its own), as `compute._verify` saw them."""
    seen: list[str] = []
    real = compute._verify

    def spy(name: str, check: tuple[str, int], found: pl.DataFrame) -> None:
        seen.append(name)
        real(name, check, found)

    monkeypatch.setattr(compute, "_verify", spy)
    return seen


def test_a_clean_export_is_checked_by_its_first_pass(make: ProjectFactory, verified: list[str]):
    records = by_key(
        evaluate_records(project(make, calls()), cache=False, by=["agent_id"]), "agent_id"
    )
    assert verified == ["calls"]  # the flags were left to the pass, which found none up
    assert records[("offered", "2026-W02", "A1")]["value"] == 2
    assert records[("wait", "2026-W02", "A1")]["value"] == 20.0  # (10 + 30) / 2
    assert records[("wait", "2026-W02", "A2")]["value"] == 30.0  # (20 + 40) / 2


def test_a_broken_rule_is_the_located_error_all_the_same(make: ProjectFactory, verified: list[str]):
    bad = project(make, calls(wait_seconds=[10.0, -5.0, 20.0, 40.0]))
    with pytest.raises(DataError) as raised:
        evaluate_records(bad, cache=False)
    assert verified == ["calls"]  # the pass saw the flag: the load checked again
    issue = raised.value.issues[0]
    assert str(issue.file).endswith("calls.parquet")
    assert "row 2 (contact_id C2), column `wait_seconds`: negative duration" in issue.message


def test_quarantine_leaves_out_the_bad_row(make: ProjectFactory, tmp_path: Path):
    bad = project(make, calls(wait_seconds=[10.0, -5.0, 20.0, 40.0]))
    rejects = tmp_path / "rejects"
    records = evaluate_records(bad, cache=False, on_bad_rows="quarantine", rejects_dir=rejects)
    index = by_key(records)
    assert index[("offered", "2026-W02")]["value"] == 3  # C2 left out
    assert index[("wait", "2026-W02")]["value"] == pytest.approx((10 + 20 + 40) / 3)
    assert {r["quarantined"] for r in records} == {1}
    assert any(rejects.iterdir())


def test_a_row_the_pass_does_not_see_is_still_checked(make: ProjectFactory, verified: list[str]):
    # a call without its required time: the pass groups rows by time and never sees it, so
    # its count falls short of the rows read and the load checks the whole way
    when = [dt.datetime(2026, 1, 5, h, tzinfo=UTC) for h in (8, 9, 10)] + [None]
    with pytest.raises(DataError) as raised:
        evaluate_records(project(make, calls(offered_at=when)), cache=False)
    assert verified == ["calls"]
    assert "row 4 (contact_id C4), column `offered_at`" in raised.value.issues[0].message


def test_flags_no_pass_reads_are_looked_at_by_a_query_of_their_own(
    make: ProjectFactory, verified: list[str]
):
    # the only pass groups by `answered_at` (C4 has none): the flags get a query alone
    clean = project(make, calls(), {"answered": ANSWERED})
    index = by_key(evaluate_records(clean, cache=False))
    assert verified == ["calls"]
    assert index[("answered_count", "2026-W02")]["value"] == 3
    verified.clear()
    broken = project(
        make, calls(wait_seconds=[10.0, 30.0, float("nan"), 40.0]), {"answered": ANSWERED}
    )
    with pytest.raises(DataError) as raised:
        evaluate_records(broken, cache=False)
    assert verified == ["calls"]
    assert "row 3 (contact_id C3), column `wait_seconds`" in raised.value.issues[0].message


def test_a_selected_range_checks_in_the_load(make: ProjectFactory, verified: list[str]):
    # rows outside the range are cut before the pass groups them: nothing is deferred
    records = evaluate_records(
        project(make, calls()), cache=False, start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 11)
    )
    assert verified == []
    assert by_key(records)[("offered", "2026-W02")]["value"] == 4


def test_the_ids_own_rule_is_checked_beside_its_hashes(make: ProjectFactory, verified: list[str]):
    # an empty id breaks the id's own rule: the load sees it with the hashes of the ids
    # (which read the id anyway), before any pass, and names it
    with pytest.raises(DataError) as raised:
        evaluate_records(project(make, calls(contact_id=["C1", "", "C3", "C4"])), cache=False)
    assert verified == []
    assert "row 2" in raised.value.issues[0].message
    assert "contact_id" in raised.value.issues[0].message


REPEAT = """
id: repeat_free
name: No repeat within a day
unit: percent
dataset: calls
compute: {kind: no_repeat_within, key: agent_id, window_days: 1}
"""


def test_a_repeat_window_cut_in_time_slices_never_carries_the_flags(
    make: ProjectFactory, monkeypatch: pytest.MonkeyPatch, verified: list[str]
):
    # A repeat window has a pass of its own, which is cut into time slices above
    # `slices.SLICE_ROWS` rows (here 2), and slices carry no flags: such a pass must never
    # be the one to look at them. With the wait averaged over `answered_at`, no pass over
    # the calls' own time column is left, so the flags get a query of their own, which
    # finds the broken wait — not a mean of 10, -5 and 20.
    from tpmkit.engine import slices

    monkeypatch.setattr(slices, "SLICE_ROWS", 2)
    wait = WAIT + "time_column: answered_at\n"
    bad = project(
        make, calls(wait_seconds=[10.0, -5.0, 20.0, 40.0]), {"wait": wait, "repeat": REPEAT}
    )
    with pytest.raises(DataError) as raised:
        evaluate_records(bad, cache=False, period="day")
    assert verified == ["calls"]
    assert "row 2 (contact_id C2), column `wait_seconds`: negative duration" in str(
        raised.value.issues[0].message
    )
