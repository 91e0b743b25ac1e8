"""Coaching effectiveness (`tpmkit coaching`, kpi-catalogue.md "Coaching effect"): per
coaching session the coached metric before and after against the same team's uncoached
agents (difference in differences), with a 95 % interval and a verdict; summaries per
coach and per topic with agents as the unit. `effect` is the arithmetic, `model` the
records handed to renderers and reports, `run` reads the log and evaluates the metric."""

from __future__ import annotations

from tpmkit.coaching.model import CoachingResult, SessionEffect, Summary

__all__ = ["CoachingResult", "SessionEffect", "Summary"]
