"""The v2 users contract, create: every body and name rule, exact status and body, nothing changed
on failure."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from helpers import NEW_PASSWORD, NO_BODY, PASSWORD, TOKEN, basic, call, checks, snapshot

from users.models import AccessLevel, AuditEntry, User

pytestmark = pytest.mark.django_db


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
                Client(),
                "POST",
                "users/racer",
                {"password": PASSWORD},
                auth=basic("admin", PASSWORD),
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
    (
        b"\xff\xfe",
        "JSON parse error - 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
    ),
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
    (
        {"password": "short"},
        "password: This password is too short. It must contain at least 8 characters.",
    ),
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
    response = as_admin(
        "POST", "users/erin", b"password=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json() == {
        "message": 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    }
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
