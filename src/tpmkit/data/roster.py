"""Join roster dimensions (team, site, vendor, ...) onto a dataset by agent_id."""

from __future__ import annotations

import polars as pl


def join_roster(frame: pl.LazyFrame, roster: pl.DataFrame, dimensions: list[str]) -> pl.LazyFrame:
    """Add roster `dimensions` the frame lacks; agents missing from the roster get nulls."""
    own = set(frame.collect_schema().names())
    wanted = [
        d
        for d in dict.fromkeys(dimensions)
        if d not in own and d in roster.columns and d != "agent_id"
    ]
    if not wanted or "agent_id" not in own:
        return frame
    table = roster.select("agent_id", *wanted).lazy()
    return frame.join(table, on="agent_id", how="left", coalesce=True)
