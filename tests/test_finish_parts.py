"""Records are finished in parts of whole metrics (tpmkit.engine.compute.finish): some
`PARTS` of them even when the records are few, so that each part's copies are freed
before the next part's are made (issue 19, item 5: the DuckDB engine's peak memory at
1 M calls). The parts never change the records."""

from __future__ import annotations

import shutil
from pathlib import Path

from polars.testing import assert_frame_equal

from tpmkit.engine import compute
from tpmkit.engine.compute import part_rows
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center"


def test_the_part_size_by_hand():
    # 153,028 records (1 M calls by agent and ISO week) in 16 parts: 9,565 each, raised to
    # the smallest part of 10,000
    assert part_rows(153_028) == 10_000
    assert part_rows(1_400_000) == 87_500  # 10 M calls: 1.4 M records / 16
    assert part_rows(5_000_000) == 200_000  # at most PART_ROWS
    assert part_rows(0) == 10_000


def test_parts_of_one_metric_each_give_the_records_of_one_part(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLE, tmp_path / "p", ignore=shutil.ignore_patterns(".tpmkit"))
    project = load(tmp_path / "p" / "tpmkit.yaml")
    options = {"cache": False, "period": "week", "by": ["team"]}
    monkeypatch.setattr(compute, "MIN_PART_ROWS", 10**9)  # everything in one part
    whole = project.evaluate(**options).records
    monkeypatch.setattr(compute, "MIN_PART_ROWS", 1)
    monkeypatch.setattr(compute, "PARTS", 10**6)  # each metric a part of its own
    parted = project.evaluate(**options).records
    assert whole.height > 100 and whole.get_column("metric").n_unique() > 10
    assert_frame_equal(whole, parted)
