"""The portal's cache backends: Django's Redis and local-memory ones, minus per-call overhead."""

from __future__ import annotations

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _PortableKeysUnchecked:
    """Django checks every key, character by character, for what memcached would refuse
    (a warning, never an error), which costs an API credential check more than the local
    lookup. Neither backend here is memcached, so skip that check."""

    def validate_key(self, key: str) -> None:
        return None


class _ReusingClient(RedisCacheClient):
    """Django wraps the connection pool in a new ``redis.Redis`` on every cache call, which
    costs more CPU than the call itself; a ``redis.Redis`` is thread-safe, so keep one per pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write: bool = False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = super().get_client(key, write=write)
        return self._clients[index]


class PortalLocMemCache(_PortableKeysUnchecked, LocMemCache):
    pass


class PortalRedisCache(_PortableKeysUnchecked, RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
