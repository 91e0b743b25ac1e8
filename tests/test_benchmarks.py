"""The benchmark's independent baselines agree with tpmkit on every cell (small scale), and
the agreement check notices a difference: so the figures in docs/performance.md compare
like with like."""

from __future__ import annotations

import polars as pl
import pytest
from benchmarks import baseline_polars
from benchmarks.data import generate
from benchmarks.harness import disagreements

from tpmkit import project as api


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("bench") / "data", 30_000)  # two replicas


def tpmkit_records(layout, fmt: str) -> pl.DataFrame:
    loaded = api.load(layout.project(fmt))
    return loaded.evaluate(by=["agent_id"], period="week", cache=False).records


def test_generated_data_scales_the_example(layout):
    rows = layout.rows()
    assert rows["calls"] == 2 * 25_049
    assert rows["agents"] == 64  # 2 replicas share one copy of the roster


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_polars_baseline_agrees_with_tpmkit(layout, fmt):
    ours = tpmkit_records(layout, fmt)
    assert ours.height > 0
    assert disagreements(ours, baseline_polars.compute(layout.folder, fmt), "polars") == []


def test_duckdb_baseline_agrees_with_tpmkit(layout):
    pytest.importorskip("duckdb", reason="duckdb is a benchmark-only extra: pip install .[bench]")
    from benchmarks import baseline_duckdb

    ours = tpmkit_records(layout, "parquet")
    assert disagreements(ours, baseline_duckdb.compute(layout.folder, "parquet"), "duckdb") == []


def test_the_agreement_check_finds_a_wrong_value_and_a_missing_cell(layout):
    ours = tpmkit_records(layout, "parquet")
    theirs = baseline_polars.compute(layout.folder, "parquet")
    shifted = theirs.with_columns(
        pl.when(pl.col("metric") == "aht").then(pl.col("value") * 1.001).otherwise("value")
    )
    assert any("aht" in line for line in disagreements(ours, shifted, "polars"))
    busy = theirs.filter(pl.col("n") > 0)
    dropped = theirs.join(busy.head(1), on=["metric", "period", "agent_id"], how="anti")
    assert disagreements(ours, dropped, "polars")
