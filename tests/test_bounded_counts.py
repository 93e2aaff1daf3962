"""Lists never count a large set whole (``portal/lib/counting.py``): totals are exact up to
10,000 and PostgreSQL's planner estimate above, which the pages show as "more than 10,000";
SQLite (small installs) counts exactly. Searches of fewer than 3 characters match prefixes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from portal.lib.counting import EXACT_COUNT_LIMIT, bounded_count
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def crowd(admin):
    """Just over 10,000 users, 26 of them with a note, and fresh planner statistics."""
    User.objects.bulk_create(
        User(
            username=f"crowd{n:05d}",
            email=f"crowd{n:05d}@example.com",
            note="night shift" if n % 400 == 0 else "",
        )
        for n in range(EXACT_COUNT_LIMIT + 50)
    )
    if POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE users_user")
    return User.objects.count()


def test_a_count_is_exact_up_to_the_limit(admin, make_user):
    for n in range(3):
        make_user(f"u{n}@example.com")
    count = bounded_count(User.objects.all())
    assert (count.value, count.estimated, count.more_than_limit) == (4, False, False)


def test_above_the_limit_postgresql_estimates_and_sqlite_counts(crowd):
    count = bounded_count(User.objects.all())
    assert count.more_than_limit
    if POSTGRES:
        assert count.estimated and count.value > EXACT_COUNT_LIMIT
        assert abs(count.value - crowd) < crowd * 0.2  # the planner's row estimate
    else:
        assert (count.value, count.estimated) == (crowd, False)
    # A filtered set under the limit is counted exactly, on both.
    assert bounded_count(User.objects.filter(note="night shift")) == type(count)(26, False)


def test_v1_users_list_totals_and_pages(crowd, v1, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # the usual five, and the estimate on PostgreSQL
        page = v1.get("users/list", limit=1000).json()
    assert len(page["users"]) == 1000 and page["cursor"]["next"] and not page["cursor"]["prev"]
    assert page["total"] > EXACT_COUNT_LIMIT
    assert page["total"] == crowd or POSTGRES  # PostgreSQL's estimate may be off a little
    assert page["page_count"] == -(-page["total"] // 1000)
    # The last page: a next cursor only while rows follow, the page number from what precedes.
    cursor = page["cursor"]["next"]
    while cursor:
        page = v1.get("users/list", limit=1000, cursor=cursor).json()
        cursor = page["cursor"]["next"]
    assert len(page["users"]) == crowd % 1000 and page["cursor"]["prev"]
    if not POSTGRES:
        assert page["page_number"] == page["page_count"] == 11
    filtered = v1.get("users/filter", filter_str="night").json()
    assert (filtered["total"], filtered["page_count"], len(filtered["users"])) == (26, 1, 26)


def test_the_users_page_says_more_than_ten_thousand(crowd, rechecked_admin):
    text = rechecked_admin.get(reverse("user_list")).content.decode()
    if POSTGRES:
        assert "more than 10,000" in text
    else:
        assert f"· {crowd} total" in text and "more than" not in text
    assert (
        "· 26 total" in rechecked_admin.get(reverse("user_list"), {"q": "night"}).content.decode()
    )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ol", ["olive"]),  # prefix of a field only (not "carol")
        ("OL", ["olive"]),
        ("oli", ["olive"]),
        ("rol", ["carol"]),  # 3 characters: anywhere
        ("n", ["nora"]),
    ],
)
def test_short_fragments_match_prefixes_longer_ones_anywhere(
    term, expected, rechecked_admin, make_user
):
    for name in ("olive", "carol", "nora"):
        make_user(f"{name}@example.com")
    response = rechecked_admin.get(reverse("user_list"), {"q": term})
    names = [u.email.partition("@")[0] for u in response.context["page"]]
    assert names == expected


def test_audit_text_search_uses_the_same_rule(rechecked_admin, v1, make_user):
    make_user("olive@example.com")
    make_user("carol@example.com")
    entries = lambda term: {  # noqa: E731
        e["target"] for e in v1.get("audit_trail/fetch", search_term=term).json()["audit_trail"]
    }
    assert AuditEntry.objects.filter(target_label="carol@example.com").exists()
    assert "carol@example.com" in entries("rol") and "olive@example.com" not in entries("rol")
    assert "carol@example.com" not in entries("ol") and "olive@example.com" in entries("ol")
