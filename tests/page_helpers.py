"""Helpers of the page tests: a signed-in client per role, and what a denial looks like."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from users.twofactor.session import CHECKED_AT


def signed_in(user, *, checked_now: bool = False) -> Client:
    """A client signed in as ``user``; ``checked_now`` as if they had just typed their password
    (sensitive changes such as a new API token ask for that)."""
    client = Client()
    client.force_login(user)
    if checked_now:
        session = client.session
        session[CHECKED_AT] = time.time()
        session.save()
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': path}, safe='/')}"


def request_overhead(client: Client) -> int:
    """Queries any signed-in request costs (session, user, middleware), measured on a POST-only
    action asked with GET, which answers 405 before any query of its own; page tests add their
    own fixed count to it."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("user_active", args=[0])).status_code == 405
    return len(queries)
