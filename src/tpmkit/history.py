"""The history store: every recorded run's records, with what produced them.

Layout, under the project's `history:` folder (default `.tpmkit/history`):

- `runs/<run id>.parquet` — the run's records, group values as a JSON text column `group`
  (so runs grouped differently share one schema), plus `run_id` and `run_at`;
- `runs/<run id>.json` — the manifest, written last (a run without one is incomplete and
  ignored): run time (UTC), tpmkit version, command, grain, grouping, every metric's
  definition and its hash, and a fingerprint of every input file: path, size,
  modification time and a BLAKE2b hash of its first and last MiB (not the whole file: a
  multi-GB export would cost seconds each run; the size and both ends catch re-exports).

Run ids start with the UTC time (so they sort by time) and end with the process id and a
random part, and every file is written under a temporary name and renamed: two cron jobs
recording at once write different files, and no run is ever lost or half-written.

Reading deduplicates by (metric, grain, grouping, period, group): the latest run wins,
and a value that an earlier run recorded differently is *restated* (a later export
changed a past period).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tpmkit import __version__
from tpmkit.atomic import write_text, write_with
from tpmkit.records import Evaluation
from tpmkit.spec.loader import Definitions

KEY = ["metric", "grain", "by", "period", "group"]


def folder(project: Definitions) -> Path:
    return project.root / project.spec.history


def _fingerprint(path: Path) -> dict[str, Any]:
    from tpmkit.data.cache import sample_hash

    stat = path.stat()
    return {
        "path": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sample_blake2b": sample_hash(path, stat.st_size),
    }


def record(
    project: Definitions,
    result: Evaluation,
    command: str,
    state: dict[str, Any] | None = None,
) -> str:
    """Append an evaluation's records to the history; returns the run id. `state` (the
    run's scope, judged statuses and whether its notification went out) goes into the
    manifest for `notify_on: change`; it never holds a notification URL."""
    from tpmkit.spec.hashing import definition_hash

    now = dt.datetime.now(dt.UTC)
    run_id = f"{now:%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    runs = folder(project) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    by = list(result.by)
    records = result.records
    group = (pl.struct(by).struct.json_encode() if by else pl.lit("{}", dtype=pl.String)).alias(
        "group"
    )
    frame = records.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(now).alias("run_at"),
        pl.lit(result.grain).alias("grain"),
        pl.lit(",".join(by)).alias("by"),
        group,
        *[c for c in records.columns if c not in by],
    )
    write_with(runs / f"{run_id}.parquet", lambda tmp: frame.write_parquet(tmp))
    metrics = sorted(set(records.get_column("metric").to_list())) if records.height else []
    files = sorted({f for d in result.datasets for f in d.files})
    manifest = {
        "run_id": run_id,
        "run_at": now.isoformat(),
        "tpmkit": __version__,
        "command": command,
        "project": project.spec.name,
        "grain": result.grain,
        "by": by,
        "records": records.height,
        "definitions": {
            m: {
                "hash": definition_hash(project.metrics[m].spec),
                "spec": project.metrics[m].spec.model_dump(mode="json", exclude_defaults=True),
            }
            for m in metrics
            if m in project.metrics
        },
        "inputs": [_fingerprint(Path(f)) for f in files if Path(f).exists()],
        **({"notify": state} if state is not None else {}),
    }
    write_text(runs / f"{run_id}.json", json.dumps(manifest, indent=1, default=str))
    return run_id


@dataclass
class History:
    runs: list[dict[str, Any]]  # manifests, oldest first
    records: pl.DataFrame  # every recorded record of complete runs

    def latest(self) -> pl.DataFrame:
        """One record per key, from the latest run, with `restated_from` (the value an
        earlier run had, when different) and `first_run_id`."""
        if self.records.is_empty():
            return self.records
        ordered = self.records.sort("run_at")
        earlier = ordered.group_by(KEY, maintain_order=True).agg(
            pl.col("value").first().alias("first_value"),
            pl.col("run_id").first().alias("first_run_id"),
            pl.col("value").n_unique().alias("__versions"),
        )
        latest = ordered.unique(subset=KEY, keep="last", maintain_order=True)
        joined = latest.join(earlier, on=KEY, how="left", nulls_equal=True)
        return joined.with_columns(
            pl.when(pl.col("__versions") > 1)
            .then(pl.col("first_value"))
            .otherwise(None)
            .alias("restated_from")
        ).drop("__versions", "first_value")

    def definition_changes(self, metric: str) -> list[dict[str, Any]]:
        """Each change of a metric's definition between consecutive recorded runs: run,
        time, field, old and new value."""
        changes = []
        before: dict[str, Any] | None = None
        for run in self.runs:
            definition = run.get("definitions", {}).get(metric)
            if definition is None:
                continue
            now = _flatten(definition["spec"])
            if before is not None:
                for name in sorted(set(before) | set(now)):
                    if before.get(name) != now.get(name):
                        changes.append(
                            {
                                "run_id": run["run_id"],
                                "run_at": run["run_at"],
                                "field": name,
                                "old": before.get(name),
                                "new": now.get(name),
                            }
                        )
            before = now
        return changes


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: json.dumps(value) if isinstance(value, list) else value}


def last_state(project: Definitions, command: str, scope: dict[str, Any]) -> dict[str, Any] | None:
    """The notification state of the last recorded run of `command` with this `scope`
    (None when there is none): what `notify_on: change` compares a run with."""
    runs_dir = folder(project) / "runs"
    manifests = []
    for path in runs_dir.glob("*.json") if runs_dir.exists() else []:
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # unreadable manifest: the run is not counted
        state = manifest.get("notify") if isinstance(manifest, dict) else None
        if (
            isinstance(state, dict)
            and manifest.get("command") == command
            and state.get("scope") == scope
        ):
            manifests.append((str(manifest.get("run_at")), str(manifest.get("run_id")), state))
    return max(manifests)[2] if manifests else None


def load(project: Definitions) -> History:
    """Every complete run (manifest present) of the project's history, oldest first."""
    runs_dir = folder(project) / "runs"
    manifests = []
    for path in sorted(runs_dir.glob("*.json")) if runs_dir.exists() else []:
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # unreadable manifest: the run is not counted
        if (runs_dir / f"{manifest.get('run_id')}.parquet").exists():
            manifests.append(manifest)
    manifests.sort(key=lambda m: (m["run_at"], m["run_id"]))
    frames = [pl.read_parquet(runs_dir / f"{m['run_id']}.parquet") for m in manifests]
    records = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return History(manifests, records)
