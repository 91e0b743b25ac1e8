"""The base of every definition model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base for every definition model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
