"""A generated project for the coaching effect: two teams of eight agents over 20 weeks,
40 answered calls per agent and week. Coach Ana coaches four agents of team North in
week 6 and their AHT drops by 60 s from the next week on; coach Ben coaches four agents of
team South the same week and nothing changes. Every agent's AHT also rises 2 s a week
(a common trend the comparison group removes)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

FIRST_MONDAY = dt.date(2026, 1, 5)
WEEKS = 20
SESSION_WEEK = 6  # 2026-02-16 .. 02-22
CALLS_PER_WEEK = 40
DROP = 60.0

PROJECT = """
name: Coaching
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
  agents: {path: agents.csv}
  coaching: {path: coaching.csv}
"""


def agents() -> list[tuple[str, str]]:
    north = [(f"n{i}", "North") for i in range(1, 9)]
    south = [(f"s{i}", "South") for i in range(1, 9)]
    return north + south


COACHED = {"n1": "Ana", "n2": "Ana", "n3": "Ana", "n4": "Ana"}
COACHED |= {"s1": "Ben", "s2": "Ben", "s3": "Ben", "s4": "Ben"}


def calls_csv(seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["contact_id,offered_at,wait_seconds,answered,talk_seconds,agent_id"]
    number = 0
    for agent, _team in agents():
        base = rng.uniform(300, 400)
        for week in range(WEEKS):
            monday = FIRST_MONDAY + dt.timedelta(weeks=week)
            level = base + 2.0 * week
            if COACHED.get(agent) == "Ana" and week > SESSION_WEEK:
                level -= DROP
            for call in range(CALLS_PER_WEEK):
                number += 1
                day = monday + dt.timedelta(days=call % 5)
                talk = max(30.0, rng.gauss(level, 60.0))
                at = f"{day.isoformat()} {9 + call % 8:02d}:{(call * 7) % 60:02d}:00"
                lines.append(f"c{number},{at},10,true,{talk:.1f},{agent}")
    return "\n".join(lines) + "\n"


def coaching_csv() -> str:
    session_day = FIRST_MONDAY + dt.timedelta(weeks=SESSION_WEEK, days=2)
    lines = ["session_id,agent_id,coached_at,coach,metric,topic"]
    for i, (agent, coach) in enumerate(sorted(COACHED.items()), start=1):
        # Ana's sessions name the metric; Ben's do not (they take --metric)
        metric, topic = ("aht", "call control") if coach == "Ana" else ("", "empathy")
        lines.append(f"k{i},{agent},{session_day} 14:00:00,{coach},{metric},{topic}")
    return "\n".join(lines) + "\n"


def make_project(make: Any) -> Path:
    roster = "agent_id,team\n" + "".join(f"{a},{t}\n" for a, t in agents())
    return make.project(  # type: ignore[no-any-return]
        PROJECT,
        files={"calls.csv": calls_csv(), "agents.csv": roster, "coaching.csv": coaching_csv()},
    )
