"""The v2 API's doors: bad credentials are 401, non-admins 403, unknown paths JSON, and v1 and v2
share one set of users."""

from __future__ import annotations

import pytest
from helpers import NEW_PASSWORD, NO_BODY, PASSWORD, REALM, basic, bearer, call, snapshot

pytestmark = pytest.mark.django_db


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
        (basic("nobody", PASSWORD), "Invalid credentials."),
        (bearer("not-a-token"), "Invalid credentials."),
        (basic("ad\x00min", PASSWORD), "Invalid credentials."),  # PostgreSQL refuses NUL in queries
        (basic("", PASSWORD), "Invalid credentials."),
        (basic("n" * 300, PASSWORD), "Invalid credentials."),  # longer than the audit label column
        ("Basic !!!", "Malformed Basic credentials."),
        ("Basic " + "YWRtaW4=", "Malformed Basic credentials."),  # "admin" without a colon
    ],
)
def test_every_endpoint_refuses_bad_credentials_with_401(
    client, admin, named, method, path, body, auth, message
):
    named("bob")
    before = snapshot()
    response = call(client, method, path, body, auth=auth)
    assert response.status_code == 401
    assert response.json() == {"message": message}
    assert response["WWW-Authenticate"] == REALM
    assert snapshot()[:-1] == before[:-1]  # only failure audit entries may be added


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_refuses_a_valid_non_admin_with_403(
    client, admin, named, method, path, body
):
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
    assert (
        call(client, "GET", "users", auth=basic("admin@example.com", PASSWORD)).status_code == 200
    )


def test_unknown_v2_paths_and_methods_are_json(as_admin):
    response = as_admin("GET", "apps")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    response = as_admin("PATCH", "users/admin", {})
    assert response.status_code == 405
    assert response.json() == {"message": 'Method "PATCH" not allowed.'}
    # A method the URL does not answer is 405 whatever the body's type (not 415).
    for method, path in (("PUT", "users"), ("DELETE", "users"), ("PATCH", "users/admin")):
        response = as_admin(method, path, b"x", content_type="text/plain")
        assert response.status_code == 405, (method, path)


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
    assert response.streaming and response.streamed_body == b'{"users":["admin"]}'
