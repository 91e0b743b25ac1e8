"""Turn pydantic validation errors into located, actionable issues."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from tpmkit.errors import Issue, did_you_mean
from tpmkit.spec.engine import SECRET
from tpmkit.spec.yamlfile import LocatedDoc, Path_


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated/list/dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose fields are valid at `loc` (follows lists, dicts and union tags)."""
    current: list[Any] = [model]
    for part in loc:
        following: list[Any] = []
        for candidate in current:
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(str(part))
                if field is not None:
                    following.extend(_unwrap(field.annotation))
                else:  # a discriminated-union tag: keep the member whose kind matches
                    kind = candidate.model_fields.get("kind")
                    if kind is not None and part in typing.get_args(kind.annotation):
                        following.append(candidate)
            elif origin in (list, tuple):
                following.extend(_unwrap(typing.get_args(candidate)[0]))
            elif origin is dict:
                following.extend(_unwrap(typing.get_args(candidate)[1]))
        current = following
        if not current:
            return None
    models = [c for c in current if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def pydantic_issues(
    exc: ValidationError, doc: LocatedDoc, prefix: Path_, model: type[BaseModel]
) -> list[Issue]:
    """Every error of `exc` located in `doc` (the model was validated from `prefix`)."""
    issues: list[Issue] = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "list_type" and loc and str(loc[-1]).startswith("list["):
            # `X | list[X]`: the single form failed for a reason of its own; say that one
            field = _strip_members(loc)
            if any(
                _strip_members(tuple(e["loc"]))[: len(field)] == field and e is not error
                for e in errors
            ):
                continue
        full = (*prefix, *_strip_members(loc))
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            hint = did_you_mean(str(loc[-1]), allowed)
            if hint is None and allowed:
                hint = "allowed keys: " + ", ".join(allowed)
            issues.append(doc.issue(full, f"unknown key `{loc[-1]}`", key=True, hint=hint))
        elif kind == "missing":
            where = _dotted(loc[:-1])
            issues.append(
                doc.issue(
                    full[:-1] if len(full) > 1 else full,
                    f"missing required key `{loc[-1]}` in {where}",
                    hint=f"add `{loc[-1]}: ...`",
                )
            )
        elif kind == "union_tag_invalid":
            ctx = error.get("ctx", {})
            tag = ctx.get("tag", "?")
            expected = str(ctx.get("expected_tags", "")).replace("'", "")
            hint = did_you_mean(str(tag), [t.strip() for t in expected.split(",")])
            issues.append(
                doc.issue(
                    (*full, "kind"),
                    f"unknown compute kind `{tag}`",
                    hint=hint or f"expected one of {expected}",
                )
            )
        elif kind == "union_tag_not_found":
            issues.append(
                doc.issue(
                    full, "compute needs a `kind`", hint="e.g. kind: mean, ratio, count, formula"
                )
            )
        elif kind in ("literal_error", "enum"):
            expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
            choices = [c.strip() for c in expected.replace(" or ", ",").split(",") if c.strip()]
            hint = did_you_mean(str(error.get("input")), choices)
            issues.append(
                doc.issue(
                    full,
                    f"`{_dotted(loc)}`: {error['input']!r} is not allowed",
                    hint=hint or f"expected {expected}",
                )
            )
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            here = _strip_members(loc)
            if (kind.endswith("_type") or kind.endswith("_parsing")) and any(
                len(deeper := _strip_members(tuple(e["loc"]))) > len(here)
                and deeper[: len(here)] == here
                for e in errors
            ):
                # `bool | Model`: a mapping was meant as the model, whose own error is deeper
                # and says what is wrong; "should be a valid boolean" would only mislead
                continue
            # `float | Band` unions report one error per member; keep the first, readable one
            if any(i.message.startswith(f"`{_dotted(_strip_members(loc))}`") for i in issues):
                continue
            given = error.get("input")
            if kind == SECRET:
                pass  # the value holds a secret: never repeated
            elif isinstance(given, str | int | float) and not isinstance(given, bool):
                message += f" (got {given!r})"  # the value as read, to find it quickly
            issues.append(doc.issue(full, f"`{_dotted(_strip_members(loc))}`: {message}"))
    return issues


_MEMBER_NAMES = {
    "float",
    "Band",
    "int",
    "str",
    "bool",
    "list[...]",
    "function-after[_value_or_band(), Target]",
    # the single-entry member of the effective-dated `X | list[X]` fields
    "Thresholds",
    "Baseline",
    "Target",
    "Completeness",
    "Freshness",
}


def _strip_members(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _MEMBER_NAMES or "[" in p)))
