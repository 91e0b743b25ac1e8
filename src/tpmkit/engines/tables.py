"""The `table:` sources of a command as frames for tpmkit's reader, each read from the
project's `connection:` (or the engine's own backend: the Spark session's catalog) only
when the reader asks for it (once per command).

A table the engine can check and compute on where it is (`tpmkit.data.in_tables`) is then
never read to the client; `header` gives a table's columns without its rows (the
grouping columns a scorecard or report offers)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["TableFrames"]


class TableFrames(Mapping[str, Any]):
    """Frames given by the caller, and each `table:` source (dataset -> table) read on
    first use; a given frame wins over a table, as it does over files."""

    def __init__(
        self,
        given: Mapping[str, Any],
        tables: Mapping[str, str],
        connection: str | None,
        root: Path,
        backend: Any = None,
    ) -> None:
        self.given = dict(given)
        self.tables = {name: table for name, table in tables.items() if name not in self.given}
        self.connection = connection
        self.root = root
        self.backend = backend  # the engine's backend holding the tables (Spark), if so
        self._read: dict[str, pl.DataFrame] = {}

    @contextmanager
    def _source(self) -> Iterator[Any]:
        """The backend the tables are read from: the engine's own (left open), or one
        opened on the connection for this read."""
        if self.backend is not None:
            yield self.backend
            return
        from tpmkit.engines.backend import connect_source

        assert self.connection is not None  # a TableFrames has one or the other
        source = connect_source(self.connection, self.root)
        try:
            yield source
        finally:
            source.close()

    def __getitem__(self, name: str) -> Any:
        if name in self.given:
            return self.given[name]
        if name not in self.tables:
            raise KeyError(name)
        if name not in self._read:
            from tpmkit.engines.backend import read_table

            with self._source() as source:
                self._read[name] = read_table(source, name, self.tables[name])
        return self._read[name]

    def __contains__(self, name: object) -> bool:
        return name in self.given or name in self.tables  # without reading the table

    def __iter__(self) -> Iterator[str]:
        return iter([*self.given, *self.tables])

    def __len__(self) -> int:
        return len(self.given) + len(self.tables)

    def header(self, name: str) -> Any:
        """The frame of `name` if it is given or already read, else the table's columns
        with no rows (one `LIMIT 0` query)."""
        if name in self.given or name in self._read or name not in self.tables:
            return self[name]
        from tpmkit.engines.backend import read_table

        with self._source() as source:
            return read_table(source, name, self.tables[name], rows=0)
