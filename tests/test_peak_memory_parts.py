"""Issue 19, item 5 (the DuckDB engine's peak memory at 1 M calls): records are finished
in parts of whole metrics (tpmkit.engine.compute.finish), some `PARTS` of them even when
the records are few, so that each part's copies are freed before the next part's are
made; and a Parquet output is written in row groups of `ROW_GROUP_ROWS`. Neither changes
the records."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tpmkit.engine import compute
from tpmkit.engine.compute import part_rows
from tpmkit.project import load
from tpmkit.render.files import ROW_GROUP_ROWS, write_parquet

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center"


def test_the_part_size_by_hand():
    # 153,028 records (1 M calls by agent and ISO week) in 8 parts: 19,128.5, rounded up
    assert part_rows(153_028) == 19_129
    assert part_rows(1_400_000) == 175_000  # 10 M calls: 1.4 M records / 8
    assert part_rows(5_000_000) == 200_000  # at most PART_ROWS
    assert part_rows(40_000) == 10_000  # 5,000 raised to the smallest part
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


def test_a_parquet_output_is_written_in_row_groups(tmp_path):
    # 25,001 records: groups of 10,000, 10,000 and 5,001 rows, read back the same
    pq = pytest.importorskip("pyarrow.parquet", reason="reads the row groups")
    assert ROW_GROUP_ROWS == 10_000
    records = pl.DataFrame({"metric": ["aht"] * 25_001, "value": [float(i) for i in range(25_001)]})
    write_parquet(records, tmp_path / "r.parquet")
    meta = pq.ParquetFile(tmp_path / "r.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [10_000, 10_000, 5_001]
    assert_frame_equal(pl.read_parquet(tmp_path / "r.parquet"), records)
