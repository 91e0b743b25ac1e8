"""Time tpmkit against a hand-written polars baseline and DuckDB SQL on the same files,
check that all three agree on every cell's value, n and status, and report wall time,
peak memory and rows/s.

Every measured run is a fresh process started the way a user would start it (the tpmkit
command line; `python -m benchmarks.run_baseline` for the baselines), so start-up, reading
the files and writing the result (Parquet) are included in each figure. Peak memory is the
process's maximum resident set size as the kernel reports it (`wait4`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks import LAUNCH_ENVIRONMENT
from benchmarks.data import DATASETS, Layout, generate

KEY = ["metric", "period", "agent_id"]
TOLERANCE = 1e-9  # relative; sums in another order differ in the last bits
# the workforce metrics (the roster's counts, the hiring cohort's time to proficiency) have
# no implementation in the hand-written baselines, which reproduce the contact catalogue:
# compared between tpmkit's own runs only (tests/test_workforce.py checks them by hand)
UNBASELINED = ("headcount", "attrition_rate", "early_attrition_rate", "time_to_proficiency")
BASELINES = ("polars", "duckdb")
READ_ONCE = "read needed columns once"  # the floor (benchmarks/floor.py)
# the DuckDB engine's compiled-query cache (tpmkit.engines.compiled): timed kept (a run after
# the first) and off (every query built and compiled with Ibis); never the user's own
COMPILED_CACHE = "TPMKIT_COMPILED_CACHE"


@dataclass
class Timing:
    scale: int
    fmt: str
    tool: str  # tpmkit, tpmkit (cache fill), tpmkit (cache warm), polars, duckdb
    seconds: list[float]
    peak_rss_mb: float
    rows: int

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.wall


@dataclass
class Report:
    machine: dict[str, str]
    started: str
    timings: list[Timing] = field(default_factory=list)
    agreement: dict[str, str] = field(default_factory=dict)
    rows: dict[int, dict[str, int]] = field(default_factory=dict)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory_gb = f"{int(memory) / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory_gb = "unknown"
    import duckdb

    from tpmkit import __version__

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
        "tpmkit": __version__,
    }


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of `command` (`env`: variables set for
    it); a failure stops the run."""
    launched = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss", *command],
        capture_output=True,
        text=True,
        check=True,
        env={**LAUNCH_ENVIRONMENT, **(env or {})},
    )
    result = json.loads(launched.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result['code']}):\n{launched.stderr}")
    return float(result["wall"]), float(result["peak_rss_mb"])


def tpmkit_command(
    layout: Layout, fmt: str, output: Path, cache: Path | None, engine: str = "polars"
) -> list[str]:
    return evaluate_command(layout.project(fmt), output, cache, "agent_id", engine)


def evaluate_command(
    project: Path, output: Path, cache: Path | None, by: str, engine: str = "polars"
) -> list[str]:
    """`tpmkit evaluate` of the whole catalogue by `by` × ISO week, records to `output`."""
    command = [
        str(Path(sys.executable).with_name("tpmkit")),
        "evaluate",
        "-p",
        str(project),
        "--by",
        by,
        "--period",
        "week",
        "--format",
        "parquet",
        "--output",
        str(output),
        "--quiet",
        "--engine",
        engine,
    ]
    return [*command, "--cache-dir", str(cache)] if cache else [*command, "--no-cache"]


def baseline_command(engine: str, layout: Layout, fmt: str, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.run_baseline",
        engine,
        str(layout.folder),
        fmt,
        str(output),
    ]


def disagreements(ours: pl.DataFrame, theirs: pl.DataFrame, name: str) -> list[str]:
    """Cells where two results differ: value beyond TOLERANCE (relative), n, status, or a
    cell on one side only that is not an empty cell (value null, n 0)."""
    columns = [
        *KEY,
        pl.col("value").cast(pl.Float64),
        pl.col("n").cast(pl.Int64),
        pl.col("status").cast(pl.String),
    ]
    a, b = ours.select(columns), theirs.select(columns)
    joined = a.join(b, on=KEY, how="full", nulls_equal=True, coalesce=True, suffix="_other")
    empty = pl.col("value").is_null() & (pl.col("n").fill_null(0) == 0)
    empty_other = pl.col("value_other").is_null() & (pl.col("n_other").fill_null(0) == 0)
    scale = pl.max_horizontal(pl.col("value").abs(), pl.col("value_other").abs(), pl.lit(1.0))
    value_differs = (pl.col("value").is_null() != pl.col("value_other").is_null()) | (
        (pl.col("value") - pl.col("value_other")).abs() > TOLERANCE * scale
    ).fill_null(False)
    n_differs = pl.col("n").fill_null(0) != pl.col("n_other").fill_null(0)
    status_differs = pl.col("status").ne_missing(pl.col("status_other"))
    bad = joined.filter((value_differs | n_differs | status_differs) & ~(empty & empty_other))
    return [
        f"{name}: {r['metric']} {r['period']} {r['agent_id']}: tpmkit {r['value']} (n {r['n']},"
        f" {r['status']}) vs {r['value_other']} (n {r['n_other']}, {r['status_other']})"
        for r in bad.head(20).iter_rows(named=True)
    ] + ([f"{name}: … {bad.height - 20} more"] if bad.height > 20 else [])


def run_scale(
    report: Report,
    folder: Path,
    calls: int,
    formats: list[str],
    repeat: int,
    engines: tuple[str, ...] = ("duckdb",),
    baselines: tuple[str, ...] = BASELINES,
    roster: tuple[int, int] | None = None,
) -> None:
    print(f"== {calls:,} calls: generating / reusing data in {folder}", flush=True)
    if roster is None:
        layout = generate(folder, calls)
    else:  # a fixed roster over weeks: only the formats timed are written
        layout = generate(folder, calls, roster[0], roster[1], tuple(formats))
    rows = layout.rows()
    report.rows[calls] = rows
    total = sum(rows[d] for d in DATASETS)
    print("   rows: " + ", ".join(f"{d} {rows[d]:,}" for d in DATASETS), flush=True)
    with tempfile.TemporaryDirectory(prefix="tpmkit-bench-") as tmp:
        out = Path(tmp)
        for fmt in formats:
            results: dict[str, Path] = {}
            plan: list[tuple[str, list[str]]] = []
            for engine in baselines:
                results[engine] = out / f"{engine}-{fmt}.parquet"
                plan.append((engine, baseline_command(engine, layout, fmt, results[engine])))
            results["tpmkit"] = out / f"tpmkit-{fmt}.parquet"
            plan.append(("tpmkit", tpmkit_command(layout, fmt, results["tpmkit"], None)))
            # the floor: every column tpmkit's plan reads, read once (benchmarks/floor.py)
            columns = out / f"columns-{fmt}.json"
            floor = [sys.executable, "-m", "benchmarks.floor"]
            project = str(layout.project(fmt))
            subprocess.run([*floor, "columns", project, str(columns)], check=True)
            plan.append((READ_ONCE, [*floor, "read", project, str(columns)]))
            settings: dict[str, dict[str, str]] = {}
            for engine in engines:  # the Ibis engines (docs/engines.md), same records
                tool = f"tpmkit --engine {engine}"
                results[tool] = out / f"tpmkit-{engine}-{fmt}.parquet"
                plan.append((tool, tpmkit_command(layout, fmt, results[tool], None, engine)))
                if engine == "duckdb":  # with its queries compiled before, and compiling
                    kept = str(out / "compiled")
                    settings[tool] = {COMPILED_CACHE: kept}
                    measure(plan[-1][1], settings[tool])  # fills it: not timed
                    cold = f"{tool} (compiling)"
                    results[cold] = out / f"tpmkit-{engine}-compiling-{fmt}.parquet"
                    plan.append((cold, tpmkit_command(layout, fmt, results[cold], None, engine)))
                    settings[cold] = {COMPILED_CACHE: "off"}
            for tool, command in plan:
                seconds, peak = [], 0.0
                for _ in range(repeat):
                    wall, rss = measure(command, settings.get(tool))
                    seconds.append(wall)
                    peak = max(peak, rss)
                timing = Timing(calls, fmt, tool, seconds, peak, total)
                report.timings.append(timing)
                print(f"   {fmt:8s} {tool:22s} {timing.wall:7.2f} s  {peak:7.0f} MiB", flush=True)
            if fmt == "csv":  # the cache: first run fills it, the next ones read Parquet
                cache = out / "cache"
                fill: list[float] = []
                warm: list[float] = []
                peaks = [0.0, 0.0]
                for _ in range(repeat):
                    shutil.rmtree(cache, ignore_errors=True)
                    command = tpmkit_command(layout, fmt, out / "cached.parquet", cache)
                    wall, rss = measure(command)
                    fill.append(wall)
                    peaks[0] = max(peaks[0], rss)
                    wall, rss = measure(command)
                    warm.append(wall)
                    peaks[1] = max(peaks[1], rss)
                for tool, seconds, peak in (
                    ("tpmkit (cache fill)", fill, peaks[0]),
                    ("tpmkit (cache warm)", warm, peaks[1]),
                ):
                    timing = Timing(calls, fmt, tool, seconds, peak, total)
                    report.timings.append(timing)
                    print(f"   {fmt:8s} {tool:22s} {timing.wall:7.2f} s  {peak:7.0f} MiB")
                results["tpmkit (cache)"] = out / "cached.parquet"
            ours = pl.read_parquet(results["tpmkit"])
            problems = []
            others = [
                "polars",
                "duckdb",
                "tpmkit (cache)",
                *(f"tpmkit --engine {e}" for e in engines),
                *(f"tpmkit --engine {e} (compiling)" for e in engines),
            ]
            for other in others:
                if other in results:
                    mine = ours.filter(~pl.col("metric").is_in(UNBASELINED))
                    compared = mine if other in BASELINES else ours
                    problems += disagreements(compared, pl.read_parquet(results[other]), other)
            verdict = f"agree on all {ours.height:,} cells" if not problems else "; ".join(problems)
            report.agreement[f"{calls} {fmt}"] = verdict
            print(f"   {fmt:8s} agreement: {verdict}", flush=True)


def table(report: Report) -> str:
    """The results as a Markdown table with the ratios to the baselines."""
    lines = [
        "| calls | format | tool | wall s (median) | peak RSS MiB | rows/s | ÷ polars | ÷ DuckDB "
        "| ÷ read once |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    walls = {(t.scale, t.fmt, t.tool): t.wall for t in report.timings}

    def ratio(t: Timing, tool: str) -> str:
        other = walls.get((t.scale, t.fmt, tool))
        return f"{t.wall / other:.2f}" if other else "—"

    for t in report.timings:
        lines.append(
            f"| {t.scale:,} | {t.fmt} | {t.tool} | {t.wall:.2f} | {t.peak_rss_mb:,.0f} | "
            f"{t.rows_per_second:,.0f} | {ratio(t, 'polars')} | {ratio(t, 'duckdb')} | "
            f"{ratio(t, READ_ONCE)} |"
        )
    return "\n".join(lines)


def save(report: Report, path: Path) -> None:
    data = asdict(report)
    for timing, source in zip(data["timings"], report.timings, strict=True):
        timing["wall_median"] = source.wall
        timing["rows_per_second"] = source.rows_per_second
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(
    scales: list[int],
    formats: list[str],
    repeat: int,
    data_dir: Path,
    output: Path,
    engines: tuple[str, ...] = ("duckdb",),
    baselines: tuple[str, ...] = BASELINES,
    roster: tuple[int, int] | None = None,
) -> int:
    report = Report(machine(), datetime.now(UTC).isoformat(timespec="seconds"))
    for calls in scales:
        folder = data_dir / f"calls-{calls}"
        if roster is not None:
            folder = data_dir / f"calls-{calls}-agents-{roster[0]}-weeks-{roster[1]}"
        run_scale(report, folder, calls, formats, repeat, engines, baselines, roster)
    print()
    print(table(report))
    save(report, output)
    print(f"\nresults: {output}")
    return 0 if all(v.startswith("agree") for v in report.agreement.values()) else 1
