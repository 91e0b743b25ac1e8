"""The terminal plumbing: rich consoles on stdout and stderr, diagnostics, error lines and
the progress spinner. Only render/ imports rich."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.text import Text

from tpmkit.errors import Issue
from tpmkit.render.values import group_label


class _Results(Console):  # stdout's, and stderr's when `2>&1` sends it down the pipe too
    def on_broken_pipe(self) -> None:
        """The reader closed the pipe (`tpmkit evaluate | head`): rich would exit 1, which
        means a breach; the CLI turns this into a quiet exit 0."""
        self.quiet = True
        raise BrokenPipeError


def stdout() -> Console:
    """The console for results (no highlighting, long lines kept whole)."""
    return _Results(highlight=False, soft_wrap=False)


def stderr() -> Console:
    """The console for diagnostics and progress."""
    return _Results(stderr=True, highlight=False, soft_wrap=True)


def group_cell(value: Any) -> str:
    """A group value in a table cell; a missing one as `unassigned`."""
    return group_label(value)


def print_issues(issues: list[Issue], header: str | None = None) -> None:
    """Diagnostics on stderr, errors red and warnings yellow."""
    console = stderr()
    if header:
        console.print(
            header, style="bold red" if any(i.severity == "error" for i in issues) else "bold"
        )
    for issue in issues:
        colour = {"error": "red", "warning": "yellow"}.get(issue.severity, "cyan")
        console.print(
            Text.assemble(
                (issue.location() + ": " if issue.location() else "", "bold"),
                (issue.severity, colour),
                ": " + issue.message,
                (f"  ({issue.hint})" if issue.hint else "", "dim"),
            )
        )


def print_error(message: str) -> None:
    """One error line on stderr."""
    stderr().print(Text(message, style="red"))


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr with the current step and the time so far, when `enabled` and
    stderr is a terminal; otherwise (pipes, cron, --quiet) the steps are dropped silently.
    It disappears when the run ends."""
    if not enabled or not sys.stderr.isatty():
        yield lambda step: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(step: str) -> None:
            bar.update(task, description=step)

        yield update
