"""The cron and CI recipes of docs/ci.md (issue 18 item 7) do what they say: the GitHub
Actions job keeps the history between runs (so `notify_on: change` sees the last run), and
each recipe sends one message per run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

CI = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text(encoding="utf-8")


def workflow(name: str) -> dict:
    for block in re.findall(r"```yaml\n(.*?)```", CI, re.S):
        if f"# .github/workflows/{name}" in block:
            return yaml.safe_load(block)
    raise AssertionError(f"no workflow {name} in docs/ci.md")


def test_the_nightly_workflow_keeps_the_history_between_runs():
    (job,) = workflow("kpi-nightly.yml")["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    restore = steps[uses.index("actions/cache/restore@v4")]
    save = steps[uses.index("actions/cache/save@v4")]
    gate = next(i for i, s in enumerate(steps) if "tpmkit check" in s.get("run", ""))
    # restored before the check that records and notifies, saved after it, even on exit 1
    assert uses.index("actions/cache/restore@v4") < gate < uses.index("actions/cache/save@v4")
    assert save["if"] == "always()"
    history = "kpis/.tpmkit/history"  # the project's `history:` folder beside tpmkit.yaml
    assert restore["with"]["path"] == save["with"]["path"] == history
    # a cache entry is never overwritten: the key is unique to the run, and the restore
    # takes the newest by its prefix
    key = restore["with"]["key"]
    assert key == save["with"]["key"] and "${{ github.run_id }}" in key
    assert key.startswith(restore["with"]["restore-keys"])
    assert "--record" in steps[gate]["run"] and "--notify" in steps[gate]["run"]


def recipe(head: str) -> str:
    start = CI.index(head)
    return CI[start : CI.index("\n## ", start + 1)]


def test_each_recipe_sends_one_message_per_run():
    (job,) = workflow("kpi-nightly.yml")["jobs"].values()
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert runs.count("--notify") == 1
    script = re.search(r"```text\n(#!/bin/sh.*?)```", recipe("### cron and systemd"), re.S)
    assert script is not None
    text = script.group(1)
    (check,) = [line for line in text.splitlines() if line.startswith("tpmkit check")]
    assert "--notify" not in check and "--record" not in check
    # the report notifies (and records: notify_on change compares report runs)
    report = text[text.index("tpmkit report") :]
    assert text.count("--notify") == 1 and "--notify" in report and "--record" in report


def test_no_recipe_puts_the_secret_on_the_command_line():
    # "$TPMKIT_WEBHOOK" is expanded by the shell into argv, visible to every user in `ps`;
    # '${TPMKIT_WEBHOOK}' is expanded by tpmkit itself (review of issue 18)
    assert '--notify "$' not in CI
    assert CI.count("--notify '${TPMKIT_WEBHOOK}'") == 2
