"""Atomic file output: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces `target`, on failure it is removed.
    A target that is not a regular file (`/dev/null`, `/dev/stdout`, a named pipe) is
    written through instead: renaming over it would replace the device itself."""
    if target.exists() and not target.is_file() and not target.is_dir():
        with _written_through(target) as tmp_path:
            yield tmp_path
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the file the mode any new file gets (umask)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        with open(tmp_path, "rb") as handle:  # on disk before it replaces the old file
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def _written_through(target: Path) -> Iterator[Path]:
    """A temporary file (in the temporary directory, not beside a device) whose bytes are
    copied into `target` on success."""
    fd, tmp = tempfile.mkstemp(prefix="tpmkit-", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    """Write text atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temporary file, then move it over `target`."""
    with atomic_path(target) as tmp:
        writer(tmp)
