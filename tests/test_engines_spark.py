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
