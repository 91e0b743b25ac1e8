"""The incremental case (issue 21 item 3): a cron layout of one Parquet export per ISO week
and dataset, 52 weeks of history, then one week added.

The data is the benchmark's (benchmarks/data.py, grown from the example) spread over a
year: replica ``r`` is moved ``(r % 5) × 13`` weeks later, so five 13-week blocks cover 65
weeks; the first 53 whole ISO weeks (Europe/Berlin, by each dataset's time column) are
kept, written one file per week and dataset (the roster is one file). Timed, each in a
fresh process like a user's cron job (`tpmkit evaluate --by agent_id --period week`, the
whole catalogue, Parquet output):

- full: 53 weeks, `--no-cache` — what every run costs without incremental runs;
- fill: 52 weeks, empty cache — the first run, which fills the records cache;
- incremental: the 53rd week's files added, the cache as the fill left it;
- unchanged: the same again with nothing new (only the open week is recomputed).

The incremental run's records must agree with the full run's on every cell (value, n,
status, to 1e-9 relative): a disagreement fails the benchmark.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks import LAUNCH_ENVIRONMENT
from benchmarks.data import TIMEZONE, example_frames, scaled
from benchmarks.harness import disagreements, evaluate_command, machine

# a small launcher (as benchmarks/rss.py) that also reports the command's CPU time: on a
# machine shared with other jobs, wall time waits for a core, CPU time does not
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
used = resource.getrusage(resource.RUSAGE_CHILDREN)
if done.returncode:
    sys.stderr.write(done.stderr.decode(errors="replace"))
print(json.dumps({"wall": wall, "cpu": used.ru_utime + used.ru_stime,
                  "peak_rss_mb": used.ru_maxrss / 1024, "code": done.returncode}))
"""


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one run of `command`."""
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command],
        capture_output=True,
        text=True,
        check=True,
        env=LAUNCH_ENVIRONMENT,
    )
    result = json.loads(launched.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result['code']}):\n{launched.stderr}")
    return float(result["wall"]), float(result["cpu"]), float(result["peak_rss_mb"])


BLOCKS = 5  # 13-week blocks the replicas are spread over
WEEKS = 53  # 52 weeks of history and the week added
TIME = {"calls": "offered_at", "tickets": "created_at", "qa": "evaluated_at", "schedule": "date"}
SHIFTED = {
    "calls": ["offered_at"],
    "tickets": ["created_at", "first_response_at", "resolved_at", "due_at"],
    "qa": ["evaluated_at", "interaction_at"],
}
ID = {"calls": "contact_id", "tickets": "ticket_id", "qa": "evaluation_id"}


def _week(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return pl.col(column).dt.truncate("1w").alias("__week")
    local = pl.col(column).dt.convert_time_zone(TIMEZONE)
    return local.dt.truncate("1w").dt.date().alias("__week")  # the local Monday


def generate(folder: Path, calls: int) -> Path:
    """Write the weekly files for about `calls` calls over 65 weeks (53 kept) into
    `folder` (reused while it exists); the folder with one subfolder per dataset."""
    marker = folder / "READY"
    want = f"calls={calls} weeks={WEEKS} layout=2\n"
    if marker.exists() and marker.read_text() == want:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    frames = example_frames()
    replicas = max(BLOCKS, math.ceil(calls * BLOCKS / 4 / frames["calls"].height))
    data = scaled(frames, replicas)
    block_days = 13 * 7
    for name, columns in SHIFTED.items():  # replica from the id's suffix (`-007`)
        replica = pl.col(ID[name]).str.slice(-3).cast(pl.Int64)
        shift = pl.duration(days=(replica % BLOCKS) * block_days)
        data[name] = data[name].with_columns(pl.col(c) + shift for c in columns)
    data["schedule"] = pl.concat(
        [
            data["schedule"].with_columns(pl.col("date") + pl.duration(days=b * block_days))
            for b in range(BLOCKS)
        ]
    ).with_columns(pl.col("date").cast(pl.Date))
    schema = data["calls"].collect_schema()
    weeks = (
        data["calls"]
        .select(_week("offered_at", schema["offered_at"]))
        .unique()
        .sort("__week")
        .collect()
        .get_column("__week")
        .to_list()
    )
    kept = weeks[1 : WEEKS + 1]  # the first week is partial (data start on a Monday)
    folder.mkdir(parents=True, exist_ok=True)
    for name, column in TIME.items():
        dtype = data[name].collect_schema()[column]
        frame = (
            data[name]
            .with_columns(_week(column, dtype))
            .filter(pl.col("__week").is_in(kept))
            .collect()
        )
        (folder / name).mkdir(exist_ok=True)
        for (week,), rows in frame.partition_by("__week", as_dict=True).items():
            iso = f"{week.isocalendar()[0]}-W{week.isocalendar()[1]:02d}"
            rows.drop("__week").write_parquet(folder / name / f"{iso}.parquet")
    data["agents"].collect().write_parquet(folder / "agents.parquet")
    (folder / "tpmkit.yaml").write_text(
        "# tpmkit incremental benchmark project (written by benchmarks/incremental.py)\n"
        f"name: tpmkit incremental benchmark\ntimezone: {TIMEZONE}\nmetrics: [builtin]\n"
        "sources:\n"
        + "".join(f'  {n}: {{path: "{n}/*.parquet"}}\n' for n in TIME)
        + "  agents: {path: agents.parquet}\n"
    )
    marker.write_text(want)
    return folder


def _last_week(folder: Path) -> list[Path]:
    last = sorted((folder / "calls").glob("*.parquet"))[-1].name
    return [folder / name / last for name in TIME if (folder / name / last).exists()]


def run(folder: Path, calls: int, repeat: int, by: str) -> dict[str, object]:
    """Time the four runs (see the module docstring) grouped `by`; the figures and the
    agreement."""
    data = generate(folder, calls)
    rows = {
        n: pl.scan_parquet(data / n / "*.parquet").select(pl.len()).collect().item() for n in TIME
    }
    print(f"== incremental: {rows['calls']:,} calls over {WEEKS} weekly files, by {by}", flush=True)
    timings: dict[str, list[float]] = {"full": [], "fill": [], "incremental": [], "unchanged": []}
    cpus: dict[str, list[float]] = {step: [] for step in timings}
    peaks: dict[str, float] = dict.fromkeys(timings, 0.0)
    with tempfile.TemporaryDirectory(prefix="tpmkit-incr-") as tmp:
        work = Path(tmp)
        project = data / "tpmkit.yaml"
        new = _last_week(data)
        held = work / "held"
        held.mkdir()
        for _ in range(repeat):
            wall, cpu, rss = measure(evaluate_command(project, work / "full.parquet", None, by))
            timings["full"].append(wall)
            cpus["full"].append(cpu)
            peaks["full"] = max(peaks["full"], rss)
        for path in new:  # back to 52 weeks
            shutil.move(path, held / f"{path.parent.name}-{path.name}")
        try:
            for _ in range(repeat):
                cache = work / "cache"
                shutil.rmtree(cache, ignore_errors=True)
                for path in new:
                    if path.exists():
                        shutil.move(path, held / f"{path.parent.name}-{path.name}")
                for step, output in (
                    ("fill", "fill"),
                    ("incremental", "ours"),
                    ("unchanged", "again"),
                ):
                    if step == "incremental":
                        for path in new:
                            shutil.copy2(held / f"{path.parent.name}-{path.name}", path)
                    wall, cpu, rss = measure(
                        evaluate_command(project, work / f"{output}.parquet", cache, by)
                    )
                    timings[step].append(wall)
                    cpus[step].append(cpu)
                    peaks[step] = max(peaks[step], rss)
        finally:
            for path in new:
                if not path.exists():
                    shutil.move(held / f"{path.parent.name}-{path.name}", path)

        def records(name: str) -> pl.DataFrame:  # the harness keys cells by agent_id
            frame = pl.read_parquet(work / f"{name}.parquet")
            return frame.rename({by: "agent_id"}) if by != "agent_id" else frame

        full = records("full")
        problems = disagreements(records("ours"), full, "incremental")
        problems += disagreements(records("again"), full, "unchanged")
        problems += every_column(records("ours"), full, "incremental")
    walls = {k: statistics.median(v) for k, v in timings.items()}
    cpu_medians = {k: statistics.median(v) for k, v in cpus.items()}
    verdict = f"agree on all {full.height:,} cells" if not problems else "; ".join(problems)
    result: dict[str, object] = {
        "machine": machine(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": by,
        "rows": rows,
        "seconds": timings,
        "wall_median": walls,
        "cpu_seconds": cpus,
        "cpu_median": cpu_medians,
        "peak_rss_mb": peaks,
        "incremental_over_full": walls["incremental"] / walls["full"],
        "incremental_over_full_cpu": cpu_medians["incremental"] / cpu_medians["full"],
        "agreement": verdict,
    }
    for step in timings:
        print(
            f"   {step:12s} wall {walls[step]:7.2f} s ({walls[step] / walls['full']:.2f}× full)  "
            f"CPU {cpu_medians[step]:7.2f} s ({cpu_medians[step] / cpu_medians['full']:.2f}×)  "
            f"{peaks[step]:7.0f} MiB",
            flush=True,
        )
    print(f"   agreement: {verdict}", flush=True)
    return result


def every_column(ours: pl.DataFrame, full: pl.DataFrame, name: str) -> list[str]:
    """Columns in which two runs' records differ — every column, in order, floats to a
    relative 1e-9 (two full runs differ in the last bits of sums), the rest exactly."""
    if ours.columns != full.columns or ours.height != full.height:
        return [f"{name}: columns or row count differ"]
    wrong = []
    for column, dtype in full.schema.items():
        a, b = ours.get_column(column), full.get_column(column)
        if dtype.is_float():
            scale = pl.max_horizontal(a.abs(), b.abs(), pl.lit(1e-300))
            frame = pl.DataFrame({"a": a, "b": b}).with_columns(scale.alias("s"))
            differs = frame.select(
                (pl.col("a").is_null() != pl.col("b").is_null())
                | ((pl.col("a") - pl.col("b")).abs() > 1e-9 * pl.col("s")).fill_null(False)
            ).to_series()
        else:
            differs = a.ne_missing(b)
        if differs.any():
            wrong.append(f"{name}: column {column} differs in {int(differs.sum())} records")
    return wrong


GROUPINGS = ("team", "agent_id")  # few records (compute-bound), then ~150 a week per agent


def main(calls: int, repeat: int, data_dir: Path, output: Path) -> int:
    """`python -m benchmarks --incremental`: run by team and by agent, print, write JSON;
    1 on disagreement."""
    results = [run(data_dir / f"weekly-{calls}", calls, repeat, by) for by in GROUPINGS]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {output}")
    return 0 if all(str(r["agreement"]).startswith("agree") for r in results) else 1
