"""Issue 19 item 5: the DuckDB engine starts finding its time zone's offset changes on a
thread of its own when its connection opens (`tpmkit.zone_offsets.prepare`), so they are
found while DuckDB checks the first dataset. The offsets are the same as found on the
caller's thread, an error is raised where they are asked for, and an engine run starts it
for the project's zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tpmkit import zone_offsets
from tpmkit.engines.session import EngineSession
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"


@pytest.fixture(autouse=True)
def _fresh():
    zone_offsets._pending.clear()
    zone_offsets._offsets.cache_clear()
    yield
    zone_offsets._pending.clear()
    zone_offsets._offsets.cache_clear()


def test_offsets_found_on_the_thread_are_those_found_here():
    here = zone_offsets.offsets("America/Santiago")
    here = (here.first, list(here.changes))
    zone_offsets._offsets.cache_clear()
    zone_offsets.prepare("America/Santiago")
    zone_offsets.prepare("America/Santiago")  # once per zone
    assert len(zone_offsets._pending) == 1
    found = zone_offsets.offsets("America/Santiago")
    assert (found.first, found.changes) == here
    assert len(here[1]) > 100  # Chile has changed its clocks often since 1970


def test_an_error_on_the_thread_is_raised_where_the_offsets_are_asked_for():
    with pytest.raises(Exception) as direct:
        zone_offsets.offsets("Not/A_Zone")
    zone_offsets._pending.clear()
    zone_offsets.prepare("Not/A_Zone")
    with pytest.raises(type(direct.value)):
        zone_offsets.offsets("Not/A_Zone")


def test_opening_the_duckdb_engine_starts_its_zones_offsets():
    project = load(EXAMPLE)
    session = EngineSession(project.with_engine("duckdb"))
    assert zone_offsets._pending == {}
    session.backend()
    assert list(zone_offsets._pending) == [project.spec.timezone]
    assert zone_offsets.offsets(project.spec.timezone).changes  # Europe/Berlin: DST
    polars = EngineSession(project.with_engine("polars"))
    zone_offsets._pending.clear()
    assert polars.backend() is None
    assert zone_offsets._pending == {}  # the polars engine needs none
