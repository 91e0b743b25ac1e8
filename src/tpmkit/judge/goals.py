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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tpmkit.errors import Issue, UsageError
from tpmkit.needs import Key, Need
from tpmkit.records import Evaluation
from tpmkit.spec.loader import Definitions
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


def judge(
    goal: Goal, actual: float | None, n: int, day: dt.date, direction: str | None, unit: str
) -> GoalStatus:
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


@dataclass(frozen=True)
class GoalWindow:
    """Where one goal is read: its metric for its agent from the goal's start to `end`
    (None: the goal has not started by `day`)."""

    goal: Goal
    metric: str
    day: dt.date
    end: dt.date | None

    def need(self) -> Need | None:
        """The evaluation this goal reads (by agent over its window), or None."""
        if self.end is None:
            return None
        return Need((self.metric,), "all", ("agent_id",), self.goal.start, self.end)


def goal_metrics(project: Definitions) -> list[str]:
    """Each goal's metric id (aliases resolved), in the goals' order."""
    ids = []
    for goal in project.spec.goals:
        if goal.metric not in project.metrics and goal.metric not in project.aliases:
            raise UsageError(
                f"goal for {goal.agent}: unknown metric `{goal.metric}`",
                [Issue("see `tpmkit metrics list`", severity="hint")],
            )
        ids.append(project.aliases.get(goal.metric, goal.metric))
    return ids


def latest_need(project: Definitions, as_of: dt.date | None) -> Need | None:
    """Without `as_of`, the evaluation that finds each dataset's last day with data."""
    ids = goal_metrics(project)
    if as_of is not None or not ids:
        return None
    return Need(tuple(sorted(set(ids))), "all")


def windows(
    project: Definitions, as_of: dt.date | None, latest: Evaluation | None = None
) -> list[GoalWindow]:
    """Each goal's window as of `as_of` (default: its dataset's last day with data, from
    the `latest_need` evaluation)."""
    days = (
        {d.name: d.latest_day for d in latest.datasets if d.latest_day is not None}
        if latest
        else {}
    )
    out = []
    for goal, metric_id in zip(project.spec.goals, goal_metrics(project), strict=True):
        spec = project.metrics[metric_id].spec
        own = days.get(str(spec.dataset)) if spec.dataset else max(days.values(), default=None)
        day = as_of or own or goal.start
        end = min(day, goal.due)
        out.append(GoalWindow(goal, metric_id, day, end if end >= goal.start else None))
    return out


def track(
    project: Definitions, goal_windows: list[GoalWindow], evaluations: Mapping[Key, Evaluation]
) -> list[GoalStatus]:
    """Every goal judged on its window's evaluation (`evaluations` by need key)."""
    out = []
    for window in goal_windows:
        spec = project.metrics[window.metric].spec
        need = window.need()
        if need is None:
            out.append(judge(window.goal, None, 0, window.day, spec.direction, spec.unit))
            continue
        records = evaluations[need.key].records
        mine: dict[str, Any] = next(
            (
                r
                for r in records.to_dicts()
                if r["agent_id"] == window.goal.agent and r["metric"] == window.metric
            ),
            {},
        )
        direction = spec.direction.value if spec.direction else None
        out.append(
            judge(
                window.goal, mine.get("value"), mine.get("n") or 0, window.day, direction, spec.unit
            )
        )
    return out
