"""The dashboard's head counts and the org page's "without a factor" count are bounded
(``portal/lib/counting.py``): exact up to the limit, "more than <limit>" above it, at a
number of queries that does not grow with the users. The limit is lowered to 3 here so a
handful of users passes it (the pages' exact counts below it: test_pages_user_list_and_add)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.lib import counting

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(counting, "EXACT_COUNT_LIMIT", 3)


def stats(html: str) -> dict[str, str]:
    """The dashboard's head counts: label -> shown value."""
    pairs = re.findall(
        r'<span class="stat-value">([^<]*)</span><span class="stat-label">([^<]*)</span>', html
    )
    return {label: value for value, label in pairs}


def queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_dashboard_says_more_than_the_limit_at_constant_queries(
    limit_of_three, rechecked_admin, make_user
):
    for n in range(5):
        make_user(f"u{n}@example.com")
    rechecked_admin.get("/")  # the first visit writes what later ones only read
    few, html = queries(rechecked_admin, "/")
    assert stats(html) == {
        "users": "more than 3",  # 6
        "admin": "1",
        "disabled": "0",
        "active without 2FA": "more than 3",
        "API tokens": "0",
        "flock": "1",  # the default flock
    }
    assert 'href="/users/?disabled=no&amp;two_factor=none"' in html
    assert "Turning it on would send more than 3 users to enrol" in html
    for n in range(5, 25):
        make_user(f"u{n}@example.com")
    many, html = queries(rechecked_admin, "/")
    assert many == few and stats(html)["users"] == "more than 3"


def test_the_org_page_says_more_than_the_limit_at_constant_queries(
    limit_of_three, rechecked_admin, make_user
):
    url = reverse("org_settings")
    make_user("u0@example.com")
    html = queries(rechecked_admin, url)[1]
    assert re.search(r"data-without-factor><strong>2</strong> active users</a>", html)
    for n in range(1, 5):
        make_user(f"u{n}@example.com")
    few, html = queries(rechecked_admin, url)
    link = re.search(r'<a href="([^"]+)" data-without-factor><strong>([^<]+)</strong>', html)
    assert link.groups() == ("/users/?disabled=no&amp;two_factor=none", "more than 3")
    for n in range(5, 25):
        make_user(f"u{n}@example.com")
    assert queries(rechecked_admin, url)[0] == few
