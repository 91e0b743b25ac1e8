"""The benchmark's independent baselines agree with tpmkit on every cell's value, n and
status (small scale: 2 replicas of the example, 50 098 calls), and the agreement check
notices a difference: so the figures in docs/performance.md compare like with like.

The inputs are written and read without tpmkit: a loader bug cannot cancel out."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import pytest
from benchmarks import baseline_polars
from benchmarks.data import COLUMNS, example_frames, generate
from benchmarks.harness import UNBASELINED as WORKFORCE  # no baseline implements them
from benchmarks.harness import disagreements
from polars.testing import assert_frame_equal

from conftest import REPO
from tpmkit import project as api
from tpmkit.data.load import load_dataset

# not_judged: queue measures and metrics without thresholds by agent, and no agent at all
STATUSES = {"ok", "warning", "critical", "insufficient_sample", "no_data", "not_judged"}


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("bench") / "data", 30_000)  # two replicas


def tpmkit_records(layout, fmt: str) -> pl.DataFrame:
    loaded = api.load(layout.project(fmt))
    records = loaded.evaluate(by=["agent_id"], period="week", cache=False).records
    return records.filter(~pl.col("metric").is_in(WORKFORCE))


def test_generated_data_scales_the_example(layout):
    rows = layout.rows()
    assert rows["calls"] == 2 * 25_049
    assert rows["agents"] == 64  # 2 replicas share one copy of the roster


def test_a_fixed_roster_spreads_the_calls_over_time_not_over_agents(tmp_path):
    # 4 replicas, 2 blocks of 13 weeks, 120 agents: 2 roster copies of 60 handling agents
    fixed = generate(tmp_path / "fixed", 4 * 25_049, agents=120, weeks=26, formats=("parquet",))
    rows = fixed.rows()
    assert rows["calls"] == 4 * 25_049
    assert rows["agents"] == 2 * 64  # quality specialists come with each copy
    calls = pl.scan_parquet(fixed.file("calls", "parquet"))
    found = calls.select(
        pl.col("agent_id").drop_nulls().n_unique().alias("agents"),
        pl.col("contact_id").n_unique().alias("ids"),
        ((pl.col("offered_at").max() - pl.col("offered_at").min()).dt.total_days()).alias("days"),
    ).collect()
    assert found.row(0) == (2 * 60, 4 * 25_049, found["days"][0])
    assert 26 * 7 - 7 <= found["days"][0] < 26 * 7  # two 13-week blocks, not one
    schedule = pl.scan_parquet(fixed.file("schedule", "parquet")).collect()
    # one row per agent per day: each agent copy in each block, no day twice
    assert schedule.height == 2 * 2 * example_frames()["schedule"].height
    assert schedule.select(pl.struct("agent_id", "date").n_unique()).item() == schedule.height
    # a glob of part files that both the project and the baselines read
    assert "calls/*.parquet" in fixed.project("parquet").read_text()
    assert baseline_polars.compute(fixed.folder, "parquet").height > 0


def test_inputs_are_written_and_read_without_tpmkit():
    # a fresh interpreter: generating the data and running both baselines' modules
    # must not import any part of tpmkit
    script = (
        "import sys; import benchmarks.data, benchmarks.baseline_polars;"
        " import benchmarks.baseline_duckdb, benchmarks.run_baseline;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] == 'tpmkit'))"
    )
    pytest.importorskip("duckdb", reason="duckdb comes with the test extra: pip install .[test]")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_plain_reader_reads_the_example_as_tpmkit_does():
    # two independent readings of the same files: a difference is a bug in one of them
    loaded = api.load(REPO / "examples" / "contact-center" / "tpmkit.yaml")
    plain = example_frames()
    for name, columns in COLUMNS.items():
        source = loaded.spec.sources[name]
        frame = load_dataset(name, source, loaded.root, loaded.spec.timezone).frame
        frame = frame.select(columns).with_columns(
            pl.col(c).dt.convert_time_zone("UTC")
            for c, t in frame.select(columns).schema.items()
            if isinstance(t, pl.Datetime)
        )
        assert_frame_equal(frame, plain[name])
    assert plain["calls"].height == 25_049


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_polars_baseline_agrees_with_tpmkit(layout, fmt):
    ours = tpmkit_records(layout, fmt)
    theirs = baseline_polars.compute(layout.folder, fmt)
    assert ours.height > 0
    assert set(theirs.get_column("status")) == STATUSES  # every rule is exercised
    assert disagreements(ours, theirs, "polars") == []


def test_duckdb_baseline_agrees_with_tpmkit(layout):
    pytest.importorskip("duckdb", reason="duckdb comes with the test extra: pip install .[test]")
    from benchmarks import baseline_duckdb

    ours = tpmkit_records(layout, "parquet")
    theirs = baseline_duckdb.compute(layout.folder, "parquet")
    assert set(theirs.get_column("status")) == STATUSES
    assert disagreements(ours, theirs, "duckdb") == []


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


def test_the_agreement_check_finds_one_wrong_status(layout):
    ours = tpmkit_records(layout, "parquet")
    theirs = baseline_polars.compute(layout.folder, "parquet").with_row_index("row")
    victim = theirs.filter(pl.col("status") == "warning").row(0, named=True)
    corrupted = theirs.with_columns(
        status=pl.when(pl.col("row") == victim["row"]).then(pl.lit("ok")).otherwise("status")
    ).drop("row")
    found = disagreements(ours, corrupted, "polars")
    cell = f"{victim['metric']} {victim['period']} {victim['agent_id']}"
    assert found == [
        f"polars: {cell}: tpmkit {victim['value']} (n {victim['n']}, warning)"
        f" vs {victim['value']} (n {victim['n']}, ok)"
    ]


DATED = """
id: dated
direction: lower_is_better
thresholds:
  - {warning: 40, critical: 60}
  - {warning: 20, critical: 30, from: 2026-03-04}
min_sample: 2
"""
BAND = """
id: band
direction: within_band
thresholds: {warning: {lower: 70, upper: 88}, critical: {lower: 65, upper: 92}}
"""
QUEUE = """
id: queue
direction: higher_is_better
thresholds: {warning: 80, critical: 70}
judged_at: [operation, queue]
"""
BARE = """
id: bare
direction: higher_is_better
"""
# (metric, week's Monday, value, n) -> status, by hand:
CASES = [
    ("dated", "2026-03-02", 40.0, 5, "ok"),  # old levels (W10 starts before 03-04): on 40
    ("dated", "2026-03-02", 60.5, 5, "critical"),  # > 60
    ("dated", "2026-03-09", 25.0, 5, "warning"),  # new levels from W11: 20 < 25 <= 30
    ("dated", "2026-03-09", 30.0, 5, "warning"),  # on the critical threshold: not critical
    ("dated", "2026-03-09", 99.0, 1, "insufficient_sample"),  # n 1 < min_sample 2
    ("dated", "2026-03-09", None, 0, "no_data"),
    ("band", "2026-03-02", 70.0, 1, "ok"),  # on the lower warning bound
    ("band", "2026-03-02", 69.9, 1, "warning"),
    ("band", "2026-03-02", 92.5, 1, "critical"),  # above the upper critical bound
    ("queue", "2026-03-02", 10.0, 9, "not_judged"),  # critical, but not judged at agent
    ("queue", "2026-03-02", None, 0, "not_judged"),  # not judged comes before no data
    ("bare", "2026-03-02", 50.0, 9, "not_judged"),  # no thresholds: never ok
]


def status_cells() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "week": [dt.date.fromisoformat(c[1]) for c in CASES],
            "agent_id": [f"a{i}" for i in range(len(CASES))],
            "metric": [c[0] for c in CASES],
            "value": [c[2] for c in CASES],
            "n": [c[3] for c in CASES],
        },
        schema_overrides={"value": pl.Float64, "n": pl.Int64},
    )


@pytest.fixture
def metric_files(tmp_path):
    (tmp_path / "dated.yaml").write_text(DATED)
    (tmp_path / "band.yaml").write_text(BAND)
    (tmp_path / "queue.yaml").write_text(QUEUE)
    (tmp_path / "bare.yaml").write_text(BARE)
    return tmp_path


def test_polars_baseline_judges_boundaries_bands_and_dated_thresholds(metric_files):
    judged = baseline_polars.judge(status_cells().lazy(), baseline_polars.levels(metric_files))
    statuses = dict(judged.select("agent_id", "status").collect().iter_rows())
    assert [statuses[f"a{i}"] for i in range(len(CASES))] == [c[4] for c in CASES]


def test_duckdb_baseline_judges_boundaries_bands_and_dated_thresholds(metric_files):
    duckdb = pytest.importorskip(
        "duckdb", reason="duckdb comes with the test extra: pip install .[test]"
    )
    from benchmarks import baseline_duckdb

    con = duckdb.connect(":memory:")
    con.execute(baseline_duckdb.MACROS)
    con.execute(baseline_duckdb.levels_sql(metric_files))
    con.execute(
        "CREATE TABLE cells (week TIMESTAMP, agent_id VARCHAR, metric VARCHAR, value DOUBLE,"
        " n BIGINT)"
    )
    con.executemany("INSERT INTO cells VALUES (?, ?, ?, ?, ?)", status_cells().rows())
    judged = pl.DataFrame(con.sql(baseline_duckdb.JUDGE))
    statuses = dict(judged.select("agent_id", "status").iter_rows())
    assert [statuses[f"a{i}"] for i in range(len(CASES))] == [c[4] for c in CASES]
