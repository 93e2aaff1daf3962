"""Cached credential checks (portal/api/credentials.py): one bcrypt per credential, refused at once
when the stored credential or the user changes, never the secret in the cache, throttled
failures."""

from __future__ import annotations

import pickle
import re

import bcrypt
import pytest
from django.core.cache import cache
from helpers import PASSWORD, basic, bearer, call

from users import services
from users.models import AccessLevel, AuditEntry, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def bcrypt_checks(monkeypatch) -> list[bytes]:
    """Counts the bcrypt verifications the library is asked for (it still runs them)."""
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(password)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    return calls


@pytest.fixture
def second_admin(system) -> User:
    """Another active admin, so the first can be disabled or demoted."""
    return User.objects.create_superuser(
        username="root2", email="root2@example.com", password=PASSWORD
    )


def users(client, auth: str):
    return call(client, "GET", "users", auth=auth)


def v1_ping(client, token: str):
    return client.get("/api/v1/ping", {"auth_token": token})


def test_a_repeated_credential_costs_one_bcrypt(client, admin, admin_token, bcrypt_checks):
    for _ in range(3):
        assert users(client, basic("admin", PASSWORD)).status_code == 200
        assert users(client, bearer(admin_token)).status_code == 200
        assert v1_ping(client, admin_token).status_code == 200  # the same mechanism serves v1
    assert len(bcrypt_checks) == 2  # once for the password, once for the token


def test_a_wrong_password_is_checked_every_time(client, admin, bcrypt_checks):
    assert users(client, basic("admin", PASSWORD)).status_code == 200
    for _ in range(2):
        assert users(client, basic("admin", "not it")).status_code == 401
    assert len(bcrypt_checks) == 3


def test_a_changed_password_is_refused_on_the_next_request(client, admin, system):
    old = basic("admin", PASSWORD)
    assert users(client, old).status_code == 200  # now remembered
    services.update_credentials(system, admin, password="a brand new passphrase")
    assert users(client, old).status_code == 401
    assert users(client, basic("admin", "a brand new passphrase")).status_code == 200


def test_a_changed_password_elsewhere_in_the_database_is_refused(client, admin):
    """Another worker or the admin site changes the row; nothing tells this process."""
    old = basic("admin", PASSWORD)
    assert users(client, old).status_code == 200
    other = User.objects.get(pk=admin.pk)
    other.set_password("changed from elsewhere")
    other.save()
    assert users(client, old).status_code == 401


@pytest.mark.parametrize("how", ["refresh", "update"])
def test_a_replaced_token_is_refused_on_the_next_request(client, admin, admin_token, system, how):
    assert users(client, bearer(admin_token)).status_code == 200
    assert v1_ping(client, admin_token).status_code == 200
    if how == "refresh":
        new = services.issue_api_token(system, admin)
    else:
        new = "a-token-chosen-by-the-admin"
        services.update_credentials(system, admin, token=new)
    assert users(client, bearer(admin_token)).status_code == 401
    assert v1_ping(client, admin_token).status_code == 401
    assert users(client, bearer(new)).status_code == 200


def test_a_revoked_token_is_refused_on_the_next_request(client, admin, admin_token, system):
    assert users(client, bearer(admin_token)).status_code == 200
    services.revoke_api_token(system, admin)
    assert users(client, bearer(admin_token)).status_code == 401


def test_a_disabled_user_is_refused_on_the_next_request(
    client, admin, admin_token, second_admin, system
):
    assert users(client, basic("admin", PASSWORD)).status_code == 200
    assert users(client, bearer(admin_token)).status_code == 200
    services.set_active(system, admin, False)
    for auth in (basic("admin", PASSWORD), bearer(admin_token)):
        response = users(client, auth)
        assert response.status_code == 401
        assert response.json() == {"message": "Invalid credentials."}
    assert v1_ping(client, admin_token).status_code == 403  # v1 keeps its contract's 403


def test_a_demoted_user_is_refused_on_the_next_request(
    client, admin, admin_token, second_admin, system
):
    assert users(client, basic("admin", PASSWORD)).status_code == 200
    services.set_access_level(system, admin, AccessLevel.USER)
    for auth in (basic("admin", PASSWORD), bearer(admin_token)):
        response = users(client, auth)
        assert response.status_code == 403
        assert response.json() == {"message": "Only an active admin may use this API."}


def test_a_deleted_and_recreated_user_does_not_inherit_the_memory(
    client, admin, second_admin, system
):
    services.create_named_user(system, username="bob", password=PASSWORD)
    services.set_access_level(system, User.objects.get(username="bob"), AccessLevel.ADMIN)
    assert users(client, basic("bob", PASSWORD)).status_code == 200
    services.remove_user(system, User.objects.get(username="bob"))
    services.create_named_user(system, username="bob", password="bobs second passphrase")
    assert users(client, basic("bob", PASSWORD)).status_code == 401


def test_the_cache_never_holds_a_secret_or_a_hash(client, admin, admin_token, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "portal.cache.PortalLocMemCache", "LOCATION": "inspect"},
    }
    assert users(client, basic("admin", PASSWORD)).status_code == 200
    assert users(client, bearer(admin_token)).status_code == 200
    assert users(client, basic("admin", "a wrong guess")).status_code == 401
    admin.refresh_from_db()
    stored = cache._cache  # locmem: {versioned key: pickled value}
    assert any(":apicred:" in key for key in stored)
    secrets = [PASSWORD, admin_token, "a wrong guess", admin.password, admin.api_token_hash]
    for key, value in stored.items():
        text = key + repr(pickle.loads(value))
        for secret in secrets:
            assert secret not in text
            assert (
                secret.removeprefix("bcrypt$")[7:] not in text
            )  # not even the hash's salt and digest


# --- throttling (more in tests/test_auth_budgets.py) ----------------------------------------


def throttled(response) -> bool:
    wait = response.get("Retry-After", "")
    message = (
        "Too many failed authentication attempts. Try again later. Expected available in "
        f"{wait} seconds."
    )
    waits = wait.isdigit() and 0 < int(wait) <= 900
    return response.status_code == 429 and waits and response.json() == {"message": message}


def test_failures_per_account_are_throttled_and_audited(client, admin, admin_token, settings):
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 3
    for n, name in enumerate(
        ["admin", "admin@example.com", "ADMIN@Example.com"]
    ):  # one account, however named
        response = call(
            client, "GET", "users", auth=basic(name, f"guess {n}"), remote_addr=f"10.0.0.{n}"
        )
        assert response.status_code == 401
    # From a fresh address, even the right password now waits: no guessing oracle.
    response = call(client, "GET", "users", auth=basic("admin", PASSWORD), remote_addr="10.0.1.1")
    assert throttled(response)
    assert throttled(
        call(
            client,
            "GET",
            "users",
            auth=basic("Admin@example.COM", PASSWORD),
            remote_addr="10.0.1.2",
        )
    )
    # The account's token still works: it is not a guess.
    assert users(client, bearer(admin_token)).status_code == 200
    assert (
        AuditEntry.objects.filter(action_type="api_auth_failed", actor_label="admin").count() == 3
    )
    throttle_entry = AuditEntry.objects.get(
        action_type="api_auth_throttled"
    )  # once per window, not per request
    assert throttle_entry.message == "API authentication throttled for admin"


def test_failures_per_address_are_throttled(client, admin, admin_token, settings):
    settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        assert (
            call(
                client, "GET", "users", auth=bearer(f"guess-{n}"), remote_addr="10.9.9.9"
            ).status_code
            == 401
        )
    assert throttled(call(client, "GET", "users", auth=bearer("guess-3"), remote_addr="10.9.9.9"))
    assert throttled(
        call(client, "GET", "users", auth=basic("admin", PASSWORD), remote_addr="10.9.9.9")
    )
    v1_response = client.get("/api/v1/ping", {"auth_token": "guess-4"}, REMOTE_ADDR="10.9.9.9")
    assert v1_response.status_code == 429 and 0 < int(v1_response["Retry-After"]) <= 900
    # A real token is no guess: it still works from the throttled address, and from any other.
    assert (
        call(client, "GET", "users", auth=bearer(admin_token), remote_addr="10.9.9.9").status_code
        == 200
    )
    assert (
        call(
            client, "GET", "users", auth=basic("admin", PASSWORD), remote_addr="10.9.9.8"
        ).status_code
        == 200
    )
    assert AuditEntry.objects.filter(action_type="api_auth_failed", user_ip="10.9.9.9").count() == 3
    assert AuditEntry.objects.filter(action_type="api_auth_throttled").count() == 1


def test_successes_do_not_count_towards_the_limit(client, admin, settings):
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = settings.AUTH_ADDRESS_FAILURE_LIMIT = (
        settings.AXES_FAILURE_LIMIT
    ) = 3
    for _ in range(6):
        assert users(client, basic("admin", PASSWORD)).status_code == 200
    assert not AuditEntry.objects.filter(action_type__startswith="api_auth").exists()


def test_a_hostile_user_name_is_audited_masked(client, admin):
    response = call(client, "GET", "users", auth=basic("ev\x00il\n" + "x" * 300, "a guess"))
    assert response.status_code == 401
    entry = AuditEntry.objects.get(action_type="api_auth_failed")
    assert re.fullmatch(r"unknown name #[0-9a-f]{16}", entry.actor_label)
    assert entry.message == f"Failed API authentication (password) for {entry.actor_label}"
