"""Atomic output (src/tpmkit/atomic.py): a file is replaced whole or not at all, and a
target that is not a regular file is written through, never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tpmkit.atomic import atomic_path, write_text


def test_a_file_is_replaced_whole_and_a_failure_leaves_it(tmp_path: Path):
    target = tmp_path / "out" / "report.md"
    write_text(target, "first\n")
    assert target.read_text() == "first\n"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "first\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]  # no temporary left


def test_a_named_pipe_is_written_through_not_replaced(tmp_path: Path):
    # `-o /dev/null` replaced /dev/null with a regular file when run as root: renaming over
    # a device or a pipe replaces the device itself
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    write_text(pipe, "through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # still a pipe


def test_dev_null_stays_a_device():
    devnull = Path(os.devnull)
    write_text(devnull, "nothing\n")
    assert stat.S_ISCHR(devnull.stat().st_mode)
