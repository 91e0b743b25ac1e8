"""The one exception family that crosses the library boundary, and the exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every command (see product.md)."""

    OK = 0
    BREACH = 1
    USER_ERROR = 2
    INTERNAL = 3


@dataclass(frozen=True)
class Issue:
    """One located problem in a definition or a data file."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str = "error"  # error | warning | hint
    hint: str | None = None

    def location(self) -> str:
        """`file:line:column` with whatever parts are known."""
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def render(self) -> str:
        """One line (plus hint) the way a compiler prints a diagnostic."""
        loc = self.location()
        text = (
            f"{loc}: {self.severity}: {self.message}" if loc else f"{self.severity}: {self.message}"
        )
        if self.hint:
            text += f" ({self.hint})"
        return text


def first_line(exc: BaseException) -> str:
    """A library's complaint without the query, plan or data it goes on to quote: the
    first line of `exc`'s message (its class name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TpmkitError(Exception):
    """Any problem the user can fix: bad options, definitions or data. Exit code 2."""

    exit_code = ExitCode.USER_ERROR

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.issues = list(issues)

    @property
    def omitted(self) -> int:
        """Problems found but not listed in `issues` (only the first ones are kept)."""
        return 0

    def __str__(self) -> str:
        # a notebook or a log shows str(error): give it the located issues too
        return self.render()

    def render(self) -> str:
        """The message followed by every located issue."""
        lines = [self.message]
        lines.extend("  " + issue.render() for issue in self.issues)
        if self.omitted:
            total = getattr(self, "total", len(self.issues) + self.omitted)
            lines.append(f"  ... and {self.omitted} more ({total} in all)")
        return "\n".join(lines)


class DefinitionError(TpmkitError):
    """The project file or a metric file is invalid."""


class DataError(TpmkitError):
    """An input export breaks the data contract."""

    def __init__(
        self,
        message: str,
        issues: Sequence[Issue] = (),
        total: int | None = None,
        covered: int | None = None,
    ) -> None:
        super().__init__(message, issues)
        self.total = len(self.issues) if total is None else total
        # problems the issues stand for (one issue may stand for many repeated ones)
        self.covered = len(self.issues) if covered is None else covered

    @property
    def omitted(self) -> int:
        return max(self.total - self.covered, 0)


class ComputeError(TpmkitError):
    """Metrics whose expressions cannot be computed on the data (e.g. a mean of text)."""

    def __init__(self, failures: dict[str, str]) -> None:
        super().__init__("some metrics cannot be computed on this data")
        self.failures = failures


class UsageError(TpmkitError):
    """A command-line option or argument is wrong."""


class NoSuchColumn(UsageError):
    """A grouping column that no dataset the metrics read has (a report skips such a level;
    anywhere else it is a usage error)."""

    def __init__(self, message: str, issues: Sequence[Issue] = (), *, column: str) -> None:
        super().__init__(message, issues)
        self.column = column


def by_location(issues: Iterable[Issue]) -> list[Issue]:
    """Issues ordered by file, line and column (unlocated ones last)."""
    return sorted(issues, key=lambda i: (i.file or "\uffff", i.line or 0, i.column or 0))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean `x`?' hint when a close match exists."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None


def period_hint(word: str, labels: Sequence[str]) -> str | None:
    """A 'did you mean' for a period label: a close match, else the latest label that ends
    with what was typed (`W13` → `2026-W13`). A whole label the data do not reach
    (`2027-W01`) gets none: a look-alike week of another year would mislead."""
    if labels and _shape(word) == _shape(labels[0]):
        return None
    hint = did_you_mean(word, labels)
    ending = [label for label in labels if label.endswith(word)]
    if hint is None and ending:
        hint = f"did you mean `{ending[-1]}`?"
    return hint


def _shape(label: str) -> str:
    """A period label with its digits blanked: `2026-W41` and `2027-W01` share one."""
    return "".join("9" if c.isdigit() else c for c in label)
