"""Benchmark data at contact-center scale, grown from the bundled example.

The example generator (examples/contact-center/generate.py, seeded) makes one 13-week,
60-agent operation of ~25 000 contacts. This module reads those files with plain polars —
never with tpmkit's loader, and without importing tpmkit at all, so that a loader bug cannot
shape the inputs and then cancel out between tpmkit and the baselines — and replicates them:

- replica ``r`` of every call, ticket and QA evaluation gets new ids (``-r`` suffix), its
  own customers (so repeat contacts stay within a replica), a small deterministic shift of
  its timestamps (``(r % 8) × 97 s``) and deterministic noise on durations and waits;
- every 8 replicas share one copy of the agent roster (``A001-0003``), so an agent copy
  handles 8× the example's volume (≈ 390 contacts a week, a realistic load) and the agent
  count grows with the data (1 M calls → 320 agents, 10 M → 3 200 agents);
- schedule rows (one per agent per day) are replicated per agent copy.

Everything is a function of the replica number and the row position: the same scale gives
byte-identical files on every run. Files are written in canonical form, CSV (UTC
timestamps with ``Z``, the project cuts periods in Europe/Berlin) and Parquet (typed).
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "contact-center" / "tpmkit.yaml"
TIMEZONE = "Europe/Berlin"
REPLICAS_PER_AGENT_COPY = 8
DATASETS = ("calls", "tickets", "qa", "schedule", "agents")

CALLS = [
    "contact_id", "offered_at", "channel", "queue", "agent_id", "customer_id", "answered",
    "wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "transferred", "escalated",
    "resolved", "csat", "nps", "dsat_root_cause",
]  # fmt: skip
TICKETS = [
    "ticket_id", "created_at", "first_response_at", "resolved_at", "agent_id", "priority",
    "channel", "customer_id", "reopens", "escalated", "due_at", "csat",
]  # fmt: skip
QA = [
    "evaluation_id", "agent_id", "evaluated_at", "score", "max_score", "contact_id",
    "interaction_at", "evaluator_id", "auto_fail", "calibration_id", "error_category",
    "root_cause",
]  # fmt: skip
SCHEDULE = [
    "agent_id", "date", "scheduled_seconds", "adherent_seconds", "logged_in_seconds",
    "handle_seconds", "available_seconds", "paid_seconds",
]  # fmt: skip
AGENTS = ["agent_id", "name", "team", "team_lead", "site", "vendor", "role", "hire_date"]
COLUMNS = {"calls": CALLS, "tickets": TICKETS, "qa": QA, "schedule": SCHEDULE, "agents": AGENTS}
WHOLE = {"calls": ("csat", "nps"), "tickets": ("csat", "reopens")}  # written as integers


def dataset_path(folder: Path, fmt: str, dataset: str) -> Path:
    """A dataset's file, or the glob of its part files (a folder of them, as a roster-fixed
    scale writes them): what the baselines and the project's sources read."""
    parts = folder / fmt / dataset
    return parts / f"*.{fmt}" if parts.is_dir() else folder / fmt / f"{dataset}.{fmt}"


@dataclass(frozen=True)
class Layout:
    """Where the files of one scale live."""

    folder: Path

    def file(self, dataset: str, fmt: str) -> Path:
        return dataset_path(self.folder, fmt, dataset)

    def project(self, fmt: str) -> Path:
        return self.folder / f"tpmkit-{fmt}.yaml"

    def rows(self) -> dict[str, int]:
        return {
            d: pl.scan_parquet(self.file(d, "parquet")).select(pl.len()).collect().item()
            for d in DATASETS
        }


EXAMPLE_DATA = EXAMPLE.parent / "data"
# The example's ACD export names its columns the vendor's way (tpmkit.yaml maps them).
ACD_HEADERS = {
    "Contact ID": "contact_id", "Start Time": "offered_at", "Channel": "channel",
    "Queue": "queue", "Agent ID": "agent_id", "Customer ID": "customer_id",
    "Answered": "answered", "Queue Time": "wait_seconds", "Talk Time": "talk_seconds",
    "Hold Time": "hold_seconds", "Wrap Time": "acw_seconds", "Transferred": "transferred",
    "Escalated": "escalated", "Resolved": "resolved", "CSAT": "csat", "NPS": "nps",
    "DSAT Root Cause": "dsat_root_cause",
}  # fmt: skip
TEXT = pl.String


def _local(column: str) -> pl.Expr:
    """A naive local (Europe/Berlin) timestamp as UTC; the example has no time in the
    repeated autumn hour, so `earliest` never decides anything."""
    return (
        pl.col(column)
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
        .dt.replace_time_zone(TIMEZONE, ambiguous="earliest")
        .dt.convert_time_zone("UTC")
    )


def _offset(column: str) -> pl.Expr:
    """An ISO 8601 timestamp with a UTC offset as UTC."""
    return pl.col(column).str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us", time_zone="UTC")


def _hms(column: str) -> pl.Expr:
    """ "H:MM:SS" as seconds."""
    parts = pl.col(column).str.split(":").list
    seconds = parts.get(0).cast(pl.Int64) * 3600 + parts.get(1).cast(pl.Int64) * 60
    return (seconds + parts.get(2).cast(pl.Int64)).cast(pl.Float64).alias(column)


def _flag(column: str, true: str) -> pl.Expr:
    return (pl.col(column) == true).alias(column)  # an empty cell stays null


def _read(name: str) -> pl.DataFrame:
    """One example CSV, every column as text (the parsing below is explicit)."""
    return pl.read_csv(EXAMPLE_DATA / name, infer_schema=False, encoding="utf8")


def example_frames() -> dict[str, pl.DataFrame]:
    """The example's datasets in canonical form (timestamps in UTC), read with plain polars."""
    number = pl.Float64
    calls = (
        _read("acd_calls.csv")
        .rename(ACD_HEADERS)
        .with_columns(
            _local("offered_at"),
            _flag("answered", "Y"),
            pl.col("wait_seconds", "acw_seconds").cast(number),
            _hms("talk_seconds"),
            _hms("hold_seconds"),
            _flag("transferred", "Y"),
            _flag("escalated", "Y"),
            _flag("resolved", "Y"),
            pl.col("csat", "nps").cast(number),
        )
    )
    tickets = _read("tickets.csv").with_columns(
        *(_offset(c) for c in ("created_at", "first_response_at", "resolved_at", "due_at")),
        pl.col("reopens", "csat").cast(number),
        _flag("escalated", "true"),
    )
    qa = _read("qa.csv").with_columns(
        _local("evaluated_at"),
        _local("interaction_at"),
        pl.col("score", "max_score").cast(number),
        _flag("auto_fail", "true"),
    )
    schedule = _read("schedule.csv").with_columns(
        pl.col("date").str.to_date("%Y-%m-%d"),
        pl.exclude("agent_id", "date").cast(number),
    )
    agents = _read("roster.csv").with_columns(pl.col("hire_date").str.to_date("%Y-%m-%d"))
    frames = {"calls": calls, "tickets": tickets, "qa": qa, "schedule": schedule}
    frames["agents"] = agents
    return {name: frame.select(COLUMNS[name]) for name, frame in frames.items()}


def _noise(seed: int, modulo: int) -> pl.Expr:
    """A deterministic integer in [0, modulo) from the row position and the replica."""
    return ((pl.col("_i") * 7919 + pl.col("_r") * 104729 + seed) % modulo).cast(pl.Float64)


def _suffix(column: str, by: str = "_r", width: int = 3) -> pl.Expr:
    return pl.col(column) + "-" + pl.col(by).cast(pl.String).str.zfill(width)


def _shift(columns: list[str]) -> list[pl.Expr]:
    offset = pl.duration(seconds=(pl.col("_r") % REPLICAS_PER_AGENT_COPY) * 97)
    return [pl.col(c) + offset for c in columns]


def _replicate(frame: pl.DataFrame, count: int, name: str) -> pl.LazyFrame:
    replicas = pl.LazyFrame({"_r": pl.int_range(0, count, eager=True)})
    base = frame.lazy().with_row_index("_i")
    out = base.join(replicas, how="cross").with_columns(
        (pl.col("_r") // REPLICAS_PER_AGENT_COPY).alias("_c")
    )
    return out.with_columns(pl.col("_i").cast(pl.Int64), pl.col("_r").cast(pl.Int64))


def _varied(name: str, shift: Callable[[list[str]], list[pl.Expr]]) -> list[pl.Expr]:
    """How a replica of a call, ticket or QA evaluation differs from the example's row:
    ids and customers suffixed by the replica, the agent by its copy (`_c`), times moved
    by `shift`, durations given noise."""
    if name == "calls":
        return [
            _suffix("contact_id"),
            _suffix("customer_id"),
            _suffix("agent_id", "_c", 4),
            *shift(["offered_at"]),
            pl.col("wait_seconds") + _noise(1, 7),
            pl.col("talk_seconds") + _noise(2, 41),
            pl.col("acw_seconds") + _noise(3, 13),
        ]
    if name == "tickets":
        return [
            _suffix("ticket_id"),
            _suffix("customer_id"),
            _suffix("agent_id", "_c", 4),
            *shift(["created_at", "first_response_at", "resolved_at", "due_at"]),
        ]
    return [
        _suffix("evaluation_id"),
        _suffix("contact_id"),
        _suffix("calibration_id"),
        _suffix("agent_id", "_c", 4),
        _suffix("evaluator_id", "_c", 4),
        *shift(["evaluated_at", "interaction_at"]),
    ]


def scaled(frames: dict[str, pl.DataFrame], replicas: int) -> dict[str, pl.LazyFrame]:
    """The example grown to `replicas` copies (see the module docstring)."""
    copies = math.ceil(replicas / REPLICAS_PER_AGENT_COPY)
    calls, tickets, qa = (
        _replicate(frames[name], replicas, name).with_columns(_varied(name, _shift))
        for name in ("calls", "tickets", "qa")
    )
    schedule = _replicate(frames["schedule"], copies, "schedule").with_columns(
        _suffix("agent_id", "_r", 4),
        pl.col("handle_seconds") + _noise(4, 120),
        pl.col("available_seconds") + _noise(5, 120),
    )
    agents = _replicate(frames["agents"], copies, "agents").with_columns(
        _suffix("agent_id", "_r", 4),
    )
    out = {"calls": calls, "tickets": tickets, "qa": qa, "schedule": schedule, "agents": agents}
    return {
        name: frame.sort("_r", "_i")
        .select(COLUMNS[name])
        .with_columns(pl.col(c).cast(pl.Int64) for c in WHOLE.get(name, ()))
        for name, frame in out.items()
    }


def _csv_ready(frame: pl.LazyFrame) -> pl.LazyFrame:
    schema = frame.collect_schema()
    return frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        for c, t in schema.items()
        if isinstance(t, pl.Datetime)
    )


def project_text(fmt: str, parts: bool = False) -> str:
    lines = [
        "# tpmkit benchmark project (written by benchmarks/data.py)",
        "name: tpmkit benchmark",
        f"timezone: {TIMEZONE}",
        "metrics: [builtin]",
        "sources:",
    ]
    if parts:
        lines += [f"  {d}: {{path: '{fmt}/{d}/*.{fmt}'}}" for d in DATASETS]
    else:
        lines += [f"  {d}: {{path: {fmt}/{d}.{fmt}}}" for d in DATASETS]
    return "\n".join(lines) + "\n"


def generate(
    folder: Path,
    calls: int,
    agents: int | None = None,
    weeks: int = 13,
    formats: tuple[str, ...] = ("parquet", "csv"),
) -> Layout:
    """Write the data set for about `calls` calls (whole replicas) into `folder`; with
    `agents`, a fixed roster over `weeks` weeks instead (`generate_fixed_roster`)."""
    layout = Layout(folder)
    marker = folder / "READY"
    want = f"calls={calls}\n"
    if agents is not None:
        want += f"agents={agents} weeks={weeks} formats={','.join(formats)}\n"
    if marker.exists() and marker.read_text() == want:
        return layout
    if agents is not None:
        shutil.rmtree(folder, ignore_errors=True)
        generate_fixed_roster(folder, calls, agents, weeks, formats)
        marker.write_text(want)
        return layout
    frames = example_frames()
    replicas = max(1, math.ceil(calls / frames["calls"].height))
    data = scaled(frames, replicas)
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ("parquet", "csv"):
        (folder / fmt).mkdir(exist_ok=True)
        for name, frame in data.items():
            target = layout.file(name, fmt)
            with tempfile.TemporaryDirectory(dir=folder) as tmp:
                part = Path(tmp) / target.name
                if fmt == "parquet":
                    frame.sink_parquet(part)
                else:
                    _csv_ready(frame).sink_csv(part)
                shutil.move(part, target)
        layout.project(fmt).write_text(project_text(fmt))
    marker.write_text(want)
    return layout


BLOCK_WEEKS = 13  # the example's span: a block of replicas covers it, shifted by whole blocks
PART_REPLICAS = 40  # replicas per part file (about a million calls): bounded memory


def fixed_roster(
    frames: dict[str, pl.DataFrame], name: str, replicas: range, copies: int, blocks: int
) -> pl.DataFrame:
    """Replicas `replicas` of one example dataset. Replica `r` of a call, ticket or QA
    evaluation is shifted to time block `r % blocks` (13 weeks each) and handled by agent
    copy `(r // blocks) % copies`: the roster stays `copies` × 60 agents however many calls
    there are, and the calls spread over `blocks` × 13 weeks. Ids and customers get the
    replica suffix as in `scaled`. A schedule replica is one agent copy (`r // blocks`) in
    one block; a roster replica is one agent copy."""
    block = pl.col("_r") % blocks
    copy = (pl.col("_r") // blocks) % copies
    week_shift = pl.duration(weeks=block * BLOCK_WEEKS)
    noise_shift = pl.duration(seconds=((pl.col("_r") // blocks) % REPLICAS_PER_AGENT_COPY) * 97)

    def shifted(columns: list[str]) -> list[pl.Expr]:
        return [pl.col(c) + week_shift + noise_shift for c in columns]

    numbers = pl.LazyFrame({"_r": pl.int_range(replicas.start, replicas.stop, eager=True)})
    frame = numbers.join(frames[name].lazy().with_row_index("_i"), how="cross").with_columns(
        pl.col("_i").cast(pl.Int64), pl.col("_r").cast(pl.Int64)
    )
    frame = frame.with_columns(copy.alias("_c"))
    if name in ("calls", "tickets", "qa"):
        frame = frame.with_columns(_varied(name, shifted))
    elif name == "schedule":  # one row per agent per day: every agent copy in every block
        days = pl.duration(days=block * BLOCK_WEEKS * 7)
        frame = frame.with_columns((pl.col("_r") // blocks).alias("_c")).with_columns(
            _suffix("agent_id", "_c", 4),
            (pl.col("date") + days).alias("date"),
            pl.col("handle_seconds") + _noise(4, 120),
            pl.col("available_seconds") + _noise(5, 120),
        )
    else:
        frame = frame.with_columns(_suffix("agent_id", "_r", 4))
    frame = frame.select(COLUMNS[name])
    return frame.with_columns(pl.col(c).cast(pl.Int64) for c in WHOLE.get(name, ())).collect()


def generate_fixed_roster(
    folder: Path, calls: int, agents: int, weeks: int, formats: tuple[str, ...]
) -> None:
    """Write about `calls` calls over `weeks` weeks (whole 13-week blocks) handled by a
    fixed roster of `agents` agents (whole copies of the example's 60), each dataset as
    part files of `PART_REPLICAS` replicas in a folder (`calls/part-0000.parquet` …), the
    way a cron job collects exports; written part by part, so memory stays bounded."""
    frames = example_frames()
    replicas = max(1, math.ceil(calls / frames["calls"].height))
    handling = frames["agents"].filter(pl.col("role") == "agent").height  # 60
    copies = max(1, round(agents / handling))
    blocks = max(1, weeks // BLOCK_WEEKS)
    counts = {"schedule": copies * blocks, "agents": copies}
    for fmt in formats:
        for name in DATASETS:
            target = folder / fmt / name
            target.mkdir(parents=True, exist_ok=True)
            total = counts.get(name, replicas)
            for number, first in enumerate(range(0, total, PART_REPLICAS)):
                part = range(first, min(total, first + PART_REPLICAS))
                chunk = fixed_roster(frames, name, part, copies, blocks)
                path = target / f"part-{number:04d}.{fmt}"
                if fmt == "parquet":
                    chunk.write_parquet(path)
                else:
                    _csv_ready(chunk.lazy()).collect().write_csv(path)
        (folder / f"tpmkit-{fmt}.yaml").write_text(project_text(fmt, parts=True))
