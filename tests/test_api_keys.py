"""Console API keys (issue 13): the six v1 endpoints (exact replies, every refusal), keys on
every transport, expiry and removal on the next request, last use, the audit actor."""

from __future__ import annotations

import re
from datetime import timedelta

import bcrypt
import pytest
from django.utils import timezone
from helpers import V1Client, bearer, call

from flocks import api_keys
from flocks.models import ApiKey, Flock
from portal.api.key_auth import LAST_USED_RESOLUTION
from users import services
from users.models import AuditEntry

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
KEY_ID = re.compile(r"[0-9a-f]{8}")
CREATED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+0000")
INVALID = {"result": "error", "message": "Invalid auth_token"}
BAD_TYPE = "Invalid auth_token_type: must be 'read-only', 'analyst' or 'admin'"
TOMORROW = (timezone.now() + timedelta(days=1)).date()


def key(system, role="admin", note="siem", **kwargs) -> tuple[ApiKey, str]:
    return api_keys.add_key(system, role=role, note=note, **kwargs)


def test_add_global_key_shows_the_secret_once(v1, admin):
    response = v1.post(
        "auth_token/add", auth_token_type="read-only", note="SIEM", expires="2099-01-31"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    added = body["global_api_key"]
    assert TOKEN.fullmatch(added.pop("auth_token")) and KEY_ID.fullmatch(added.pop("key_id"))
    assert CREATED.fullmatch(added.pop("created"))
    assert body == {
        "global_api_key": {
            "auth_token_type": "Read-Only",
            "created_by": "admin@example.com",
            "note": "SIEM",
            "expires": "2099-01-31",
        },
        "result": "success",
    }
    stored = ApiKey.objects.get()
    assert stored.token_hash.startswith("$2b$") and len(stored.token_index) == 64
    entry = AuditEntry.objects.get(action_type="api_key_add")
    assert (entry.actor, entry.message) == (
        admin,
        f"Added Read-Only API key {stored.key_id} (SIEM)",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"note": "x"}, "Missing parameter: auth_token_type"),
        ({"auth_token_type": "root", "note": "x"}, BAD_TYPE),
        ({"auth_token_type": "admin"}, "Missing parameter: note"),
        ({"auth_token_type": "admin", "note": "  "}, "Missing parameter: note"),
        (
            {"auth_token_type": "admin", "note": "x" * 201},
            "note must be printable and at most 200 characters",
        ),
        (
            {"auth_token_type": "admin", "note": "x", "expires": "31/01/2099"},
            "Invalid expires: use yyyy-mm-dd",
        ),
        (
            {"auth_token_type": "admin", "note": "x", "expires": "2000-01-01"},
            "expires must be a day after today (UTC)",
        ),
    ],
)
def test_add_refusals_change_nothing(v1, refused, params, message):
    refused(lambda: v1.post("auth_token/add", **params), 400, message)
    assert not ApiKey.objects.exists()


def test_list_shows_keys_without_secrets_and_their_last_use(v1, system, client):
    added, token = key(system, role="analyst", note="script")
    assert V1Client(client, token).get("ping").status_code == 200
    body = v1.get("auth_token/list").json()
    listed = body["global_api_keys"]
    assert [CREATED.fullmatch(item.pop("created")) is not None for item in listed] == [True]
    assert CREATED.fullmatch(listed[0].pop("last_used"))
    assert body == {
        "global_api_keys": [
            {
                "auth_token_type": "Analyst",
                "created_by": "tests",
                "key_id": added.key_id,
                "note": "script",
                "expires": None,
                "last_used_from": "127.0.0.1",
            }
        ],
        "result": "success",
    }


def test_last_use_is_written_at_most_once_a_minute(system, client):
    _, token = key(system)
    keyed = V1Client(client, token)
    keyed.get("ping")
    first = ApiKey.objects.get().last_used
    keyed.get("ping")
    assert ApiKey.objects.get().last_used == first
    ApiKey.objects.update(last_used=first - LAST_USED_RESOLUTION - timedelta(seconds=1))
    keyed.get("ping")
    assert ApiKey.objects.get().last_used > first


@pytest.mark.parametrize("by", ["remove_key_id", "remove_auth_token"])
def test_remove_global_key_refuses_it_on_the_next_request(v1, system, client, by):
    added, token = key(system)
    keyed = V1Client(client, token)
    assert keyed.get("ping").status_code == 200  # verified and remembered in the cache
    value = added.key_id if by == "remove_key_id" else token
    assert v1.post("auth_token/remove", **{by: value}).json() == {"result": "success"}
    assert not ApiKey.objects.exists()
    entry = AuditEntry.objects.get(action_type="api_key_remove")
    assert entry.message == f"Removed API key {added.key_id} (siem)"
    response = keyed.get("ping")
    assert (response.status_code, response.json()) == (401, INVALID)


def test_remove_refusals(v1, refused, system, flock):
    flock_key, _ = key(system, flock=flock)
    refused(
        lambda: v1.post("auth_token/remove"),
        400,
        "Missing parameter: remove_key_id or remove_auth_token",
    )
    refused(
        lambda: v1.post("auth_token/remove", remove_key_id="deadbeef"),
        404,
        "API key does not exist.",
    )
    # a flock key is removed through flock/auth_token/remove, a global one not there
    refused(
        lambda: v1.post("auth_token/remove", remove_key_id=flock_key.key_id),
        404,
        "API key does not exist.",
    )
    global_key, _ = key(system)
    refused(
        lambda: v1.post("flock/auth_token/remove", remove_key_id=global_key.key_id),
        404,
        "API key does not exist.",
    )


def test_expired_key_is_refused_on_the_next_request(system, client):
    _, token = key(system, expires=TOMORROW.isoformat())
    keyed = V1Client(client, token)
    assert keyed.get("ping").status_code == 200
    ApiKey.objects.update(expires=timezone.now().date())  # 00:00 UTC today has passed
    response = keyed.get("ping")
    assert (response.status_code, response.json()) == (401, INVALID)


def test_flock_key_add_list_remove(v1, flock, admin):
    response = v1.post("flock/auth_token/add", flock_id=flock.flock_id, note="site script")
    body = response.json()
    added = body["flock_api_key"]
    token, key_id = added.pop("auth_token"), added.pop("key_id")
    assert CREATED.fullmatch(added.pop("created")) and TOKEN.fullmatch(token)
    assert body == {
        "flock_api_key": {
            "auth_token_type": "Admin",
            "created_by": "admin@example.com",
            "note": "site script",
            "expires": None,
            "managed_flocks": [flock.flock_id],
            "watched_flocks": [],
        },
        "result": "success",
    }
    watcher = v1.post(
        "flock/auth_token/add", flock_id=flock.flock_id, note="ro", auth_token_type="read-only"
    )
    assert watcher.json()["flock_api_key"]["watched_flocks"] == [flock.flock_id]
    listed = v1.get("flock/auth_token/list", flock_id=flock.flock_id).json()["flock_api_keys"]
    first = listed[0]
    assert (first["key_id"], first["last_used"], first["managed_flocks"]) == (
        key_id,
        None,
        [flock.flock_id],
    )
    assert len(listed) == 2 and v1.get("auth_token/list").json()["global_api_keys"] == []
    assert v1.post("flock/auth_token/remove", remove_auth_token=token).json() == {
        "result": "success"
    }
    assert ApiKey.objects.count() == 1
    entry = AuditEntry.objects.get(action_type="api_key_add", message__contains=key_id)
    assert (entry.flock_id, entry.message) == (
        flock.flock_id,
        f"Added Admin API key {key_id} of flock Cape Town (site script)",
    )


def test_flock_key_refusals(v1, refused, flock):
    refused(lambda: v1.post("flock/auth_token/add", note="x"), 400, "Missing parameter: flock_id")
    refused(
        lambda: v1.post("flock/auth_token/add", flock_id="flock:nope", note="x"),
        404,
        "Flock does not exist.",
    )
    refused(
        lambda: v1.post(
            "flock/auth_token/add", flock_id=flock.flock_id, note="x", auth_token_type="owner"
        ),
        400,
        BAD_TYPE,
    )
    refused(lambda: v1.get("flock/auth_token/list"), 400, "Missing parameter: flock_id")
    refused(
        lambda: v1.get("flock/auth_token/list", flock_id="flock:nope"), 404, "Flock does not exist."
    )


def test_deleting_a_flock_removes_its_keys(v1, system, flock):
    key(system, flock=flock)
    assert v1.post("flock/delete", flock_id=flock.flock_id).status_code == 200
    assert not ApiKey.objects.exists()


def test_only_admins_and_admin_keys_manage_keys(client, system, make_user, refused):
    for role in ("read-only", "analyst"):
        _, token = key(system, role=role)
        label = {"read-only": "Read-Only", "analyst": "Analyst"}[role]
        refused(
            lambda token=token: V1Client(client, token).post(
                "auth_token/add", auth_token_type="admin", note="x"
            ),
            403,
            f"This {label} API key is not allowed to do this.",
        )
    _, admin_key = key(system)
    response = V1Client(client, admin_key).post(
        "auth_token/add", auth_token_type="read-only", note="made by a key"
    )
    added = ApiKey.objects.get(note="made by a key")
    creator = ApiKey.objects.get(note="siem", role="admin")
    assert response.json()["global_api_key"]["created_by"] == f"API key {creator.key_id} (siem)"
    assert added.created_by is None


def test_every_transport_takes_a_key(client, system, admin):
    _, token = key(system, role="read-only")
    assert client.get("/api/v1/ping", headers={"X-Canary-Auth-Token": token}).status_code == 200
    assert (
        client.post("/api/v1/user/get", {"auth_token": token, "email": admin.email}).status_code
        == 405
    )
    assert client.get("/api/v1/ping", {"auth_token": token}).status_code == 200
    response = call(client, "GET", "users", auth=bearer(token))
    assert (response.status_code, response.json()) == (200, {"users": ["admin"]})
    response = call(client, "GET", "users/admin", auth=bearer(token))
    assert (response.status_code, response.json()) == (
        403,
        {"message": "This Read-Only API key is not allowed to do this."},
    )


def test_body_token_reaches_a_write(client, system, admin):
    _, token = key(system, role="analyst", note="notes bot")
    response = client.post(
        "/api/v1/user/note/add", {"auth_token": token, "email": admin.email, "note": "hi"}
    )
    assert response.json() == {
        "msg": "User (admin@example.com) note successfully added.",
        "result": "success",
    }


def test_changes_made_with_a_key_are_audited_under_the_key(client, system, admin):
    added, token = key(system, role="analyst", note="notes bot")
    V1Client(client, token).post("user/note/add", email=admin.email, note="hello")
    entry = AuditEntry.objects.get(action_type="user_note_add")
    assert (entry.actor, entry.actor_label, entry.user_ip) == (
        None,
        f"API key {added.key_id} (notes bot)",
        "127.0.0.1",
    )


def test_a_key_runs_bcrypt_once_then_the_cache(client, system, monkeypatch):
    _, token = key(system)
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *args: calls.append(1) or real(*args))
    keyed = V1Client(client, token)
    for _ in range(3):
        assert keyed.get("ping").status_code == 200
    assert len(calls) == 1


def test_no_key_sets_or_refreshes_an_admins_credentials(client, system, admin, make_user):
    _, token = key(system)
    plain = make_user("ann@example.com")
    response = V1Client(client, token).post("user/password/reset", email=admin.email)
    assert (response.status_code, response.json()["message"]) == (403, services.ANOTHER_ADMIN)
    response = call(client, "POST", "users/admin/refresh", {}, auth=bearer(token))
    assert (response.status_code, response.json()) == (403, {"message": services.ANOTHER_ADMIN})
    response = call(client, "POST", f"users/{plain.username}/refresh", {}, auth=bearer(token))
    assert response.status_code == 200 and TOKEN.fullmatch(response.json()["token"])
    response = V1Client(client, token).post("user/password/reset", email=plain.email)
    assert response.status_code == 200


def test_the_last_admin_rule_holds_for_keys(client, system, admin):
    _, token = key(system)
    response = V1Client(client, token).post("user/remove", email=admin.email)
    assert response.status_code == 409


# --- flock keys see only their flock ---------------------------------------------------------


@pytest.fixture
def other(db) -> Flock:
    return Flock.objects.create(name="Durban")


@pytest.fixture
def members(make_user, system, flock, other):
    from flocks import services as flock_services

    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    flock_services.assign_user(system, ann, [flock], "watcher")
    flock_services.assign_user(system, bob, [other], "manager")
    return ann, bob


def test_flock_key_reads_only_its_flock(client, system, flock, other, members):
    _, token = key(system, role="read-only", flock=flock)
    keyed = V1Client(client, token)
    assert keyed.get("flocks/list").json()["flocks"] == {flock.flock_id: "Cape Town"}
    assert keyed.get("flocks/filter", filter_str="a").json()["flocks"] == [
        {"flock_id": flock.flock_id, "name": "Cape Town", "note": "Office"}
    ]
    assert [user["email"] for user in keyed.get("users/list").json()["users"]] == [
        "ann@example.com"
    ]
    assert [
        user["email"] for user in keyed.get("users/filter", filter_str="example").json()["users"]
    ] == ["ann@example.com"]
    assert keyed.get("user/get", email="ann@example.com").status_code == 200
    response = keyed.get("user/get", email="bob@example.com")
    assert (response.status_code, response.json()["message"]) == (
        404,
        "User (bob@example.com) does not exist.",
    )
    assert keyed.get("flock/users", flock_id=flock.flock_id).status_code == 200
    refused = keyed.get("flock/users", flock_id=other.flock_id)
    assert refused.json() == {
        "result": "error",
        "message": "This Read-Only flock API key is not allowed to do this.",
    }


def test_admin_flock_key_manages_only_its_flock(client, system, flock, other, members, refused):
    _, token = key(system, flock=flock)
    keyed = V1Client(client, token)
    message = "This Admin flock API key is not allowed to do this."
    assign = {"email": "bob@example.com", "flock_access_level": "watcher"}
    assert (
        keyed.post("user/flock/assign", flock_id_list=flock.flock_id, **assign).status_code == 200
    )
    refused(
        lambda: keyed.post("user/flock/assign", flock_id_list=other.flock_id, **assign),
        403,
        message,
    )
    both = f"{flock.flock_id},{other.flock_id}"
    refused(lambda: keyed.post("user/flock/assign", flock_id_list=both, **assign), 403, message)
    assert keyed.post("flock/rename", flock_id=flock.flock_id, name="Cape").status_code == 200
    refused(lambda: keyed.post("flock/rename", flock_id=other.flock_id, name="x"), 403, message)
    refused(
        lambda: keyed.post("user/add", email="c@example.com", access_level="user"), 403, message
    )
    refused(lambda: keyed.get("audit_trail/fetch"), 403, message)
    response = call(client, "GET", "users", auth=bearer(token))
    assert (response.status_code, response.json()) == (403, {"message": message})
