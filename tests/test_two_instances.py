"""Two app servers behind one load balancer (the production scale-out layout): two gunicorn
instances on loopback sharing PostgreSQL and Redis, nginx round robin in front. What one
instance changes, the other honours on its very next request, and a session made on one is
valid on the other (PostgreSQL + Redis leg only)."""

from __future__ import annotations

import os
import re
from contextlib import ExitStack

import pytest
import requests
from django.db import connection
from helpers import PASSWORD
from servers import LIVE_DB, gunicorn, nginx

from users import services
from users.audit import Actor
from users.models import User

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
        reason="the PostgreSQL + Redis leg",
    ),
    LIVE_DB,
]
ACCOUNT_LIMIT = 3  # failed checks before an account is paused


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    """(instance A, instance B, nginx over both): the same environment, and the test's own
    secret key (tokens are keyed with it), as every app server must share one."""
    env = {"PORTAL_ACCOUNT_FAILURE_LIMIT": str(ACCOUNT_LIMIT)}
    with django_db_blocker.unblock(), ExitStack() as stack:
        a = stack.enter_context(gunicorn(workers=2, threads=2, **env))
        b = stack.enter_context(gunicorn(workers=2, threads=2, **env))
        yield a, b, stack.enter_context(nginx([a, b]))


@pytest.fixture
def boss(db) -> tuple[User, str]:
    """An admin and their token."""
    user = User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    return user, services.issue_api_token(Actor.system("tests"), user)


@pytest.fixture
def ops(db) -> tuple[User, str]:
    """A second admin and their token."""
    user = User.objects.create_superuser("ops", "ops@example.com", PASSWORD)
    return user, services.issue_api_token(Actor.system("tests"), user)


def ping(base: str, token: str) -> int:
    return requests.get(f"{base}/api/v1/ping", params={"auth_token": token}, timeout=30).status_code


def test_a_token_replaced_on_one_instance_is_refused_by_the_other(cluster, boss, ops):
    a, b, _ = cluster
    _, old = ops
    assert ping(b, old) == 200  # B has verified (and cached) it
    refreshed = requests.post(
        f"{a}/api/v2/users/ops/refresh",
        headers={"Authorization": f"Bearer {old}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert refreshed.status_code == 200
    assert ping(b, old) == 401
    assert ping(b, refreshed.json()["token"]) == 200


def test_a_user_disabled_on_one_instance_is_refused_by_the_other(cluster, boss, ops):
    a, b, _ = cluster
    _, boss_token = boss
    _, ops_token = ops
    assert ping(b, ops_token) == 200
    disabled = requests.post(
        f"{a}/api/v1/user/disable",
        data={"auth_token": boss_token, "email": "ops@example.com"},
        timeout=30,
    )
    assert disabled.status_code == 200, disabled.text
    refused = requests.get(f"{b}/api/v1/ping", params={"auth_token": ops_token}, timeout=30)
    assert refused.status_code == 403 and refused.json()["result"] == "error"
    assert ping(a, ops_token) == 403  # as A answers


def test_a_lock_out_reached_on_one_instance_holds_on_the_other(cluster, boss):
    a, b, _ = cluster

    def basic(base: str, password: str) -> requests.Response:
        return requests.get(f"{base}/api/v2/users", auth=("boss", password), timeout=30)

    assert basic(b, PASSWORD).status_code == 200
    for n in range(ACCOUNT_LIMIT):
        assert basic(a, f"wrong {n}").status_code == 401
    paused = basic(b, PASSWORD)  # the right password, on the other instance
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 0


def _sign_in(session: requests.Session, base: str) -> None:
    form = session.get(f"{base}/login/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = session.post(
        f"{base}/login/",
        data={"csrfmiddlewaretoken": csrf, "login": "boss", "password": PASSWORD},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]


def users_page(session: requests.Session, base: str) -> int:
    return session.get(f"{base}/users/", allow_redirects=False, timeout=30).status_code


def test_a_session_survives_switching_instance(cluster, boss):
    a, b, balanced = cluster
    session = requests.Session()
    _sign_in(session, a)
    # Cookies are per host name, and all three listen on 127.0.0.1: the same cookie goes to each.
    assert users_page(session, b) == 200
    assert {users_page(session, balanced) for _ in range(6)} == {200}  # round robin over A and B
    # Signing out on B ends the session on A too.
    csrf = session.cookies["csrftoken"]
    session.post(
        f"{b}/logout/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{b}/users/"},
        timeout=30,
    )
    assert users_page(session, a) == 302
