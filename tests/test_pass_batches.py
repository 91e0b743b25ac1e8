"""Plain passes run in batches of about `SLICE_ROWS` rows (engine/slices.py `batches`):
the small ones together, a heavy one alone, and the records do not depend on how they
were batched."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

import tpmkit.engine.slices as slices
from conftest import REPO
from tpmkit import project as api
from tpmkit.data import stream


def test_batches_fill_to_the_budget_heaviest_first(monkeypatch):
    monkeypatch.setattr(slices, "SLICE_ROWS", 12)
    # heaviest first: 10 opens a batch; 3 does not fit beside it (13) and opens another;
    # the first 2 fills the first to 12; the other 2s and the 1 go to the second (3 + 2 +
    # 2 + 1 = 8); an uncounted pass (None) fits anywhere: the first batch
    weights = [2, 10, 2, 3, None, 1, 2]
    assert slices.batches(weights) == [[1, 0, 4], [3, 2, 6, 5]]


def test_a_pass_heavier_than_the_budget_runs_alone(monkeypatch):
    monkeypatch.setattr(slices, "SLICE_ROWS", 12)
    assert slices.batches([20, 13, 5]) == [[0], [1], [2]]
    assert slices.batches([]) == []
    assert slices.batches([None, None]) == [[0, 1]]  # rows not counted: together


def test_records_are_the_same_however_the_passes_are_batched(monkeypatch):
    loaded = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")

    def run() -> pl.DataFrame:
        result = loaded.evaluate([], by=["agent_id"], period="week", cache=False)
        return result.records  # type: ignore[no-any-return]

    together = run()
    calls: list[int] = []
    collect_all = pl.collect_all

    def counted(frames, **options):  # type: ignore[no-untyped-def]
        calls.append(len(frames))
        return collect_all(frames, **options)

    monkeypatch.setattr(slices, "SLICE_ROWS", 1)  # every pass alone
    monkeypatch.setattr(stream, "TOGETHER_ROWS", 0)  # and no check's queries at once
    monkeypatch.setattr(pl, "collect_all", counted)
    alone = run()
    assert calls and set(calls) == {1} and len(calls) > 3
    assert_frame_equal(together, alone)


def test_a_whole_dataset_pass_runs_beside_its_datasets_batch():
    calls, tickets, qa = ("calls", "t", ""), ("tickets", "t", ""), ("qa", "t", "")
    repeat = ("calls", "t", "own pass: fcr_repeat")
    assert slices.beside([[calls], [tickets, qa]], [repeat]) == [[calls, repeat], [tickets, qa]]
    assert slices.beside([[tickets], [calls]], [repeat]) == [[tickets], [calls, repeat]]
    # no pass of its dataset: the first batch; no batch at all: alone
    assert slices.beside([[tickets]], [repeat]) == [[tickets, repeat]]
    assert slices.beside([], [repeat]) == [[repeat]]
