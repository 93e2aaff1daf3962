"""Django's Redis cache client, keeping one ``redis.Redis`` per connection pool.

Django wraps the connection pool in a new ``redis.Redis`` on every cache call, which costs
more CPU than the call itself; a ``redis.Redis`` is thread-safe, so one per pool serves every
call. It overrides ``RedisCacheClient.get_client`` and leans on the private
``_get_connection_pool_index``; tests/test_redis_client.py compares it with Django's client,
so a Django upgrade that changes them fails there first.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisClient(RedisCacheClient):
    """``RedisCacheClient`` whose ``get_client`` returns the same ``redis.Redis`` for each pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write: bool = False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = super().get_client(key, write=write)
        return self._clients[index]
