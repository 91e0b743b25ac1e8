"""`Project.notify`: build the message of a check or report, find the last recorded run of
the same command and scope in the history, and notify (see `tpmkit.notify`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmkit.errors import UsageError
from tpmkit.spec.loader import Definitions

if TYPE_CHECKING:
    from tpmkit.judge.gate import CheckResult
    from tpmkit.notify import Notification, Target
    from tpmkit.report.model import Report


def notify(
    project: Definitions,
    result: CheckResult | Report,
    urls: Sequence[str | Target] = (),
    *,
    report: Path | str | None = None,
    on: str | None = None,
    dry_run: bool = False,
    scope: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Notification:
    """Send the outcome of `result` to the project's targets and `urls` when due."""
    from tpmkit import history
    from tpmkit import notify as notifying
    from tpmkit.judge.gate import CheckResult
    from tpmkit.report.model import Report

    spec = project.spec
    if isinstance(result, CheckResult):
        message = notifying.from_check(result, spec.name, spec.currency)
        default: dict[str, Any] = {"period": result.grain}
    elif isinstance(result, Report):
        path = Path(report).resolve() if report is not None else None
        message = notifying.from_report(result, path)
        default = {"period": result.grain, "role": result.role, "cadence": result.cadence}
    else:
        raise UsageError(
            "notify takes a CheckResult or a Report (from project.check or project.report), "
            f"not a {type(result).__name__}"
        )
    metrics = sorted({_metric(k) for k in message.statuses})
    # the scope as the history stores it (JSON), so a reloaded one compares equal
    chosen = json.loads(json.dumps(dict(scope) if scope is not None else {**default,
                                    "metrics": metrics}, default=str))  # fmt: skip
    to = notifying.targets(project, urls, environ)
    previous = history.last_state(project, message.command, chosen)
    done = notifying.notify(project, message, to, on=on, dry_run=dry_run, previous=previous)
    done.scope = chosen
    return done


def _metric(key: str) -> str:
    return key.split(" × ", 1)[0]
