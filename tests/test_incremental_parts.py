"""Incremental runs, whole-dataset metrics (issue 21 item 3): time to proficiency and the
backlog stock come from parts cached per export file (`tpmkit.increment.parts`), so an
incremental run reads only the files without parts — yet every cell equals a full run's,
and a changed old file is never served stale."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from test_incremental import same_records as _same
from tpmkit import project as api

PROJECT = """
name: Weekly exports with a roster
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: "calls/*.csv"}
  tickets: {path: "tickets/*.csv"}
  agents: {path: agents.csv}
"""
METRICS = {
    "ttp": "id: ttp\nname: Time to proficiency\nunit: weeks\ndirection: lower_is_better\n"
    "dataset: calls\ncompute: {kind: time_to_proficiency, expr: talk_seconds, at: offered_at, "
    "min_contacts: 2}\n",
    "offered": "id: offered\nname: Offered\nunit: count\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: count}\n",
    "backlog": "id: backlog\nname: Backlog\nunit: count\ndirection: lower_is_better\n"
    "dataset: tickets\ncompute: {kind: open_at_period_end, opened: created_at, "
    "closed: resolved_at, horizon: [created_at, resolved_at]}\n",
    "created": "id: created\nname: Tickets created\nunit: count\ndirection: lower_is_better\n"
    "dataset: tickets\ncompute: {kind: count}\n",
}
# v1 a veteran; n1, n2, n3 hired in W10 (weeks start on Monday: W10 = 2 March 2026, W11 =
# 9 March, W12 = 16 March, W13 = 23 March); the team's median of the per-agent means is
# 200 s in W10-W12 (100, 300, 100, 300) and 100 s in W13 (100, 100, 100, 300)
ROSTER = (
    "agent_id,team,hire_date\nv1,A,2020-01-01\nn1,A,2026-03-02\nn2,A,2026-03-03\nn3,A,2026-03-04\n"
)
HEADER = "contact_id,offered_at,wait_seconds,answered,talk_seconds,agent_id\n"
TALK = {"v1": 100, "n1": 300, "n2": 100, "n3": 300}  # n1 reaches 100 in W13


def week_of_calls(week: int, monday: int, talk: dict[str, int]) -> str:
    """Two calls per agent on the Monday and Tuesday of ISO week `week` (March `monday`)."""
    return "".join(
        f"{agent}-{week}-{i},2026-03-{monday + i:02d} {9 + i}:00:00,5,Y,{seconds},{agent}\n"
        for agent, seconds in talk.items()
        for i in range(2)
    )


CALLS = {f"calls/2026-W{w}.csv": week_of_calls(w, d, TALK) for w, d in ((10, 2), (11, 9), (12, 16))}
NEW_CALLS = ("calls/2026-W13.csv", week_of_calls(13, 23, {**TALK, "n1": 100}))
TICKET_HEADER = "ticket_id,created_at,resolved_at,agent_id\n"
TICKETS = {
    "tickets/2026-W10.csv": "t1,2026-03-02 10:00:00,2026-03-10 10:00:00,v1\n"
    "t2,2026-03-05 10:00:00,,v1\n",
    # t3 is resolved in W13, the week added: until then the latest time in the data
    "tickets/2026-W11.csv": "t3,2026-03-11 10:00:00,2026-03-24 10:00:00,n1\n",
    "tickets/2026-W12.csv": "t4,2026-03-18 10:00:00,,n2\n",
}
NEW_TICKETS = ("tickets/2026-W13.csv", "t5,2026-03-23 10:00:00,2026-03-31 10:00:00,n3\n")


@pytest.fixture
def weekly(make):
    files = {name: HEADER + rows for name, rows in CALLS.items()}
    files.update({name: TICKET_HEADER + rows for name, rows in TICKETS.items()})
    files["agents.csv"] = ROSTER
    return make.project(PROJECT, metrics=METRICS, files=files)


def run(project: Path, cache: bool = True, steps: list[str] | None = None, by=()):
    return api.load(project).evaluate(
        period="week",
        by=list(by),
        cache=cache,
        progress=(steps.append if steps is not None else None),
    )


def same_records(ours: pl.DataFrame, full: pl.DataFrame) -> None:
    """Every column equal (floats to 1e-9 relative), records matched by metric, period and
    group (an agent as well as a team)."""
    if "agent_id" in full.columns:
        ours, full = ours.rename({"agent_id": "team"}), full.rename({"agent_id": "team"})
    _same(ours, full)


def values(result) -> dict[tuple[str, str], tuple[float | None, int]]:
    return {(r["metric"], r["period"]): (r["value"], r["n"]) for r in result.records.to_dicts()}


def add(project: Path, name: str, rows: str, header: str) -> None:
    (project.parent / name).write_text(header + rows)


def test_a_cohort_proficient_in_the_new_week_and_a_ticket_resolved_in_it(weekly, monkeypatch):
    from tpmkit.increment import finishing

    found: list[set[str]] = []
    real = finishing.stable
    monkeypatch.setattr(finishing, "stable", lambda *a: found.append(real(*a)) or found[-1])
    first = values(run(weekly))
    # W10 cohort: n2 proficient in W10 (100 <= 200), done 9 March: 6/7 weeks; n1 and n3
    # censored at the end of W12: 2 of 3 censored, so no value
    assert first[("ttp", "2026-W10")] == (None, 3)
    # horizon 24 March 10:00 (t3's resolution): W10 t1 t2; W11 t2 t3; W12 t2 t3 t4
    assert first[("backlog", "2026-W10")] == (2.0, 2)
    assert first[("backlog", "2026-W11")] == (2.0, 2)
    assert first[("backlog", "2026-W12")] == (3.0, 3)
    assert ("backlog", "2026-W13") not in first

    add(weekly, *NEW_CALLS, HEADER)
    add(weekly, *NEW_TICKETS, TICKET_HEADER)
    steps: list[str] = []
    got = run(weekly, steps=steps)
    same_records(got.records, run(weekly, cache=False).records)
    new = values(got)
    # n1 proficient in W13 (100 <= 100), done 30 March: (30 - 2) / 7 = 4 weeks; n3
    # censored at 26/7. Kaplan–Meier: S = 2/3 after 6/7 (n2), then 0 at 4 (n1, the
    # only one still at risk): the median is 4 weeks, 1 of 3 censored
    assert new[("ttp", "2026-W10")] == (4.0, 3)
    # horizon 31 March: W13 is t2, t4, t5 (t3, from the W11 file, resolved on 24 March)
    assert new[("backlog", "2026-W13")] == (3.0, 3)
    assert new[("backlog", "2026-W12")] == (3.0, 3)
    # the backlog's cells before the first recomputed week (W12) are the last run's: its
    # records there are served; the W10 cohort's changed: time to proficiency is finished
    # whole
    assert found == [{"backlog"}]
    # neither dataset was read whole: the old weeks came from their parts
    assert steps.count("reading calls") == 1
    assert steps.count("reading tickets") == 1
    assert "records cache: reading 2 of 4 files of calls" in steps
    assert "records cache: reading 2 of 4 files of tickets" in steps


@pytest.mark.parametrize("by", [(), ("team",), ("agent_id",)])
def test_each_grouping_equals_a_full_run(weekly, by):
    run(weekly, by=by)
    add(weekly, *NEW_CALLS, HEADER)
    add(weekly, *NEW_TICKETS, TICKET_HEADER)
    same_records(run(weekly, by=by).records, run(weekly, cache=False, by=by).records)
    same_records(run(weekly, by=by).records, run(weekly, cache=False, by=by).records)


def test_a_changed_old_file_is_never_served_from_its_parts(weekly):
    add(weekly, *NEW_CALLS, HEADER)
    assert values(run(weekly))[("ttp", "2026-W10")] == (4.0, 3)
    old = weekly.parent / "calls/2026-W10.csv"
    before = old.stat()
    text = old.read_text()
    # n2's W10 talk 100 -> 300, same size, same modification time: W10's median is now
    # 300 and every new hire is proficient in W10 (done 9 March): n1 1, n2 6/7, n3 5/7
    # weeks; S = 2/3 at 5/7, 1/3 at 6/7: the median is 6/7
    old.write_text(text.replace("2026-03-02 9:00:00,5,Y,100,n2", "2026-03-02 9:00:00,5,Y,300,n2"))
    old.write_text(
        old.read_text().replace("2026-03-03 10:00:00,5,Y,100,n2", "2026-03-03 10:00:00,5,Y,300,n2")
    )
    os.utime(old, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert old.stat().st_size == before.st_size
    got = run(weekly)
    value, n = values(got)[("ttp", "2026-W10")]
    assert n == 3 and value == pytest.approx(6 / 7)
    same_records(got.records, run(weekly, cache=False).records)


def test_a_removed_file_leaves_the_parts_and_the_records(weekly):
    add(weekly, *NEW_CALLS, HEADER)
    run(weekly)
    (weekly.parent / "calls/2026-W13.csv").unlink()
    got = run(weekly)
    assert values(got)[("ttp", "2026-W10")] == (None, 3)  # as before the week was added
    same_records(got.records, run(weekly, cache=False).records)
    stored = {p.name.split(".")[0] for p in (parts_folder(weekly) / "ttp").glob("*.parquet")}
    assert len(stored) == 3  # one key per file still there: the removed file's are gone


def parts_folder(project: Path) -> Path:
    return next((project.parent / ".tpmkit/cache/records").glob("*/parts"))


def test_a_week_split_over_files_and_overlapping_files(weekly):
    # W13 in two files (Monday; Tuesday): their sums and counts add up to the week's
    lines = NEW_CALLS[1].splitlines(keepends=True)
    monday = "".join(line for line in lines if "-03-23 " in line)
    tuesday = "".join(line for line in lines if "-03-24 " in line)
    add(weekly, "calls/2026-W13a.csv", monday, HEADER)
    add(weekly, "calls/2026-W13b.csv", tuesday, HEADER)
    got = run(weekly)
    assert values(got)[("ttp", "2026-W10")] == (4.0, 3)
    same_records(got.records, run(weekly, cache=False).records)
    # a late export overlapping the others' spans (a re-sent Monday of W11): its rows cannot
    # be told apart from the others' by time, so it is read on its own
    late = "".join(f"late-{a},2026-03-09 18:00:00,5,Y,{TALK[a]},{a}\n" for a in TALK)
    add(weekly, "calls/late.csv", late, HEADER)
    got = run(weekly, by=("team",))
    same_records(got.records, run(weekly, cache=False, by=("team",)).records)
    got = run(weekly)
    same_records(got.records, run(weekly, cache=False).records)


def test_unreadable_parts_are_recomputed(weekly):
    run(weekly)
    for path in parts_folder(weekly).glob("*/*.parquet"):
        path.write_bytes(b"not parquet")
    add(weekly, *NEW_CALLS, HEADER)
    got = run(weekly)
    assert values(got)[("ttp", "2026-W10")] == (4.0, 3)
    same_records(got.records, run(weekly, cache=False).records)


def test_parts_are_kept_per_file_and_piece(weekly):
    run(weekly)
    folder = parts_folder(weekly)
    ttp = sorted(p.name.split(".", 1)[1] for p in (folder / "ttp").glob("*.parquet"))
    assert ttp == sorted(["first.parquet", "groups.parquet", "own.parquet", "weeks.parquet"] * 3)
    # the W10 file's weeks: per agent and week the sum and count of the talk time
    weeks = pl.concat(
        [pl.read_parquet(p) for p in (folder / "ttp").glob("*.weeks.parquet")]
    ).filter(pl.col("agent_id") == "n1")
    assert sorted(weeks.select("__sum", "__rows").rows()) == [(600, 2)] * 3


def test_a_metric_finished_whole_is_compared_with_its_records_next_time(weekly, monkeypatch):
    """The whole-dataset metrics' cells before the first recomputed week are compared by
    fingerprints kept in the state (round 9), not by reading the last run's records back.
    A metric finished whole (its old cells changed: the W10 cohort in W13) is stored
    whole, with its cells' fingerprints: the older segments' records of it (W10: no
    value) are served no more, and the next run compares its cells by fingerprints too:
    unchanged before W14 (the W14 calls change only W14 on), its records there are the
    stored ones, no longer finished whole run after run until a compaction. (Until
    round 11 it got no fingerprint and was compared with its stitched records, which an
    old file changed and then changed back fooled: tests/test_incremental_revert.py.)"""
    from tpmkit.increment import fingerprints, finishing

    found: list[set[str]] = []
    real = finishing.stable
    monkeypatch.setattr(finishing, "stable", lambda *a: found.append(real(*a)) or found[-1])
    read: list[str] = []
    real_collect = finishing._collect

    def collect(frame):  # the last run's records read to compare cells with (with `n`)
        if "n" in frame.collect_schema().names():
            read.append("records")
        return real_collect(frame)

    run(weekly)
    add(weekly, *NEW_CALLS, HEADER)
    add(weekly, *NEW_TICKETS, TICKET_HEADER)
    monkeypatch.setattr(finishing, "_collect", collect)
    run(weekly)
    assert found == [{"backlog"}] and read == []  # both by fingerprints (the first run's)
    state = next((weekly.parent / ".tpmkit").rglob("state.json")).read_text()
    stored = __import__("json").loads(state)["finished"][fingerprints.STATE]
    assert set(stored) == {"backlog", "ttp"}  # ttp finished whole: its cells' prints
    add(weekly, "calls/2026-W14.csv", week_of_calls(14, 30, {**TALK, "n1": 100}), HEADER)
    got = run(weekly)
    same_records(got.records, run(weekly, cache=False).records)
    assert values(got)[("ttp", "2026-W10")] == (4.0, 3)
    assert found[-1] == {"backlog", "ttp"} and read == []  # ttp by its prints: the same


def test_the_new_files_parts_alone_equal_those_made_with_every_file(weekly):
    """A weekly run reads some old files beside the new one (a repeat window, a horizon),
    but computes parts for the new one only: they equal those a first run makes from
    every file at once."""
    run(weekly)
    add(weekly, *NEW_CALLS, HEADER)
    add(weekly, *NEW_TICKETS, TICKET_HEADER)
    steps: list[str] = []
    got = run(weekly, steps=steps)
    # more tickets files read than the new one (t3's resolution moves the horizon back)
    [read] = [s for s in steps if s.startswith("records cache: reading") and "tickets" in s]
    assert read.split()[3] != "1", read
    same_records(got.records, run(weekly, cache=False).records)

    def pieces() -> dict[str, pl.DataFrame]:
        return {
            f"{p.parent.name}/{p.name}": pl.read_parquet(p)
            for p in parts_folder(weekly).glob("*/*.parquet")
        }

    weekly_run = pieces()
    shutil.rmtree(weekly.parent / ".tpmkit/cache/records")
    run(weekly)  # a first run: every file's parts from every file
    first_run = pieces()
    assert weekly_run.keys() == first_run.keys() and len(first_run) == 4 * 4 * 2
    for name, frame in first_run.items():  # the same rows (a group's order is free)
        ours = weekly_run[name]
        assert ours.sort(ours.columns).equals(frame.sort(frame.columns)), name
