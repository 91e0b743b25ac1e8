"""Where metrics are computed: `engine:`, `connection:` and `spark:` in tpmkit.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tpmkit.spec.base import Strict

EngineName = Literal["polars", "duckdb", "spark", "postgres"]

ENGINE_HELP = (
    "where metrics are computed: polars (the default and reference), duckdb, spark, or "
    "postgres (the database of `connection:`) — through Ibis; extras tpmkit[duckdb], "
    "tpmkit[spark], tpmkit[postgres]"
)
CONNECTION_HELP = (
    "the database `table:` sources are read from, as an Ibis URL: duckdb://warehouse.duckdb "
    "(relative to the project file) or postgres://user@host/db (the password from the "
    "environment variable TPMKIT_DB_PASSWORD, never written here)"
)


class SparkSettings(Strict):
    """Spark options (engine: spark); on a cluster, an existing session is used instead."""

    master: str = Field("local[2]", description="the Spark master, e.g. local[2]")
    conf: dict[str, str] = Field(
        default_factory=dict, description="Spark configuration, e.g. spark.executor.memory: 4g"
    )
