"""`tpmkit init`: a starter project, or a copy of the bundled example."""

from __future__ import annotations

import shutil
from pathlib import Path

from tpmkit.errors import UsageError

STARTER = """\
# tpmkit project — see `tpmkit --help` and docs/
name: My Contact Center
timezone: UTC            # periods are cut in this time zone (IANA name, e.g. Europe/Berlin)
currency: EUR
metrics: [builtin, metrics/]
sources:
  calls:
    path: exports/calls.csv
    # map your export's headers onto canonical names, e.g.:
    # columns: {"Call Id": contact_id, "Start": offered_at, "Agent": agent_id}
"""

STARTER_METRIC = """\
id: long_calls_share
name: Share of long calls
description: Answered calls whose talk time exceeds 15 minutes.
owner: team_lead
roles: [team_lead, operations_manager]
category: efficiency
unit: percent
direction: lower_is_better
dataset: calls
compute: {kind: ratio, where: "answered", numerator: "coalesce(talk_seconds, 0) > 900"}
thresholds: {warning: 10, critical: 15}
actions:
  warning: "team lead: listen to two long calls per agent and agree one fix"
  critical: "team lead: call-handling coaching within 7 days"
min_sample: 30
cadence: weekly
"""


def example_dir() -> Path:
    """The bundled example project (installed wheel or source checkout)."""
    packaged = Path(__file__).resolve().parent / "example_project"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "examples" / "contact-center"


def create(directory: Path, *, example: bool, force: bool) -> Path:
    """Write the project into `directory`; refuse to overwrite unless `force`."""
    target = directory / "tpmkit.yaml"
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; use force to overwrite it")
    directory.mkdir(parents=True, exist_ok=True)
    if example:
        source = example_dir()
        if not source.is_dir():
            raise UsageError("the bundled example is not installed with this copy of tpmkit")
        shutil.copytree(
            source,
            directory,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", ".tpmkit"),
        )
        return target
    target.write_text(STARTER, encoding="utf-8")
    (directory / "metrics").mkdir(exist_ok=True)
    metric = directory / "metrics" / "long_calls_share.yaml"
    if not metric.exists():
        metric.write_text(STARTER_METRIC, encoding="utf-8")
    (directory / "exports").mkdir(exist_ok=True)
    return target


def next_steps(created: Path, *, example: bool) -> list[str]:
    """What to do after `init`: the example runs as it is; the starter needs an export
    where its tpmkit.yaml looks for one, so say which file goes where."""
    project = created.as_posix()
    if example:
        return [
            f"next: tpmkit evaluate -p {project}",
            f"      tpmkit report -p {project} --role team_lead -o report.html",
        ]
    exports = (created.parent / "exports").as_posix()
    return [
        f"next: put your calls export at {exports}/calls.csv (the path under `sources.calls`",
        f"      in {project}), and map its headers under `columns:` there;",
        f"      then tpmkit validate -p {project} and tpmkit evaluate -p {project}",
        "      (to try tpmkit on sample data first: tpmkit init --example DIRECTORY)",
    ]
