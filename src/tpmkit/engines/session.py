"""The engine of one command: the project's `engine:` (or `--engine`), its backend opened
once on first use, and the `table:` sources read from the project's `connection:` (or,
on Spark without one, from the session's catalog). Ibis
is imported only when an Ibis engine or a table source is used."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpmkit.engines.backend import Backend
    from tpmkit.spec.loader import Definitions


class EngineSession:
    """The backend a command's evaluations share (None for the polars engine)."""

    def __init__(self, project: Definitions, session: Any = None) -> None:
        self.project = project
        self.name = project.spec.engine
        self.session = session  # an existing SparkSession (a Databricks job), if given
        self._backend: Backend | None = None

    def backend(self) -> Backend | None:
        """The Ibis backend of the engine, opened on first use; None for polars."""
        if self.name == "polars":
            return None
        if self._backend is None:
            from tpmkit.engines.backend import open_backend

            spec = self.project.spec
            self._backend = open_backend(
                self.name, spec.connection, self.project.root, spec.spark, self.session
            )
            if self.name == "duckdb":  # its local-time macro's offsets, found meanwhile
                from tpmkit.zone_offsets import prepare

                prepare(spec.timezone)
            if self.name != "spark":  # a database session closes with the command; a
                # Spark session is shared by the process (getOrCreate) and stays
                weakref.finalize(self, self._backend.close)
        return self._backend

    def with_tables(self, data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """`data` with a frame for each `table:` source not given there, read from the
        project's connection (no connection on Spark: the session's catalog) when the
        reader first asks for it (a given frame wins, as it does over files; a table the
        engine checks in place is never read, `tpmkit.data.in_tables`)."""
        spec = self.project.spec
        tables = {
            name: str(source.table)
            for name, source in spec.sources.items()
            if source.table and name not in (data or {})
        }
        if not tables:
            return data
        from tpmkit.engines.tables import TableFrames

        if spec.connection is not None:
            return TableFrames(data or {}, tables, spec.connection, self.project.root)
        if self.name != "spark":  # the project file says spark; --engine said otherwise
            from tpmkit.errors import DefinitionError, Issue

            raise DefinitionError(
                f"source `{next(iter(tables))}` is a table of Spark's catalog (the project "
                "has no `connection:`), which only the Spark engine reads",
                [
                    Issue(
                        f"engine `{self.name}`",
                        hint="run with --engine spark, or name the database holding the "
                        "tables in `connection:`",
                    )
                ],
            )
        # the tables of the Spark session's own catalog: read (and checked) through it
        return TableFrames(data or {}, tables, None, self.project.root, self.backend())
