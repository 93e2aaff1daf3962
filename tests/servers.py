"""Servers a test starts and stops itself: committed data and a real gunicorn, a private
redis-server, a real SMTP server (aiosmtpd), a private PostgreSQL cluster and nginx in front.

``LIVE_DB`` marks a test whose data must be committed (a server reads it from
another thread or process). Listing every app as ``available_apps`` makes the
flush after the test skip re-creating content types, so a later test using
``serialized_rollback`` can load its snapshot without unique-key clashes; rows
made by data migrations (the default flock) are put back by ``migration_rows``.
``gunicorn`` serves the test database with several worker processes, each with its
own connections, as production does (Django's live server is one process whose
small listen backlog resets 50 simultaneous connections).

The private redis-server may be stopped, frozen (SIGSTOP: connections hang, the data stays)
and restarted; the SMTP server and the PostgreSQL cluster (Debian's initdb/pg_ctl, run as
the ``postgres`` user in a temporary folder) may be stopped and started again without
touching the servers the rest of the suite uses; nginx runs in the foreground from a
temporary folder, so nothing else on the machine is touched."""

from __future__ import annotations

import email
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from django.apps import apps
from django.db import connection

from flocks.models import DEFAULT_FLOCK_ID, Flock

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"  # gunicorn's log, to read when a race fails


LIVE_DB = pytest.mark.django_db(
    transaction=True, available_apps=[app.name for app in apps.get_app_configs()]
)


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
def runserver(port: int | None = None, **env: str) -> Iterator[str]:
    """Serve the portal on the test database as ``bin/serve`` does (runserver, no settings
    beyond the environment given), on ``port`` or a free one; yields the base URL."""
    port = port or free_port()
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
        "PORTAL_PASSKEY_CHALLENGE_LIMIT": "1000000000",
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


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# What /readyz says of the cache the suite runs with (the Redis leg sets REDIS_URL).
CONFIGURED_CACHE = "ok" if os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL") else "local"


class RedisServer:
    """``start()``, ``stop()`` (the process ends: connections refused), ``freeze()`` /
    ``thaw()`` (SIGSTOP/SIGCONT: connections hang, the data stays)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = tempfile.mkdtemp(prefix="portal-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    def keys(self, pattern: str) -> list[str]:
        return sorted(key.decode() for key in self.client().keys(pattern))

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_caches(url: str, retry_seconds: float) -> dict:
    """CACHES as settings.py builds them for REDIS_URL, pointing at ``url``."""
    options = {"socket_connect_timeout": 0.3, "socket_timeout": 0.3, "RETRY_SECONDS": retry_seconds}
    redis_cache = {
        "BACKEND": "portal.cache.PortalRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "portal",
    }
    return {
        "default": {**redis_cache, "OPTIONS": options},
        "sessions": {**redis_cache, "OPTIONS": {**options, "FALLBACK": "none"}},
    }


class Inbox:
    """aiosmtpd handler keeping every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        with self.inbox.lock:
            return list(self.inbox.messages)


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
        subprocess.run(
            command,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.folder,
        )

    def init(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            os.path.join(self.folder, "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def close(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


NGINX_CONFIG = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{pool}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


@contextmanager
def nginx(upstream: str | list[str]) -> Iterator[str]:
    """A reverse proxy to ``upstream`` (or round robin over several) that appends the peer to
    X-Forwarded-For; yields its URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    pool = ""
    if isinstance(upstream, list):
        servers = "".join(f" server {url.removeprefix('http://')};" for url in upstream)
        pool, upstream = f"    upstream pool {{{servers} }}", "http://pool"
    with tempfile.TemporaryDirectory(prefix="portal-nginx-") as folder:
        config = Path(folder) / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(dir=folder, port=port, upstream=upstream, pool=pool))
        with open(Path(folder) / "stderr.log", "wb") as log:
            process = subprocess.Popen([binary, "-c", str(config), "-p", folder], stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, process, "nginx (see its error.log)", seconds=20)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)
