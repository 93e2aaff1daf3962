"""The Redis cache backend keeps one client per pool (runs when REDIS_URL or CACHE_URL is set)."""

import os

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL")), reason="needs Redis"
)


def test_one_client_serves_every_call():
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert (
        cache._cache.get_client(write=True) is client
    )  # one server: reads and writes share the pool
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert cache.incr("a") == 2
