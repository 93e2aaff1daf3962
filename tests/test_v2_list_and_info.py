"""The v2 users contract, reading: status, the user list and one user's info (bcrypt of the real
secrets)."""

from __future__ import annotations

import pytest
from helpers import PASSWORD, TOKEN, basic, bearer, call, checks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("auth", [None, basic("nobody", "wrong"), bearer("wrong")])
def test_status_is_open_whatever_credentials_come_with_it(client, auth):
    response = call(client, "GET", "status", auth=auth)
    assert response.status_code == 200
    assert response.json() == {"api_available": True}


# --- list -----------------------------------------------------------------------------------


def test_list_users_is_one_query_after_authentication(
    as_admin, named, make_user, django_assert_num_queries
):
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
