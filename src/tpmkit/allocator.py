"""How soon polars' allocator gives freed memory back to the system.

polars allocates through jemalloc. When polars is imported it configures it (polars
2.1: freed "dirty" pages returned after 500 ms, then kept as "muzzy" pages for another
1,000 ms), adding whatever the environment variable `_RJEM_MALLOC_CONF` holds, which wins.
An evaluation is a chain of passes, each freeing what the one before used, so its peak
resident memory is the working set plus what was freed in the last second or so, and it
varies from run to run with the allocator's timing (10 M calls, agent × ISO week:
1,470–1,600 MiB in runs on one quiet machine; muzzy pages returned at once: 1,316–1,463
MiB). Returning dirty pages after 200 ms and muzzy pages at once brought the same run to
1,227–1,335 MiB with the same wall time (5.58–5.68 s against 5.56–5.60 s); returning
everything at once (1,085 MiB) cost 2 s of system time (docs/performance.md).

The command line sets `_RJEM_MALLOC_CONF` before anything imports polars, unless the
user set it already. A program using tpmkit as a library can set the same variable
before importing polars.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

__all__ = ["SETTING", "VARIABLE", "return_memory_sooner"]

VARIABLE = "_RJEM_MALLOC_CONF"
SETTING = "dirty_decay_ms:200,muzzy_decay_ms:0"


def return_memory_sooner(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Set `VARIABLE` to `SETTING` unless it is set or polars has started already (it
    would not read it); True when it was set."""
    if "polars" in sys.modules or VARIABLE in environ:
        return False
    environ[VARIABLE] = SETTING
    return True
