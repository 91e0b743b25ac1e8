"""The floor: reading every column tpmkit needs once, with plain polars and nothing else.

    python -m benchmarks.floor columns PROJECT.yaml COLUMNS.json   # what tpmkit reads
    python -m benchmarks.floor read PROJECT.yaml COLUMNS.json      # read them once (timed)

No tool can compute the catalogue faster than it can read its inputs, so the harness
reports tpmkit's wall time as a multiple of this one (issue 21 aims at 4 ×). The columns
are the ones tpmkit's own plan asks the loader for in the timed command (all metrics by
agent_id × week): planned in one process (`columns`, not timed), read in a fresh one
(`read`, timed by the harness like every tool: interpreter start, imports and all).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def needed_columns(project_file: Path) -> dict[str, list[str]]:
    """Dataset -> the columns tpmkit's plan reads for the whole catalogue by agent × week."""
    from tpmkit import project as api
    from tpmkit.planning import plan_reads

    definitions = api.load(project_file)  # a Project is its definitions
    metrics = list(definitions.metrics.values())
    plan = plan_reads(
        definitions,
        metrics,
        explicit=False,
        sources=set(definitions.spec.sources),
        start=None,
        end=None,
    )
    # the evaluation adds the grouping column and the roster's key to every dataset
    return {name: sorted(cols | {"agent_id"}) for name, cols in sorted(plan.needed.items())}


def read_once(project_file: Path, columns: dict[str, list[str]]) -> int:
    """Read the columns of every dataset once into memory; the rows read."""
    import polars as pl
    import yaml

    spec = yaml.safe_load(project_file.read_text())
    total = 0
    for name, wanted in columns.items():
        path = str(project_file.parent / spec["sources"][name]["path"])
        scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path)
        present = set(scan.collect_schema().names())
        total += scan.select(c for c in wanted if c in present).collect().height
    return total


def main(argv: list[str]) -> int:
    action, project_file, columns_file = argv[0], Path(argv[1]), Path(argv[2])
    if action == "columns":
        columns_file.write_text(json.dumps(needed_columns(project_file)))
        return 0
    read_once(project_file, json.loads(columns_file.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
