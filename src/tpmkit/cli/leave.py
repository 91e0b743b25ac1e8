"""Leaving the process once a command-line run is over, without tearing the interpreter
down: the output is written and flushed, the exit handlers have run (the DuckDB
connection closed, temporary folders removed), and what
Python would still do — free every module and object one by one, polars' frames and
DuckDB's buffers among them — changes nothing on disk. At 1 M calls that teardown took
~0.05 s of a ~1.1 s run (the hand-written DuckDB SQL pays it too).

Only when `tpmkit` is the program (the console script or `python -m tpmkit`), no other
thread of ours is still running, and the exit code is a number; anything else (a test or
a program calling `main`) leaves the normal way."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path

__all__ = ["is_program", "leave_now"]


def leave_now(code: object) -> None:
    """End the process with `code` at once when it is safe (see module doc); else
    return, and the caller exits the normal way."""
    if code is None:
        code = 0
    if not isinstance(code, int) or not is_program():
        return
    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main):
        return  # Python would wait for it
    atexit._run_exitfuncs()  # what Python runs first at exit (they may still print)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        return  # the normal way says it as it always has
    os._exit(code)


def is_program() -> bool:
    """Whether `tpmkit` is the program: its console script or `python -m tpmkit`."""
    program = sys.modules.get("__main__")
    spec = getattr(program, "__spec__", None)
    if spec is not None and spec.name == "tpmkit.__main__":
        return True
    path = getattr(program, "__file__", None)
    return path is not None and Path(path).name in ("tpmkit", "tpmkit.exe")
