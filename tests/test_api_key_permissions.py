"""What each API key may do, endpoint by endpoint: role by scope by every v1 and v2 endpoint,
taken from the URL map, so a new endpoint is in this matrix the day it is routed (and a key is
refused there until ``portal.api.key_policy.POLICY`` names it).

The expectations are written here from the issue, not read from the policy table."""

from __future__ import annotations

import pytest
from django.urls import URLResolver, get_resolver
from helpers import V1Client, bearer, call, db_state
from rest_framework.permissions import AllowAny

from flocks import api_keys
from flocks import services as flock_services
from flocks.models import KeyRole
from portal.api.key_policy import POLICY


def _routes() -> list[tuple[str, str, str]]:
    """(operation, method, path) of every authenticated API endpoint in the URL map."""
    found = []
    for prefix in ("api/v1/", "api/v2/"):
        (api,) = [
            p
            for p in get_resolver().url_patterns
            if isinstance(p, URLResolver) and str(p.pattern) == prefix
        ]
        for route in api.url_patterns:
            view = route.callback
            if AllowAny in view.cls.permission_classes:
                continue  # v2 status: open to anybody, credentials ignored
            version = view.initkwargs["basename"].partition("-")[0]
            for method, action in view.actions.items():
                found.append((f"{version}_{action}", method.upper(), prefix + str(route.pattern)))
    return sorted(found)


ROUTES = _routes()
OPERATIONS = {operation for operation, _, _ in ROUTES}
KEY_MANAGEMENT = {op for op in OPERATIONS if "auth_token_" in op}
# read-only: every v1 GET (managing keys is for admins only) and the v2 list of names
READ = {op for op, method, _ in ROUTES if method == "GET" and op.startswith("v1_")}
READ = (READ - KEY_MANAGEMENT) | {"v2_list"}
# analyst: notes and the summary-mail switches, nothing that changes who has access
NOTES = {
    "v1_user_note_add",
    "v1_user_note_delete",
    "v1_flock_note_add",
    "v1_flock_note_delete",
    "v1_user_summary_email_enable",
    "v1_user_summary_email_disable",
}
# what a flock key may reach when it names its own flock (or is shown only that flock)
FLOCK_KEY = {
    "v1_ping",
    "v1_users_list",
    "v1_users_filter",
    "v1_user_get",
    "v1_user_auth",
    "v1_flocks_list",
    "v1_flocks_filter",
    "v1_flock_users",
    "v1_flock_note",
    "v1_flock_note_add",
    "v1_flock_note_delete",
    "v1_user_flock_assign",
    "v1_user_flock_unassign",
    "v1_flock_rename",
    "v1_flock_assign_managers",
    "v1_flock_assign_watchers",
}
# of those, the ones that name a flock (the others show only the key's flock)
NAMES_ITS_FLOCK = {op for op in FLOCK_KEY if "flock_" in op}
ALLOWED = {
    KeyRole.READ_ONLY: READ,
    KeyRole.ANALYST: READ | NOTES,
    KeyRole.ADMIN: OPERATIONS,
}


def test_the_policy_names_exactly_the_routed_endpoints():
    assert set(POLICY) == OPERATIONS
    assert FLOCK_KEY <= OPERATIONS and NOTES <= OPERATIONS


@pytest.fixture
def world(db, make_user, system, flock):
    ann = make_user("ann@example.com")
    flock_services.assign_user(system, ann, [flock], "watcher")
    return ann


PARAMS = {
    "email": "ann@example.com",
    "note": "n",
    "name": "n",
    "filter_str": "a",
    "access_level": "user",
    "flock_access_level": "watcher",
    "emails": "ann@example.com",
    "auth_token_type": "read-only",
    "remove_key_id": "deadbeef",
}


def _send(client, token: str, method: str, path: str, flock_id: str, user_name: str):
    if path.startswith("api/v2/"):
        path = path.removeprefix("api/v2/").replace("<str:user_name>", user_name)
        body = {} if method in ("POST", "PUT") else None
        return call(client, method, path, *([body] if body is not None else []), auth=bearer(token))
    params = {**PARAMS, "flock_id": flock_id, "flock_id_list": flock_id}
    return V1Client(client, token).send(method, path.removeprefix("api/v1/"), **params)


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["global", "flock"])
@pytest.mark.parametrize("role", list(KeyRole))
@pytest.mark.parametrize(("operation", "method", "path"), ROUTES)
def test_key_matrix(client, system, flock, world, scope, role, operation, method, path):
    _, token = api_keys.add_key(
        system, role=role, note="m", flock=flock if scope == "flock" else None
    )
    allowed = operation in ALLOWED[role] and (scope == "global" or operation in FLOCK_KEY)
    label = KeyRole(role).label
    message = (
        f"This {label} {'flock ' if scope == 'flock' else ''}API key is not allowed to do this."
    )
    before = db_state()
    response = _send(client, token, method, path, flock.flock_id, world.username)
    body = response.json()
    if allowed:
        assert body.get("message") != message, (operation, response.status_code, body)
        assert response.status_code != 401
    else:
        assert response.status_code == 403 and body["message"] == message, (operation, body)
        assert db_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("operation", sorted(NAMES_ITS_FLOCK))
def test_flock_key_naming_another_flock_is_refused(client, system, flock, world, operation):
    other = flock_services.create_flock(system, "Durban")
    _, token = api_keys.add_key(system, role="admin", note="m", flock=flock)
    (method, path) = next((m, p) for op, m, p in ROUTES if op == operation)
    before = db_state()
    response = _send(client, token, method, path, other.flock_id, world.username)
    message = "This Admin flock API key is not allowed to do this."
    assert (response.status_code, response.json()["message"]) == (403, message)
    assert db_state() == before
