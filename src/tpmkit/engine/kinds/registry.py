"""The registry of computation kinds, keyed by the kind's name (`compute.kind`)."""

from __future__ import annotations

from typing import Any

from tpmkit.engine.kinds.base import Kind
from tpmkit.errors import did_you_mean
from tpmkit.spec.computes import ComputeSpec, kind_name
from tpmkit.spec.models import register_compute, unregister_compute

KINDS: dict[str, Kind[Any]] = {}


def register(kind: Kind[Any]) -> None:
    """Make a kind usable: its model validates `compute:` blocks, its module computes them."""
    # every check before anything changes: a refused kind leaves both registries as they were
    if kind.name in KINDS and type(KINDS[kind.name]) is not type(kind):
        raise ValueError(f"computation kind `{kind.name}` is already registered")
    name = kind_name(kind.model)
    if name != kind.name:
        raise ValueError(f"{type(kind).__name__}.name is `{kind.name}`, its model's kind `{name}`")
    register_compute(kind.model)
    KINDS[kind.name] = kind


def unregister(name: str) -> None:
    """Forget a kind (e.g. a test's toy kind, afterwards)."""
    KINDS.pop(name, None)
    unregister_compute(name)


def kind_of(compute: ComputeSpec) -> Kind[Any]:
    """The kind that computes `compute` (found by its `kind` name)."""
    try:
        return KINDS[compute.kind]
    except KeyError:
        hint = did_you_mean(compute.kind, KINDS) or "register its engine module"
        raise LookupError(
            f"no engine module for computation kind `{compute.kind}`; {hint}"
        ) from None
