"""v1 contract, reading users: user/get, user/auth and the paged, filtered users list with real
JSON types."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import ok

from flocks.models import Flock, FlockMembership, FlockRole
from users.models import User, WebAuthnCredential

pytestmark = pytest.mark.django_db


def expected_user(user: User, **overrides) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "access_level": user.access_level,
        "disabled": not user.is_active,
        "note": user.note,
        "totp_enabled": False,
        "webauthn_enabled": False,
        "require_2fa": user.must_enroll_2fa,
        "summary_email_enabled": user.summary_email_enabled,
        "managed_flocks": [],
        "watched_flocks": [],
        "created": user.date_joined.isoformat(),
        **overrides,
    }


@pytest.fixture
def ann_with_everything(ann, flock) -> User:
    other = Flock.objects.create(name="Berlin")
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=ann, flock_id="flock:default", role=FlockRole.WATCHER)
    FlockMembership.objects.create(user=ann, flock=other, role=FlockRole.WATCHER)
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    WebAuthnCredential.objects.create(user=ann, name="key", credential_id="cred", public_key=b"k")
    ann.is_active = False
    ann.save()
    ann.watched = sorted(["flock:default", other.flock_id])
    return ann


def test_user_get_has_real_json_types(v1, ann_with_everything, flock):
    ann = ann_with_everything
    ok(
        v1.get("user/get", email="Ann@Example.com"),
        {
            "result": "success",
            "user": expected_user(
                ann,
                disabled=True,
                totp_enabled=True,
                webauthn_enabled=True,
                managed_flocks=[flock.flock_id],
                watched_flocks=ann.watched,
            ),
        },
    )


def test_unconfirmed_totp_device_does_not_count(v1, ann):
    TOTPDevice.objects.create(user=ann, name="half enrolled", confirmed=False)
    assert v1.get("user/get", email="ann@example.com").json()["user"]["totp_enabled"] is False


def test_user_auth(v1, ann_with_everything, flock):
    ok(
        v1.get("user/auth", email="ann@example.com"),
        {
            "result": "success",
            "email": "ann@example.com",
            "access_level": "user",
            "managed_flocks": [flock.flock_id],
            "watched_flocks": ann_with_everything.watched,
        },
    )


def test_users_list(v1, admin, ann):
    ok(
        v1.get("users/list"),
        {
            "result": "success",
            "users": [expected_user(admin), expected_user(ann)],
            "cursor": {"next": None, "prev": None},
            "page_count": 1,
            "page_number": 1,
            "total": 2,
        },
    )


def test_users_list_pages_with_cursors(v1, make_user):
    emails = ["admin@example.com"] + [make_user(f"u{n}@example.com").email for n in range(4)]
    first = v1.get("users/list", limit=2).json()
    second = v1.get("users/list", limit=2, cursor=first["cursor"]["next"]).json()
    third = v1.get("users/list", limit=2, cursor=second["cursor"]["next"]).json()
    pages = [first, second, third]
    assert [[u["email"] for u in page["users"]] for page in pages] == [
        emails[:2],
        emails[2:4],
        emails[4:],
    ]
    assert [page["page_number"] for page in pages] == [1, 2, 3] and first["page_count"] == 3
    assert first["cursor"]["prev"] is None and third["cursor"]["next"] is None
    back = v1.get("users/list", limit=2, cursor=third["cursor"]["prev"]).json()
    assert back["users"] == second["users"]


def test_users_filter_matches_email_or_note(v1, make_user):
    bob = make_user("bob@example.com", note="Cape Town office")
    make_user("carol@other.org")
    dave = make_user("dave@capetown.example")
    body = v1.get("users/filter", filter_str="CAPE").json()
    assert body["result"] == "success"
    assert body["users"] == [expected_user(bob), expected_user(dave)]
    assert v1.get("users/filter", filter_str="nobody").json()["users"] == []
