"""The people sections a report view gets (issue 20): the workforce for the operations
manager, the coaching effect for the trainer and the team lead, the agent's own sessions
in the agent view. Each is evaluated only when the project has its data: a roster with
hire dates, a coaching log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tpmkit.errors import UsageError
from tpmkit.report.people import People

if TYPE_CHECKING:
    from tpmkit.commands import Evaluator
    from tpmkit.spec.loader import Definitions

WORKFORCE_ROLES = ("operations_manager",)
COACHING_ROLES = ("trainer", "team_lead")


def sections(
    project: Definitions,
    evaluate: Evaluator,
    *,
    role: str | None,
    agent: str | None,
    grain: str,
    period: str,
    records: Any = None,
) -> People | None:
    """The people sections of one report view, or None when it has none."""
    from tpmkit.coaching import run as coaching_run
    from tpmkit.workforce import run as workforce_run

    people = People(agent=agent if role == "agent" else None)
    if role in WORKFORCE_ROLES and grain != "hour":
        people.workforce = workforce_run.workforce(
            project, evaluate, grain, period, records=records
        )
    wants_sessions = role == "agent" and agent is not None
    if (role in COACHING_ROLES or wants_sessions) and "coaching" in project.spec.sources:
        try:
            log = coaching_run.read_log(project)
            people.coaching = coaching_run.coaching(project, evaluate, log=log)
            people.notes.extend(people.coaching.notes)
        except UsageError as exc:  # the report stands without it, and says why
            people.notes.append(f"no coaching section: {exc.message}")
    if people.workforce is None and people.coaching is None and not people.notes:
        return None
    return people
