"""No admin sets or refreshes another admin's credentials through v2 (F18); client-chosen tokens
have at least 20 characters (F11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import NO_BODY, PASSWORD, basic, bearer, call, db_state, list_users, signed_in

from portal.lib.errors import Forbidden
from users import services
from users.models import AccessLevel, AuditEntry, User

pytestmark = pytest.mark.django_db


ANOTHER_ADMIN = {
    "message": "An admin's password and token can be changed only by that admin, not through "
    "another."
}


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
    credentials = basic("admin", PASSWORD) if auth == "password" else bearer(admin_token)
    before = db_state()
    response = call(client, method, f"users/root2@example.com/{path}", body, auth=credentials)
    assert (response.status_code, response.json()) == (403, ANOTHER_ADMIN)
    entry = AuditEntry.objects.get(action_type="api_credentials_refused")
    assert (entry.actor_id, entry.target_label) == (admin.pk, "root2@example.com")
    assert entry.message == f"Refused to {what} of admin root2@example.com"
    after = db_state()
    after["audit"].remove(entry.pk)
    assert after == before  # nothing else changed
    assert list_users(client, bearer("root2s-own-token-value")).status_code == 200


def test_a_disabled_admin_is_still_another_admin(client, admin, other_admin, system):
    services.set_active(system, other_admin, False)
    response = call(
        client, "POST", "users/root2@example.com/refresh", auth=basic("admin", PASSWORD)
    )
    assert response.status_code == 403 and response.json() == ANOTHER_ADMIN


def test_demoting_first_does_not_get_around_it(client, admin, admin_token, other_admin, settings):
    """Demote, set the credentials, promote again: a recently demoted admin still counts as one."""
    v1 = {"X-Canary-Auth-Token": admin_token}
    demoted = client.post(
        "/api/v1/user/edit/access_level",
        {"email": "root2@example.com", "access_level": "user"},
        headers=v1,
    )
    assert demoted.status_code == 200
    for method, path, body in [
        ("PUT", "update", {"token": "a-takeover-token-of-length"}),
        ("POST", "refresh", NO_BODY),
    ]:
        response = call(
            client, method, f"users/root2@example.com/{path}", body, auth=bearer(admin_token)
        )
        assert (response.status_code, response.json()) == (403, ANOTHER_ADMIN)
    assert (
        list_users(client, bearer("root2s-own-token-value")).status_code == 403
    )  # unchanged, and no admin now
    settings.ADMIN_CREDENTIALS_COOLDOWN = timedelta(
        0
    )  # long after the demotion: a plain user like any other
    response = call(client, "POST", "users/root2@example.com/refresh", auth=bearer(admin_token))
    assert response.status_code == 200


def test_the_service_refuses_another_admin_under_the_row_lock(admin, make_user, system):
    """A promotion committed after the API's own check is still seen: the service checks the locked
    row."""
    plain = make_user("plain@example.com")
    services.set_access_level(
        system, plain, AccessLevel.ADMIN
    )  # promoted after the view loaded `plain`
    stale = User.objects.get(pk=plain.pk)
    stale.access_level = AccessLevel.USER
    before = db_state()
    with pytest.raises(Forbidden):
        services.issue_api_token(system, stale, unless_admin_other_than=admin)
    with pytest.raises(Forbidden):
        services.update_credentials(system, stale, token="x" * 30, unless_admin_other_than=admin)
    assert db_state() == before


def test_own_credentials_and_plain_users_stay_manageable(client, admin, other_admin, named_bob):
    auth = basic("admin", PASSWORD)
    assert call(client, "POST", "users/bob/refresh", auth=auth).status_code == 200
    assert (
        call(
            client, "PUT", "users/bob/update", {"password": "bobs next passphrase"}, auth=auth
        ).status_code
        == 200
    )
    token = call(client, "POST", "users/admin/refresh", auth=auth).json()["token"]
    assert (
        call(
            client,
            "PUT",
            "users/admin/update",
            {"password": "admins next passphrase"},
            auth=bearer(token),
        ).status_code
        == 200
    )
    assert (
        call(client, "DELETE", "users/root2@example.com", auth=bearer(token)).status_code == 200
    )  # as the contract says


# --- F11: client-chosen tokens have at least 20 characters -----------------------------------


@pytest.mark.parametrize(("method", "path"), [("POST", "users/erin"), ("PUT", "users/bob/update")])
def test_a_client_chosen_token_has_at_least_20_characters(client, admin, named_bob, method, path):
    auth = basic("admin", PASSWORD)
    before = db_state()
    for short in ("a", "secret", "x" * 19, "é" * 19):
        response = call(client, method, path, {"password": PASSWORD, "token": short}, auth=auth)
        assert (response.status_code, response.json()) == (
            400,
            {"message": "token must be at least 20 characters"},
        )
    assert db_state() == before
    response = call(client, method, path, {"password": PASSWORD, "token": "é" * 20}, auth=auth)
    assert response.status_code == 200
    response = list_users(client, bearer("é" * 20))  # it authenticates its owner, a plain user
    assert (response.status_code, response.json()) == (
        403,
        {"message": "Only an active admin may use this API."},
    )


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
        (
            "/org/",
            "The API refuses the password of anyone who has a second factor or is required to "
            "have one",
        ),
        (
            "/account/security/",
            "the API no longer takes your password: use an API token from your profile",
        ),
    ):
        response = browser.get(path)
        assert response.status_code == 200 and sentence in response.content.decode(), path


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "users/bob"), ("POST", "users/bob/refresh"), ("GET", "users/ghost")],
)
def test_replies_with_hashes_or_tokens_are_not_stored_by_caches(
    client, admin, named_bob, method, path
):
    response = call(client, method, path, auth=basic("admin", PASSWORD))
    assert response["Cache-Control"] == "no-store"
