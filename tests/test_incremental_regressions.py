"""Two ways an incremental run went wrong after the output was copied from the records
cache (issue 21 item 3; found in review, both passed every other test):

- a weekly run deleted its own holds on the last run's records as stale, because a hold
  is a hard link and had the records' own times (a week old), then failed to read them;
- an old file changed 10 to 16 weeks back left a series' summary with fewer recent
  periods than the context needs, which gave other trends and slopes than a full run (or
  crashed when none was left)."""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from test_incremental import same_records
from tpmkit import project as api

METRICS = {
    "offered": "compute: {kind: count}\nunit: count\ndirection: higher_is_better\n",
    "asa": (
        "compute: {kind: mean, expr: wait_seconds, where: answered}\nunit: seconds\n"
        "direction: lower_is_better\n"
    ),
    "fcr": (
        "compute: {kind: no_repeat_within, where: answered, key: customer_id, "
        "window_days: 10}\nunit: percent\ndirection: higher_is_better\n"
    ),
}
HEAD = "contact_id,offered_at,customer_id,answered,wait_seconds,agent_id\n"
START = dt.datetime(2026, 1, 5, 9)


def write_weeks(project: Path, weeks: range) -> None:
    """60 calls a week over 26 agents and 81 customers, one CSV file a week."""
    for week in weeks:
        pick = random.Random(week)
        rows = []
        for i in range(60):
            at = START + dt.timedelta(weeks=week, minutes=pick.randint(0, 7 * 24 * 60 - 1))
            answered = "Y" if pick.random() < 0.9 else "N"
            rows.append(
                f"w{week}-{i},{at:%Y-%m-%d %H:%M:%S},K{pick.randint(0, 80)},{answered},"
                f"{pick.randint(1, 300)},a{pick.randint(0, 25)}\n"
            )
        (project / "calls" / f"{week:02d}.csv").write_text(HEAD + "".join(rows))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "calls").mkdir()
    for name, body in METRICS.items():
        (tmp_path / "metrics" / f"{name}.yaml").write_text(
            f"id: {name}\nname: {name}\ndataset: calls\n{body}"
        )
    path = tmp_path / "tpmkit.yaml"
    path.write_text(
        "name: W\ntimezone: Europe/Berlin\nmetrics: [metrics/]\n"
        'sources:\n  calls: {path: "calls/*.csv"}\n'
    )
    return path


def evaluate(project: Path, cache: bool = True, by: str | None = None) -> pl.DataFrame:
    return api.load(project).evaluate(period="week", by=by, cache=cache).records


def test_a_weekly_run_keeps_its_holds_on_records_a_week_old(project):
    write_weeks(project.parent, range(12))
    evaluate(project, by="agent_id")  # fills the records cache
    week_ago = time.time() - 8 * 86_400  # the cache's files as a weekly cron finds them
    for file in (project.parent / ".tpmkit").rglob("*"):
        if file.is_file():
            os.utime(file, (week_ago, week_ago))
    write_weeks(project.parent, range(12, 13))
    for _ in range(2):  # and again the week after: nothing was left broken
        records = evaluate(project, by="agent_id")
        full = evaluate(project, cache=False, by="agent_id")
        assert_frame_equal(records, full, check_exact=False, rel_tol=1e-9)
    finished = project.parent / ".tpmkit" / "cache" / "records"
    assert not list(finished.rglob(".*.held"))  # released once read


@pytest.mark.parametrize("weeks_back", [13, 12, 11, 9])
def test_an_old_file_changed_far_back_gives_a_full_runs_records(project, weeks_back):
    write_weeks(project.parent, range(31))
    evaluate(project)  # fills the records cache: 31 weeks
    changed = project.parent / "calls" / f"{31 - weeks_back:02d}.csv"
    lines = changed.read_text().splitlines(keepends=True)
    cells = lines[4].split(",")
    cells[4] = "299"  # one call's wait
    lines[4] = ",".join(cells)
    changed.write_text("".join(lines))
    same_records(evaluate(project), evaluate(project, cache=False))


def test_evaluation_records_is_still_a_plain_field(project):
    """`Evaluation(records=…)`, `dataclasses.replace` and assignment work as before the
    records could stay in the cache; held records are read once, on first use."""
    import dataclasses

    from tpmkit.records import Evaluation
    from tpmkit.stitched import Stitched

    frame = pl.DataFrame({"metric": ["aht"], "value": [1.0]})
    evaluation = Evaluation(records=frame)
    assert evaluation.records is frame and evaluation.held is frame
    other = dataclasses.replace(evaluation, records=frame.with_columns(pl.lit(2.0).alias("value")))
    assert other.records.item(0, "value") == 2.0 and evaluation.records.item(0, "value") == 1.0
    write_weeks(project.parent, range(9))
    evaluate(project)
    write_weeks(project.parent, range(9, 10))
    held = api.load(project).evaluate(period="week")
    assert isinstance(held.held, Stitched)
    records = held.records  # read now, kept
    assert held.records is records and held.held is records
    same_records(records, evaluate(project, cache=False))
