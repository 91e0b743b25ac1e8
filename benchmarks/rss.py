"""Run a command and print its wall time and peak RSS as JSON.

    python -m benchmarks.rss COMMAND...

A child's peak RSS as `wait4` reports it includes what the process held before `exec`,
i.e. a copy of its parent. The harness holds data frames, so it starts this small
launcher, which starts the command: the figure is then the command's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(command: list[str]) -> int:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.communicate()[1]  # reaps: use the children's totals below
    wall = time.perf_counter() - started
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if process.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace"))
    print(json.dumps({"wall": wall, "peak_rss_mb": peak_kb / 1024, "code": process.returncode}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
