"""Issue 19 item 3: Ibis-PySpark in local mode gives the polars records on the adversarial
project (tests/engines/fixtures.py, some 800 calls). One Spark session serves the module
(it starts in 8-16 s); `pytest -m spark` runs these alone, `-m "not spark"` leaves them out."""

from __future__ import annotations

import gc
import shutil
import warnings

import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")
pytest.importorskip("pyspark", reason="the Spark engine needs tpmkit[spark]")
if shutil.which("java") is None:
    pytest.skip(
        "Spark needs a Java runtime (Debian: openjdk-17-jre-headless; .ci/run installs it)",
        allow_module_level=True,
    )

from engines.agree import differences
from engines.fixtures import write_project
from tpmkit.project import load

pytestmark = [
    pytest.mark.spark,
    # pyspark reads each result from a local socket it leaves to the garbage collector
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("tpmkit-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    with warnings.catch_warnings():  # collect pyspark's sockets here, not in a later test
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    return load(write_project(tmp_path_factory.mktemp("edges")))


CASES = [("week", []), ("hour", []), ("all", ["team"])]


@pytest.mark.parametrize(("grain", "by"), CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in CASES])
def test_spark_local_agrees_with_polars(spark, edges, grain, by):
    reference = edges.evaluate(period=grain, by=by).records
    # engine: spark takes the running session (as inside a Databricks job)
    records = edges.with_engine("spark").evaluate(period=grain, by=by).records
    assert reference.height > 0
    assert differences(reference, records, by) == []
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_spark_time_to_proficiency_matches_the_medians_by_hand(spark, tmp_path):
    """The weekly means on Spark, the Kaplan–Meier step on the client (tests/engines/cohorts.py)."""
    from engines.cohorts import EXPECTED, write_cohorts

    cohorts = load(write_cohorts(tmp_path)).with_engine("spark")
    for (grain, by), expected in EXPECTED.items():
        records = cohorts.evaluate(period=grain, by=list(by)).records
        found = {
            (r["period"], *(r[b] for b in by)): (r["value"], r["n"])
            for r in records.iter_rows(named=True)
        }
        assert found == expected


# Tables of the Spark session's own catalog (engine: spark, no `connection:`), as a
# Databricks job finds them: checked and computed in Spark, never read to the client.
# Read through tpmkit's reader on purpose: the lookups joined by the evaluation (small)
# and the example's custom datasets (no contract types to check in place).
LOOKUPS_AND_CUSTOM = {"agents", "queues", "incidents", "system_events"}


@pytest.fixture(scope="module")
def catalog(spark, tmp_path_factory):
    from engines.warehouse import spark_project

    return spark_project(tmp_path_factory.mktemp("catalog"), spark, "contact_center")


@pytest.fixture
def table_reads(monkeypatch):
    """The datasets tpmkit's reader read from a table (`read_table`)."""
    from engines.warehouse import count_table_reads

    return count_table_reads(monkeypatch)


def test_catalog_tables_are_checked_and_computed_in_spark(spark, catalog, table_reads):
    from engines.warehouse import EXAMPLE

    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(period="week", by=["team"], cache=False)
    evaluation = load(catalog).evaluate(period="week", by=["team"])  # engine: spark, the file
    assert evaluation.records.height == reference.records.height > 50
    assert differences(reference.records, evaluation.records, ["team"]) == []
    assert set(table_reads) <= LOOKUPS_AND_CUSTOM  # calls, tickets, QA … stayed in Spark
    ours = {s.name: (s.rows_read, s.latest, s.daily) for s in evaluation.datasets}
    assert ours == {s.name: (s.rows_read, s.latest, s.daily) for s in reference.datasets}


def test_a_users_session_keeps_its_zone_and_tpmkit_computes_in_utc(spark, catalog, table_reads):
    """A notebook's session in another zone: tpmkit computes (and reads the lookups'
    tables) with the zone pinned to UTC, gives the polars records, and leaves the
    session's zone as it found it. Without the pin, the instants read through Arrow would
    be wall-clock times in New York and the DST days' durations an hour off."""
    from engines.warehouse import EXAMPLE

    zone = "spark.sql.session.timeZone"
    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(period="week", cache=False)
    spark.conf.set(zone, "America/New_York")
    try:
        records = load(catalog).evaluate(period="week").records
        assert spark.conf.get(zone) == "America/New_York"
    finally:
        spark.conf.set(zone, "UTC")
    assert differences(reference.records, records, []) == []
    assert table_reads  # the lookups were read to the client, in UTC too


def _replace_calls(spark, project, change) -> None:
    """The project's calls table with `change` (a polars expression list) applied."""
    import polars as pl

    path = project.parent / "lake" / "calls.parquet"
    frame = pl.read_parquet(path).with_row_index("__i").with_columns(change).drop("__i")
    path.unlink()
    frame.write_parquet(path)
    spark.sql("DROP TABLE broken.calls")  # its columns' types are taken again from the file
    spark.sql(f"CREATE TABLE broken.calls USING parquet LOCATION '{path}'")


def test_a_broken_catalog_table_is_located_by_the_reader(spark, tmp_path, table_reads):
    import polars as pl

    from engines.warehouse import spark_project
    from tpmkit.errors import DataError

    project = spark_project(tmp_path, spark, "broken")
    third = pl.col("__i") == 2
    _replace_calls(
        spark, project, [pl.when(third).then(-5.0).otherwise("wait_seconds").alias("wait_seconds")]
    )
    with pytest.raises(DataError) as caught:
        load(project).evaluate(["asa"], period="week")
    message = str(caught.value) + "\n" + "\n".join(str(i) for i in caught.value.issues)
    assert "broken.calls" in message and "row 3" in message
    assert "wait_seconds" in message and "-5" in message
    assert "calls" in table_reads  # Spark found the broken rule; the reader named the cell


def test_wall_clock_times_in_a_catalog_table_are_placed_in_the_zone(spark, tmp_path, table_reads):
    """A `TIMESTAMP_NTZ` column holds wall-clock times: the reader places them in the
    project's zone, as it does an export's; a `TIMESTAMP` is an instant already."""
    import polars as pl

    from engines.warehouse import EXAMPLE, spark_project

    project = spark_project(tmp_path, spark, "broken")
    wall = pl.col("offered_at").dt.replace_time_zone(None)  # Europe/Berlin wall-clock time
    _replace_calls(spark, project, [wall])
    types = {f.name: type(f.dataType).__name__ for f in spark.table("broken.calls").schema.fields}
    assert types["offered_at"] == "TimestampNTZType"
    metrics = ["aht", "service_level", "abandon_rate"]
    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(metrics, period="week", cache=False)
    records = load(project).evaluate(metrics, period="week").records
    assert differences(reference.records, records, []) == []
    assert "calls" in table_reads  # wall-clock times go through the reader
