"""A throw-away PostgreSQL cluster for the tests: Debian's `postgresql` server binaries,
a cluster in a temporary folder owned by an unprivileged user (initdb and pg_ctl refuse to
run as root), a free port on 127.0.0.1, password authentication (the password reaches
tpmkit through TPMKIT_DB_PASSWORD only). Stopped and removed afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "throwaway-19"
USER = "tpmkit"


@dataclass(frozen=True)
class Cluster:
    """A running cluster: connect as USER with PASSWORD to `database` on `port`."""

    port: int
    database: str = "postgres"

    @property
    def url(self) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{self.database}"


def server_binaries() -> Path | None:
    """The folder of initdb and pg_ctl (Debian keeps them out of PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(owner: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster; stop and remove it at the end."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError("the postgresql server package is not installed")
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: run it as the package's unprivileged user
        owner = "postgres" if _user_exists("postgres") else "nobody"
    folder = Path(tempfile.mkdtemp(prefix="tpmkit-pg-"))
    data, password_file = folder / "data", folder / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    if owner:
        record = pwd.getpwnam(owner)
        for path in (folder, password_file):
            os.chown(path, record.pw_uid, record.pw_gid)
    port = _free_port()

    def run(program: str, *args: str) -> None:
        command = _as_owner(owner, [str(binaries / program), *args])
        subprocess.run(command, check=True, capture_output=True, text=True)

    try:
        run(
            "initdb",
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
        yield Cluster(port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    owner,
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                ),
                check=False,
                capture_output=True,
            )
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
