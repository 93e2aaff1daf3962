"""/healthz and /readyz: JSON, no authentication, any Host, plain http even where every
other request is redirected to https; /readyz reports the database, the cache and the mail queue."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from servers import CONFIGURED_CACHE, RedisServer, redis_caches

from users import mail
from users.models import OutboxMail, User

pytestmark = pytest.mark.django_db
FOREIGN = {"HTTP_HOST": "10.0.0.7:8000"}


@pytest.fixture
def production_like(settings):
    """What PORTAL_PRODUCTION turns on: the https redirect, and only the site's own host."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.example.com"]


def test_probes_answer_plain_http_with_any_host(production_like, client):
    healthz = client.get("/healthz", **FOREIGN)
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert healthz["Content-Type"] == "application/json" and healthz["Cache-Control"] == "no-store"
    readyz = client.get("/readyz", **FOREIGN)
    assert readyz.status_code == 200
    assert readyz.json() == {
        "status": "ok",
        "database": "ok",
        "cache": CONFIGURED_CACHE,
        "mail": {"queued": 0, "oldest_queued_seconds": None},
    }
    assert client.head("/healthz", **FOREIGN).status_code == 200
    # Everything else is still redirected or refused.
    assert client.get("/login/", HTTP_HOST="portal.example.com").status_code == 301
    assert client.get("/login/", **FOREIGN).status_code == 400
    assert client.post("/healthz", **FOREIGN).status_code == 400  # only GET and HEAD are probes


def test_probes_set_no_cookie_and_read_no_session(client, admin):
    client.force_login(admin)
    response = client.get("/readyz")
    assert response.cookies == {} and "Vary" not in response


def test_readyz_reports_the_mail_queue_age(client, system):
    ann = User.objects.create_user("ann", "ann@example.com")
    mail.queue_welcome(ann, system)
    OutboxMail.objects.update(created=timezone.now() - timedelta(seconds=90))
    mail.queue_password_reset(ann, system)
    found = client.get("/readyz").json()["mail"]
    assert found["queued"] == 2 and 90 <= found["oldest_queued_seconds"] < 120


def test_readyz_says_degraded_while_redis_is_down_and_ok_when_back(settings, client):
    server = RedisServer()
    server.start()
    try:
        settings.CACHES = redis_caches(server.url, retry_seconds=0.2)
        assert client.get("/readyz").json()["cache"] == "ok"
        server.stop()
        response = client.get("/readyz")
        assert (response.status_code, response.json()["cache"]) == (200, "degraded")
        server.start()
        time.sleep(0.3)  # the breaker's interval
        assert client.get("/readyz").json()["cache"] == "ok"
    finally:
        server.close()


def test_a_malformed_host_is_no_obstacle_either(production_like):
    assert Client().get("/healthz", HTTP_HOST="bad host!").json() == {"status": "ok"}
