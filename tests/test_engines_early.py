"""Issue 19, item 5 (the DuckDB engine at 1 M calls): the records of the metrics whose
cells are in are finished while the last queries run (tpmkit.engines.early). Whatever
order the cells come in, and whatever trend origin a part was first finished with, the
records are those `finish` gives for all metrics at once; an error while finishing on a
thread is raised on the caller's, as `finish` raises it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from tpmkit.engine.compute import finish
from tpmkit.engine.in_force import levels_table
from tpmkit.engine.trend import origin
from tpmkit.engine.window import START
from tpmkit.engines import early
from tpmkit.engines.early import EarlyFinish
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The DuckDB engine's records of the example by team and week, and what its early
    finishing was given at the end: the cells, metrics, request and reasons."""
    root = tmp_path_factory.mktemp("early") / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".tpmkit"))
    seen: dict[str, Any] = {}
    records = EarlyFinish.records

    def spy(self: EarlyFinish, cells: Any, unavailable: Any) -> pl.DataFrame:
        out = records(self, cells, unavailable)
        seen.update(cells=dict(cells), unavailable=dict(unavailable), early=self, out=out)
        return out

    EarlyFinish.records = spy  # type: ignore[method-assign]
    try:
        project = load(root / "tpmkit.yaml").with_engine("duckdb")
        seen["records"] = project.evaluate(cache=False, period="week", by="team").records
    finally:
        EarlyFinish.records = records  # type: ignore[method-assign]
    return seen


def _at_once(made: dict[str, Any]) -> pl.DataFrame:
    e: EarlyFinish = made["early"]
    wanted = [made["cells"][s.id] for s in e.metrics if s.id in made["cells"]]
    return finish(wanted, e.metrics, e.request, e.timezone, dict(made["unavailable"]))


def _fresh(made: dict[str, Any]) -> EarlyFinish:
    e: EarlyFinish = made["early"]
    return EarlyFinish(e.metrics, e.request, e.timezone, dict(made["unavailable"]))


def test_the_engine_finished_parts_early_and_its_records_are_finish_at_once(made):
    assert made["early"].parts, "no part was finished while queries ran"
    assert made["records"].height > 100 and made["records"]["metric"].n_unique() > 10
    assert_frame_equal(made["out"], _at_once(made))


def test_any_order_of_cells_gives_the_same_records(made):
    cells, reference = made["cells"], _at_once(made)
    for ids in (list(cells)[::-1], sorted(cells)):
        e = _fresh(made)
        e.limit = 1  # a part a metric
        for i in ids:
            e.offer({i: cells[i]})
        assert len(e.parts) >= 10
        assert_frame_equal(e.records(cells, made["unavailable"]), reference)


def test_a_part_finished_with_an_origin_not_the_final_one_is_finished_again(made):
    cells, grain = made["cells"], made["early"].request.grain
    first = origin(pl.concat(list(cells.values()), how="diagonal_relaxed"), grain)
    # one metric has the first period; the others, offered first, lack it
    own = next(i for i, f in cells.items() if f.height and origin(f, grain) == first)
    start = cells[own][START].min()
    later = {i: f.filter(pl.col(START) > start) for i, f in cells.items() if i != own}
    e = _fresh(made)
    e.limit = 1  # a part a metric, each started at once
    e.offer(later)
    assert e.first is not None and first is not None and e.first > first
    offered = len(e.parts)
    again = []
    finish_part = e._finish
    e._finish = lambda *a: again.append(1) or finish_part(*a)  # type: ignore[method-assign]
    wanted = {**later, own: cells[own]}
    given = dict(made["unavailable"])
    records = e.records(wanted, given)
    expected = finish(
        [wanted[s.id] for s in e.metrics if s.id in wanted], e.metrics, e.request, e.timezone, given
    )
    assert offered > 5 and len(again) == offered + 1  # each again, and the last metric
    assert_frame_equal(records, expected)


def test_a_part_whose_reason_changed_is_finished_again(made):
    cells = made["cells"]
    metric = next(i for i, f in cells.items() if f.height)
    e = _fresh(made)
    e.offer(cells)
    given = {**made["unavailable"], metric: "a reason given after its part was finished"}
    out = e.records(cells, given)
    e2 = _fresh(made)
    wanted = [cells[s.id] for s in e2.metrics if s.id in cells]
    assert_frame_equal(out, finish(wanted, e2.metrics, e2.request, e2.timezone, given))


def test_an_error_on_a_thread_is_raised_on_the_callers_as_finish_raises_it(made):
    # no values at all: finishing cannot go on (the trend's origin still can)
    cells = {i: f.drop("value", strict=False) for i, f in made["cells"].items()}
    e = _fresh(made)
    e.offer(cells)
    with pytest.raises(Exception) as on_thread:
        e.records(cells, made["unavailable"])
    wanted = [cells[s.id] for s in e.metrics if s.id in cells]
    with pytest.raises(Exception) as at_once:
        finish(wanted, e.metrics, e.request, e.timezone, dict(made["unavailable"]))
    assert type(on_thread.value) is type(at_once.value)
    assert str(on_thread.value) == str(at_once.value)
    assert e._pool is None  # the threads are gone


def test_records_in_metric_order_take_each_metrics_rows_whole():
    a = pl.DataFrame({"metric": ["y", "y", "w"], "v": [1, 2, 3]})
    b = pl.DataFrame({"metric": ["x", "z", "z"], "v": [4, 5, 6]})
    out = early._in_metric_order([a, b], ["w", "x", "y", "z"])
    assert out.to_dict(as_series=False) == {
        "metric": ["w", "x", "y", "y", "z", "z"],
        "v": [3, 4, 1, 2, 5, 6],
    }


def test_a_part_is_finished_with_its_own_definitions_only(made, monkeypatch):
    # each part's levels, reasons and order come from its own metrics' definitions (the
    # levels of every metric for each part were a tenth of the finishing); the records are
    # still those of finishing at once, a dated level (contacts_per_hour) among them
    given: list[tuple[set[str], set[str]]] = []
    finish_part = early._finish_part

    def spy(table: pl.DataFrame, metrics: Any, *args: Any) -> pl.DataFrame:
        given.append(({s.id for s in metrics}, set(table["metric"])))
        return finish_part(table, metrics, *args)

    monkeypatch.setattr(early, "_finish_part", spy)
    cells, reference = made["cells"], _at_once(made)
    e = _fresh(made)
    e.limit = 1  # a part a metric
    for i in cells:
        e.offer({i: cells[i]})
    assert_frame_equal(e.records(cells, made["unavailable"]), reference)
    assert len(given) >= 10
    assert all(ids == present for ids, present in given)
    assert any(ids == {"contacts_per_hour"} for ids, _ in given)


def test_parts_with_and_without_dated_levels_give_the_records_of_finishing_at_once(made):
    # a metric whose levels change on a date inside the data: finishing every metric at
    # once joins the levels by date for all; a part without it joins them plainly
    cells, e = made["cells"], _fresh(made)
    spec = next(s for s in e.metrics if s.id == "aht")
    days = cells["aht"][START].dt.date().unique().sort()
    change = days[len(days) // 2]
    dated = type(spec).model_validate(
        {
            **spec.model_dump(by_alias=True, exclude_none=True),
            "target": [{"value": 300}, {"value": 240, "from": change}],
            "thresholds": [
                {"warning": 400, "critical": 500},
                {"warning": 250, "critical": 260, "from": change},
            ],
        }
    )
    metrics = [dated if s.id == "aht" else s for s in e.metrics]
    assert levels_table([dated])["in_force_from"].drop_nulls().unique().to_list() == [change]
    wanted = [cells[s.id] for s in metrics if s.id in cells]
    reference = finish(wanted, metrics, e.request, e.timezone, dict(made["unavailable"]))
    parts = EarlyFinish(metrics, e.request, e.timezone, dict(made["unavailable"]))
    parts.limit = 1  # a part a metric: aht's alone is dated
    for i in cells:
        parts.offer({i: cells[i]})
    assert_frame_equal(parts.records(cells, made["unavailable"]), reference)
    aht = reference.filter(pl.col("metric") == "aht")
    assert {300.0, 240.0} <= set(aht["target"].drop_nulls())  # both levels in force
