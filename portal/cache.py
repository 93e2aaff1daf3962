"""The portal's cache backends: Django's Redis and local-memory ones, minus per-call overhead
(the Redis client kept per pool is ``portal/redis_client.py``), and a Redis backend that
degrades instead of failing when Redis is unreachable.

Redis is only a cache here (sessions are ``cached_db``, lock-outs live in the database), so
losing it must cost speed, never a request:

- every Redis call is bounded by short socket timeouts (``OPTIONS`` ``socket_connect_timeout``
  and ``socket_timeout``, set from ``PORTAL_CACHE_TIMEOUT``);
- a failed call trips a per-process circuit breaker shared by every alias on that server:
  for ``RETRY_SECONDS`` every call goes to the fallback without touching the network, then
  one call tries Redis again; a dead Redis costs one timeout per process per interval;
- the fallback is a per-process local-memory cache (``FALLBACK: "locmem"``, for credential
  memory and the failure throttle), or nothing (``FALLBACK: "none"``, for sessions, which
  must come from the database: another process's memory would not see a sign-out);
- one warning a minute while Redis is unreachable, one when it is back;
- keys written or deleted while Redis was unreachable are remembered and deleted from Redis
  before this process uses it again, so a copy from before the outage (a session signed out
  meanwhile, a changed one) is not served. See README "Reliability" for the window this
  leaves between processes.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from urllib.parse import urlsplit

from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from portal.redis_client import ReusingRedisClient

logger = logging.getLogger("portal.cache")
WARNING_INTERVAL = 60.0
# Remembered keys per server; past this the whole cache database is flushed on recovery.
MAX_REMEMBERED_KEYS = 100_000


class _PortableKeysUnchecked:
    """Django checks every key, character by character, for what memcached would refuse
    (a warning, never an error), which costs an API credential check more than the local
    lookup. Neither backend here is memcached, so skip that check."""

    def validate_key(self, key: str) -> None:
        return None


class PortalLocMemCache(_PortableKeysUnchecked, LocMemCache):
    pass


class PortalNoCache(_PortableKeysUnchecked, DummyCache):
    """Caches nothing: the sessions alias without Redis, and its fallback while Redis is down."""


class Breaker:
    """Whether this process should try a Redis server now, and what to clean up there first."""

    def __init__(self, server: str, retry_seconds: float) -> None:
        self.server = server
        self.retry_seconds = retry_seconds
        self.lock = threading.Lock()
        self.open_until = 0.0  # 0: closed (Redis in use)
        self.last_warning = -WARNING_INTERVAL
        self.failures = 0
        self.stale: set[str] = set()
        self.flush = False

    @property
    def degraded(self) -> bool:
        return self.open_until != 0.0

    def allows(self) -> bool:
        """Closed, or open and due for one trial (claimed, so other threads stay local)."""
        if not self.open_until:
            return True
        with self.lock:
            now = time.monotonic()
            if now < self.open_until:
                return False
            self.open_until = now + self.retry_seconds
            return True

    def trip(self, error: Exception) -> None:
        with self.lock:
            now = time.monotonic()
            self.open_until = now + self.retry_seconds
            self.failures += 1
            if now - self.last_warning >= WARNING_INTERVAL:
                self.last_warning = now
                logger.warning(
                    "Redis at %s unreachable (%s: %s); caching in process memory, retrying every "
                    "%ss (%d failed calls since the last warning)",
                    self.server,
                    type(error).__name__,
                    error,
                    self.retry_seconds,
                    self.failures,
                )
                self.failures = 0

    def close(self) -> None:
        with self.lock:
            self.open_until = 0.0
            self.last_warning = -WARNING_INTERVAL
        logger.warning("Redis at %s reachable again; using it", self.server)

    def remember(self, keys: list[str] | None) -> None:
        """Keys whose Redis copy is stale now (None: all of them)."""
        with self.lock:
            if keys is None or len(self.stale) + len(keys) > MAX_REMEMBERED_KEYS:
                self.flush, self.stale = True, set()
            elif not self.flush:
                self.stale.update(keys)

    def clean(self, client) -> None:
        """Delete in Redis what changed while it was unreachable (raises if it still is)."""
        if not (self.stale or self.flush):
            return
        with self.lock:
            stale, flush = list(self.stale), self.flush
        if flush:
            client.flushdb()
        elif stale:
            client.delete(*stale)
        with self.lock:
            self.stale.difference_update(stale)
            self.flush = self.flush and not flush


_breakers: dict[tuple[str, float], Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str, retry_seconds: float) -> Breaker:
    parts = urlsplit(location)
    server = f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"  # never the password
    with _breakers_lock:
        return _breakers.setdefault((server, retry_seconds), Breaker(server, retry_seconds))


# What each cache call writes (the Redis copy of those keys is stale if the call goes local).
_SINGLE_KEY_WRITES = {"set", "add", "delete", "touch", "incr"}
_MANY_KEY_WRITES = {"set_many": "data", "delete_many": "keys"}
_READS = {"get", "get_many", "has_key"}


class PortalRedisCache(_PortableKeysUnchecked, RedisCache):
    """Django's Redis cache that falls back instead of raising when Redis is unreachable.

    Extra ``OPTIONS``: ``FALLBACK`` ("locmem" or "none") and ``RETRY_SECONDS`` (breaker interval);
    everything else goes to redis-py's connection pool as Django does.
    """

    def __init__(self, server, params) -> None:
        options = dict(params.get("OPTIONS", {}))
        fallback = options.pop("FALLBACK", "locmem")
        retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        options.setdefault("socket_connect_timeout", 0.3)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisClient
        local = {
            key: params[key]
            for key in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
            if key in params
        }
        if fallback == "none":
            self.fallback = PortalNoCache(server, local)
        else:
            self.fallback = PortalLocMemCache(f"portal-redis-fallback:{server}", local)
        self.breaker = _breaker_for(self._servers[0], retry_seconds)

    def _guarded(self, name: str, args: tuple, kwargs: dict):
        if self.breaker.allows():
            try:
                self.breaker.clean(self._cache.get_client(write=True))
                result = getattr(RedisCache, name)(self, *args, **kwargs)
            except RedisError as error:
                self.breaker.trip(error)
            else:
                if self.breaker.degraded:
                    self.breaker.close()
                    self.fallback.clear()  # so the next outage starts from nothing stale
                return result
        if name not in _READS:
            self.breaker.remember(self._written_keys(name, args, kwargs))
        return getattr(self.fallback, name)(*args, **kwargs)

    def _written_keys(self, name: str, args: tuple, kwargs: dict) -> list[str] | None:
        if name == "clear":
            return None
        bound = inspect.signature(getattr(RedisCache, name)).bind(self, *args, **kwargs).arguments
        version = bound.get("version")
        keys = [bound["key"]] if name in _SINGLE_KEY_WRITES else list(bound[_MANY_KEY_WRITES[name]])
        return [self.make_and_validate_key(key, version=version) for key in keys]


def _guard(name: str):
    def method(self, *args, **kwargs):
        return self._guarded(name, args, kwargs)

    method.__name__ = name
    method.__doc__ = f"RedisCache.{name}, or the fallback while Redis is unreachable."
    return method


# decr, get_or_set, *_many defaults … of BaseCache call these, so they degrade too.
for _name in (*_READS, *_SINGLE_KEY_WRITES, *_MANY_KEY_WRITES, "clear"):
    setattr(PortalRedisCache, _name, _guard(_name))
