"""A lookup with one row per key attributes by a mapping of values (data/attribution.py),
which a pass that does not use the column leaves out; a lookup with a repeated key is
still joined. Both give what the join gave: a null or unknown key reaches nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tpmkit.data.attribution import attribute


def _calls() -> pl.LazyFrame:
    return pl.LazyFrame(
        {"row": [1, 2, 3, 4], "agent_id": ["A", None, "Z", "B"], "team": [None, None, None, "own"]}
    )


def test_a_roster_with_one_row_per_agent_is_a_mapping() -> None:
    roster = pl.DataFrame(
        {
            "agent_id": ["A", "B", None],  # a roster row without an id matches no call
            "team": ["red", "blue", "ghost"],
            "hire_date": [dt.date(2026, 1, 5), None, dt.date(2020, 1, 1)],
        }
    )
    out = attribute(_calls(), ["team", "hire_date"], [("agent_id", roster)])
    plan = out.explain()
    assert "JOIN" not in plan
    got = out.collect()
    assert got["team"].to_list() == ["red", None, None, "own"]  # null key, unknown Z
    assert got["hire_date"].to_list() == [dt.date(2026, 1, 5), None, None, None]
    assert got.schema["hire_date"] == pl.Date
    # a query that does not use the hire date does not look it up at all
    assert "hire_date" not in out.select("row", "team").explain()


def test_a_repeated_key_is_still_joined() -> None:
    roster = pl.DataFrame({"agent_id": ["A", "A"], "team": ["red", "green"]})
    out = attribute(_calls(), ["team"], [("agent_id", roster)])
    assert "JOIN" in out.explain()
    got = out.collect().sort("row", "team")
    assert got["team"].to_list() == ["green", "red", None, None, "own"]  # as a join gives
