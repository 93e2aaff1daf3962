"""Last activity (issue 15, point 1): "last signed in" written once per sign-in (password and
second factor, passkey), "last API use" and "created" on the users list (sortable, filtered,
constant queries) and the profile, every date in one format (``users/templatetags/when.py``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from helpers import (
    ORIGIN,
    PASSWORD,
    PasskeyDevice,
    add_key,
    assertion,
    page_text,
    post_json,
    request_overhead,
    totp_code,
)

from users.models import User
from users.templatetags.when import at, relative, when
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 1, 23, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (NOW - timedelta(seconds=59), "just now"),
        (NOW - timedelta(minutes=1), "1 minute ago"),
        (NOW - timedelta(minutes=59, seconds=59), "59 minutes ago"),
        (NOW - timedelta(hours=2), "2 hours ago"),
        (NOW - timedelta(days=3, hours=5), "3 days ago"),
        (NOW - timedelta(days=45), "1 month ago"),
        (NOW - timedelta(days=800), "2 years ago"),
        (NOW + timedelta(seconds=30), "in under a minute"),
        (NOW + timedelta(days=3), "in 3 days"),
    ],
)
def test_relative_words_use_the_largest_whole_unit(moment, words):
    assert relative(moment, NOW) == words


def test_when_is_a_time_element_with_the_exact_utc_time_on_hover():
    three_days_ago = timezone.now() - timedelta(days=3, minutes=1)
    exact = three_days_ago.astimezone(UTC)
    assert when(three_days_ago) == (
        f'<time datetime="{exact:%Y-%m-%dT%H:%M:%SZ}" title="{exact:%Y-%m-%d %H:%M} UTC">'
        "3 days ago</time>"
    )
    assert when(None) == '<span class="muted">never</span>'
    assert when(None, "no expiry") == '<span class="muted">no expiry</span>'
    assert when(timezone.now().date()) == (
        f'<time datetime="{timezone.now().date().isoformat()}" '
        f'title="{timezone.now().date().isoformat()} (UTC)">today</time>'
    )
    assert ">in 2 days</time>" in when(date.today() + timedelta(days=2))
    soon = timezone.now() + timedelta(hours=5, minutes=1)
    assert at(soon) == (
        f'<time datetime="{soon.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" title="in 5 hours">'
        f"{soon.astimezone(UTC):%Y-%m-%d %H:%M} UTC</time>"
    )


# Sign-in writes last_login once; the requests after it write nothing to the user.


def user_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "users_user"')]


def test_password_and_app_code_sign_in_writes_last_login_once(ann):
    device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    client = Client()
    client.post("/login/", {"login": "ann", "password": PASSWORD})
    ann.refresh_from_db()
    assert ann.last_login is None  # half signed in is not signed in
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/login/verify/", {"action": "code", "code": totp_code(device)})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert before <= ann.last_login <= timezone.now()
    assert len([sql for sql in user_writes(queries) if '"last_login"' in sql]) == 1
    signed_in_at = ann.last_login
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("user_detail", args=[ann.pk])).status_code == 200
        assert client.get(reverse("security")).status_code == 200
    assert user_writes(queries) == []
    ann.refresh_from_db()
    assert ann.last_login == signed_in_at


def test_passkey_sign_in_writes_last_login(ann, settings):
    settings.WEBAUTHN_ORIGIN, settings.WEBAUTHN_RP_ID = ORIGIN, "localhost"
    device = PasskeyDevice()
    assert add_key(ann, device).status_code == 200
    User.objects.filter(pk=ann.pk).update(last_login=None)  # add_key signed in to register
    client = Client()
    options = client.post("/login/passkey/options/", content_type="application/json").content
    answer = assertion(device, options)
    response = post_json(client, "/login/passkey/", {"credential": answer})
    assert response.status_code == 200, response.content
    ann.refresh_from_db()
    assert ann.last_login is not None and timezone.now() - ann.last_login < timedelta(seconds=5)


# The users list: columns, sorting (never first ascending, last descending), the filter.


@pytest.fixture
def people(make_user, admin):
    """Four users besides the admin: signed in 2 days ago, 100 days ago, never; one token."""
    now = timezone.now()
    recent = make_user("recent@example.com")
    old = make_user("old@example.com")
    never = make_user("never@example.com")
    User.objects.filter(pk=recent.pk).update(
        last_login=now - timedelta(days=2), api_token_last_used=now - timedelta(hours=3)
    )
    User.objects.filter(pk=old.pk).update(last_login=now - timedelta(days=100))
    User.objects.filter(pk=admin.pk).update(last_login=now - timedelta(minutes=5))
    User.objects.filter(pk=recent.pk).update(api_token_index="x" * 64)
    return {"recent": recent, "old": old, "never": never}


def listed(client: Client, **query) -> list[str]:
    response = client.get(reverse("user_list"), query)
    assert response.status_code == 200, response.content
    return [user.username for user in response.context["page"]]


def test_sorting_by_last_sign_in_puts_never_first_ascending_and_last_descending(
    rechecked_admin, people
):
    # the rechecked admin signed in just now (force_login)
    assert listed(rechecked_admin, sort="last_login") == [
        "never@example.com",
        "old@example.com",
        "recent@example.com",
        "admin",
    ]
    assert listed(rechecked_admin, sort="-last_login") == [
        "admin",
        "recent@example.com",
        "old@example.com",
        "never@example.com",
    ]


def test_sorting_by_last_api_use_treats_never_the_same_way(rechecked_admin, people):
    # ties (never used) follow the id: admin, old, never, in the order they were made
    assert listed(rechecked_admin, sort="api_used") == [
        "admin",
        "old@example.com",
        "never@example.com",
        "recent@example.com",
    ]
    assert listed(rechecked_admin, sort="-api_used") == [
        "recent@example.com",
        "never@example.com",
        "old@example.com",
        "admin",
    ]


def test_the_signed_in_filter_finds_never_and_not_lately(rechecked_admin, people):
    assert listed(rechecked_admin, signed_in="never") == ["never@example.com"]
    assert listed(rechecked_admin, signed_in="90", sort="last_login") == [
        "never@example.com",
        "old@example.com",
    ]
    assert listed(rechecked_admin, signed_in="365") == ["never@example.com"]
    response = rechecked_admin.get(reverse("user_list"), {"signed_in": "7"})
    assert response.status_code == 400 and "signed_in" in response.context["form"].errors
    page = rechecked_admin.get(reverse("user_list"), {"signed_in": "90"}).content.decode()
    assert '<option value="90" selected>Not in 90 days</option>' in page
    assert ">Clear</a>" in page


def test_the_list_shows_last_sign_in_api_use_and_created(rechecked_admin, people):
    page = rechecked_admin.get(reverse("user_list"), {"sort": "last_login"}).content.decode()
    rows = re.findall(r"<tr>\s*<td><a href=\"/users/\d+/\".*?</tr>", page, re.S)
    texts = [page_text(row) for row in rows]
    assert texts[0] == (
        "never@example.com never@example.com user invited no welcome mail none — — never just now"
    )
    assert texts[2] == (
        "recent@example.com recent@example.com user active none yes used 3 hours ago — "
        "2 days ago just now"
    )
    for heading in ("Last signed in", "Created", "API token"):
        assert f">{heading}</a>" in page or f">{heading} <span" in page
    assert 'href="?sort=-last_login" class="sorted">Last signed in' in page


@pytest.mark.parametrize("sort", ["last_login", "-last_login", "api_used", "-api_used"])
def test_pages_sorted_by_activity_cost_the_same_queries_at_any_size(
    rechecked_admin, make_user, django_assert_num_queries, sort
):
    overhead = request_overhead(rechecked_admin)
    make_user("one@example.com")
    # count, ids, details, memberships (nobody invited: tests/test_invitations.py adds one)
    User.objects.exclude(username="admin").update(password="set")  # the admin stays signed in
    with django_assert_num_queries(overhead + 4):
        rechecked_admin.get(reverse("user_list"), {"sort": sort, "signed_in": "90"})
    for n in range(60):
        user = make_user(f"u{n:02}@example.com")
        User.objects.filter(pk=user.pk).update(
            last_login=timezone.now() - timedelta(days=91 + n), password="set"
        )
    with django_assert_num_queries(overhead + 4):
        first = rechecked_admin.get(reverse("user_list"), {"sort": sort, "signed_in": "90"})
    with django_assert_num_queries(overhead + 4):
        second = rechecked_admin.get(
            reverse("user_list"), {"sort": sort, "signed_in": "90", "page": 2}
        )
    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 11


# The profile.


def test_the_profile_shows_last_sign_in_api_use_and_created(rechecked_admin, people):
    recent = people["recent"]
    User.objects.filter(pk=recent.pk).update(date_joined=timezone.now() - timedelta(days=40))
    page = rechecked_admin.get(reverse("user_detail", args=[recent.pk])).content.decode()
    text = page_text(page)
    assert "Last signed in 2 days ago Last API use 3 hours ago Created 1 month ago" in text
    exact = (timezone.now() - timedelta(days=2)).astimezone(UTC)
    found = re.search(r"<dd data-last-login><time datetime=\"([^\"]+)\" title=\"([^\"]+)\">", page)
    assert found and found.group(2).endswith(" UTC")
    assert abs(datetime.fromisoformat(found.group(1)) - exact) < timedelta(minutes=1)
    never = rechecked_admin.get(reverse("user_detail", args=[people["never"].pk]))
    assert "Last signed in never Last API use no API token Created just now" in page_text(
        never.content.decode()
    )


def test_no_page_keeps_an_old_date_format(rechecked_admin, people):
    """Every date on the admin's pages is a ``<time>`` from the one filter: no bare
    2026-12-02 12:34 or 2 Dec 2026 left."""
    pages = [
        reverse("home"),
        reverse("user_list"),
        reverse("user_detail", args=[people["recent"].pk]),
        reverse("audit_log"),
        reverse("security"),
        reverse("org_settings"),
        reverse("api_keys"),
    ]
    for path in pages:
        html = rechecked_admin.get(path).content.decode()
        outside = re.sub(r"<time [^>]*>.*?</time>", "", html)
        assert not re.search(r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d", outside), path
        assert not re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}", outside), path


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("last_login", "user_last_login_idx"),
        ("-last_login", "user_last_login_idx"),
        ("api_used", "user_api_used_idx"),
        ("-api_used", "user_api_used_idx"),
    ],
)
def test_each_activity_sort_is_read_from_its_index(sort, index):
    """The page's order comes straight from the index, no sort step: on PostgreSQL the index
    says NULLS FIRST (``NullsFirstIndex``); SQLite keeps NULL first in any index."""
    from users.selectors import search_users

    sql, params = search_users(sort=sort).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {sql} LIMIT 50", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql} LIMIT 50", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
