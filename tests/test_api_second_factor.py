"""No password-only way around the second factor through the API (F1), the v2 content type and
order of answers (F16), one admin cannot take over another's credentials (F18), client-chosen
tokens of at least 20 characters (F11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import ADMIN_PASSWORD, db_state
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from page_helpers import signed_in
from v2_helpers import NO_BODY, basic, bearer, call

from portal.lib.errors import Forbidden
from users import services
from users.models import AccessLevel, AuditEntry, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db

PASSWORD = "tall ship sailing north"
REALM = 'Basic realm="portal"'
INVALID = {"message": "Invalid credentials."}
ENROL = {
    "message": "Two-factor sign-in is required for your account: enrol a second factor on the portal's "
    "Security page before using the API."
}
ANOTHER_ADMIN = {"message": "An admin's password and token can be changed only by that admin, not through another."}


def users(client: Client, auth: str, remote_addr: str = "127.0.0.1"):
    return call(client, "GET", "users", auth=auth, remote_addr=remote_addr)


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
    WebAuthnCredential.objects.create(user=admin, name="key", credential_id="cred-1", public_key=b"k")
    return admin


# --- a second factor: the password alone is refused, the token works -----------------------


@pytest.mark.parametrize("factor", ["with_totp", "with_key"])
def test_the_password_alone_is_refused_like_a_wrong_one(client, admin, admin_token, factor, request):
    request.getfixturevalue(factor)
    wrong = users(client, basic("admin", "not the password"))
    for name in ("admin", "admin@example.com", "ADMIN@example.com"):
        assert same_as_wrong_password(users(client, basic(name, ADMIN_PASSWORD)), wrong)
    refused = AuditEntry.objects.filter(action_type="api_auth_failed", additional_information__reason__isnull=False)
    assert refused.count() == 3
    entry = refused.first()
    assert entry.message == "Failed API authentication (password refused: use a token) for admin"
    assert entry.additional_information == {"reason": "password refused: use a token"}
    assert entry.target_label == "admin@example.com" and entry.actor_label == "admin"
    # The token works, as Bearer and as the password of HTTP Basic (what the Nebula SDK sends).
    for auth in (bearer(admin_token), basic("admin", admin_token), basic("admin@example.com", admin_token)):
        assert users(client, auth).status_code == 200


def test_the_password_of_a_protected_user_costs_bcrypt_every_time(client, with_totp, monkeypatch):
    """Never remembered: a right password answers no faster than a wrong one."""
    import bcrypt

    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *args: calls.append(1) or real(*args))
    for _ in range(3):
        assert users(client, basic("admin", ADMIN_PASSWORD)).status_code == 401
    assert len(calls) == 3


def test_another_users_token_is_not_a_password(client, admin, make_user, system):
    other = make_user("carl@example.com", access_level=AccessLevel.ADMIN)
    carls_token = services.issue_api_token(system, other)
    assert users(client, basic("admin", carls_token)).status_code == 401
    assert users(client, basic("carl@example.com", carls_token)).status_code == 200


def test_users_without_a_factor_keep_password_basic(client, admin):
    assert users(client, basic("admin", ADMIN_PASSWORD)).status_code == 200


# --- required to have a factor: no password, and no token until they enrol -------------------


@pytest.mark.parametrize("how", ["org switch", "own flag"])
def test_a_user_who_must_enrol_gets_403_with_every_token(client, admin, admin_token, system, how):
    if how == "org switch":
        services.set_global_2fa(system, True)
    else:
        User.objects.filter(pk=admin.pk).update(must_enroll_2fa=True)
    wrong = users(client, basic("admin", "not the password"))
    assert same_as_wrong_password(users(client, basic("admin", ADMIN_PASSWORD)), wrong)
    for auth in (bearer(admin_token), basic("admin", admin_token)):
        response = users(client, auth)
        assert (response.status_code, response.json()) == (403, ENROL)
    v1 = client.get("/api/v1/ping", {"auth_token": admin_token})
    assert (v1.status_code, v1.json()) == (403, {"result": "error", **ENROL})
    # Once enrolled, the same token works again; the password still does not.
    TOTPDevice.objects.create(user=admin, confirmed=True)
    assert users(client, bearer(admin_token)).status_code == 200
    assert client.get("/api/v1/ping", {"auth_token": admin_token}).status_code == 200
    assert users(client, basic("admin", ADMIN_PASSWORD)).status_code == 401


def test_a_token_minted_before_enrolment_cannot_turn_enforcement_off(client, admin, admin_token, system):
    services.set_global_2fa(system, True)
    before = db_state()
    response = client.post(f"/api/v1/settings/usermanagement/globally_enforce_2fa/disable?auth_token={admin_token}")
    assert (response.status_code, response.json()) == (403, {"result": "error", **ENROL})
    assert db_state() == before and OrgSetting.load().globally_enforce_2fa is True


def test_a_disabled_user_who_must_enrol_still_gets_401(client, admin, admin_token, make_user, system):
    make_user("second@example.com", access_level=AccessLevel.ADMIN)
    services.set_global_2fa(system, True)
    services.set_active(system, admin, False)
    response = users(client, bearer(admin_token))
    assert (response.status_code, response.json()) == (401, INVALID)


# --- the refused password counts against the (account, address) pair only -------------------


def test_an_old_script_sending_the_password_cannot_lock_its_owner_out(client, with_totp, make_user, system, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    script = "10.1.1.1"
    for _ in range(3):
        assert users(client, basic("admin", ADMIN_PASSWORD), remote_addr=script).status_code == 401
    assert users(client, basic("admin", ADMIN_PASSWORD), remote_addr=script).status_code == 429  # that pair only
    # The owner elsewhere still signs in on the page (and goes on to their code) …
    page = Client(REMOTE_ADDR="10.1.1.2").post("/login/", {"login": "admin", "password": ADMIN_PASSWORD})
    assert page.status_code == 302 and page.url == "/login/verify/"
    # … and the script's address keeps its budget for other accounts.
    other = make_user("ops@example.com", access_level=AccessLevel.ADMIN)
    services.update_credentials(system, other, password=PASSWORD)
    assert users(client, basic("ops@example.com", PASSWORD), remote_addr=script).status_code == 200


# --- F16: state-changing v2 requests must be JSON, in the documented order -------------------

STATE_CHANGING = [
    ("POST", "users/carol", {"password": PASSWORD}),
    ("DELETE", "users/bob", NO_BODY),
    ("PUT", "users/bob/update", {"password": "another long passphrase"}),
    ("POST", "users/bob/refresh", NO_BODY),
]
NOT_JSON = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]


@pytest.fixture
def bob(system) -> User:
    return services.create_named_user(system, username="bob", password=PASSWORD, token="bobs-token-of-twenty-chars")


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING)
@pytest.mark.parametrize("content_type", NOT_JSON)
def test_a_state_changing_request_not_sent_as_json_is_415_even_without_a_body(
    client, admin, bob, method, path, body, content_type
):
    before = db_state()
    response = call(client, method, path, NO_BODY, auth=basic("admin", ADMIN_PASSWORD), content_type=content_type)
    media_type = content_type.partition(";")[0] or "none"
    assert (response.status_code, response.json()) == (
        415,
        {"message": f'Unsupported media type "{media_type}" in request.'},
    )
    assert db_state() == before


def test_a_cross_site_form_cannot_rotate_a_token(client, admin, bob):
    before = bob.api_token_hash
    response = call(
        client,
        "POST",
        "users/bob/refresh",
        b"",
        auth=basic("admin", ADMIN_PASSWORD),
        content_type="application/x-www-form-urlencoded",
        Origin="https://evil.example",
    )
    assert response.status_code == 415
    bob.refresh_from_db()
    assert bob.api_token_hash == before


def test_json_with_a_charset_is_json(client, admin, bob):
    response = call(
        client,
        "POST",
        "users/bob/refresh",
        auth=basic("admin", ADMIN_PASSWORD),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200


def test_the_order_of_v2_answers(client, admin, bob, make_user, system):
    services.update_credentials(system, make_user("plain@example.com"), password=PASSWORD)
    admin_auth, plain_auth = basic("admin", ADMIN_PASSWORD), basic("plain@example.com", PASSWORD)
    text = {"content_type": "text/plain"}
    # 401 credentials, before anything else
    response = call(client, "PUT", "users/ghost/update", b"not json", auth=basic("admin", "wrong"), **text)
    assert (response.status_code, response.json()) == (401, INVALID)
    # 403 not an admin, before the content type
    response = call(client, "PUT", "users/ghost/update", b"not json", auth=plain_auth, **text)
    assert (response.status_code, response.json()) == (403, {"message": "Only an active admin may use this API."})
    # 415 content type, before whether the user exists
    response = call(client, "PUT", "users/ghost/update", b"not json", auth=admin_auth, **text)
    assert response.status_code == 415
    # 403 user_exists, before the body
    for method, path in (("PUT", "users/ghost/update"), ("POST", "users/ghost/refresh"), ("POST", "users/bob")):
        response = call(client, method, path, {"bad": "field"}, auth=admin_auth)
        assert (response.status_code, response.json()) == (403, {"user_exists": path == "users/bob"}), path
    # 400 body last
    response = call(client, "PUT", "users/bob/update", {"bad": "field"}, auth=admin_auth)
    assert (response.status_code, response.json()) == (400, {"message": "Unknown field(s): bad"})


# --- F18: no admin sets or refreshes another admin's credentials -------------------------------


@pytest.fixture
def other_admin(make_user, system) -> User:
    other = make_user("root2@example.com", access_level=AccessLevel.ADMIN)
    services.update_credentials(system, other, password=PASSWORD, token="root2s-own-token-value")
    return other


@pytest.mark.parametrize(
    ("method", "path", "body", "what"),
    [
        ("PUT", "update", {"password": "a takeover passphrase"}, "set the credentials"),
        ("PUT", "update", {"token": "a-takeover-token-of-length"}, "set the credentials"),
        ("POST", "refresh", NO_BODY, "refresh the API token"),
    ],
)
@pytest.mark.parametrize("auth", ["password", "token"])
def test_an_admin_cannot_set_or_refresh_another_admins_credentials(
    client, admin, admin_token, other_admin, method, path, body, what, auth
):
    credentials = basic("admin", ADMIN_PASSWORD) if auth == "password" else bearer(admin_token)
    before = db_state()
    response = call(client, method, f"users/root2@example.com/{path}", body, auth=credentials)
    assert (response.status_code, response.json()) == (403, ANOTHER_ADMIN)
    entry = AuditEntry.objects.get(action_type="api_credentials_refused")
    assert (entry.actor_id, entry.target_label) == (admin.pk, "root2@example.com")
    assert entry.message == f"Refused to {what} of admin root2@example.com"
    after = db_state()
    after["audit"].remove(entry.pk)
    assert after == before  # nothing else changed
    assert users(client, bearer("root2s-own-token-value")).status_code == 200


def test_a_disabled_admin_is_still_another_admin(client, admin, other_admin, system):
    services.set_active(system, other_admin, False)
    response = call(client, "POST", "users/root2@example.com/refresh", auth=basic("admin", ADMIN_PASSWORD))
    assert response.status_code == 403 and response.json() == ANOTHER_ADMIN


def test_demoting_first_does_not_get_around_it(client, admin, admin_token, other_admin, settings):
    """Demote, set the credentials, promote again: a recently demoted admin still counts as one."""
    v1 = {"X-Canary-Auth-Token": admin_token}
    demoted = client.post(
        "/api/v1/user/edit/access_level", {"email": "root2@example.com", "access_level": "user"}, headers=v1
    )
    assert demoted.status_code == 200
    for method, path, body in [
        ("PUT", "update", {"token": "a-takeover-token-of-length"}),
        ("POST", "refresh", NO_BODY),
    ]:
        response = call(client, method, f"users/root2@example.com/{path}", body, auth=bearer(admin_token))
        assert (response.status_code, response.json()) == (403, ANOTHER_ADMIN)
    assert users(client, bearer("root2s-own-token-value")).status_code == 403  # unchanged, and no admin now
    settings.ADMIN_CREDENTIALS_COOLDOWN = timedelta(0)  # long after the demotion: a plain user like any other
    response = call(client, "POST", "users/root2@example.com/refresh", auth=bearer(admin_token))
    assert response.status_code == 200


def test_the_service_refuses_another_admin_under_the_row_lock(admin, make_user, system):
    """A promotion committed after the API's own check is still seen: the service checks the locked row."""
    plain = make_user("plain@example.com")
    services.set_access_level(system, plain, AccessLevel.ADMIN)  # promoted after the view loaded `plain`
    stale = User.objects.get(pk=plain.pk)
    stale.access_level = AccessLevel.USER
    before = db_state()
    with pytest.raises(Forbidden):
        services.issue_api_token(system, stale, unless_admin_other_than=admin)
    with pytest.raises(Forbidden):
        services.update_credentials(system, stale, token="x" * 30, unless_admin_other_than=admin)
    assert db_state() == before


def test_own_credentials_and_plain_users_stay_manageable(client, admin, other_admin, bob):
    auth = basic("admin", ADMIN_PASSWORD)
    assert call(client, "POST", "users/bob/refresh", auth=auth).status_code == 200
    assert call(client, "PUT", "users/bob/update", {"password": "bobs next passphrase"}, auth=auth).status_code == 200
    token = call(client, "POST", "users/admin/refresh", auth=auth).json()["token"]
    assert (
        call(
            client, "PUT", "users/admin/update", {"password": "admins next passphrase"}, auth=bearer(token)
        ).status_code
        == 200
    )
    assert (
        call(client, "DELETE", "users/root2@example.com", auth=bearer(token)).status_code == 200
    )  # as the contract says


# --- F11: client-chosen tokens have at least 20 characters -----------------------------------


@pytest.mark.parametrize(("method", "path"), [("POST", "users/erin"), ("PUT", "users/bob/update")])
def test_a_client_chosen_token_has_at_least_20_characters(client, admin, bob, method, path):
    auth = basic("admin", ADMIN_PASSWORD)
    before = db_state()
    for short in ("a", "secret", "x" * 19, "é" * 19):
        response = call(client, method, path, {"password": PASSWORD, "token": short}, auth=auth)
        assert (response.status_code, response.json()) == (400, {"message": "token must be at least 20 characters"})
    assert db_state() == before
    response = call(client, method, path, {"password": PASSWORD, "token": "é" * 20}, auth=auth)
    assert response.status_code == 200
    response = users(client, bearer("é" * 20))  # it authenticates its owner, a plain user
    assert (response.status_code, response.json()) == (403, {"message": "Only an active admin may use this API."})


def test_the_schema_says_so(client):
    schema = client.get("/api/schema/?format=json").json()
    for operation in ("v2_user_create", "v2_user_update"):
        (body,) = [
            op["requestBody"]["content"]["application/json"]["schema"]
            for path in schema["paths"].values()
            for op in path.values()
            if op.get("operationId") == operation
        ]
        if "$ref" in body:
            body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        assert body["properties"]["token"]["minLength"] == 20


def test_the_org_settings_and_security_pages_say_so(admin):
    browser = signed_in(admin)
    for path, sentence in (
        ("/org/", "The API refuses the password of anyone who has a second factor or is required to have one"),
        ("/account/security/", "the API no longer takes your password: use an API token from your profile"),
    ):
        response = browser.get(path)
        assert response.status_code == 200 and sentence in response.content.decode(), path


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "users/bob"), ("POST", "users/bob/refresh"), ("GET", "users/ghost")]
)
def test_replies_with_hashes_or_tokens_are_not_stored_by_caches(client, admin, bob, method, path):
    response = call(client, method, path, auth=basic("admin", ADMIN_PASSWORD))
    assert response["Cache-Control"] == "no-store"
