"""Fast coercion of text columns (one exact format chosen from the first values) gives the
same values and the same errors as the full rules, whatever comes after the sample."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tpmkit.data import coerce, load_dataset, typed
from tpmkit.errors import DataError
from tpmkit.spec.models import Source

UNIFORM = 600  # more than the sample, so the fast path is chosen


def write_calls(folder: Path, tail: list[str], first: str = "2026-03-02T08:00:00Z") -> Path:
    lines = ["contact_id,offered_at,answered,wait_seconds,talk_seconds"]
    lines += [f"u{i},{first},Y,{i % 50},{100 + i % 7}" for i in range(UNIFORM)]
    lines += [f"t{i},{row}" for i, row in enumerate(tail)]
    path = folder / "calls.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch, **options):
    """Load with the fast path and with the full rules only; each is a frame or an error."""
    outcomes = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(coerce, "fast", lambda *args: None)
        try:
            dataset = load_dataset(
                "calls", Source(path="calls.csv"), folder, "Europe/Berlin", **options
            )
            outcomes.append(dataset.frame.sort("contact_id"))
        except DataError as error:
            outcomes.append([(i.line, i.column, i.message) for i in error.issues])
    return outcomes


MIXED = [
    "2026-03-02 10:00:00,Y,1:30,0:02:00",  # naive local time, clock durations
    "2026-03-02T10:00:00+02:00,N,,",  # another offset
    "2026-03-02T10:00:00.250Z,Y,7.5,60",  # fractional seconds
    " 2026-03-02T11:00:00Z ,Y, 12 ,  ",  # padding; a blank duration
    "2026-03-29 02:30,Y,3,4",  # naive, in the spring-forward gap... checked below
    "2026-10-25 02:30:00,Y,1e1,0",  # ambiguous local time (earliest); 1e1 seconds
    "2026-03-02 10:00:00 +01:00,Y,5,5",  # offset after a space
    "2026-03-02,Y,5,5",  # a date alone is midnight local time
]


def test_mixed_formats_after_a_uniform_sample_match_the_full_rules(tmp_path, monkeypatch):
    tail = [row for row in MIXED if "03-29" not in row]
    write_calls(tmp_path, tail)
    fast, full = both_ways(tmp_path, monkeypatch)
    assert isinstance(fast, pl.DataFrame) and fast.equals(full)
    row = fast.filter(pl.col("contact_id") == "t0").row(0, named=True)
    assert (row["wait_seconds"], row["talk_seconds"]) == (90.0, 120.0)
    assert fast.filter(pl.col("contact_id") == "t4").get_column("wait_seconds").item() == 10.0


@pytest.mark.parametrize(
    "bad_row",
    [
        "2026-03-29 02:30,Y,3,4",  # DST gap
        "not a time,Y,3,4",
        "2026-03-02T10:00:00Z,Y,-3,4",  # negative duration
        "2026-03-02T10:00:00Z,Y,1:75,4",  # not a clock
        "2026-03-02T10:00:00Z,Y,nan,4",
        ",Y,3,4",  # required time missing
    ],
)
def test_errors_after_a_uniform_sample_are_the_same(tmp_path, monkeypatch, bad_row):
    write_calls(tmp_path, [*MIXED[:2], bad_row])
    fast, full = both_ways(tmp_path, monkeypatch)
    assert isinstance(fast, list) and fast == full
    assert fast[0][0] == UNIFORM + 4  # header + uniform rows + two good ones + this one


def test_quarantine_after_a_uniform_sample_is_the_same(tmp_path, monkeypatch):
    write_calls(tmp_path, [*MIXED[:3], "bad,Y,3,4", "2026-03-02T10:00:00Z,Y,-1,0"])
    options = {"on_bad_rows": "quarantine", "rejects_dir": tmp_path / "rejects"}
    fast, full = both_ways(tmp_path, monkeypatch, **options)
    assert fast.equals(full)
    assert fast.height == UNIFORM + 3


def test_a_sample_of_clock_durations_uses_the_full_rules(tmp_path):
    write_calls(tmp_path, [])
    lines = (tmp_path / "calls.csv").read_text().splitlines()
    clock = [lines[0]] + [
        line.rsplit(",", 2)[0] + ",0:01:10,0:00:05" for line in lines[1:]
    ]  # every duration as H:MM:SS
    (tmp_path / "calls.csv").write_text("\n".join(clock) + "\n")
    frame = load_dataset("calls", Source(path="calls.csv"), tmp_path, "UTC").frame
    assert set(frame.get_column("wait_seconds").to_list()) == {70.0}
    assert typed.SAMPLE < UNIFORM


def test_the_fast_path_is_taken_for_a_uniform_sample(tmp_path):
    write_calls(tmp_path, [])
    sample = pl.read_csv(tmp_path / "calls.csv", infer_schema=False).head(typed.SAMPLE)
    assert coerce.fast("offered_at", "timestamp", "UTC", sample["offered_at"]) is not None
    assert coerce.fast("wait_seconds", "duration", "UTC", sample["wait_seconds"]) is not None
    clock = pl.Series(["0:01:10", "0:00:05"])
    assert coerce.fast("talk_seconds", "duration", "UTC", clock) is None
