"""Concurrent requests against gunicorn (3 workers of 8 threads), on SQLite and PostgreSQL.

Each race starts its requests together behind a barrier; the database's constraints,
row locks (PostgreSQL) and IMMEDIATE transactions with a busy timeout (SQLite) must
give exactly the documented outcome, never a 5xx ("database is locked" would be one).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from live_helpers import LIVE_DB, gunicorn

from flocks.models import Flock, FlockMembership, FlockRole
from users import services
from users.models import AccessLevel, AuditEntry, User

pytestmark = LIVE_DB

RACERS = 50


def race(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call at once (one thread each, released together); their responses in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock(), gunicorn() as url:
        yield url


def _v1(base: str, token: str, endpoint: str, **data: str) -> Callable[[], requests.Response]:
    return lambda: requests.post(
        f"{base}/api/v1/{endpoint}", data=data, headers={"X-Canary-Auth-Token": token}, timeout=60
    )


def test_fifty_v1_creates_of_one_user_make_exactly_one(server, admin_token):
    add = _v1(server, admin_token, "user/add", email="racer@example.com", access_level="user", note="first")
    responses = race([add] * RACERS)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"result": "error", "message": "User (racer@example.com) already exists."}
    assert User.objects.filter(email="racer@example.com").count() == 1
    assert AuditEntry.objects.filter(action_type="user_add", target_label="racer@example.com").count() == 1


def test_fifty_v2_creates_of_one_user_make_exactly_one(server, admin_token):
    def create() -> requests.Response:
        return requests.post(
            f"{server}/api/v2/users/racer",
            json={"password": "a long enough passphrase"},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=60,
        )

    responses = race([create] * RACERS)
    assert Counter(r.status_code for r in responses) == {200: 1, 403: RACERS - 1}
    assert [r.json() for r in responses if r.status_code == 403] == [{"user_exists": True}] * (RACERS - 1)
    assert User.objects.filter(username="racer").count() == 1
    assert AuditEntry.objects.filter(action_type="user_add", target_label="racer").count() == 1


def test_concurrent_assign_and_unassign_leave_a_consistent_state(server, admin_token, make_user):
    make_user("member@example.com")
    flocks = [Flock.objects.create(name=f"Race {i}") for i in range(3)]
    in_order = ",".join(flock.flock_id for flock in flocks)
    reversed_order = ",".join(flock.flock_id for flock in reversed(flocks))  # opposite lock orders
    calls = []
    for i in range(30):
        flock_ids = in_order if i % 4 < 2 else reversed_order
        endpoint = "user/flock/assign" if i % 3 else "user/flock/unassign"
        role = FlockRole.MANAGER if i % 2 else FlockRole.WATCHER
        calls.append(
            _v1(
                server,
                admin_token,
                endpoint,
                email="member@example.com",
                flock_id_list=flock_ids,
                flock_access_level=role,
            )
        )
    responses = race(calls)
    assert {r.status_code for r in responses} == {200}, [r.text[:500] for r in responses if r.status_code != 200]
    memberships = list(FlockMembership.objects.filter(user__email="member@example.com").values("flock_id", "role"))
    assert len(memberships) == len({m["flock_id"] for m in memberships}) <= 3  # one role per flock
    # Every successful call wrote its audit entries (one per flock), nothing more.
    audited = AuditEntry.objects.filter(action_type__in=["user_assign_to_flock", "user_unassign_from_flock"])
    assert audited.count() == len(calls) * len(flocks)
    # What the API reports is what the rows say.
    user = requests.get(
        f"{server}/api/v1/user/get",
        params={"email": "member@example.com"},
        headers={"X-Canary-Auth-Token": admin_token},
        timeout=60,
    ).json()["user"]
    rows = {m["flock_id"]: m["role"] for m in memberships}
    assert user["managed_flocks"] == sorted(f for f, role in rows.items() if role == FlockRole.MANAGER)
    assert user["watched_flocks"] == sorted(f for f, role in rows.items() if role == FlockRole.WATCHER)


@pytest.mark.parametrize("endpoint", ["user/edit/access_level", "user/disable", "user/remove"])
def test_two_admins_turning_on_each_other_never_leave_no_admin(server, admin, system, make_user, endpoint):
    """The only two admins demote (disable, remove) each other at the same moment, ten times."""
    other = make_user("other-admin@example.com", access_level=AccessLevel.ADMIN)
    tokens = {user.email: services.issue_api_token(system, user) for user in (admin, other)}
    extra = {"access_level": "user"} if endpoint == "user/edit/access_level" else {}
    outcomes = Counter()
    for _ in range(10):
        responses = race(
            [
                _v1(server, tokens[admin.email], endpoint, email=other.email, **extra),
                _v1(server, tokens[other.email], endpoint, email=admin.email, **extra),
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        outcomes[tuple(statuses)] += 1
        # One wins; the other is refused: as the last admin (409) or as no longer an admin (401/403).
        assert statuses[0] == 200 and statuses[1] in (401, 403, 409), [r.text for r in responses]
        assert User.objects.filter(is_active=True, access_level=AccessLevel.ADMIN).count() == 1
        _restore(admin, other, system)
        tokens = {user.email: services.issue_api_token(system, user) for user in (admin, other)}
    assert sum(outcomes.values()) == 10


def _restore(admin: User, other: User, system) -> None:
    """Both back as active admins with the same pks, for the next round."""
    for user in (admin, other):
        User.objects.update_or_create(
            pk=user.pk,
            defaults={
                "username": user.username,
                "email": user.email,
                "access_level": AccessLevel.ADMIN,
                "is_active": True,
            },
        )
