"""Giving back the memory a DuckDB connection keeps after a query. DuckDB keeps the buffers
of a finished query for the next one (150 MB after the repeat window at 1 M calls); while
tpmkit's client then finishes records in polars, the two add up. Lowering the memory limit
for a moment makes DuckDB free them; the views and registered Arrow tables hold no buffers
and stay. Used by the reader's checks (`tpmkit.data.in_duckdb`) and the DuckDB engine's
queries (`tpmkit.engines.queries`)."""

from __future__ import annotations

from typing import Any

__all__ = ["release"]

_KEPT = "tpmkit_memory_limit"  # the connection's own limit, as first read


def release(con: Any) -> None:
    """Free the buffers DuckDB keeps on `con`; its memory limit is then as before (the
    limit as DuckDB first showed it, so that releasing again never drifts)."""
    limit = con.execute(f"SELECT getvariable('{_KEPT}')").fetchone()[0]
    if limit is None:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        # no query parameters: binding one makes DuckDB import pandas (half a second)
        con.execute(f"SET VARIABLE {_KEPT} = current_setting('memory_limit')")
    con.execute("SET memory_limit = '1MB'")
    con.execute(f"SET memory_limit = '{str(limit).replace(chr(39), '')}'")
