"""Python's cyclic garbage collector during a command-line run's start-up. Importing typer,
pydantic, tpmkit's models and polars and loading the project make ~95,000 objects that
live as long as the process; the collector, started every 700 allocations, kept going over
them: ~25 ms of a 1.1 s DuckDB-engine run at 1 M calls, a full collection of ~10 ms among
them, all on the main thread before any data is read. Almost none of it is garbage (~900
objects found unreachable once the project is loaded).

So, when `tpmkit` is the program, the collector waits for 100,000 allocations instead of
700 until the project is loaded (`hold`); then the objects made so far are moved out of its
reach (`gc.freeze`: they are still freed when their last reference goes) and it runs as
before (`release`). A command that never calls `release` still collects, at the higher
threshold. A program or a test calling `tpmkit.cli.main` keeps its own collector: `hold`
does nothing there, and `release` only undoes a `hold`."""

from __future__ import annotations

import gc

from tpmkit.cli.leave import is_program

__all__ = ["HELD", "hold", "release"]

HELD = 100_000  # allocations between collections while the start-up holds the collector
_before: list[tuple[int, ...]] = []  # the thresholds `hold` replaced (none: not held)


def hold() -> None:
    """Collect less often until `release`, when `tpmkit` is the program."""
    if _before or not is_program():
        return
    _before.append(gc.get_threshold())
    threshold = gc.get_threshold()
    gc.set_threshold(max(HELD, threshold[0]), *threshold[1:])


def release() -> None:
    """The start-up is over: its objects frozen, the collector as it was before `hold`
    (nothing to do when it was not held)."""
    if not _before:
        return
    gc.freeze()
    gc.set_threshold(*_before.pop())
