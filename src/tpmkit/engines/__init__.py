"""The Ibis engines: the same metric files computed where the data are (DuckDB, Spark,
PostgreSQL and other Ibis backends), giving the same records as the polars engine, the
reference. Every kind has an Ibis plan beside its polars plan (`tpmkit.engines.kinds`);
the backend aggregates, the client finishes cells into records with the polars code.
Ibis is an optional dependency (extras `duckdb`, `spark`, `postgres`)."""

from __future__ import annotations

ENGINES: tuple[str, ...] = ("polars", "duckdb", "spark", "postgres")
