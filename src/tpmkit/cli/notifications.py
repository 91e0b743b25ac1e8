"""`--notify` and `--dry-run` on `check` and `report`: check the targets before computing,
notify after, and say what happened — every target masked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

NotifyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--notify",
        metavar="URL",
        help="Also send the outcome to this Apprise URL (repeatable; ${VAR} is read from the "
        "environment). Beside the project's `notify:` targets.",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the notification that would be sent, and send nothing."),
]


def check_targets(project: Any, urls: list[str] | None) -> None:
    """Fail (exit 2) before computing when a target's variable is missing or its URL unusable."""
    from tpmkit.notify import targets

    targets(project, urls or [])


def notify(
    project: Any,
    result: Any,
    urls: list[str] | None,
    *,
    dry_run: bool,
    scope: dict[str, Any],
    quiet: bool,
    report: Path | None = None,
    stream: TextIO | None = None,
) -> Any:
    """Notify, print the dry run (on `stream`, default stdout) or what was sent and skipped;
    returns the Notification."""
    done = project.notify(result, urls or [], report=report, dry_run=dry_run, scope=scope)
    out = stream or sys.stdout
    if dry_run and not done.outcomes:
        _show(out, "no notify target: this is the message", done.message, webhook=False)
    for outcome in done.outcomes:
        if outcome.skipped is not None:
            if not quiet:
                typer.echo(f"notify: not sent to {outcome.target}: {outcome.skipped}", err=True)
        elif dry_run:
            webhook = outcome.target.startswith(("json://", "jsons://"))
            _show(out, f"to {outcome.target}, not sent (dry run)", outcome.message, webhook=webhook)
        elif outcome.failed:
            reason = outcome.delivery.reason
            typer.echo(f"error: notify: could not deliver to {outcome.target}: {reason}", err=True)
        elif not quiet:
            typer.echo(f"notify: sent to {outcome.target}", err=True)
    return done


def _show(out: TextIO, head: str, message: Any, *, webhook: bool) -> None:
    out.write(f"--- notification {head}\n{message.title()}\n\n{message.text()}")
    if webhook:
        out.write(f"JSON body:\n{message.json()}\n")
