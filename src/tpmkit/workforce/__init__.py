"""Workforce stability for reports: headcount and attrition per period, performance by
tenure band, and the agents not yet proficient (kpi-catalogue.md, "workforce"). `model`
holds the records reports take; `run` evaluates them (it reaches the engine)."""

from __future__ import annotations

from tpmkit.workforce.model import NotProficient, WorkforceView

__all__ = ["NotProficient", "WorkforceView"]
