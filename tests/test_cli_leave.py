"""The command line ends its process without the interpreter's teardown once the run is
over (`tpmkit.cli.leave`): with the same exit code, every line of output written and the
exit handlers run — and only when `tpmkit` is the program."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"


def tpmkit(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tpmkit", *arguments], capture_output=True, text=True
    )


def test_the_exit_code_and_output_are_the_commands():
    done = tpmkit("--version")
    assert (done.returncode, done.stdout.strip()) == (0, "tpmkit 0.1.0")
    missing = tpmkit("evaluate", "-p", "no-such-project.yaml")
    assert missing.returncode == 2
    assert "project file not found" in missing.stderr
    listed = tpmkit("metrics", "list", "-p", str(EXAMPLE))
    assert listed.returncode == 0
    assert listed.stdout.count("\n") > 40  # the whole catalogue, flushed before leaving


def test_exit_handlers_run_before_leaving(tmp_path):
    # a program's exit handler (here one registered by a plugin-like import) still runs
    marker = tmp_path / "ran"
    script = (
        "import atexit, runpy, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').close())\n"
        "sys.argv = ['tpmkit', '--version']\n"
        "runpy.run_module('tpmkit', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert marker.exists()


def test_a_program_calling_main_gets_its_system_exit_back():
    script = (
        "import sys\n"
        "sys.argv = ['tpmkit', '--version']\n"
        "from tpmkit.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    print('caught', exc.code)\n"
        "print('after')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split("\n")[1:3] == ["caught 0", "after"]
