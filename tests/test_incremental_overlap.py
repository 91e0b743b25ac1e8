"""An incremental run computes the cells of the periods it recomputes on a thread of its
own, beside the whole-dataset metrics' cells and the reading of the last run's records
(issue 21 item 3: they do not depend on each other; polars lets go of Python's lock).
The records are a full run's, and an error of either is still a located error — the
recomputed cells' first, as when they were computed before the rest."""

from __future__ import annotations

import threading

import pytest

from test_incremental import (
    CALLS,
    HEADER,
    METRICS,
    NEW_TICKETS,
    NEW_WEEK,
    PROJECT,
    TICKET_HEADER,
    TICKETS,
    add,
    run,
    same_records,
    values,
)
from tpmkit.errors import DefinitionError
from tpmkit.increment import run as increment_run


@pytest.fixture
def weekly(make):
    files = {name: HEADER + rows for name, rows in CALLS.items()}
    files.update({name: TICKET_HEADER + rows for name, rows in TICKETS.items()})
    return make.project(PROJECT, metrics=METRICS, files=files)


def test_the_recomputed_cells_are_computed_beside_the_whole_ones(weekly, monkeypatch):
    run(weekly)
    add(weekly, *NEW_WEEK)
    add(weekly, *NEW_TICKETS, header=TICKET_HEADER)
    threads: dict[str, set[str]] = {"fresh": set(), "whole": set()}
    plain, whole = increment_run.compute_cells, increment_run._whole_cells

    def fresh_cells(*args, **kwargs):
        if "asa" in args[-1]:  # `only`: the cacheable metrics (else: whole-dataset ones)
            threads["fresh"].add(threading.current_thread().name)
        return plain(*args, **kwargs)

    def whole_cells(*args, **kwargs):
        threads["whole"].add(threading.current_thread().name)
        return whole(*args, **kwargs)

    monkeypatch.setattr(increment_run, "compute_cells", fresh_cells)
    monkeypatch.setattr(increment_run, "_whole_cells", whole_cells)
    got = run(weekly)
    main = threading.main_thread().name
    assert threads["whole"] == {main}  # the backlog: every tickets file
    assert threads["fresh"] and all(n.startswith("tpmkit-fresh") for n in threads["fresh"])
    monkeypatch.undo()
    same_records(got.records, run(weekly, cache=False).records)
    assert values(got)[("asa", "2026-W13")] == (75.0, 2)  # (70 + 80) / 2
    assert values(got)[("backlog", "2026-W12")] == (2.0, 2)  # t2, t4


def _break(project, metric: str, old: str, new: str) -> None:
    path = project.parent / f"metrics/{metric}.yaml"
    path.write_text(path.read_text().replace(old, new))


def test_a_recomputed_cell_that_cannot_be_computed_is_a_located_error(weekly):
    run(weekly)
    add(weekly, *NEW_WEEK)
    _break(weekly, "asa", "expr: wait_seconds", "expr: customer_id")  # a mean of text
    with pytest.raises(DefinitionError) as cached:
        run(weekly)
    with pytest.raises(DefinitionError) as full:
        run(weekly, cache=False)
    # located as on a full run (the data's complaint quotes the values of the rows read)
    [issue] = cached.value.issues
    [expected] = full.value.issues
    assert "metric `asa` cannot be computed" in issue.message
    assert (issue.file, issue.line, issue.column) == (expected.file, expected.line, expected.column)
    assert issue.file is not None and issue.file.endswith("asa.yaml")


def test_when_both_fail_the_recomputed_cells_error_is_the_one_raised(weekly):
    run(weekly)
    add(weekly, *NEW_WEEK)
    _break(weekly, "asa", "expr: wait_seconds", "expr: customer_id")
    # the backlog (every tickets file, on the main thread) fails too: a where of text (a
    # polars error a full run does not locate either: engine/kinds/open_at_period_end)
    _break(weekly, "backlog", "horizon:", "where: ticket_id, horizon:")
    with pytest.raises(DefinitionError) as cached:
        run(weekly)
    messages = [i.message for i in cached.value.issues]
    assert any("metric `asa` cannot be computed" in m for m in messages), messages
    assert not any("backlog" in m for m in messages), messages


def test_a_file_the_id_check_adds_is_read_beside_the_others(weekly, monkeypatch):
    """The check of ids shared with unread files runs beside the reads (`planner._shared`);
    a file it finds is read with the others before any cell is computed. Here it is made
    to find W10's file (a real shared id is a located error: test_incremental)."""
    from tpmkit.increment import planner
    from tpmkit.increment.session import Session

    run(weekly)
    add(weekly, *NEW_WEEK)
    real, widen = planner._shared, Session.widen
    grown: list[set[str]] = []

    def shared(parts):
        found = real(parts)
        for part in parts:
            if part.name == "calls":
                found["calls"] = {p for p in part.files if p.name == "2026-W10.csv"}
        return found

    def widened(session):
        grown.append(widen(session))
        return grown[-1]

    monkeypatch.setattr(planner, "_shared", shared)
    monkeypatch.setattr(Session, "widen", widened)
    steps: list[str] = []
    got = run(weekly, steps=steps)
    monkeypatch.undo()
    assert grown == [{"calls"}]
    assert "records cache: reading 3 of 4 files of calls" in steps  # before the check
    full = run(weekly, cache=False)
    same_records(got.records, full.records)
    assert values(got)[("asa", "2026-W13")] == (75.0, 2)
    calls = next(d for d in got.datasets if d.name == "calls")
    assert calls == next(d for d in full.datasets if d.name == "calls")  # every file's rows


@pytest.mark.parametrize("harm", ["removed", "broken"])
def test_id_hashes_that_cannot_be_read_mean_every_file_is_read(weekly, harm, monkeypatch):
    """The id check reads the stored 64-bit id hashes of every file; one removed or broken
    (a user's clean-up, a disk error) no longer ends the run (it was exit 2 `cannot use
    …ids.parquet`, or exit 3 for a broken one): every file of the dataset is read, so a
    repeated id is still found, the records are a full run's, and the next run summarises
    those files again and is incremental once more."""
    run(weekly)
    add(weekly, *NEW_WEEK)
    hashes = sorted((weekly.parent / ".tpmkit/cache/records").rglob("*.ids.parquet"))
    assert hashes  # one per file with ids (calls and tickets)
    from tpmkit.increment import planner

    if harm == "removed":  # after the files' summaries were read: during the id check
        real = planner._sharing_ids

        def removing(part, read):
            for path in hashes:
                path.unlink(missing_ok=True)
            return real(part, read)

        monkeypatch.setattr(planner, "_sharing_ids", removing)
    else:
        for path in hashes:
            path.write_bytes(b"PAR1 not a parquet file PAR1")
    steps: list[str] = []
    got = run(weekly, steps=steps)
    monkeypatch.undo()
    full = run(weekly, cache=False)
    same_records(got.records, full.records)
    assert values(got)[("asa", "2026-W13")] == (75.0, 2)  # (70 + 80) / 2
    assert not any(p.exists() for p in hashes if harm == "broken")  # dropped
    add(weekly, "calls/2026-W14.csv", "c20,2026-03-30 10:00:00,K9,Y,30\n")
    steps = []
    again = run(weekly, steps=steps)
    same_records(again.records, run(weekly, cache=False).records)
    # incremental again: W14, W13 (the open week before) and W12 (the repeat window)
    assert "records cache: reading 3 of 5 files of calls" in steps, steps


def test_the_stocks_leave_polars_settings_alone(weekly, monkeypatch):
    """The kinds that compute their own cells name the streaming engine in their queries:
    a `pl.Config` block, which sets the process's options, was left by two threads in
    turn (the recomputed cells' and the whole-dataset ones') and could leave the process
    with the streaming engine for good."""
    import os

    from tpmkit.engine.kinds import open_at_period_end

    seen: list[str | None] = []
    real = open_at_period_end.OpenAtEnd.cells

    def cells(self, *args, **kwargs):
        seen.append(os.environ.get("POLARS_ENGINE_AFFINITY"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(open_at_period_end.OpenAtEnd, "cells", cells)
    run(weekly)
    add(weekly, *NEW_WEEK)
    add(weekly, *NEW_TICKETS, header=TICKET_HEADER)
    got = run(weekly)
    assert seen and set(seen) == {None}
    assert values(got)[("backlog", "2026-W12")] == (2.0, 2)  # t2, t4
