"""Where metrics are computed: `engine:`, `connection:` and `spark:` in tpmkit.yaml."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_core import PydanticCustomError

from tpmkit.spec.base import Strict

PASSWORD_VARIABLE = "TPMKIT_DB_PASSWORD"
SECRET = "holds_secret"  # the kind of a validation error whose value is not shown

EngineName = Literal["polars", "duckdb", "spark", "postgres"]

ENGINE_HELP = (
    "where metrics are computed: polars (the default and reference), duckdb, spark, or "
    "postgres (the database of `connection:`) — through Ibis; extras tpmkit[duckdb], "
    "tpmkit[spark], tpmkit[postgres]"
)
CONNECTION_HELP = (
    "the database `table:` sources are read from, as an Ibis URL: duckdb://warehouse.duckdb "
    "(relative to the project file) or postgres://user@host/db (the password from the "
    "environment variable TPMKIT_DB_PASSWORD, never written here); with engine: spark and "
    "no connection, `table:` names a table of the Spark session's catalog"
)


class SparkSettings(Strict):
    """Spark options (engine: spark); on a cluster, an existing session is used instead."""

    master: str = Field("local[2]", description="the Spark master, e.g. local[2]")
    conf: dict[str, str] = Field(
        default_factory=dict, description="Spark configuration, e.g. spark.executor.memory: 4g"
    )


def without_password(connection: str | None) -> str | None:
    """`connection` as given; an error of the kind `SECRET` (whose value the message of
    the issue never repeats) when the URL holds a password: project files are committed,
    the password belongs in the environment."""
    if connection and urlsplit(connection).password:
        raise PydanticCustomError(
            SECRET,
            "the connection URL holds a password, which would be committed with "
            "tpmkit.yaml: remove it and set the environment variable {variable}",
            {"variable": PASSWORD_VARIABLE},
        )
    return connection
