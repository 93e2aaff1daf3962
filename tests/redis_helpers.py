"""A private redis-server on a spare loopback port, which a test may stop, freeze and restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis
from live_helpers import free_port

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
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
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
    redis_cache = {"BACKEND": "portal.cache.PortalRedisCache", "LOCATION": url, "KEY_PREFIX": "portal"}
    return {
        "default": {**redis_cache, "OPTIONS": options},
        "sessions": {**redis_cache, "OPTIONS": {**options, "FALLBACK": "none"}},
    }
