"""No password-only way around the second factor through the API (F1): the password alone is
refused, a required factor blocks the token until enrolment, and refused passwords count per
(account, address)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import INVALID, PASSWORD, REALM, basic, bearer, db_state, list_users

from users import services
from users.models import AccessLevel, AuditEntry, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


ENROL = {
    "message": "Two-factor sign-in is required for your account: enrol a second factor on the "
    "portal's Security page before using the API."
}


def same_as_wrong_password(response, wrong) -> bool:
    """Status, body and challenge exactly as for a wrong password."""
    return (
        (response.status_code, response.json(), response["WWW-Authenticate"])
        == (wrong.status_code, wrong.json(), wrong["WWW-Authenticate"])
        == (401, INVALID, REALM)
    )


@pytest.fixture
def with_totp(admin) -> User:
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    return admin


@pytest.fixture
def with_key(admin) -> User:
    WebAuthnCredential.objects.create(
        user=admin, name="key", credential_id="cred-1", public_key=b"k"
    )
    return admin


# --- a second factor: the password alone is refused, the token works -----------------------


@pytest.mark.parametrize("factor", ["with_totp", "with_key"])
def test_the_password_alone_is_refused_like_a_wrong_one(
    client, admin, admin_token, factor, request
):
    request.getfixturevalue(factor)
    wrong = list_users(client, basic("admin", "not the password"))
    for name in ("admin", "admin@example.com", "ADMIN@example.com"):
        assert same_as_wrong_password(list_users(client, basic(name, PASSWORD)), wrong)
    refused = AuditEntry.objects.filter(
        action_type="api_auth_failed", additional_information__reason__isnull=False
    )
    assert refused.count() == 3
    entry = refused.first()
    assert entry.message == "Failed API authentication (password refused: use a token) for admin"
    assert entry.additional_information == {"reason": "password refused: use a token"}
    assert entry.target_label == "admin@example.com" and entry.actor_label == "admin"
    # The token works, as Bearer and as the password of HTTP Basic (what the Nebula SDK sends).
    for auth in (
        bearer(admin_token),
        basic("admin", admin_token),
        basic("admin@example.com", admin_token),
    ):
        assert list_users(client, auth).status_code == 200


def test_the_password_of_a_protected_user_costs_bcrypt_every_time(client, with_totp, monkeypatch):
    """Never remembered: a right password answers no faster than a wrong one."""
    import bcrypt

    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *args: calls.append(1) or real(*args))
    for _ in range(3):
        assert list_users(client, basic("admin", PASSWORD)).status_code == 401
    assert len(calls) == 3


def test_another_users_token_is_not_a_password(client, admin, make_user, system):
    other = make_user("carl@example.com", access_level=AccessLevel.ADMIN)
    carls_token = services.issue_api_token(system, other)
    assert list_users(client, basic("admin", carls_token)).status_code == 401
    assert list_users(client, basic("carl@example.com", carls_token)).status_code == 200


def test_users_without_a_factor_keep_password_basic(client, admin):
    assert list_users(client, basic("admin", PASSWORD)).status_code == 200


# --- required to have a factor: no password, and no token until they enrol -------------------


@pytest.mark.parametrize("how", ["org switch", "own flag"])
def test_a_user_who_must_enrol_gets_403_with_every_token(client, admin, admin_token, system, how):
    if how == "org switch":
        services.set_global_2fa(system, True)
    else:
        User.objects.filter(pk=admin.pk).update(must_enroll_2fa=True)
    wrong = list_users(client, basic("admin", "not the password"))
    assert same_as_wrong_password(list_users(client, basic("admin", PASSWORD)), wrong)
    for auth in (bearer(admin_token), basic("admin", admin_token)):
        response = list_users(client, auth)
        assert (response.status_code, response.json()) == (403, ENROL)
    v1 = client.get("/api/v1/ping", {"auth_token": admin_token})
    assert (v1.status_code, v1.json()) == (403, {"result": "error", **ENROL})
    # Once enrolled, the same token works again; the password still does not.
    TOTPDevice.objects.create(user=admin, confirmed=True)
    assert list_users(client, bearer(admin_token)).status_code == 200
    assert client.get("/api/v1/ping", {"auth_token": admin_token}).status_code == 200
    assert list_users(client, basic("admin", PASSWORD)).status_code == 401


def test_a_token_minted_before_enrolment_cannot_turn_enforcement_off(
    client, admin, admin_token, system
):
    services.set_global_2fa(system, True)
    before = db_state()
    response = client.post(
        f"/api/v1/settings/usermanagement/globally_enforce_2fa/disable?auth_token={admin_token}"
    )
    assert (response.status_code, response.json()) == (403, {"result": "error", **ENROL})
    assert db_state() == before and OrgSetting.load().globally_enforce_2fa is True


def test_a_disabled_user_who_must_enrol_still_gets_401(
    client, admin, admin_token, make_user, system
):
    make_user("second@example.com", access_level=AccessLevel.ADMIN)
    services.set_global_2fa(system, True)
    services.set_active(system, admin, False)
    response = list_users(client, bearer(admin_token))
    assert (response.status_code, response.json()) == (401, INVALID)


# --- the refused password counts against the (account, address) pair only -------------------


def test_an_old_script_sending_the_password_cannot_lock_its_owner_out(
    client, with_totp, make_user, system, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    script = "10.1.1.1"
    for _ in range(3):
        assert list_users(client, basic("admin", PASSWORD), remote_addr=script).status_code == 401
    assert (
        list_users(client, basic("admin", PASSWORD), remote_addr=script).status_code == 429
    )  # that pair only
    # The owner elsewhere still signs in on the page (and goes on to their code) …
    page = Client(REMOTE_ADDR="10.1.1.2").post("/login/", {"login": "admin", "password": PASSWORD})
    assert page.status_code == 302 and page.url == "/login/verify/"
    # … and the script's address keeps its budget for other accounts.
    other = make_user("ops@example.com", access_level=AccessLevel.ADMIN)
    services.update_credentials(system, other, password=PASSWORD)
    assert (
        list_users(client, basic("ops@example.com", PASSWORD), remote_addr=script).status_code
        == 200
    )
