"""`tpmkit validate` on the `notify:` targets: the problems `check` and `report` would stop
on, found in review with their place in tpmkit.yaml (file:line:column).

- a metric a target filters on that the project does not have (with "did you mean");
  an unknown role is refused by the file's schema already;
- a metric outside every view of the target's roles (the target never hears of it);
- a `${VAR}` that is not a variable name (error), or a variable not set here (a warning —
  the review machine need not hold the job's secrets — naming the variable, never a value);
- a URL that is not one (no `scheme://`), a scheme Apprise does not know (with "did you
  mean"), or — when every variable is set — a URL Apprise cannot use.

No message holds a variable's value or the URL beyond its masked form."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from tpmkit.errors import Issue, did_you_mean
from tpmkit.needs import ALL_METRICS_ROLES
from tpmkit.notify.targets import NAME, VARIABLE, mask
from tpmkit.spec.loader import Definitions

__all__ = ["notify_issues", "schemes"]


def notify_issues(project: Definitions, environ: Mapping[str, str] | None = None) -> list[Issue]:
    """Every located problem of the project's `notify:` targets."""
    environ = os.environ if environ is None else environ
    issues: list[Issue] = []
    for i, each in enumerate(project.spec.notify):
        issues += _filters(project, i, list(each.roles), each.metrics)
        issues += _url(project, i, each.url, environ)
    return issues


def _filters(project: Definitions, i: int, roles: list[str], metrics: list[str]) -> list[Issue]:
    known = {*project.metrics, *project.aliases}
    issues = []
    for j, name in enumerate(metrics):
        if name not in known:
            issues.append(
                project.doc.issue(
                    ("notify", i, "metrics", j),
                    f"notify[{i}].metrics: unknown metric `{name}`",
                    hint=did_you_mean(name, sorted(known)) or "see `tpmkit metrics list`",
                )
            )
            continue
        metric = project.metrics[project.aliases.get(name, name)]
        viewed = [
            r
            for r in roles
            if r in ALL_METRICS_ROLES or r in metric.spec.roles or r == metric.spec.owner
        ]
        if roles and not viewed:
            issues.append(
                project.doc.issue(
                    ("notify", i, "metrics", j),
                    f"notify[{i}]: metric `{name}` is in no view of the roles "
                    f"{', '.join(roles)} and owned by none of them, "
                    "this target never hears about it",
                    severity="warning",
                    hint=f"its views: {', '.join(metric.spec.roles) or 'none'}; "
                    "add one of them to `roles`, or drop `roles`",
                )
            )
    return issues


def _url(project: Definitions, i: int, url: str, environ: Mapping[str, str]) -> list[Issue]:
    path = ("notify", i, "url")
    shown = mask(url)
    quote = _quoted(project, path)
    issues, unset = [], []
    for match in VARIABLE.finditer(url):
        name = match.group(1)
        at = quote + match.start()
        if not NAME.match(name):
            issues.append(
                project.doc.issue(
                    path,
                    f"notify[{i}].url: `${{{name}}}` is not an environment variable name",
                    hint="write ${NAME} with letters, digits and _",
                    offset=at,
                )
            )
        elif not environ.get(name):
            unset.append(name)
            issues.append(
                project.doc.issue(
                    path,
                    f"notify[{i}].url: the environment variable {name} is not set here; "
                    "check and report stop (exit 2) where it is not set",
                    severity="warning",
                    hint=f"set {name} in the job's environment (a CI secret, a systemd "
                    "EnvironmentFile=), never in a file",
                    offset=at,
                )
            )
    scheme, sep, _ = url.strip().partition("://")
    if not sep or not scheme:
        return [
            *issues,
            project.doc.issue(
                path,
                f"notify[{i}].url: `{shown}` is not a URL: write scheme://…",
                hint="e.g. json://host/path, mailto://user:${PASSWORD}@host, slack://…",
                offset=quote,
            ),
        ]
    if scheme.lower() not in schemes():
        hint = did_you_mean(scheme.lower(), sorted(schemes()))
        return [
            *issues,
            project.doc.issue(
                path,
                f"notify[{i}].url: `{scheme}://` is not a service Apprise knows",
                hint=hint or "see docs/notifications.md for the URL forms",
                offset=quote,
            ),
        ]
    if issues or unset:
        return issues  # the URL is whole only with its variables
    return _usable(project, i, url, environ, quote)


def _usable(
    project: Definitions, i: int, url: str, environ: Mapping[str, str], quote: int
) -> list[Issue]:
    """Apprise's own reading of the URL, its variables replaced."""
    from tpmkit.errors import UsageError
    from tpmkit.notify.deliver import known
    from tpmkit.notify.targets import target

    try:
        known(target(url, f"notify[{i}].url", environ=environ))
    except UsageError as exc:
        return [
            project.doc.issue(
                ("notify", i, "url"),
                exc.message,
                hint="see docs/notifications.md for the URL forms",
                offset=quote,
            )
        ]
    return []


def _quoted(project: Definitions, path: tuple[Any, ...]) -> int:
    """1 when the scalar at `path` is written in quotes (its text starts a column later)."""
    mark = project.doc.locate(path)
    if mark is None:
        return 0
    line, column = mark
    try:
        text = project.file.read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return 0
    return 1 if text[column - 1 : column] in ("'", '"') else 0


@cache
def schemes() -> frozenset[str]:
    """Every URL scheme Apprise's services answer to."""
    from tpmkit.notify.deliver import apprise_module, captured

    with captured():
        details = apprise_module().Apprise().details()
    found: set[str] = set()
    for service in details.get("schemas", []):
        for key in ("protocols", "secure_protocols"):
            value = service.get(key) or ()
            found.update([value] if isinstance(value, str) else value)
    return frozenset(s.lower() for s in found)
