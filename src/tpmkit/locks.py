"""One writer at a time for a file tpmkit reads, changes and replaces: `tpmkit annotate`
appending to annotations.csv (two runs at once would each write the rows they read, and
one note would be lost), and a run saving the records cache (`tpmkit.increment.store`:
two saves would each publish a state without the other's chunks). The read-modify-write
runs while holding a lock file beside the target (`.annotations.csv.lock`).

Where the system has `fcntl` (Linux, macOS) the lock is `flock` on that file: the kernel
releases it when the holder exits, even killed, so it never goes stale and the file is
left in place. Elsewhere the lock file itself is the lock, created with O_CREAT | O_EXCL
and removed on release; a run waits up to `wait` seconds for it, then says which file to
remove if no other run holds it."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tpmkit.errors import Issue, UsageError

WAIT = 30.0  # seconds a writer waits for another one to finish
_POLL = 0.02
try:
    import fcntl  # noqa: F401  (POSIX only)

    HAS_FLOCK = True
except ImportError:  # pragma: no cover - Windows
    HAS_FLOCK = False


def lock_path(target: Path) -> Path:
    """The lock file of `target` (hidden, beside it)."""
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def exclusive(
    target: Path,
    *,
    wait: float = WAIT,
    use_flock: bool = HAS_FLOCK,
    writer: str = "`tpmkit annotate`",
) -> Iterator[None]:
    """Hold the lock of `target` for the block: flock where the system has it, else an
    exclusively created lock file (`use_flock=False`, also how the tests exercise it);
    `writer` names the other run in the message when the wait is over."""
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    held = _flocked(path, wait, writer) if use_flock else _created(path, wait, writer)
    with held:
        yield


@contextlib.contextmanager
def _flocked(path: Path, wait: float, writer: str) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _busy(path, wait, writer, stale=False) from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _created(path: Path, wait: float, writer: str) -> Iterator[None]:
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise _busy(path, wait, writer, stale=True) from None
            time.sleep(_POLL)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _busy(path: Path, wait: float, writer: str, *, stale: bool) -> UsageError:
    target = path.with_name(path.name.removeprefix(".").removesuffix(".lock"))
    hint = (
        f"another {writer} is writing; if none is running, remove {path}"
        if stale
        else f"another {writer} is writing; try again when it has finished"
    )
    return UsageError(
        f"{target} is locked by another writer (waited {wait:g} s)",
        [Issue(hint, str(path), severity="hint")],
    )
