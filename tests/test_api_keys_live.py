"""Removing or expiring an API key refuses it on the very next request, on every gunicorn
worker (3 workers, the shared cache: Redis when REDIS_URL is set, as on the PostgreSQL run)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from servers import LIVE_DB, gunicorn

from flocks import api_keys
from flocks.models import ApiKey
from users.audit import Actor

pytestmark = LIVE_DB
TRIES = 12  # enough that every worker has verified (and remembered) the key


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock(), gunicorn(workers=3, threads=2) as url:
        yield url


def _statuses(base: str, token: str) -> set[int]:
    return {
        requests.get(f"{base}/api/v1/ping", params={"auth_token": token}, timeout=30).status_code
        for _ in range(TRIES)
    }


def test_a_removed_key_is_refused_on_every_worker(server, db):
    key, token = api_keys.add_key(Actor.system("tests"), role="read-only", note="live")
    assert _statuses(server, token) == {200}
    api_keys.remove_key(Actor.system("tests"), key)
    response = requests.get(f"{server}/api/v1/ping", params={"auth_token": token}, timeout=30)
    assert (response.status_code, response.json()) == (
        401,
        {"result": "error", "message": "Invalid auth_token"},
    )
    assert _statuses(server, token) == {401}


def test_an_expired_key_is_refused_on_every_worker(server, db):
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    _, token = api_keys.add_key(Actor.system("tests"), role="admin", note="live", expires=tomorrow)
    assert _statuses(server, token) == {200}
    ApiKey.objects.update(expires=timezone.now().date())
    assert _statuses(server, token) == {401}
