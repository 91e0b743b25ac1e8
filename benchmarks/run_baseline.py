"""Run one baseline in its own process (so its time and peak memory are its own).

python -m benchmarks.run_baseline polars|duckdb FOLDER FORMAT OUTPUT.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    engine, folder, fmt, output = argv
    if engine == "polars":
        from benchmarks import baseline_polars as baseline
    elif engine == "duckdb":
        from benchmarks import baseline_duckdb as baseline  # type: ignore[no-redef]
    else:
        raise SystemExit(f"unknown baseline {engine!r}")
    baseline.compute(Path(folder), fmt).write_parquet(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
