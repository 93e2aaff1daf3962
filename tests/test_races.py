"""Concurrent requests against gunicorn (3 workers of 8 threads), on SQLite and PostgreSQL.

Each race starts its requests together behind a barrier; the database's constraints,
row locks (PostgreSQL) and IMMEDIATE transactions with a busy timeout (SQLite) must
give exactly the documented outcome, never a 5xx ("database is locked" would be one).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from django.db.models import Q
from helpers import NEW_PASSWORD, PASSWORD
from servers import LIVE_DB, gunicorn

from flocks.models import Flock, FlockMembership, FlockRole
from users import mail, services
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
    add = _v1(
        server,
        admin_token,
        "user/add",
        email="racer@example.com",
        access_level="user",
        note="first",
    )
    responses = race([add] * RACERS)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {
                "result": "error",
                "message": "User (racer@example.com) already exists.",
            }
    assert User.objects.filter(email="racer@example.com").count() == 1
    assert (
        AuditEntry.objects.filter(action_type="user_add", target_label="racer@example.com").count()
        == 1
    )


def test_creates_and_renames_to_one_flock_name_in_any_case_make_exactly_one(server, admin_token):
    """40 v1 creates of one name in four letter cases and 10 renames of other flocks to it: the
    unique index on LOWER(name) lets one win; every other gets the clear 409, never a 500."""
    others = [Flock.objects.create(name=f"Other {n}") for n in range(10)]
    cases = ["Cape Town", "cape town", "CAPE TOWN", "Cape town"]
    calls = [_v1(server, admin_token, "flock/create", name=cases[n % 4]) for n in range(40)] + [
        _v1(server, admin_token, "flock/rename", flock_id=flock.flock_id, name="CAPE town")
        for flock in others
    ]
    responses = race(calls)
    assert Counter(r.status_code for r in responses) == {200: 1, 409: RACERS - 1}
    [winner] = Flock.objects.filter(name__iexact="cape town")
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {
                "result": "error",
                "message": f"A flock named {winner.name} already exists.",
            }
    created = AuditEntry.objects.filter(action_type="flock_create").count()
    renamed = AuditEntry.objects.filter(action_type="flock_rename").count()
    assert created + renamed == 1


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
    assert [r.json() for r in responses if r.status_code == 403] == [{"user_exists": True}] * (
        RACERS - 1
    )
    assert User.objects.filter(username="racer").count() == 1
    assert AuditEntry.objects.filter(action_type="user_add", target_label="racer").count() == 1


def test_creates_of_one_name_as_email_and_as_user_name_make_exactly_one(server, admin_token):
    """Half the racers add dup@example.com by e-mail (v1), half create the user name Dup@Example.com
    (v2)."""
    add = _v1(server, admin_token, "user/add", email="dup@example.com", access_level="user")

    def create() -> requests.Response:
        return requests.post(
            f"{server}/api/v2/users/Dup@Example.com",
            json={"password": "a long enough passphrase"},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=60,
        )

    responses = race([add, create] * (RACERS // 2))
    assert [r.status_code for r in responses].count(200) == 1, [
        r.text[:200] for r in responses if r.status_code != 200
    ]
    for response in responses[0::2]:
        if response.status_code != 200:
            assert (response.status_code, response.json()) == (
                409,
                {"result": "error", "message": "User (dup@example.com) already exists."},
            )
    for response in responses[1::2]:
        if response.status_code != 200:
            assert (response.status_code, response.json()) == (403, {"user_exists": True})
    assert (
        User.objects.filter(
            Q(username__iexact="dup@example.com") | Q(email="dup@example.com")
        ).count()
        == 1
    )
    assert AuditEntry.objects.filter(action_type="user_add").count() == 1


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
    assert {r.status_code for r in responses} == {200}, [
        r.text[:500] for r in responses if r.status_code != 200
    ]
    memberships = list(
        FlockMembership.objects.filter(user__email="member@example.com").values("flock_id", "role")
    )
    assert len(memberships) == len({m["flock_id"] for m in memberships}) <= 3  # one role per flock
    # Every successful call wrote its audit entries (one per flock), nothing more.
    audited = AuditEntry.objects.filter(
        action_type__in=["user_assign_to_flock", "user_unassign_from_flock"]
    )
    assert audited.count() == len(calls) * len(flocks)
    # What the API reports is what the rows say.
    user = requests.get(
        f"{server}/api/v1/user/get",
        params={"email": "member@example.com"},
        headers={"X-Canary-Auth-Token": admin_token},
        timeout=60,
    ).json()["user"]
    rows = {m["flock_id"]: m["role"] for m in memberships}
    assert user["managed_flocks"] == sorted(
        f for f, role in rows.items() if role == FlockRole.MANAGER
    )
    assert user["watched_flocks"] == sorted(
        f for f, role in rows.items() if role == FlockRole.WATCHER
    )


@pytest.mark.parametrize("endpoint", ["user/edit/access_level", "user/disable", "user/remove"])
def test_two_admins_turning_on_each_other_never_leave_no_admin(
    server, admin, system, make_user, endpoint
):
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
        # One wins; the other is refused: as the last admin (409) or as no longer an admin
        # (401/403).
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


# --- a password change in flight against an admin's change (F3) -----------------------------------
#
# bcrypt at cost 14 keeps the new password hashing for about a second; the admin's change starts
# HEAD_START seconds later and commits long before. The credential write must not carry the
# copy of the row its request loaded back over that change.

SLOW_BCRYPT_ROUNDS = "14"
HEAD_START = 0.3


@pytest.fixture(scope="module")
def slow_server(django_db_setup, django_db_blocker) -> str:
    with (
        django_db_blocker.unblock(),
        gunicorn(workers=2, threads=4, PORTAL_BCRYPT_ROUNDS=SLOW_BCRYPT_ROUNDS) as url,
    ):
        yield url


def _signed_in(base: str, user: User) -> requests.Session:
    """A browser session of ``user`` (no second factor, none required), via the sign-in page."""
    browser = requests.Session()
    browser.get(f"{base}/login/", timeout=60)
    response = browser.post(
        f"{base}/login/",
        data={
            "login": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=60,
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/"), response.text[:500]
    return browser


def _page_password_change(
    base: str, user: User, browser: requests.Session
) -> Callable[[], requests.Response]:
    data = {
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }
    return lambda: browser.post(
        f"{base}/account/security/password/", data=data, allow_redirects=False, timeout=60
    )


def _reset_link_password_change(base: str, user: User) -> Callable[[], requests.Response]:
    """Django's reset-link page, opened from the mailed link (which moves the token into the
    session)."""
    browser = requests.Session()
    link = mail.set_password_link(
        User.objects.get(pk=user.pk)
    )  # as now stored: the token covers last_login
    form = browser.get(base + urlsplit(link).path, timeout=60)
    assert form.status_code == 200 and "new_password1" in form.text, form.text[:500]
    data = {
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }
    return lambda: browser.post(form.url, data=data, allow_redirects=False, timeout=60)


def _v2_password_change(base: str, user: User, system) -> Callable[[], requests.Response]:
    """An admin's own ``PUT /api/v2/users/<self>/update``."""
    token = services.issue_api_token(system, user)
    return lambda: requests.put(
        f"{base}/api/v2/users/{user.username}/update",
        json={"password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _after(delay: float, call: Callable[[], requests.Response]) -> Callable[[], requests.Response]:
    def delayed() -> requests.Response:
        time.sleep(delay)
        return call()

    return delayed


def _history(user: User) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_label=user.label)
        .order_by("id")
        .values_list("action_type", flat=True)
    )


PASSWORD_CHANGED = {
    "page": (302, "/account/security/"),
    "link": (302, "/accounts/reset/done/"),
    "v2": (200, None),
}


@pytest.mark.parametrize("face", ["page", "link", "v2"])
@pytest.mark.parametrize("endpoint", ["user/disable", "user/edit/access_level", "user/remove"])
def test_a_password_change_in_flight_never_undoes_an_admins_change(
    slow_server, admin, admin_token, system, make_user, face, endpoint
):
    victim = make_user("victim@example.com", access_level=AccessLevel.ADMIN)
    victim.set_password(PASSWORD)
    victim.save(update_fields=["password"])
    browser = _signed_in(slow_server, victim)
    if face == "page":
        change = _page_password_change(slow_server, victim, browser)
    elif face == "link":
        change = _reset_link_password_change(slow_server, victim)
    else:
        change = _v2_password_change(slow_server, victim, system)
    extra = {"access_level": "user"} if endpoint == "user/edit/access_level" else {}
    admin_call = _after(
        HEAD_START, _v1(slow_server, admin_token, endpoint, email=victim.email, **extra)
    )
    changed, done = race([change, admin_call])
    assert done.status_code == 200, done.text
    expected_admin_entry = {
        "user/disable": "user_disable",
        "user/edit/access_level": "user_access_level_change",
        "user/remove": "user_remove",
    }[endpoint]
    if endpoint == "user/remove":
        # The change found no row to write: refused on its face, nothing written, nothing audited.
        assert not User.objects.filter(pk=victim.pk).exists()
        if face in ("page", "link"):
            assert (
                changed.status_code == 200
                and "User (victim@example.com) does not exist." in changed.text
            )
        else:
            assert (changed.status_code, changed.json()) == (403, {"user_exists": False})
        assert _history(victim)[-1:] == [expected_admin_entry]
        return
    status, location = PASSWORD_CHANGED[face]
    assert changed.status_code == status, changed.text[:500]
    assert changed.headers.get("Location") == location
    victim.refresh_from_db()
    # Both changes hold: the admin's, and the new password.
    assert victim.check_password(NEW_PASSWORD)
    if endpoint == "user/disable":
        assert (victim.is_active, victim.access_level) == (False, AccessLevel.ADMIN)
    else:
        assert (victim.is_active, victim.access_level) == (True, AccessLevel.USER)
    # The admin's change committed first (while bcrypt ran), and the log says so in that order.
    assert _history(victim)[-2:] == [expected_admin_entry, "user_credentials_change"]
    if endpoint == "user/disable":
        # The disable ended every session, the one the password was changed from too: enabling
        # the victim again brings none back.
        assert _v1(slow_server, admin_token, "user/enable", email=victim.email)().status_code == 200
        response = browser.get(
            f"{slow_server}/account/security/", allow_redirects=False, timeout=60
        )
        assert (response.status_code, response.headers["Location"]) == (
            302,
            "/login/?next=/account/security/",
        )


def test_an_admin_hand_over_during_a_password_change_keeps_an_admin(
    slow_server, admin, admin_token, make_user
):
    """The only admin promotes mgr and steps down while mgr's password change is hashing."""
    mgr = make_user("mgr@example.com")
    mgr.set_password(PASSWORD)
    mgr.save(update_fields=["password"])
    change = _page_password_change(slow_server, mgr, _signed_in(slow_server, mgr))

    def hand_over() -> list[requests.Response]:
        time.sleep(HEAD_START)
        promote = _v1(
            slow_server,
            admin_token,
            "user/edit/access_level",
            email=mgr.email,
            access_level="admin",
        )()
        step_down = _v1(
            slow_server,
            admin_token,
            "user/edit/access_level",
            email=admin.email,
            access_level="user",
        )()
        return [promote, step_down]

    with ThreadPoolExecutor(max_workers=2) as pool:
        changing, handing = pool.submit(change), pool.submit(hand_over)
        changed, (promote, step_down) = changing.result(), handing.result()
    assert (promote.status_code, step_down.status_code) == (200, 200), [
        promote.text,
        step_down.text,
    ]
    assert (changed.status_code, changed.headers.get("Location")) == (302, "/account/security/")
    mgr.refresh_from_db()
    admin.refresh_from_db()
    assert (mgr.access_level, admin.access_level) == (AccessLevel.ADMIN, AccessLevel.USER)
    assert mgr.check_password(NEW_PASSWORD)
    assert list(User.objects.filter(is_active=True, access_level=AccessLevel.ADMIN)) == [mgr]
    assert _history(mgr)[-2:] == ["user_access_level_change", "user_credentials_change"]
