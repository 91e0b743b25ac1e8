"""A source's own words for true and false (`booleans:` in tpmkit.yaml)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from tpmkit.spec.base import Strict


class Booleans(Strict):
    """A source's own words for yes and no, e.g. `{true: [Ja, J], false: [Nein, N]}`
    (YAML reads the keys `true`/`false` as booleans: both spellings are accepted)."""

    true: list[str] = Field(default_factory=list, description="words meaning true")
    false: list[str] = Field(default_factory=list, description="words meaning false")

    @model_validator(mode="before")
    @classmethod
    def _boolean_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for words in data.values():
            if isinstance(words, list) and any(isinstance(w, bool) for w in words):
                # the text is gone (yes, on and true all read as True): ask for quotes
                raise ValueError(
                    'quote words such as "Yes", "No", "On" and "Off": '
                    "unquoted, YAML reads them as booleans"
                )
        return {("true" if k is True else "false" if k is False else k): v for k, v in data.items()}

    @model_validator(mode="after")
    def _distinct_words(self) -> Booleans:
        both = {w.strip().lower() for w in self.true} & {w.strip().lower() for w in self.false}
        if both:
            raise ValueError(f"a word cannot mean both true and false: {', '.join(sorted(both))}")
        if any(not w.strip() for w in [*self.true, *self.false]):
            raise ValueError("an empty word is a null cell, not a boolean")
        return self
