"""Helpers for tests against a running server: committed data, and a real gunicorn.

``LIVE_DB`` marks a test whose data must be committed (a server reads it from
another thread or process). Listing every app as ``available_apps`` makes the
flush after the test skip re-creating content types, so a later test using
``serialized_rollback`` can load its snapshot without unique-key clashes; rows
made by data migrations (the default flock) are put back by ``migration_rows``.

``gunicorn`` serves the test database with several worker processes, each with its
own connections, as production does (Django's live server is one process whose
small listen backlog resets 50 simultaneous connections).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.apps import apps
from django.db import connection

from flocks.models import DEFAULT_FLOCK_ID, Flock

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"  # gunicorn's log, to read when a race fails


LIVE_DB = pytest.mark.django_db(transaction=True, available_apps=[app.name for app in apps.get_app_configs()])


def restore_migration_rows() -> None:
    """What the data migrations made, which a flush after an earlier test removed."""
    Flock.objects.get_or_create(flock_id=DEFAULT_FLOCK_ID, defaults={"name": "Default Flock"})


def test_database_url() -> str:
    """The URL of the database the tests run on (the test database, not the configured one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(workers: int = 3, threads: int = 8, **env: str) -> Iterator[str]:
    """Serve the portal on the test database with gunicorn; yields the base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "portal.wsgi",
    ]
    with _serving(command, port, "gunicorn", env) as url:
        yield url


@contextmanager
def runserver(**env: str) -> Iterator[str]:
    """Serve the portal on the test database as ``bin/serve`` does (runserver, no settings
    beyond the environment given); yields the base URL."""
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with _serving(command, port, "runserver", env) as url:
        yield url


@contextmanager
def _serving(command: list[str], port: int, name: str, env: dict[str, str]) -> Iterator[str]:
    environment = os.environ | {
        "DATABASE_URL": test_database_url(),
        "PORTAL_BCRYPT_ROUNDS": "4",
        "PORTAL_ADDRESS_FAILURE_LIMIT": "1000000000",
        "PORTAL_ACCOUNT_FAILURE_LIMIT": "1000000000",
        **env,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}-{connection.vendor}.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, name)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_serving(url: str, process: subprocess.Popen, name: str, seconds: float = 30) -> None:
    """Wait until ``url`` answers (the portal's open status endpoint); fail if ``process``
    exits first or it takes longer than ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(f"{url}/api/v2/status", timeout=5)
            return
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start") from None
            time.sleep(0.1)
