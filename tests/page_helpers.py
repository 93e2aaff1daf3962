"""Helpers of the page tests: a signed-in client per role, and what a denial looks like."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': path}, safe='/')}"


def request_overhead(client: Client) -> int:
    """Queries any signed-in request costs (session, user, middleware), measured on the home
    redirect, which makes none of its own; page tests add their own fixed count to it."""
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    return len(queries)
