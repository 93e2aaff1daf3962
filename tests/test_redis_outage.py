"""Redis is a cache: with it down every page and endpoint answers as without a cache, and it
is used again when it comes back (a private redis-server, stopped and frozen mid-test)."""

from __future__ import annotations

import logging
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.test import Client
from helpers import PASSWORD
from servers import RedisServer, redis_caches

from users.active_sessions import session_id

pytestmark = pytest.mark.django_db
RETRY = 0.5


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_cache(settings, redis_server) -> RedisServer:
    settings.CACHES = redis_caches(redis_server.url, RETRY)
    settings.SESSION_CACHE_ALIAS = "sessions"
    return redis_server


def sign_in(client: Client, login: str = "ann", password: str = PASSWORD):
    return client.post("/login/", {"login": login, "password": password})


def wait_for_retry() -> None:
    time.sleep(RETRY + 0.1)


def test_api_sign_in_and_pages_work_without_redis_and_use_it_again(
    redis_cache, v1, ann, client, caplog, settings
):
    assert v1.get("ping").status_code == 200
    assert redis_cache.keys("portal:*apicred*"), "a verified token is remembered in Redis"
    redis_cache.client().flushdb()

    redis_cache.stop()
    caplog.set_level(logging.WARNING, logger="portal.cache")
    started = time.monotonic()
    for _ in range(20):
        assert v1.get("ping").status_code == 200
    # One connection attempt per retry interval, not one per call (refused at once here;
    # the socket timeouts bound a Redis that hangs, see the next test).
    assert time.monotonic() - started < 5
    assert v1.get("user/get", email="ann@example.com").status_code == 200
    assert _fallback_keys("authfail") == [], "no failure was counted"
    assert any(caches["default"].fallback.get(key) for key in _fallback_keys("apicred")), (
        "remembered in memory"
    )

    assert sign_in(client).status_code == 302
    assert client.get("/account/security/").status_code == 200
    assert client.get("/").url == f"/users/{ann.pk}/"
    assert client.get(f"/users/{ann.pk}/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert SESSION_KEY not in client.session
    warnings = [
        r for r in caplog.records if r.name == "portal.cache" and r.levelno == logging.WARNING
    ]
    assert (
        len(warnings) == 1 and "127.0.0.1" in warnings[0].getMessage() and not warnings[0].exc_info
    )

    # Wrong tokens are still throttled (per process) and sign-in lock-outs still count (database).
    settings.AUTH_ADDRESS_FAILURE_LIMIT = 10
    for _ in range(10):
        assert v1.client.get("/api/v1/ping", {"auth_token": "wrong"}).status_code == 401
    assert v1.client.get("/api/v1/ping", {"auth_token": "wrong"}).status_code == 429

    redis_cache.start()
    wait_for_retry()
    assert v1.get("ping").status_code == 200
    assert redis_cache.keys("portal:*apicred*"), "Redis is used again, without a restart"
    assert sign_in(client).status_code == 302
    assert redis_cache.keys("*cached_db*"), "sessions are cached in Redis again"
    assert client.get("/account/security/").status_code == 200


def test_sign_in_lock_outs_count_without_redis(redis_cache, ann, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    redis_cache.stop()
    for _ in range(2):
        assert sign_in(client, password="nope").status_code == 200
    assert sign_in(client, password="nope").status_code == 429
    assert sign_in(client).status_code == 429


def test_a_hanging_redis_costs_one_timeout_per_interval(redis_cache, v1):
    assert v1.get("ping").status_code == 200
    redis_cache.freeze()
    started = time.monotonic()
    assert v1.get("ping").status_code == 200
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(10):
        assert v1.get("ping").status_code == 200
    rest = time.monotonic() - started
    assert 0.25 < first < 1.5, first  # one socket timeout (0.3 s)
    assert rest < first, rest  # the breaker skips Redis meanwhile
    redis_cache.thaw()


def test_a_session_ended_while_redis_hangs_is_not_revived_by_its_old_copy(redis_cache, ann, client):
    assert sign_in(client).status_code == 302
    assert redis_cache.keys("*cached_db*"), "the session is cached in Redis"
    cookie = client.cookies["sessionid"].value

    redis_cache.freeze()  # unreachable, but it keeps its (soon stale) copy
    assert client.post("/logout/").status_code == 302
    redis_cache.thaw()
    assert redis_cache.keys("*cached_db*"), "the stale copy is still in Redis"

    wait_for_retry()
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get("/account/security/").status_code == 302  # sent to sign in
    assert not redis_cache.keys("*cached_db*" + cookie)


def _fallback_keys(fragment: str) -> list[str]:
    local = caches["default"].fallback
    return [key.split(":", 2)[-1] for key in local._cache if fragment in key]


def test_a_session_signed_out_from_another_while_redis_hangs_stays_ended(
    redis_cache, ann, django_capture_on_commit_callbacks
):
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        assert sign_in(browser).status_code == 302
    assert phone.get("/account/security/").status_code == 200
    phone_key = phone.cookies["sessionid"].value
    assert redis_cache.keys("*cached_db*" + phone_key), "the session is cached in Redis"

    redis_cache.freeze()
    with django_capture_on_commit_callbacks(execute=True):  # the cached copy goes after commit
        response = laptop.post(
            "/account/security/sessions/end/", {"session": session_id(phone_key)}
        )
    assert response.status_code == 302
    redis_cache.thaw()
    assert redis_cache.keys("*cached_db*" + phone_key), "the stale copy is still in Redis"

    wait_for_retry()
    assert phone.get("/account/security/").status_code == 302  # sent to sign in
    assert not redis_cache.keys("*cached_db*" + phone_key)
    assert laptop.get("/account/security/").status_code == 200
