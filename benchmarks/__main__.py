"""python -m benchmarks — see docs/performance.md.

Generates the data at each scale (once; reused while it exists), times tpmkit, the
hand-written polars baseline and DuckDB on the same files, checks that they agree, prints
a Markdown table and writes the figures as JSON. Exit 1 when any result disagrees.
`--incremental` times the incremental case instead (benchmarks/incremental.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.harness import main


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--calls",
        type=int,
        nargs="+",
        default=[1_000_000, 10_000_000],
        help="scales, in calls (default: 1000000 10000000)",
    )
    parser.add_argument(
        "--formats", nargs="+", choices=["parquet", "csv"], default=["parquet", "csv"]
    )
    parser.add_argument(
        "--engines",
        nargs="*",
        choices=["duckdb", "spark"],
        default=["duckdb"],
        help="Ibis engines timed beside tpmkit's polars engine (default: duckdb; spark "
        "needs tpmkit[spark] and Java)",
    )
    parser.add_argument(
        "--baselines",
        nargs="*",
        choices=["polars", "duckdb"],
        default=["polars", "duckdb"],
        help="hand-written baselines timed and compared (default: both; at 100 M calls the "
        "polars baseline needs more memory than a 24 GB machine has)",
    )
    parser.add_argument(
        "--agents",
        type=int,
        help="a fixed roster of about this many agents (whole copies of the example's 60) "
        "instead of one that grows with the data; the calls spread over --weeks",
    )
    parser.add_argument(
        "--weeks",
        type=int,
        default=104,
        help="with --agents: weeks of history, in whole 13-week blocks (default: 104)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (median reported)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("benchmarks/.data"),
        help="where the generated data lives (default: benchmarks/.data, git-ignored)",
    )
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="time the incremental case instead: 52 weekly Parquet files per dataset, then "
        "one week added (benchmarks/incremental.py; one scale, the first of --calls)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("benchmarks/results/latest.json"),
        help="JSON results file (default: benchmarks/results/latest.json)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse(sys.argv[1:])
    if args.incremental:
        from benchmarks import incremental

        output = args.output
        if output == Path("benchmarks/results/latest.json"):
            output = Path("benchmarks/results/incremental.json")
        sys.exit(incremental.main(args.calls[0], args.repeat, args.data_dir, output))
    sys.exit(
        main(
            args.calls,
            args.formats,
            args.repeat,
            args.data_dir,
            args.output,
            tuple(args.engines),
            tuple(args.baselines),
            (args.agents, args.weeks) if args.agents else None,
        )
    )
