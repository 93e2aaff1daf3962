"""``portal.redis_client.ReusingRedisClient`` answers every cache call as Django's own Redis client
does, invalidation included (runs when REDIS_URL or CACHE_URL is set): it overrides
``get_client`` and leans on a private helper a Django upgrade may change."""

from __future__ import annotations

import os
import time

import pytest
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from portal.redis_client import ReusingRedisClient

URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not URL, reason="needs Redis")


def backend(client_class: type[RedisCacheClient], prefix: str) -> RedisCache:
    cache = RedisCache(URL, {"KEY_PREFIX": prefix})
    cache._class = client_class
    return cache


def run(cache: RedisCache) -> list:
    """The same calls on either client; what each returned, in order."""
    out = [
        cache.set("a", {"x": 1}),
        cache.get("a"),
        cache.add("a", 2),
        cache.add("b", 2),
        cache.incr("b", 5),
        cache.decr("b"),
        cache.set_many({"c": "ç", "d": [1, 2]}),
        cache.get_many(["a", "b", "c", "d", "missing"]),
        cache.has_key("c"),
        cache.delete("c"),
        cache.delete("c"),
        cache.get("c", "gone"),
        cache.get_or_set("e", 7),
        cache.touch("e", 1),
        cache.touch("missing"),
        cache.set("f", 1, timeout=1),
    ]
    time.sleep(1.2)  # both expiries pass
    out += [
        cache.get("e"),
        cache.get("f"),
        cache.delete_many(["a", "b", "d"]),
        cache.get_many(["a", "b", "d"]),
    ]
    return out


def test_same_answers_as_djangos_client():
    reusing, plain = (
        backend(ReusingRedisClient, "test-reusing"),
        backend(RedisCacheClient, "test-plain"),
    )
    try:
        assert run(reusing) == run(plain)
    finally:
        reusing.delete_many(list("abcdef"))
        plain.delete_many(list("abcdef"))


def test_writes_through_one_client_are_seen_by_the_other():
    """Same keys, same server: nothing is kept on the client side that could serve a stale value."""
    reusing, plain = (
        backend(ReusingRedisClient, "test-shared"),
        backend(RedisCacheClient, "test-shared"),
    )
    try:
        reusing.set("k", "one")
        assert plain.get("k") == "one"
        plain.set("k", "two")
        assert reusing.get("k") == "two"
        plain.delete("k")
        assert reusing.get("k") is None
    finally:
        plain.delete("k")


def test_one_redis_object_per_pool():
    cache = backend(ReusingRedisClient, "test-pool")
    client = cache._cache.get_client()
    assert (
        cache._cache.get_client("any key") is client
        and cache._cache.get_client(write=True) is client
    )
    assert backend(RedisCacheClient, "test-pool")._cache.get_client() is not client
