"""An old file changed, then changed back: a whole-dataset metric finished whole on the
first of those runs keeps no stale record for the second.

The backlog is finished whole on the run after an old tickets file changed. It used to be
stored only from that run's first recomputed period on, while the older segments kept its
records before it (now stale), and no fingerprints of its cells. When the file was changed
back, the next run compared the backlog's cells with its stitched records
(`finishing.stable`, by records): equal again, so the backlog counted as steady and the
record the run before had stored after its first, finished with the changed values in its
trend window, was served: slope 4.0286 where a full run gives 4.1143. A metric finished
whole is now stored whole, with its fingerprints (`Session.keep_finished`, `store.EVER`).
(Found by the round-11 review; it was there before records were finished per metric.)"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
from tests.test_incremental import same_records

from tpmkit import project as api

EXAMPLE = Path(__file__).resolve().parents[1] / "examples/contact-center"


def weekly_example(root: Path) -> dict[str, list[Path]]:
    """The example with calls, tickets and QA split into weekly files (no annotations:
    with them every record is finished again and nothing is stitched)."""
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".tpmkit"))
    (root / "annotations.csv").unlink()
    data = root / "data"
    out: dict[str, list[Path]] = {}
    for name, column, folder in (
        ("acd_calls.csv", "Start Time", "calls"),
        ("tickets.csv", "created_at", "tickets"),
        ("qa.csv", "evaluated_at", "qa"),
    ):
        frame = pl.read_csv(data / name, infer_schema=False)
        week = pl.col(column).str.slice(0, 10).str.to_date().dt.truncate("1w")
        (data / folder).mkdir()
        for (start,), rows in (
            frame.with_columns(week.alias("w")).partition_by("w", as_dict=True).items()
        ):
            rows.drop("w").write_csv(data / folder / f"{start}.csv")
        (data / name).unlink()
        out[folder] = sorted((data / folder).glob("*.csv"))
    text = (root / "tpmkit.yaml").read_text()
    text = text.replace("path: data/acd_calls.csv", "path: data/calls/*.csv")
    text = text.replace("{path: data/tickets.csv}", "{path: data/tickets/*.csv}")
    text = text.replace("{path: data/qa.csv,", "{path: data/qa/*.csv,")
    (root / "tpmkit.yaml").write_text(text)
    return out


def test_a_whole_dataset_metric_changed_back_is_not_served_with_a_stale_trend(tmp_path):
    files = weekly_example(tmp_path / "p")
    project = tmp_path / "p/tpmkit.yaml"
    metrics, by = ["backlog", "aht"], ["team"]

    def evaluate(cache: bool) -> pl.DataFrame:
        return api.load(project).evaluate(metrics, by=by, cache=cache).records

    last, later = files["calls"][-2:]
    held, held_later = last.read_bytes(), later.read_bytes()
    last.unlink()
    later.unlink()
    evaluate(True)  # fills the cache: calls of 11 weeks, tickets of 13
    # run N: the last calls week, and one ticket of 2026-10-05's file resolved a week later
    # (the backlog at the end of 2026-W41 one higher): the backlog is finished whole, its
    # records stored from the last run's open week on
    last.write_bytes(held)
    tickets = files["tickets"][7]
    assert tickets.name == "2026-10-05.csv"
    original = tickets.read_bytes()
    frame = pl.read_csv(tickets, infer_schema=False)
    (i,) = frame.with_row_index().filter(pl.col("ticket_id") == "T002663").get_column("index")
    rows = frame.to_dicts()
    resolved = rows[i]["resolved_at"]
    assert resolved.startswith("2026-10-06")
    rows[i]["resolved_at"] = (
        dt.date.fromisoformat(resolved[:10]) + dt.timedelta(days=7)
    ).isoformat() + resolved[10:]
    pl.DataFrame(rows, schema=frame.schema).write_csv(tickets)
    same_records(evaluate(True), evaluate(False))
    # run N+1: another calls week, the ticket left changed: the backlog's records before
    # the first recomputed week are those run N finished (with the changed ticket), not
    # the older segments' (its fingerprints alone would have called them unchanged)
    later.write_bytes(held_later)
    same_records(evaluate(True), evaluate(False))
    # run N+2: the file as it was
    tickets.write_bytes(original)
    # found (13 calls weeks, one run before): backlog, Lisbon Billing, 2026-W45, slope
    # 4.0286 (incremental) vs 4.1143 (full)
    same_records(evaluate(True), evaluate(False))


def test_annotations_that_exclude_nothing_leave_the_last_runs_records_served(tmp_path, monkeypatch):
    """Records depend on annotations only through those that exclude a period: a project
    with only other notes (a holiday) gets the last run's records stitched, not every
    record finished again (as a run with an excluding note still does: 8.6 s instead of
    2.1 s at 10 M calls by agent); one
    with an excluding note finishes everything, and its records serve no run without it
    (the records' key names the excluding notes)."""
    from tpmkit.increment import finishing

    files = weekly_example(tmp_path / "p")
    project = tmp_path / "p/tpmkit.yaml"
    notes = tmp_path / "p/annotations.csv"
    header = "from,to,text,kind,metric,group,value,exclude\n"
    holiday = "2026-10-03,,German Unity Day,holiday,,site,Berlin,\n"
    outage = "2026-10-05,2026-10-11,CRM slowdown,outage,aht,,,true\n"
    by = ["team"]
    stitched: list[bool] = []
    real = finishing._stitch
    monkeypatch.setattr(finishing, "_stitch", lambda *a: stitched.append(True) or real(*a))

    def evaluate(cache: bool) -> pl.DataFrame:
        return api.load(project).evaluate(["aht", "fcr_repeat"], by=by, cache=cache).records

    def week(n: int) -> None:  # the n-th calls file of the example back in place
        files["calls"][n].write_bytes(held[n])

    held = {n: files["calls"][n].read_bytes() for n in (-3, -2, -1)}
    for n in held:
        files["calls"][n].unlink()
    notes.write_text(header + holiday)
    evaluate(True)  # fills the cache
    week(-3)
    ours = evaluate(True)
    assert stitched == [True]  # the last run's records before the new week: stitched
    same_records(ours, evaluate(False))
    # the outage excluded from AHT: every record finished, each week's AHT trend without
    # it (the full run's)
    notes.write_text(header + holiday + outage)
    week(-2)
    ours = evaluate(True)
    assert stitched == [True]
    same_records(ours, evaluate(False))
    # excluded no more: the records stored with the outage excluded are not served
    notes.write_text(header + holiday)
    week(-1)
    ours = evaluate(True)
    assert stitched == [True]  # another key: every record finished again
    same_records(ours, evaluate(False))
