"""The records of a coaching analysis: per session, per coach or topic, and the whole
result (what renderers, reports and JSON take)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

IMPROVED, WORSENED, NO_EFFECT = "improved", "worsened", "no_effect"
INSUFFICIENT = "insufficient_sample"


@dataclass(frozen=True)
class Part:
    """One of the four parts of a difference in differences: a mean (or a share on the
    metric's scale), its rows and the variance of that mean (None: cannot be estimated)."""

    value: float | None
    n: int
    variance: float | None

    @property
    def known(self) -> bool:
        return self.value is not None and self.n > 0


@dataclass(frozen=True)
class Estimate:
    """An effect with its 95 % interval and verdict (None values: not estimable)."""

    effect: float | None
    low: float | None
    high: float | None
    verdict: str
    df: float | None = None  # Student-t degrees of freedom (None: the normal quantile)
    reason: str | None = None  # why insufficient_sample


@dataclass(frozen=True)
class SessionEffect:
    """One session's coached metric before and after, against its comparison group."""

    session_id: str
    agent_id: str
    coached_at: dt.datetime
    coach: str | None
    topic: str | None
    metric: str
    team: str | None
    comparison: str  # "team" or "operation" (the team had no uncoached agent)
    before: Part
    after: Part
    comparison_before: Part
    comparison_after: Part
    estimate: Estimate
    held: Estimate | None  # 8 weeks later; None where the data do not reach that far
    held_reason: str | None = None  # why `held` is None, in a trainer's words

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO text)."""
        out = dataclasses.asdict(self)
        out["coached_at"] = self.coached_at.isoformat()
        return out


@dataclass(frozen=True)
class Summary:
    """The mean session effect of one coach or topic, agents as the unit."""

    by: str  # "coach" or "topic"
    name: str | None
    metric: str
    sessions: int
    agents: int  # agents with an estimable effect (the unit of the interval)
    estimate: Estimate
    held_agents: int = 0
    held: Estimate | None = None
    held_reason: str | None = None  # why `held` is None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class CoachingResult:
    """Every analysed session, the summaries per coach and per topic, and notes."""

    metrics: list[str]
    window: int  # weeks before and after
    sessions: list[SessionEffect]
    coaches: list[Summary]
    topics: list[Summary]
    directions: dict[str, str]  # metric -> higher_is_better | lower_is_better
    units: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def for_agent(self, agent_id: str) -> list[SessionEffect]:
        """The sessions of one agent (the agent view)."""
        return [s for s in self.sessions if s.agent_id == agent_id]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "window_weeks": self.window,
            "sessions": [s.to_dict() for s in self.sessions],
            "coaches": [c.to_dict() for c in self.coaches],
            "topics": [t.to_dict() for t in self.topics],
            "notes": self.notes,
        }
