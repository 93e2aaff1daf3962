"""The real v2 client, nebulapythonsdk, unchanged, against the portal over HTTP."""

from __future__ import annotations

import bcrypt
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from NebulaPythonSDK import Nebula

from users import services
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db(transaction=True)


def matches(plain: str, hashed: str) -> bool:
    return bcrypt.checkpw(plain.encode(), hashed.encode())


@pytest.fixture(params=["basic", "token", "2fa admin, user name + token"])
def nebula(request, live_server, admin, system) -> Nebula:
    if request.param == "basic":
        return Nebula(
            username="admin", password=PASSWORD, host_uri=live_server.url, request_timeout=10
        )
    token = services.issue_api_token(system, admin)
    if request.param == "token":
        return Nebula(token=token, host_uri=live_server.url, request_timeout=10)
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    return Nebula(username="admin", password=token, host_uri=live_server.url, request_timeout=10)


def test_users_functions(nebula):
    assert nebula.check_api() == {"status_code": 200, "reply": {"api_available": True}}

    created = nebula.create_user(
        "sdkuser", {"password": PASSWORD, "token": "sdk-chosen-token-value"}
    )
    assert created["status_code"] == 200
    assert created["reply"]["user_name"] == "sdkuser"
    assert matches(PASSWORD, created["reply"]["password"]) and matches(
        "sdk-chosen-token-value", created["reply"]["token"]
    )
    assert nebula.create_user("sdkuser", {"password": PASSWORD}) == {
        "status_code": 403,
        "reply": {"user_exists": True},
    }

    assert nebula.list_users() == {"status_code": 200, "reply": {"users": ["admin", "sdkuser"]}}
    assert nebula.list_user("sdkuser") == {"status_code": 200, "reply": created["reply"]}

    updated = nebula.update_user("sdkuser", {"password": "a different passphrase"})
    assert updated["status_code"] == 200
    assert matches("a different passphrase", updated["reply"]["password"])
    assert updated["reply"]["token"] == created["reply"]["token"]

    refreshed = nebula.refresh_user_token("sdkuser")  # POST with the JSON content type and no body
    assert refreshed["status_code"] == 200
    token = refreshed["reply"]["token"]
    assert matches(token, nebula.list_user("sdkuser")["reply"]["token"])

    assert nebula.delete_user("sdkuser") == {"status_code": 200, "reply": {}}
    assert nebula.delete_user("sdkuser") == {"status_code": 403, "reply": {"user_exists": False}}
    assert nebula.list_user("sdkuser") == {"status_code": 403, "reply": {"user_exists": False}}
    assert nebula.refresh_user_token("sdkuser") == {
        "status_code": 403,
        "reply": {"user_exists": False},
    }
    assert not User.objects.filter(username="sdkuser").exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action_type", flat=True))
    assert actions[-4:] == [
        "user_add",
        "user_credentials_change",
        "user_api_token_create",
        "user_remove",
    ]


def test_a_user_made_by_the_sdk_can_use_it_once_promoted(nebula, live_server, system):
    token = "promoted-users-token-value"
    assert nebula.create_user("ops", {"password": PASSWORD, "token": token})["status_code"] == 200
    as_ops = Nebula(username="ops", password=PASSWORD, host_uri=live_server.url, request_timeout=10)
    assert as_ops.list_users() == {
        "status_code": 403,
        "reply": {"message": "Only an active admin may use this API."},
    }
    services.set_access_level(system, User.objects.get(username="ops"), "admin")
    assert as_ops.list_users()["status_code"] == 200
    assert (
        Nebula(token=token, host_uri=live_server.url, request_timeout=10).list_user("ops")[
            "status_code"
        ]
        == 200
    )


def test_wrong_credentials(live_server, admin):
    wrong = Nebula(
        username="admin", password="not the password", host_uri=live_server.url, request_timeout=10
    )
    assert wrong.list_users() == {"status_code": 401, "reply": {"message": "Invalid credentials."}}
    assert wrong.check_api() == {"status_code": 200, "reply": {"api_available": True}}


def test_a_2fa_admins_password_alone_is_refused_but_their_token_works(live_server, admin, system):
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    with_password = Nebula(
        username="admin", password=PASSWORD, host_uri=live_server.url, request_timeout=10
    )
    assert with_password.list_users() == {
        "status_code": 401,
        "reply": {"message": "Invalid credentials."},
    }
    assert with_password.refresh_user_token("admin") == {
        "status_code": 401,
        "reply": {"message": "Invalid credentials."},
    }
    token = services.issue_api_token(
        system, admin
    )  # on the pages, after the factor and the recent check
    with_token = Nebula(
        username="admin@example.com", password=token, host_uri=live_server.url, request_timeout=10
    )
    assert with_token.list_users() == {"status_code": 200, "reply": {"users": ["admin"]}}
    entry = AuditEntry.objects.filter(action_type="api_auth_failed").first()
    assert entry.additional_information == {"reason": "password refused: use a token"}
