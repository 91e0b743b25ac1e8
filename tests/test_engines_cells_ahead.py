"""Issue 19 item 5 (the DuckDB engine at 1 M calls): the queries of the stocks and of
time to proficiency run on the queries' thread right after the passes
(`CompiledRunner.ahead(names, families)`), and the kinds computed with polars (the roster's
counts) are computed while the first passes run, not after the last. The records are the
same as a run that builds, compiles and runs every query in turn on the caller's thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from tpmkit.engines import compute, passes
from tpmkit.engines.queries import Compiled, CompiledRunner
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center"


def _unused() -> tuple[object, dict[str, str]]:
    raise AssertionError("a kept query that runs is never built")


def _known() -> dict[str, Compiled]:
    schema = pl.Schema({"n": pl.Int64()})
    names = ["pass 0", "stock b first", "pass 1", "stock a x", "stock b events", "stock ab y"]
    return {
        name: Compiled(f"SELECT count(*) AS n FROM range({10 * (i + 1)})", schema)
        for i, name in enumerate(names)
    }


def test_families_follow_the_names_each_in_the_order_it_was_compiled():
    runner = CompiledRunner(duckdb.connect(), _known())
    runner.ahead(["pass 1", "pass 0"], ["stock b", "stock a", "stock none"])
    # `stock ab y` is not of family `stock a`: a family is its name and a space
    assert list(runner._ahead) == [
        "pass 1",
        "pass 0",
        "stock b first",
        "stock b events",
        "stock a x",
    ]
    for name in list(runner._ahead):
        expected = 10 * (list(_known()).index(name) + 1)
        assert runner.run(name, _unused).item() == expected
    assert not [t for t in threading.enumerate() if t.name.startswith("tpmkit-queries")]


def test_a_family_query_never_asked_for_is_cancelled_by_stop():
    runner = CompiledRunner(duckdb.connect(), _known())
    runner.ahead(["pass 0"], ["stock b"])
    assert runner.run("pass 0", _unused).item() == 10
    runner.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("tpmkit-queries")]
    assert runner.run("stock b events", _unused).item() == 50  # run here, when asked


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".tpmkit"))
    return root / "tpmkit.yaml"


def test_stocks_run_ahead_and_roster_counts_come_first_with_the_same_records(
    project_copy, tmp_path, monkeypatch
):
    monkeypatch.setenv("TPMKIT_COMPILED_CACHE", str(tmp_path / "compiled"))
    order: list[str] = []
    families: list[list[str]] = []
    ahead, local_cells, run_pass = CompiledRunner.ahead, compute.local_cells, compute.run_pass

    def spy_ahead(self: CompiledRunner, names: list[str], more: Any = None) -> None:
        families.append(list(more or []))
        ahead(self, names, more)

    def spy_local(spec: Any, *args: Any) -> pl.DataFrame:
        order.append(f"local {spec.id}")
        return local_cells(spec, *args)

    def spy_pass(runner: Any, name: str, *args: Any) -> pl.DataFrame:
        order.append(name)
        return run_pass(runner, name, *args)

    monkeypatch.setattr(CompiledRunner, "ahead", spy_ahead)
    monkeypatch.setattr(compute, "local_cells", spy_local)
    monkeypatch.setattr(compute, "run_pass", spy_pass)
    project = load(project_copy).with_engine("duckdb")

    def records() -> pl.DataFrame:
        order.clear()
        families.clear()
        return project.evaluate(cache=False, period="week", by="team").records

    compiling = records()  # nothing kept yet: every query built and run in turn, here
    kept = records()  # the compiled SQL: run ahead on the queries' thread
    assert_frame_equal(kept, compiling)
    assert "stock backlog" in families[0]  # the stock's queries follow the passes
    locals_ = [i for i, step in enumerate(order) if step.startswith("local ")]
    first_pass = next(i for i, step in enumerate(order) if step.startswith("pass "))
    assert {order[i] for i in locals_} >= {"local headcount", "local attrition_rate"}
    assert max(locals_) < first_pass  # the roster's counts before the first pass is taken
    assert passes.run_pass is run_pass  # only the engine's own name was replaced
    metrics = set(kept["metric"])
    assert {"backlog", "headcount", "attrition_rate", "aht"} <= metrics
