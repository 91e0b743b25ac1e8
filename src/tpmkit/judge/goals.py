"""Individual goals (performance improvement plans), tracked like a glide path.

A goal takes one agent's metric from a value to a target between a start and a due date.
On a given day its *actual* is the metric for that agent from the start up to that day
(all rows so far, so a few contacts do not swing it), its *plan* is the straight line from
the start value to the target, *progress* is how much of the way the actual has come, and
the goal is `on_track` or `behind` (the actual against the plan, in the metric's
direction), or after the due date `met` or `missed`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpmkit.errors import Issue, UsageError
from tpmkit.spec.loader import Project
from tpmkit.spec.models import Goal


@dataclass
class GoalStatus:
    goal: Goal
    as_of: dt.date
    actual: float | None
    n: int
    plan: float
    progress: float | None  # percent of the way from the start value to the target
    status: str  # on_track | behind | met | missed | no_data
    days_left: int
    unit: str


def plan_value(goal: Goal, day: dt.date) -> float:
    """The glide path: the start value on `start`, the target on `due`, flat outside."""
    total = (goal.due - goal.start).days
    elapsed = min(max((day - goal.start).days, 0), total)
    return goal.from_value + (goal.target - goal.from_value) * elapsed / total


def judge(goal: Goal, actual: float | None, n: int, day: dt.date, direction: str | None,
          unit: str) -> GoalStatus:  # fmt: skip
    plan = plan_value(goal, day)
    higher = direction != "lower_is_better"
    if actual is None:
        return GoalStatus(goal, day, None, n, plan, None, "no_data", (goal.due - day).days, unit)
    span = goal.target - goal.from_value
    progress = 100.0 * (actual - goal.from_value) / span if span else None
    if day >= goal.due:
        reached = actual >= goal.target if higher else actual <= goal.target
        status = "met" if reached else "missed"
    else:
        ahead = actual >= plan if higher else actual <= plan
        status = "on_track" if ahead else "behind"
    return GoalStatus(goal, day, actual, n, plan, progress, status, (goal.due - day).days, unit)


def track(
    project: Project, as_of: dt.date | None = None, cache: Path | bool = True
) -> list[GoalStatus]:
    """Every goal of the project, as of `as_of` (default: the last day with data)."""
    from tpmkit import project as api

    ids = []
    for goal in project.spec.goals:
        if goal.metric not in project.metrics and goal.metric not in project.aliases:
            raise UsageError(
                f"goal for {goal.agent}: unknown metric `{goal.metric}`",
                [Issue("see `tpmkit metrics list`", severity="hint")],
            )
        ids.append(project.aliases.get(goal.metric, goal.metric))
    latest: dict[str, dt.date] = {}  # dataset -> its last day with data, read once
    if as_of is None and ids:
        result = api.evaluate(project, sorted(set(ids)), period="all", cache=cache)
        latest = {d.name: d.latest_day for d in result.datasets if d.latest_day is not None}
    out = []
    for goal, metric_id in zip(project.spec.goals, ids, strict=True):
        spec = project.metrics[metric_id].spec
        own = latest.get(str(spec.dataset)) if spec.dataset else max(latest.values(), default=None)
        day = as_of or own or goal.start
        end = min(day, goal.due)
        if end < goal.start:
            out.append(judge(goal, None, 0, day, spec.direction, spec.unit))
            continue
        records = api.evaluate(
            project,
            [metric_id],
            period="all",
            by=["agent_id"],
            date_from=goal.start,
            date_to=end,
            cache=cache,
        ).records
        mine: dict[str, Any] = next(
            (r for r in records.to_dicts() if r["agent_id"] == goal.agent), {}
        )
        direction = spec.direction.value if spec.direction else None
        out.append(judge(goal, mine.get("value"), mine.get("n") or 0, day, direction, spec.unit))
    return out
