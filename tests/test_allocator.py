"""The command line asks polars' allocator to give freed memory back sooner
(`tpmkit.allocator`), before polars starts, and never overrides the user's own setting."""

from __future__ import annotations

import subprocess
import sys

from tpmkit.allocator import SETTING, VARIABLE

SHOW = (
    "import os\n"
    "{before}"
    "from tpmkit.allocator import return_memory_sooner\n"
    "print(return_memory_sooner(), os.environ.get('{variable}'))\n"
)


def run(before: str = "", env: dict[str, str] | None = None) -> str:
    script = SHOW.format(before=before, variable=VARIABLE)
    environment = {k: v for k, v in __import__("os").environ.items() if k != VARIABLE}
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
    )
    return done.stdout.strip()


def test_set_before_polars_starts():
    assert run() == f"True {SETTING}"


def test_the_users_own_setting_is_kept():
    assert run(env={VARIABLE: "dirty_decay_ms:0"}) == "False dirty_decay_ms:0"


def test_not_set_once_polars_has_started():
    # jemalloc read its settings when polars was imported (polars writes its own into
    # the variable then): setting them now would claim an effect it does not have
    shown = run(before="import polars\n")
    assert shown.startswith("False ") and SETTING not in shown


def test_the_command_line_sets_it_for_polars():
    script = (
        "import os, sys\n"
        "sys.argv = ['tpmkit', '--help']\n"
        "from tpmkit.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(os.environ.get('{VARIABLE}', 'unset'))\n"
    )
    environment = {k: v for k, v in __import__("os").environ.items() if k != VARIABLE}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment
    )
    assert done.stderr.strip().endswith(SETTING)
