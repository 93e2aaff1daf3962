"""Helpers of the page tests: a signed-in client per role, and what a denial looks like."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    assert response.url == f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': path}, safe='/')}"
