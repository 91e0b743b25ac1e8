"""Issue 19 item 5 (start-up of a command-line run): while `tpmkit` starts, Python's cyclic
collector runs every 100,000 allocations instead of 700, and once the project is loaded
the objects made so far are frozen and the collector is as before (`tpmkit.cli.startup`).
Only when `tpmkit` is the program: a test or a program calling `main` keeps its own."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from tpmkit.cli import startup

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"
DEFAULT = list(gc.get_threshold())  # this process's own (pytest's), never held


def _as_program(tmp_path: Path, *arguments: str) -> dict[str, object]:
    """Run `python -m tpmkit ARGUMENTS` (tpmkit the program) and give the collector's
    settings as an exit handler saw them, at the very end of the run."""
    seen = tmp_path / "gc.json"
    script = (
        "import atexit, gc, json, runpy, sys\n"
        "def note():\n"
        f"    with open({str(seen)!r}, 'w') as f:\n"
        "        json.dump({'threshold': list(gc.get_threshold()),"
        " 'frozen': gc.get_freeze_count(), 'enabled': gc.isenabled()}, f)\n"
        "atexit.register(note)\n"
        f"sys.argv = ['tpmkit', *{list(arguments)!r}]\n"
        "runpy.run_module('tpmkit', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(seen.read_text())


def test_after_the_project_is_loaded_the_collector_is_as_before_and_start_up_is_frozen(
    tmp_path,
):
    out = tmp_path / "records.parquet"
    seen = _as_program(
        tmp_path, "evaluate", "-p", str(EXAMPLE), "-f", "parquet", "-o", str(out), "-q"
    )
    assert seen["threshold"] == DEFAULT  # 700, 10, 10: Python's defaults
    assert seen["enabled"] is True
    # the modules, classes and definitions made while starting: tens of thousands
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    assert pl.read_parquet(out).height > 0


def test_a_command_that_loads_no_project_still_collects_at_the_held_threshold(tmp_path):
    seen = _as_program(tmp_path, "--version")
    assert seen["threshold"] == [startup.HELD, *DEFAULT[1:]]
    assert seen["enabled"] is True
    assert seen["frozen"] == 0


def test_a_program_calling_main_keeps_its_collector(tmp_path):
    seen = tmp_path / "gc.json"
    script = (
        "import gc, json, sys\n"
        "gc.set_threshold(500, 5, 5)\n"  # the program's own
        f"sys.argv = ['tpmkit', 'evaluate', '-p', {str(EXAMPLE)!r}, '-f', 'json', '-q']\n"
        "from tpmkit.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"json.dump([list(gc.get_threshold()), gc.get_freeze_count()], open({str(seen)!r}, 'w'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(seen.read_text()) == [[500, 5, 5], 0]


def test_hold_and_release_do_nothing_in_a_test_process():
    frozen = gc.get_freeze_count()
    startup.hold()
    assert list(gc.get_threshold()) == DEFAULT
    startup.release()  # undoes only a hold: nothing frozen here
    assert gc.get_freeze_count() == frozen
    assert list(gc.get_threshold()) == DEFAULT


def test_the_records_are_the_same_as_program_and_as_library(tmp_path):
    as_program = tmp_path / "program.parquet"
    _as_program(
        tmp_path, "evaluate", "-p", str(EXAMPLE), "-f", "parquet", "-o", str(as_program), "-q"
    )
    import tpmkit

    records = tpmkit.load(EXAMPLE).evaluate([]).records
    assert_frame_equal(pl.read_parquet(as_program), records)
