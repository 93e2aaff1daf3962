"""The list endpoints cost a fixed number of queries, however many users, memberships and factors
exist."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks.models import Flock, FlockMembership, FlockRole
from users.models import WebAuthnCredential

pytestmark = pytest.mark.django_db

# token lookup; the org's 2FA switch (a token is refused while its owner must still enrol);
# count; the page (2FA state as subqueries); memberships prefetch
USERS_PAGE_QUERIES = 5


@pytest.fixture(params=[1, 25], ids=["few", "many"])
def population(request, make_user, v1):
    """``n`` users, each manager of one flock and watcher of another, with a TOTP
    device and a key."""
    for n in range(request.param):
        user = make_user(f"user{n}@example.com", note="crowd")
        managed, watched = Flock.objects.create(name=f"m{n}"), Flock.objects.create(name=f"w{n}")
        FlockMembership.objects.create(user=user, flock=managed, role=FlockRole.MANAGER)
        FlockMembership.objects.create(user=user, flock=watched, role=FlockRole.WATCHER)
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        WebAuthnCredential.objects.create(
            user=user, name="key", credential_id=f"cred{n}", public_key=b"k"
        )
    v1.get("ping")  # the token's last use is written at most once a minute; do it before counting
    return request.param


def test_users_list(v1, population, django_assert_num_queries):
    with django_assert_num_queries(USERS_PAGE_QUERIES):
        users = v1.get("users/list").json()["users"]
    assert len(users) == population + 1
    assert all(
        u["managed_flocks"] and u["totp_enabled"] and u["webauthn_enabled"] for u in users[1:]
    )


def test_users_list_later_page(v1, population, django_assert_num_queries):
    cursor = v1.get("users/list", limit=1).json()["cursor"]["next"]
    with django_assert_num_queries(USERS_PAGE_QUERIES + 1):  # and how many come before the page
        assert v1.get("users/list", limit=1, cursor=cursor).json()["page_number"] == 2


def test_users_filter(v1, population, django_assert_num_queries):
    with django_assert_num_queries(USERS_PAGE_QUERIES):
        assert len(v1.get("users/filter", filter_str="crowd").json()["users"]) == population


def test_flocks_list(v1, population, django_assert_num_queries):
    with django_assert_num_queries(3):  # token lookup; the org's 2FA switch; flocks
        assert len(v1.get("flocks/list").json()["flocks"]) == 2 * population + 1


def test_flocks_list_for_a_user(v1, population, django_assert_num_queries):
    with django_assert_num_queries(4):  # token lookup; the org's 2FA switch; the user; their flocks
        assert len(v1.get("flocks/list", email="user0@example.com").json()["flocks"]) == 2
