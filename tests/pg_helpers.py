"""A private PostgreSQL cluster (Debian's initdb/pg_ctl, run as the ``postgres`` user) in a
temporary folder on a spare loopback port, which a test may stop and start again without
touching the server the rest of the suite uses."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile

from live_helpers import free_port


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def _runs_as_postgres() -> list[str] | None:
    """The prefix that runs a command as ``postgres`` (None: this user cannot)."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    return [] if pwd.getpwuid(os.geteuid()).pw_name == "postgres" else None


def unavailable_reason() -> str | None:
    if _bin_dir() is None:
        return "needs Debian's PostgreSQL server binaries (initdb, pg_ctl)"
    if _runs_as_postgres() is None:
        return "needs root (runuser) or the postgres user to run a private cluster"
    return None


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="portal-pg-")
        self.data = os.path.join(self.folder, "data")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.bin = _bin_dir()
        self.prefix = _runs_as_postgres()
        shutil.chown(self.folder, "postgres")

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.prefix, os.path.join(self.bin, tool), *args]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)

    def init(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.folder, "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def close(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
