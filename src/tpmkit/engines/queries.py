"""How the Ibis engines run their queries. Each query of an evaluation has a name (its
place in the evaluation) and a `Build`, which makes it as an Ibis table with the names its
columns take on the client. `Runner` builds and runs every query through Ibis (any
backend); `CompiledRunner` (DuckDB) runs SQL compiled before (`tpmkit.engines.compiled`)
on DuckDB's own connection, and builds and compiles with Ibis only the queries it lacks.
Both type the result as Ibis types the query, so a compiled query gives the same frame."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl

from tpmkit.duckdb_memory import release

__all__ = ["Build", "Compiled", "CompiledRunner", "Runner", "compile_query"]

# makes a query: the Ibis table, and client names of its columns (SQL-safe name -> name)
Build = Callable[[], tuple[Any, Mapping[str, str]]]


@dataclass(frozen=True)
class Compiled:
    """A query compiled to SQL, and its result's columns (as the client names them) and
    types."""

    sql: str
    schema: pl.Schema


class Runner:
    """Runs each query through Ibis, on any backend."""

    def run(self, name: str, build: Build) -> pl.DataFrame:
        """The rows of the query `name`, made by `build`."""
        from tpmkit.engines.results import collect

        expr, names = build()
        return collect(expr).rename(dict(names))

    def ahead(self, names: list[str]) -> None:
        """The queries `names` will be asked for in this order (see `CompiledRunner`)."""

    def stop(self) -> None:
        """No query of ours runs on the connection any more once this returns."""


class CompiledRunner(Runner):
    """Runs compiled SQL on a DuckDB connection; a query not compiled yet is built and
    compiled with Ibis, and kept in `added` (to be stored for the next run)."""

    def __init__(self, con: Any, known: Mapping[str, Compiled]) -> None:
        self.con = con  # DuckDB's own connection
        self.known = dict(known)
        self.added: dict[str, Compiled] = {}
        self._ahead: dict[str, Future[pl.DataFrame]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def ahead(self, names: list[str]) -> None:
        """Run the queries `names` compiled before one after another on a thread of their
        own, from now: DuckDB lets go of Python's lock while it computes, so the next query
        runs while the caller works on the last one's rows. Only these queries use the
        connection until the caller has taken them all (or `stop`)."""
        names = [n for n in names if n in self.known and n not in self._ahead]
        if not names:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="tpmkit-queries")
        for name in names:
            self._ahead[name] = self._pool.submit(self._fetch, self.known[name])

    def stop(self) -> None:
        """Cancel the queries run ahead not begun yet, and wait for the one under way."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._ahead.clear()

    def run(self, name: str, build: Build) -> pl.DataFrame:
        """The rows of the query `name`: its SQL as compiled before, else compiled now."""
        ahead = self._ahead.pop(name, None)
        if ahead is not None:
            try:
                frame = ahead.result()
            except Exception:  # as below: compiled again (its error, if any, raised then)
                self.stop()
            else:
                if not self._ahead:
                    self.stop()
                return frame
        self.stop()  # the connection is this thread's alone
        found = self.known.get(name)
        if found is not None:
            try:
                return self._fetch(found)
            except Exception:  # SQL kept by code the key did not tell apart: compile again
                pass
        found = compile_query(*build())
        self.known[name] = self.added[name] = found
        return self._fetch(found)

    def _fetch(self, found: Compiled) -> pl.DataFrame:
        # through the Arrow stream interface: no pyarrow (a tenth of a second to import)
        frame = typed(pl.DataFrame(self.con.sql(found.sql)), found.schema)
        release(self.con)
        return frame


def typed(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """The result under its client names and with the types Ibis gives the query (DuckDB
    sends a sum of integers as a 128-bit decimal, for one)."""
    frame.columns = list(schema.names())
    return frame.cast(dict(schema.items()))


def compile_query(expr: Any, names: Mapping[str, str]) -> Compiled:
    """The query's DuckDB SQL and its result's client names and types."""
    from ibis.formats.polars import PolarsSchema

    backend = expr._find_backend()  # Ibis 12 (pinned by the extras)
    schema = PolarsSchema.from_ibis(expr.schema())
    return Compiled(
        str(backend.compile(expr)),
        pl.Schema({names.get(c, c): t for c, t in schema.items()}),
    )
