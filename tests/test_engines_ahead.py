"""Issue 19, item 5 (the DuckDB engine at 1 M calls): the passes' compiled queries run one
after another on a thread of their own (`CompiledRunner.ahead`) while the caller works on
the rows of the last one. The rows are those of running each when asked; a query that
fails there is built and compiled again on the caller's thread, as before; and no thread
is left once every query is taken or the runner stopped."""

from __future__ import annotations

import threading

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tpmkit.engines.queries import Compiled, CompiledRunner


def _queries() -> dict[str, Compiled]:
    schema = pl.Schema({"k": pl.Int64(), "n": pl.Int64()})
    return {
        f"pass {i}": Compiled(
            f"SELECT range % {i + 2} AS k, count(*) AS n FROM range(100000) GROUP BY 1 ORDER BY 1",
            schema,
        )
        for i in range(4)
    }


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("tpmkit-queries")]


def _unused() -> tuple[object, dict[str, str]]:
    raise AssertionError("a kept query that runs is never built")


def test_queries_run_ahead_give_the_rows_of_queries_run_when_asked():
    con = duckdb.connect()
    plain = CompiledRunner(con, _queries())
    expected = {name: plain.run(name, _unused) for name in _queries()}
    assert expected["pass 2"].to_dict(as_series=False) == {
        "k": [0, 1, 2, 3],
        "n": [25_000, 25_000, 25_000, 25_000],  # 100,000 numbers, a quarter in each class
    }
    ahead = CompiledRunner(con, _queries())
    ahead.ahead(list(_queries()))
    for name in _queries():
        assert_frame_equal(ahead.run(name, _unused), expected[name])
    assert _threads() == []  # the last one taken: the thread is gone


def test_a_query_that_fails_ahead_is_built_again_here_and_the_rest_still_run():
    con = duckdb.connect()
    known = _queries()
    known["pass 1"] = Compiled("SELECT * FROM no_such_table", known["pass 1"].schema)
    runner = CompiledRunner(con, known)
    runner.ahead(list(known))

    def build() -> tuple[object, dict[str, str]]:
        raise ValueError("the pass as Ibis builds it")

    first = runner.run("pass 0", _unused)
    with pytest.raises(ValueError, match="the pass as Ibis builds it"):
        runner.run("pass 1", build)
    assert _threads() == []  # stopped: the connection is the caller's alone
    for name in ("pass 2", "pass 3"):  # run here, from their kept SQL
        assert runner.run(name, _unused).height == int(name[-1]) + 2
    assert first.height == 2


def test_stopping_leaves_no_thread_and_the_connection_usable():
    con = duckdb.connect()
    runner = CompiledRunner(con, _queries())
    runner.ahead(list(_queries()))
    runner.stop()
    assert _threads() == []
    assert con.execute("SELECT 42").fetchone() == (42,)
    assert runner.run("pass 3", _unused).height == 5
