"""v1 contract for flocks and flock memberships: exact bodies, their effect, and every refusal."""

import re

import pytest

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership, FlockRole
from users.models import AuditEntry

pytestmark = pytest.mark.django_db

SUCCESS = {"result": "success"}
NO_FLOCK = "Flock does not exist."


def ok(response, body=SUCCESS):
    assert (response.status_code, response.json()) == (200, body)


def memberships() -> set[tuple[str, str, str]]:
    return set(FlockMembership.objects.values_list("user__email", "flock_id", "role"))


@pytest.fixture
def ann(make_user):
    return make_user("ann@example.com")


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.com")


# --- user/flock/assign and unassign ---------------------------------------------------------------------------


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
    v1.post("user/flock/assign", email=ann.email, flock_id_list=flock.flock_id, flock_access_level="watcher")
    v1.post("user/flock/assign", email=ann.email, flock_id_list=flock.flock_id, flock_access_level="manager")
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
        v1.post("user/flock/unassign", email=ann.email, flock_id_list=flock.flock_id, flock_access_level="manager"),
        {
            "msg": f"User ann@example.com successfully unassigned from manager flock(s) ['{flock.flock_id}']",
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
    full = {"email": ann.email, "flock_id_list": f"flock:default,{flock.flock_id}", "flock_access_level": "manager"}
    full.update({key: value.format(flock=flock.flock_id) for key, value in params.items()})
    refused(lambda: v1.post(path, **full), status, message)


# --- flock create / rename / delete ---------------------------------------------------------------------------


def test_flock_create(v1, ann, bob):
    response = v1.post("flock/create", name="  Cape Town  ", managers="ann@example.com", watchers="BOB@example.com")
    body = response.json()
    assert response.status_code == 200 and body.keys() == {"flock_id", "result"} and body["result"] == "success"
    assert re.fullmatch(r"flock:[0-9a-f]{32}", body["flock_id"])
    flock = Flock.objects.get(flock_id=body["flock_id"])
    assert (flock.name, flock.note) == ("Cape Town", "")
    assert memberships() == {
        ("ann@example.com", flock.flock_id, "manager"),
        ("bob@example.com", flock.flock_id, "watcher"),
    }


def test_flock_create_with_an_email_given_twice(v1, ann):
    flock_id = v1.post("flock/create", name="Twice", managers="ann@example.com,ANN@example.com").json()["flock_id"]
    assert memberships() == {("ann@example.com", flock_id, "manager")}


def test_flock_create_alone(v1):
    flock_id = v1.post("flock/create", name="x" * 100).json()["flock_id"]
    assert Flock.objects.get(flock_id=flock_id).name == "x" * 100
    assert not FlockMembership.objects.exists()


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 400, "Flock name cannot be empty."),
        ({"name": ""}, 400, "Flock name cannot be empty."),
        ({"name": "   "}, 400, "Flock name cannot be empty."),
        ({"name": "x" * 101}, 400, "Flock name longer than maximum (100 characters)."),
        ({"name": "ok", "managers": "ghost@example.com"}, 404, "User (ghost@example.com) does not exist."),
        ({"name": "ok", "watchers": "ann@example.com,bad"}, 400, "Invalid email address in watchers: 'bad'"),
        (
            {"name": "ok", "managers": "ann@example.com", "watchers": "ann@example.com"},
            400,
            "A user cannot be both manager and watcher of a flock.",
        ),
    ],
)
def test_flock_create_refusals(v1, ann, refused, params, status, message):
    refused(lambda: v1.post("flock/create", **params), status, message)


def test_flock_rename(v1, flock):
    ok(v1.post("flock/rename", flock_id=flock.flock_id, name="Johannesburg"), {"flock_id": flock.flock_id, **SUCCESS})
    flock.refresh_from_db()
    assert flock.name == "Johannesburg"


def test_default_flock_can_be_renamed(v1):
    ok(v1.post("flock/rename", flock_id=DEFAULT_FLOCK_ID, name="Main"), {"flock_id": DEFAULT_FLOCK_ID, **SUCCESS})
    assert Flock.objects.get(pk=DEFAULT_FLOCK_ID).name == "Main"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"flock_id": "flock:nope", "name": "x"}, 404, NO_FLOCK),
        ({"name": "x"}, 400, "Missing parameter: flock_id"),
        ({"flock_id": "{flock}"}, 400, "Flock name cannot be empty."),
        ({"flock_id": "{flock}", "name": "x" * 101}, 400, "Flock name longer than maximum (100 characters)."),
    ],
)
def test_flock_rename_refusals(v1, flock, refused, params, status, message):
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    refused(lambda: v1.post("flock/rename", **params), status, message)


def test_flock_delete_takes_its_memberships(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.WATCHER)
    FlockMembership.objects.create(user=ann, flock_id=DEFAULT_FLOCK_ID, role=FlockRole.WATCHER)
    ok(v1.post("flock/delete", flock_id=flock.flock_id))
    assert not Flock.objects.filter(pk=flock.pk).exists()
    assert memberships() == {("ann@example.com", DEFAULT_FLOCK_ID, "watcher")}
    entry = AuditEntry.objects.get(action_type="flock_delete")
    assert entry.additional_information == {"name": "Cape Town", "memberships_removed": ["ann@example.com (watcher)"]}


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"flock_id": DEFAULT_FLOCK_ID}, 409, "Cannot delete default flock"),
        ({"flock_id": "flock:nope"}, 404, NO_FLOCK),
        ({}, 400, "Missing parameter: flock_id"),
    ],
)
def test_flock_delete_refusals(v1, refused, params, status, message):
    refused(lambda: v1.post("flock/delete", **params), status, message)


# --- reading flocks -------------------------------------------------------------------------------------------


@pytest.fixture
def berlin(db) -> Flock:
    return Flock.objects.create(name="Berlin", note="Remote team")


def test_flocks_list_is_a_dict_of_every_flock(v1, flock, berlin):
    ok(
        v1.get("flocks/list"),
        {
            "flocks": {berlin.flock_id: "Berlin", flock.flock_id: "Cape Town", DEFAULT_FLOCK_ID: "Default Flock"},
            "result": "success",
        },
    )


def test_flocks_list_for_a_user_has_the_flocks_they_manage_or_watch(v1, ann, bob, flock, berlin):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=ann, flock=berlin, role=FlockRole.WATCHER)
    FlockMembership.objects.create(user=bob, flock_id=DEFAULT_FLOCK_ID, role=FlockRole.WATCHER)
    ok(
        v1.get("flocks/list", email="ann@example.com"),
        {"flocks": {berlin.flock_id: "Berlin", flock.flock_id: "Cape Town"}, **SUCCESS},
    )
    ok(v1.get("flocks/list", email="bob@example.com"), {"flocks": {DEFAULT_FLOCK_ID: "Default Flock"}, **SUCCESS})
    everything = {berlin.flock_id: "Berlin", flock.flock_id: "Cape Town", DEFAULT_FLOCK_ID: "Default Flock"}
    ok(v1.get("flocks/list", email="admin@example.com"), {"flocks": everything, **SUCCESS})  # an admin sees all


def test_flocks_list_refusals(v1, refused):
    refused(lambda: v1.get("flocks/list", email="ghost@example.com"), 404, "User (ghost@example.com) does not exist.")
    refused(lambda: v1.get("flocks/list", email="ghost"), 400, "Invalid email address in email: 'ghost'")


def test_flocks_filter_matches_name_note_or_id(v1, flock, berlin):
    ok(
        v1.get("flocks/filter", filter_str="REMOTE"),
        {"flocks": [{"flock_id": berlin.flock_id, "name": "Berlin", "note": "Remote team"}], **SUCCESS},
    )
    found = v1.get("flocks/filter", filter_str="o").json()["flocks"]  # Cape Town, Default Flock, Remote team
    assert [f["name"] for f in found] == ["Berlin", "Cape Town", "Default Flock"]
    ok(v1.get("flocks/filter", filter_str="nothing like it"), {"flocks": [], **SUCCESS})


def test_flocks_filter_needs_a_filter(v1, refused):
    refused(lambda: v1.get("flocks/filter"), 400, "Missing parameter: filter_str")


def test_flock_users(v1, ann, bob, make_user, flock):
    carol = make_user("carol@example.com")
    FlockMembership.objects.create(user=bob, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=carol, flock=flock, role=FlockRole.WATCHER)
    ok(
        v1.get("flock/users", flock_id=flock.flock_id),
        {"managers": ["ann@example.com", "bob@example.com"], "watchers": ["carol@example.com"], **SUCCESS},
    )
    ok(v1.get("flock/users", flock_id=DEFAULT_FLOCK_ID), {"managers": [], "watchers": [], **SUCCESS})


def test_flock_users_refusals(v1, refused):
    refused(lambda: v1.get("flock/users", flock_id="flock:nope"), 404, NO_FLOCK)
    refused(lambda: v1.get("flock/users"), 400, "Missing parameter: flock_id")


# --- users/flock/assign/managers and /watchers replace the whole list -----------------------------------------


@pytest.mark.parametrize(("role", "other"), [("manager", "watcher"), ("watcher", "manager")])
def test_assign_members_replaces_the_list(v1, ann, bob, make_user, flock, role, other):
    carol, dave = make_user("carol@example.com"), make_user("dave@example.com")
    FlockMembership.objects.create(user=ann, flock=flock, role=role)
    FlockMembership.objects.create(user=carol, flock=flock, role=other)
    FlockMembership.objects.create(user=dave, flock=flock, role=other)
    ok(v1.post(f"users/flock/assign/{role}s", flock_id=flock.flock_id, emails="bob@example.com, CAROL@example.com"))
    assert memberships() == {
        ("bob@example.com", flock.flock_id, role),
        ("carol@example.com", flock.flock_id, role),  # a user has one role per flock: carol moved over
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
        ({"flock_id": "{flock}", "emails": "ann@example.com,bad"}, 400, "Invalid email address in emails: 'bad'"),
    ],
)
def test_assign_members_refusals(v1, ann, bob, flock, refused, role, params, status, message):
    FlockMembership.objects.create(user=bob, flock=flock, role=role[:-1])
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    refused(lambda: v1.post(f"users/flock/assign/{role}", **params), status, message)


# --- flock notes ----------------------------------------------------------------------------------------------


def test_flock_notes(v1, flock):
    ok(v1.get("flock/note", flock_id=flock.flock_id), {"note": "Office", **SUCCESS})
    ok(v1.post("flock/note/add", flock_id=flock.flock_id, note="Second floor"))
    ok(v1.get("flock/note", flock_id=flock.flock_id), {"note": "Second floor", **SUCCESS})
    ok(v1.delete("flock/note/delete", flock_id=flock.flock_id))
    ok(v1.get("flock/note", flock_id=flock.flock_id), {"note": "", **SUCCESS})


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "message"),
    [
        ("post", "flock/note/add", {"flock_id": "flock:nope", "note": "x"}, 404, NO_FLOCK),
        ("post", "flock/note/add", {"flock_id": "{flock}"}, 400, "Missing parameter: note"),
        ("post", "flock/note/add", {"note": "x"}, 400, "Missing parameter: flock_id"),
        ("delete", "flock/note/delete", {"flock_id": "flock:nope"}, 404, NO_FLOCK),
        ("delete", "flock/note/delete", {}, 400, "Missing parameter: flock_id"),
        ("get", "flock/note", {"flock_id": "flock:nope"}, 404, NO_FLOCK),
        ("get", "flock/note", {}, 400, "Missing parameter: flock_id"),
    ],
)
def test_flock_note_refusals(v1, flock, refused, method, path, params, status, message):
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    refused(lambda: v1.send(method, path, **params), status, message)
