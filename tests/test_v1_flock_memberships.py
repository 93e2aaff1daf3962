"""v1 contract for flock memberships: assign, unassign and replacing the managers or watchers list;
exact bodies, effect, refusals."""

import pytest
from helpers import NO_FLOCK, memberships, ok

from flocks.models import DEFAULT_FLOCK_ID, FlockMembership, FlockRole

pytestmark = pytest.mark.django_db


def test_user_flock_assign(v1, ann, flock):
    ok(
        v1.post(
            "user/flock/assign",
            email="ann@example.com",
            flock_id_list=f"flock:default, {flock.flock_id}",
            flock_access_level="watcher",
        ),
        {
            "msg": "User ann@example.com successfully assigned to watcher flock(s) "
            f"['flock:default', '{flock.flock_id}']",
            "result": "success",
        },
    )
    assert memberships() == {
        ("ann@example.com", "flock:default", "watcher"),
        ("ann@example.com", flock.flock_id, "watcher"),
    }


def test_assigning_another_role_switches_it(v1, ann, flock):
    v1.post(
        "user/flock/assign",
        email=ann.email,
        flock_id_list=flock.flock_id,
        flock_access_level="watcher",
    )
    v1.post(
        "user/flock/assign",
        email=ann.email,
        flock_id_list=flock.flock_id,
        flock_access_level="manager",
    )
    assert memberships() == {("ann@example.com", flock.flock_id, "manager")}


def test_user_flock_unassign(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=ann, flock_id=DEFAULT_FLOCK_ID, role=FlockRole.MANAGER)
    ok(
        v1.post(
            "user/flock/unassign",
            email="ann@example.com",
            flock_id_list=f"flock:default,{flock.flock_id}",
            flock_access_level="manager",
        ),
        {
            "msg": "User ann@example.com successfully unassigned from manager flock(s) "
            f"['flock:default', '{flock.flock_id}']",
            "result": "success",
        },
    )
    assert memberships() == set()


def test_unassign_leaves_the_other_role(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.WATCHER)
    ok(
        v1.post(
            "user/flock/unassign",
            email=ann.email,
            flock_id_list=flock.flock_id,
            flock_access_level="manager",
        ),
        {
            "msg": "User ann@example.com successfully unassigned from manager flock(s) "
            f"['{flock.flock_id}']",
            "result": "success",
        },
    )
    assert memberships() == {("ann@example.com", flock.flock_id, "watcher")}


ROLE_ERROR = "Invalid flock_access_level: must be 'manager' or 'watcher'"


@pytest.mark.parametrize("path", ["user/flock/assign", "user/flock/unassign"])
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"flock_id_list": "{flock},flock:nope"}, 404, NO_FLOCK),
        ({"flock_id_list": "flock:nope"}, 404, NO_FLOCK),
        ({"flock_id_list": ""}, 400, "Missing parameter: flock_id_list"),
        ({"flock_id_list": " , ,"}, 400, "Missing parameter: flock_id_list"),
        ({"flock_access_level": ""}, 400, "Missing parameter: flock_access_level"),
        ({"flock_access_level": "owner"}, 400, ROLE_ERROR),
        ({"flock_access_level": "Manager"}, 400, ROLE_ERROR),
        ({"email": "ghost@example.com"}, 404, "User (ghost@example.com) does not exist."),
        ({"email": "nope"}, 400, "Invalid email address in email: 'nope'"),
        ({"email": ""}, 400, "Missing parameter: email"),
    ],
)
def test_assign_and_unassign_refusals(v1, ann, flock, refused, path, params, status, message):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    full = {
        "email": ann.email,
        "flock_id_list": f"flock:default,{flock.flock_id}",
        "flock_access_level": "manager",
    }
    full.update({key: value.format(flock=flock.flock_id) for key, value in params.items()})
    refused(lambda: v1.post(path, **full), status, message)


@pytest.mark.parametrize(("role", "other"), [("manager", "watcher"), ("watcher", "manager")])
def test_assign_members_replaces_the_list(v1, ann, bob, make_user, flock, role, other):
    carol, dave = make_user("carol@example.com"), make_user("dave@example.com")
    FlockMembership.objects.create(user=ann, flock=flock, role=role)
    FlockMembership.objects.create(user=carol, flock=flock, role=other)
    FlockMembership.objects.create(user=dave, flock=flock, role=other)
    ok(
        v1.post(
            f"users/flock/assign/{role}s",
            flock_id=flock.flock_id,
            emails="bob@example.com, CAROL@example.com",
        )
    )
    assert memberships() == {
        ("bob@example.com", flock.flock_id, role),
        (
            "carol@example.com",
            flock.flock_id,
            role,
        ),  # a user has one role per flock: carol moved over
        ("dave@example.com", flock.flock_id, other),
    }
    ok(v1.post(f"users/flock/assign/{role}s", flock_id=flock.flock_id, emails=""))
    assert memberships() == {("dave@example.com", flock.flock_id, other)}


@pytest.mark.parametrize("role", ["managers", "watchers"])
@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"flock_id": "flock:nope", "emails": "ann@example.com"}, 404, NO_FLOCK),
        ({"emails": "ann@example.com"}, 400, "Missing parameter: flock_id"),
        ({"flock_id": "{flock}"}, 400, "Missing parameter: emails"),
        (
            {"flock_id": "{flock}", "emails": "ann@example.com,ghost@example.com"},
            404,
            "User (ghost@example.com) does not exist.",
        ),
        (
            {"flock_id": "{flock}", "emails": "ann@example.com,bad"},
            400,
            "Invalid email address in emails: 'bad'",
        ),
    ],
)
def test_assign_members_refusals(v1, ann, bob, flock, refused, role, params, status, message):
    FlockMembership.objects.create(user=bob, flock=flock, role=role[:-1])
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    refused(lambda: v1.post(f"users/flock/assign/{role}", **params), status, message)
