"""How the fields of a compute spec resolve `{parameter}` placeholders.

Shared by validation and computation, so it lives with the spec; which columns a kind
reads is the kind's own business (`tpmkit.engine.kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping

from tpmkit.spec import expressions

Params = Mapping[str, str | int | float | bool]


def resolve(value: str | float, params: Params) -> str | float:
    """A field that may be a whole `{parameter}` placeholder, resolved."""
    if isinstance(value, str):
        found = expressions.placeholders(value)
        if len(found) == 1 and value.strip() == "{" + found[0][0] + "}":
            name = found[0][0]
            if name not in params:
                raise expressions.ExpressionError(f"unknown parameter `{name}`")
            resolved = params[name]
            return resolved if isinstance(resolved, str) else float(resolved)
    return value
