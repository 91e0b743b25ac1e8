"""Sending through Apprise: one Apprise instance per target, so a failure is known per
target; Apprise's own log is captured (it may name hosts or paths) and only scrubbed
reasons are shown."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from tpmkit.errors import Issue, UsageError
from tpmkit.notify.targets import Target


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.messages.append(record.getMessage())


def apprise_module() -> ModuleType:
    """Apprise, imported on first use (it loads its services then)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

    return apprise


@contextlib.contextmanager
def captured() -> Iterator[_Collect]:
    """Apprise's log warnings, kept from the terminal and handed back to be scrubbed; the
    deprecation warnings its services raise when loaded (e.g. `imghdr` on Python 3.11) are
    Apprise's to fix, not the reader's to see."""
    logger = logging.getLogger("apprise")
    handler = _Collect()
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved


def known(target: Target) -> None:
    """Fail early (exit 2) when Apprise cannot read the URL."""
    with captured() as log:
        apprise = apprise_module()
        plugin = apprise.Apprise.instantiate(target.url)
    if plugin is None:
        said = "; ".join(dict.fromkeys(target.scrub(m) for m in log.messages))
        raise UsageError(
            f"{target.where}: {target.shown} is not a notification URL Apprise can use"
            + (f" (Apprise: {said})" if said else ""),
            [
                Issue(
                    "see docs/notifications.md for the URL forms (json://, mailto://, slack:// …)",
                    severity="hint",
                )
            ],
        )


@dataclass
class Delivery:
    """How sending to one target went."""

    target: str  # masked
    delivered: bool
    reason: str | None = None  # why not, scrubbed of secrets


def send(
    target: Target, title: str, body: str, *, failure: bool, attach: Path | None = None
) -> Delivery:
    """Send one message to one target."""
    with captured() as log:
        apprise = apprise_module()
        sender = apprise.Apprise()
        ok = False
        try:
            if sender.add(target.url):
                kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.INFO
                sent = sender.notify(
                    body=body,
                    title=title,
                    notify_type=kind,
                    # the body is plain text (lines, bullets): said, so that an email keeps
                    # its line breaks — left unsaid, Apprise takes it for the email's default
                    # HTML and the plain part runs every line into one
                    body_format=apprise.NotifyFormat.TEXT,
                    attach=str(attach) if attach is not None else None,
                )
                ok = bool(sent)
        except Exception as exc:  # a service's own bug must not hide the run's outcome
            log.messages.append(f"{type(exc).__name__}: {exc}")
    if ok:
        return Delivery(target.shown, True)
    reason = "; ".join(dict.fromkeys(target.scrub(m) for m in log.messages)) or "not delivered"
    return Delivery(target.shown, False, reason)
