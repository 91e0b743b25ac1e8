"""python -m benchmarks.explain — `tpmkit explain` across 6 dimensions on the benchmark
data (docs/performance.md, "Explaining a change").

Times, per scale: the explain call end to end (the metric over every week, then the two
weeks grouped by each dimension: one evaluation each), and apart from it the
decomposition alone — the six dimensions' records (already evaluated) split into mix and
rate contributions and ranked, which is what "after the evaluation" costs. Checks that
every dimension's contributions add up to the change to 1e-9."""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

from benchmarks.data import generate
from benchmarks.harness import machine

DIMENSIONS = ["vendor", "site", "team", "queue", "channel", "agent_id"]


def measure(folder: Path, calls: int, fmt: str, repeat: int) -> dict[str, float]:
    """Median seconds of the whole explain and of the decomposition alone."""
    import tpmkit
    from tpmkit.explain.drivers import explain_evaluations

    layout = generate(folder, calls)
    project = tpmkit.load(layout.project(fmt))
    whole, evaluations, alone = [], [], []
    found = None
    for _ in range(repeat):
        start = time.perf_counter()
        found = project.explain("aht", by=DIMENSIONS, at="2026-W46", cache=False)
        whole.append(time.perf_counter() - start)
    assert found is not None
    for d in found.decompositions:
        assert math.isclose(d.explained, found.change or 0.0, rel_tol=1e-9), d.dimensions
    for _ in range(repeat):
        start = time.perf_counter()
        grouped = [
            project.evaluate("aht", by=dim, start="2026-11-02", end="2026-11-15", cache=False)
            for dim in DIMENSIONS
        ]
        evaluations.append(time.perf_counter() - start)
        start = time.perf_counter()
        ranked = explain_evaluations(grouped, "aht", "2026-W45", "2026-W46")
        alone.append(time.perf_counter() - start)
        assert [d.dimensions for d in ranked] == [d.dimensions for d in found.decompositions]
    segments = sum(len(d.segments) for d in found.decompositions)
    return {
        "explain_s": statistics.median(whole),
        "evaluations_s": statistics.median(evaluations),
        "decomposition_s": statistics.median(alone),
        "segments": float(segments),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explain", description=__doc__)
    parser.add_argument("--calls", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("benchmarks/.data"))
    args = parser.parse_args(argv)
    print(machine())
    print("| calls | explain, 6 dimensions, s | of which evaluations s | decomposition alone s |")
    print("|---:|---:|---:|---:|")
    for calls in args.calls:
        folder = args.data_dir / f"calls-{calls}"
        got = measure(folder, calls, args.format, args.repeat)
        print(
            f"| {calls:,} | {got['explain_s']:.2f} | {got['evaluations_s']:.2f} | "
            f"{got['decomposition_s']:.3f} ({got['segments']:.0f} segments) |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
