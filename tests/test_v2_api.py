"""The v2 users contract: every endpoint and error path, exact status and body, nothing changed on failure."""

from __future__ import annotations

import json
import threading

import bcrypt
import pytest
from conftest import ADMIN_PASSWORD
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from v2_helpers import NO_BODY, basic, bearer, call

from users import services
from users.models import AccessLevel, AuditEntry, User

pytestmark = pytest.mark.django_db

PASSWORD = "tall ship sailing north"
NEW_PASSWORD = "another long passphrase"
TOKEN = "v7s3agw1NXfkkUXz9WHMO_U1QS9xXs9ZEHoKETiNWQY"
REALM = 'Basic realm="portal"'


@pytest.fixture
def as_admin(client, admin):
    """Call the v2 API as the admin with HTTP Basic."""

    def send(method: str, path: str, body=NO_BODY, **headers):
        return call(client, method, path, body, auth=basic("admin", ADMIN_PASSWORD), **headers)

    return send


@pytest.fixture
def named(db, system):
    def make(name: str = "bob", password: str = PASSWORD, token: str | None = TOKEN) -> User:
        return services.create_named_user(system, username=name, password=password, token=token)

    return make


def checks(plain: str, hashed: str | None) -> bool:
    return hashed is not None and bcrypt.checkpw(plain.encode(), hashed.encode())


def snapshot() -> list[tuple]:
    """Everything a refused call must leave as it was."""
    users = list(User.objects.order_by("pk").values_list("username", "password", "api_token_hash", "is_active"))
    return [*users, AuditEntry.objects.count()]


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, basic("nobody", "wrong"), bearer("wrong")])
def test_status_is_open_whatever_credentials_come_with_it(client, auth):
    response = call(client, "GET", "status", auth=auth)
    assert response.status_code == 200
    assert response.json() == {"api_available": True}


# --- list -----------------------------------------------------------------------------------


def test_list_users_is_one_query_after_authentication(as_admin, named, make_user, django_assert_num_queries):
    named("bob")
    make_user("ann@example.com")
    # The authenticating user; whether a second factor protects them (their TOTP devices and keys,
    # the org switch); their sign-in lock-out record at this address; then the list.
    with django_assert_num_queries(6):
        response = as_admin("GET", "users")
    assert response.status_code == 200
    assert response.json() == {"users": ["admin", "ann@example.com", "bob"]}


# --- info -----------------------------------------------------------------------------------


def test_user_info_is_bcrypt_of_the_real_password_and_token(as_admin, named):
    named("bob")
    response = as_admin("GET", "users/bob")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user_name", "password", "token"}
    assert body["user_name"] == "bob"
    assert body["password"].startswith("$2b$04$") and checks(PASSWORD, body["password"])
    assert body["token"].startswith("$2b$04$") and checks(TOKEN, body["token"])
    assert not checks("wrong", body["password"])


def test_missing_secrets_are_null(as_admin, named, make_user):
    named("notoken", token=None)
    make_user("ann@example.com")  # v1 users have no password until they choose one
    assert as_admin("GET", "users/notoken").json()["token"] is None
    assert as_admin("GET", "users/ann@example.com").json() == {
        "user_name": "ann@example.com",
        "password": None,
        "token": None,
    }


def test_info_of_a_missing_user(as_admin):
    response = as_admin("GET", "users/ghost")
    assert response.status_code == 403
    assert response.json() == {"user_exists": False}


@pytest.mark.parametrize("path", ["users/a%00b", "users/" + "x" * 151, "users/tab%09in"])
def test_a_name_no_user_can_have_is_a_clean_400(as_admin, path):
    for method in ("GET", "DELETE"):
        response = as_admin(method, path)
        assert response.status_code == 400
        assert response.json() == {"message": "Invalid user_name"}


# --- create ---------------------------------------------------------------------------------


def test_create_user(as_admin, admin):
    response = as_admin("POST", "users/carol", {"password": PASSWORD, "token": TOKEN})
    assert response.status_code == 200
    body = response.json()
    assert body["user_name"] == "carol"
    assert checks(PASSWORD, body["password"]) and checks(TOKEN, body["token"])
    user = User.objects.get(username="carol")
    assert user.email is None and user.access_level == AccessLevel.USER and user.is_active
    assert user.password == "bcrypt$" + body["password"]
    assert authenticate(username="carol", password=PASSWORD) == user  # Django's own sign-in
    entry = AuditEntry.objects.get(action_type="user_add", target_label="carol")
    assert entry.actor == admin


def test_create_without_token(as_admin):
    response = as_admin("POST", "users/dave", {"password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"] is None


def test_create_unicode_name_round_trips(as_admin):
    response = as_admin("POST", "users/zoë", {"password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["user_name"] == "zoë"
    assert as_admin("GET", "users/zo%C3%AB").json()["user_name"] == "zoë"


def test_create_existing_user_changes_nothing(as_admin, named):
    named("bob")
    before = snapshot()
    response = as_admin("POST", "users/bob", {"password": NEW_PASSWORD})
    assert response.status_code == 403
    assert response.json() == {"user_exists": True}
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_make_one_user(admin):
    """Four clients at once: one user, one audit entry, the others told it exists
    (on PostgreSQL the loser can pass the existence check and hit the unique index)."""
    barrier = threading.Barrier(4)
    results = []

    def create() -> None:
        try:
            barrier.wait()
            response = call(
                Client(), "POST", "users/racer", {"password": PASSWORD}, auth=basic("admin", ADMIN_PASSWORD)
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 403, 403, 403]
    assert [body for status, body in results if status == 403] == [{"user_exists": True}] * 3
    assert User.objects.filter(username="racer").count() == 1
    assert AuditEntry.objects.filter(action_type="user_add", target_label="racer").count() == 1


def test_create_with_a_token_another_user_has(as_admin, named):
    named("bob")
    before = snapshot()
    response = as_admin("POST", "users/carol", {"password": PASSWORD, "token": TOKEN})
    assert response.status_code == 409
    assert response.json() == {"message": "That token is already in use."}
    assert snapshot() == before


BAD_CREATE_BODIES = [
    (b"[1, 2]", "The request body must be a JSON object."),
    (b'"password"', "The request body must be a JSON object."),
    (b"null", "The request body must be a JSON object."),
    (b'{"password": ', "JSON parse error - Expecting value: line 1 column 14 (char 13)"),
    (b"\xff\xfe", "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (NO_BODY, "Missing field(s): password"),
    (b"{}", "Missing field(s): password"),
    ({"token": TOKEN}, "Missing field(s): password"),
    ({"password": PASSWORD, "admin": True, "email": "x@y"}, "Unknown field(s): admin, email"),
    ({"password": 12345678}, "password must be a string"),
    ({"password": PASSWORD, "token": None}, "token must be a string"),
    ({"password": ["a"]}, "password must be a string"),
    ({"password": ""}, "password must be a non-empty string"),
    ({"password": PASSWORD, "token": ""}, "token must be a non-empty string"),
    ({"password": "é" * 37}, "password must be at most 72 bytes"),
    ({"password": PASSWORD, "token": "a\x00b"}, "token must not contain NUL characters"),
    ({"password": "short"}, "password: This password is too short. It must contain at least 8 characters."),
]


@pytest.mark.parametrize(("body", "message"), BAD_CREATE_BODIES)
def test_bad_create_bodies_are_400_and_change_nothing(as_admin, body, message):
    before = snapshot()
    response = as_admin("POST", "users/erin", body)
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert snapshot() == before


def test_a_body_that_is_not_json_is_415(as_admin):
    before = snapshot()
    response = as_admin("POST", "users/erin", b"password=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == {"message": 'Unsupported media type "application/x-www-form-urlencoded" in request.'}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("two%20words", "user_name may contain only letters, digits and @ . + - _"),
        ("semi;colon", "user_name may contain only letters, digits and @ . + - _"),
        ("emoji%F0%9F%98%80", "user_name may contain only letters, digits and @ . + - _"),
        ("a%00b", "user_name may contain only letters, digits and @ . + - _"),
        ("x" * 151, "user_name must be 1 to 150 characters"),
    ],
)
def test_bad_names_on_create_are_400_and_change_nothing(as_admin, name, message):
    before = snapshot()
    response = as_admin("POST", f"users/{name}", {"password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"message": message}
    assert snapshot() == before


def test_default_cost_is_the_contracts_12(as_admin, settings):
    settings.BCRYPT_ROUNDS = 12
    body = as_admin("POST", "users/frank", {"password": PASSWORD}).json()
    assert body["password"].startswith("$2b$12$") and checks(PASSWORD, body["password"])


# --- update ---------------------------------------------------------------------------------


def test_update_password_only(as_admin, named):
    old = named("bob")
    response = as_admin("PUT", "users/bob/update", {"password": NEW_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert checks(NEW_PASSWORD, body["password"]) and not checks(PASSWORD, body["password"])
    assert body["token"] == old.api_token_hash
    assert authenticate(username="bob", password=NEW_PASSWORD) is not None
    entry = AuditEntry.objects.get(action_type="user_credentials_change")
    assert entry.additional_information == {"changed": ["password"]}


def test_update_token_only(as_admin, named):
    old = named("bob")
    body = as_admin("PUT", "users/bob/update", {"token": "a-new-token-of-decent-length"}).json()
    assert checks("a-new-token-of-decent-length", body["token"])
    assert body["password"] == old.password.removeprefix("bcrypt$")


def test_update_both(as_admin, named):
    named("bob")
    body = as_admin("PUT", "users/bob/update", {"password": NEW_PASSWORD, "token": "fresh-token-value-0123"}).json()
    assert body["user_name"] == "bob"
    assert checks(NEW_PASSWORD, body["password"]) and checks("fresh-token-value-0123", body["token"])


def test_update_missing_user(as_admin):
    before = snapshot()
    response = as_admin("PUT", "users/ghost/update", {"password": NEW_PASSWORD})
    assert response.status_code == 403
    assert response.json() == {"user_exists": False}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Give password and/or token"),
        (NO_BODY, 400, "Give password and/or token"),
        ({"password": NEW_PASSWORD, "token": ""}, 400, "token must be a non-empty string"),
        ({"password": "short", "token": "fresh-token-value-0123"}, 400, "password: " + "This password is too short. "
         "It must contain at least 8 characters."),
        ({"password": NEW_PASSWORD, "user_name": "x"}, 400, "Unknown field(s): user_name"),
        ({"token": 5}, 400, "token must be a string"),
        ([{"password": NEW_PASSWORD}], 400, "The request body must be a JSON object."),
    ],
)  # fmt: skip
def test_bad_updates_change_nothing(as_admin, named, body, status, message):
    named("bob")
    before = snapshot()
    response = as_admin("PUT", "users/bob/update", body)
    assert response.status_code == status
    assert response.json() == {"message": message}
    assert snapshot() == before


def test_update_to_a_token_another_user_has(as_admin, named):
    named("bob")
    named("carol", token="carols-own-token-value")
    before = snapshot()
    response = as_admin("PUT", "users/carol/update", {"password": NEW_PASSWORD, "token": TOKEN})
    assert response.status_code == 409
    assert response.json() == {"message": "That token is already in use."}
    assert snapshot() == before


# --- refresh --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [NO_BODY, {}])
def test_refresh_returns_the_only_clear_copy(client, as_admin, named, body):
    named("bob")
    response = as_admin("POST", "users/bob/refresh", body)
    assert response.status_code == 200
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert len(token) == 43 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert checks(token, as_admin("GET", "users/bob").json()["token"])
    assert AuditEntry.objects.filter(action_type="user_api_token_create", target_label="bob").count() == 1


def test_refresh_missing_user(as_admin):
    before = snapshot()
    response = as_admin("POST", "users/ghost/refresh")
    assert response.status_code == 403
    assert response.json() == {"user_exists": False}
    assert snapshot() == before


def test_refresh_with_fields_changes_nothing(as_admin, named):
    named("bob")
    before = snapshot()
    response = as_admin("POST", "users/bob/refresh", {"token": "mine"})
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown field(s): token"}
    assert snapshot() == before


# --- delete ---------------------------------------------------------------------------------


def test_delete_user(as_admin, named):
    named("bob")
    response = as_admin("DELETE", "users/bob")
    assert response.status_code == 200
    assert response.json() == {}
    assert not User.objects.filter(username="bob").exists()
    assert AuditEntry.objects.filter(action_type="user_remove", target_label="bob").exists()


def test_delete_missing_user(as_admin):
    before = snapshot()
    response = as_admin("DELETE", "users/ghost")
    assert response.status_code == 403
    assert response.json() == {"user_exists": False}
    assert snapshot() == before


def test_the_last_admin_cannot_be_deleted(as_admin):
    before = snapshot()
    response = as_admin("DELETE", "users/admin")
    assert response.status_code == 409
    assert response.json() == {"message": "Cannot remove the last active admin."}
    assert snapshot() == before


# --- authentication and permission ----------------------------------------------------------

ENDPOINTS = [
    ("GET", "users", NO_BODY),
    ("GET", "users/bob", NO_BODY),
    ("POST", "users/carol", {"password": PASSWORD}),
    ("DELETE", "users/bob", NO_BODY),
    ("PUT", "users/bob/update", {"password": NEW_PASSWORD}),
    ("POST", "users/bob/refresh", NO_BODY),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token abc", "Authentication credentials were not provided."),
        ("Bearer", "Authentication credentials were not provided."),
        (basic("admin", "wrong password"), "Invalid credentials."),
        (basic("nobody", ADMIN_PASSWORD), "Invalid credentials."),
        (bearer("not-a-token"), "Invalid credentials."),
        (basic("ad\x00min", ADMIN_PASSWORD), "Invalid credentials."),  # PostgreSQL refuses NUL in queries
        (basic("", ADMIN_PASSWORD), "Invalid credentials."),
        (basic("n" * 300, ADMIN_PASSWORD), "Invalid credentials."),  # longer than the audit label column
        ("Basic !!!", "Malformed Basic credentials."),
        ("Basic " + "YWRtaW4=", "Malformed Basic credentials."),  # "admin" without a colon
    ],
)
def test_every_endpoint_refuses_bad_credentials_with_401(client, admin, named, method, path, body, auth, message):
    named("bob")
    before = snapshot()
    response = call(client, method, path, body, auth=auth)
    assert response.status_code == 401
    assert response.json() == {"message": message}
    assert response["WWW-Authenticate"] == REALM
    assert snapshot()[:-1] == before[:-1]  # only failure audit entries may be added


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_refuses_a_valid_non_admin_with_403(client, admin, named, method, path, body):
    named("bob")
    named("mallory", token="mallorys-token-value")
    before = snapshot()
    for auth in (basic("mallory", PASSWORD), bearer("mallorys-token-value")):
        response = call(client, method, path, body, auth=auth)
        assert response.status_code == 403
        assert response.json() == {"message": "Only an active admin may use this API."}
    assert snapshot() == before


def test_bearer_token_and_email_as_basic_name_work(client, admin, admin_token):
    assert call(client, "GET", "users", auth=bearer(admin_token)).status_code == 200
    assert call(client, "GET", "users", auth=basic("admin@example.com", ADMIN_PASSWORD)).status_code == 200


def test_unknown_v2_paths_and_methods_are_json(as_admin):
    response = as_admin("GET", "apps")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    response = as_admin("PATCH", "users/admin", {})
    assert response.status_code == 405
    assert response.json() == {"message": 'Method "PATCH" not allowed.'}


# --- both faces share one set of users -------------------------------------------------------


def test_v1_users_appear_in_v2_and_v2_users_in_v1(as_admin, v1):
    assert v1.post("user/add", email="Ann@Example.com", access_level="user").status_code == 200
    assert "ann@example.com" in as_admin("GET", "users").json()["users"]
    assert as_admin("GET", "users/ann@example.com").json()["user_name"] == "ann@example.com"

    as_admin("POST", "users/bob", {"password": PASSWORD})
    listed = {u["username"]: u for u in v1.get("users/list").json()["users"]}
    assert listed["bob"]["email"] is None and listed["bob"]["access_level"] == "user"

    assert as_admin("DELETE", "users/ann@example.com").json() == {}
    assert "ann@example.com" not in {u["username"] for u in v1.get("users/list").json()["users"]}


def test_responses_are_json_with_the_sdk_headers(as_admin):
    response = as_admin("GET", "users")
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"users": ["admin"]}
