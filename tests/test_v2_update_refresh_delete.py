"""The v2 users contract, update, refresh and delete: exact status and body, nothing changed on
failure."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from helpers import NEW_PASSWORD, NO_BODY, PASSWORD, TOKEN, checks, snapshot

from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db


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
    body = as_admin(
        "PUT", "users/bob/update", {"password": NEW_PASSWORD, "token": "fresh-token-value-0123"}
    ).json()
    assert body["user_name"] == "bob"
    assert checks(NEW_PASSWORD, body["password"]) and checks(
        "fresh-token-value-0123", body["token"]
    )


def test_update_missing_user(as_admin):
    before = snapshot()
    response = as_admin("PUT", "users/ghost/update", {"password": NEW_PASSWORD})
    assert response.status_code == 403
    assert response.json() == {"user_exists": False}
    assert snapshot() == before


TOO_SHORT = "password: This password is too short. It must contain at least 8 characters."


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Give password and/or token"),
        (NO_BODY, 400, "Give password and/or token"),
        ({"password": NEW_PASSWORD, "token": ""}, 400, "token must be a non-empty string"),
        ({"password": "short", "token": "fresh-token-value-0123"}, 400, TOO_SHORT),
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
    assert len(token) == 43 and set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert checks(token, as_admin("GET", "users/bob").json()["token"])
    assert (
        AuditEntry.objects.filter(action_type="user_api_token_create", target_label="bob").count()
        == 1
    )


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
