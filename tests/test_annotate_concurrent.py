"""`tpmkit annotate` run several times at once (issue 20 review): each run reads
annotations.csv, adds its row and replaces the file, so without a lock two runs would each
write what they read and one note would be lost. Real processes append at the same moment;
every row must be there and the file must stay one valid CSV."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tpmkit.errors import UsageError
from tpmkit.locks import exclusive, lock_path

PROJECT = """\
name: notes
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
"""
CALLS = "contact_id,offered_at,answered,wait_seconds\nC1,2026-01-05 09:00:00,true,5\n"
WRITERS, EACH = 6, 15

# each process loads the project, waits for the go file, then appends EACH notes at once;
# a text with a comma, a quote and a line break checks that every row stays one CSV record
WRITER = """
import sys, time
from pathlib import Path
import tpmkit
project = tpmkit.load(sys.argv[1])
go = Path(sys.argv[1]).parent / "go"
while not go.exists():
    time.sleep(0.005)
for i in range({each}):
    project.annotate(f'writer {{sys.argv[2]}}, note {{i}}: "x"\\nend', start="2026-01-05")
"""


def test_processes_annotating_at_once_lose_no_row(make):
    path = make.project(PROJECT, files={"calls.csv": CALLS})
    script = WRITER.format(each=EACH)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(WRITERS)
    ]
    time.sleep(3.0)  # every process has loaded the project and waits
    (path.parent / "go").write_text("")
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    text = (path.parent / "annotations.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    texts = sorted(r["text"] for r in rows)
    expected = sorted(
        f'writer {w}, note {i}: "x"\nend' for w in range(WRITERS) for i in range(EACH)
    )
    assert texts == expected  # all 90, none twice
    assert text.startswith("from,to,text,kind,metric,group,value,exclude\n")
    assert text.count("from,to,text") == 1  # one header, even though the file was new
    # and tpmkit reads it back
    import tpmkit

    assert len(tpmkit.load(path).annotations()) == WRITERS * EACH


@pytest.mark.parametrize("use_flock", [True, False], ids=["flock", "exclusive-create"])
def test_the_lock_makes_writers_take_turns(tmp_path, use_flock):
    """Threads doing a slow read-modify-write of one counter under the lock: no update is
    lost (without it, the sleep between read and write loses nearly all of them)."""
    counter = tmp_path / "annotations.csv"
    counter.write_text("0")

    def bump() -> None:
        for _ in range(5):
            with exclusive(counter, use_flock=use_flock):
                value = int(counter.read_text())
                time.sleep(0.002)
                counter.write_text(str(value + 1))

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.read_text() == "30"
    # flock leaves its file (it never goes stale); an exclusively created one is removed
    assert lock_path(counter).exists() is use_flock


@pytest.mark.parametrize("use_flock", [True, False], ids=["flock", "exclusive-create"])
def test_a_writer_that_cannot_get_the_lock_says_which_file(tmp_path, use_flock):
    target: Path = tmp_path / "annotations.csv"
    second = exclusive(target, wait=0.1, use_flock=use_flock)
    with exclusive(target, use_flock=use_flock), pytest.raises(UsageError) as caught:
        second.__enter__()
    assert str(target) in caught.value.message and "locked by another writer" in (
        caught.value.message
    )
    hint = caught.value.issues[0]
    assert hint.file == str(lock_path(target))
    if not use_flock:  # a lock file left by a killed run: how to clear it
        assert f"remove {lock_path(target)}" in hint.message
