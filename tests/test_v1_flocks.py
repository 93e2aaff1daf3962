"""v1 contract for flocks: create, rename, delete, reading and notes; exact bodies, their effect,
and every refusal."""

import re

import pytest
from helpers import NO_FLOCK, SUCCESS, memberships, ok

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership, FlockRole
from users.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_flock_create(v1, ann, bob):
    response = v1.post(
        "flock/create", name="  Cape Town  ", managers="ann@example.com", watchers="BOB@example.com"
    )
    body = response.json()
    assert (
        response.status_code == 200
        and body.keys() == {"flock_id", "result"}
        and body["result"] == "success"
    )
    assert re.fullmatch(r"flock:[0-9a-f]{32}", body["flock_id"])
    flock = Flock.objects.get(flock_id=body["flock_id"])
    assert (flock.name, flock.note) == ("Cape Town", "")
    assert memberships() == {
        ("ann@example.com", flock.flock_id, "manager"),
        ("bob@example.com", flock.flock_id, "watcher"),
    }


def test_flock_create_with_an_email_given_twice(v1, ann):
    flock_id = v1.post(
        "flock/create", name="Twice", managers="ann@example.com,ANN@example.com"
    ).json()["flock_id"]
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
        (
            {"name": "ok", "managers": "ghost@example.com"},
            404,
            "User (ghost@example.com) does not exist.",
        ),
        (
            {"name": "ok", "watchers": "ann@example.com,bad"},
            400,
            "Invalid email address in watchers: 'bad'",
        ),
        (
            {"name": "ok", "managers": "ann@example.com", "watchers": "ann@example.com"},
            400,
            "A user cannot be both manager and watcher of a flock.",
        ),
    ],
)
def test_flock_create_refusals(v1, ann, refused, params, status, message):
    refused(lambda: v1.post("flock/create", **params), status, message)


@pytest.mark.parametrize("name", ["Cape Town", "cape town", "  CAPE TOWN "])
def test_flock_create_refuses_a_taken_name_in_any_letter_case(v1, flock, refused, name):
    refused(
        lambda: v1.post("flock/create", name=name), 409, "A flock named Cape Town already exists."
    )


def test_flock_create_checks_users_and_name_before_the_duplicate(v1, flock, refused):
    """The README's order: 404 for an unknown user and 400 for an invalid value come first."""
    refused(
        lambda: v1.post("flock/create", name="Cape Town", managers="ghost@example.com"),
        404,
        "User (ghost@example.com) does not exist.",
    )


def test_flock_rename(v1, flock):
    ok(
        v1.post("flock/rename", flock_id=flock.flock_id, name="Johannesburg"),
        {"flock_id": flock.flock_id, **SUCCESS},
    )
    flock.refresh_from_db()
    assert flock.name == "Johannesburg"


def test_default_flock_can_be_renamed(v1):
    ok(
        v1.post("flock/rename", flock_id=DEFAULT_FLOCK_ID, name="Main"),
        {"flock_id": DEFAULT_FLOCK_ID, **SUCCESS},
    )
    assert Flock.objects.get(pk=DEFAULT_FLOCK_ID).name == "Main"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"flock_id": "flock:nope", "name": "x"}, 404, NO_FLOCK),
        ({"name": "x"}, 400, "Missing parameter: flock_id"),
        ({"flock_id": "{flock}"}, 400, "Flock name cannot be empty."),
        (
            {"flock_id": "{flock}", "name": "x" * 101},
            400,
            "Flock name longer than maximum (100 characters).",
        ),
    ],
)
def test_flock_rename_refusals(v1, flock, refused, params, status, message):
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    refused(lambda: v1.post("flock/rename", **params), status, message)


@pytest.mark.parametrize("name", ["Berlin", "BERLIN"])
def test_flock_rename_refuses_another_flocks_name(v1, flock, berlin, refused, name):
    refused(
        lambda: v1.post("flock/rename", flock_id=flock.flock_id, name=name),
        409,
        "A flock named Berlin already exists.",
    )


@pytest.mark.parametrize("name", ["Cape Town", "CAPE town"])
def test_a_flock_keeps_or_recases_its_own_name(v1, flock, name):
    """canarytools' ``Flock.rename`` sends the flock's current name: never refused as taken."""
    ok(
        v1.post("flock/rename", flock_id=flock.flock_id, name=name),
        {"flock_id": flock.flock_id, **SUCCESS},
    )
    flock.refresh_from_db()
    assert flock.name == name
    assert AuditEntry.objects.get(action_type="flock_rename").message == (
        f"Renamed flock Cape Town to {name}"
    )


def test_flock_delete_takes_its_memberships(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.WATCHER)
    FlockMembership.objects.create(user=ann, flock_id=DEFAULT_FLOCK_ID, role=FlockRole.WATCHER)
    ok(v1.post("flock/delete", flock_id=flock.flock_id))
    assert not Flock.objects.filter(pk=flock.pk).exists()
    assert memberships() == {("ann@example.com", DEFAULT_FLOCK_ID, "watcher")}
    entry = AuditEntry.objects.get(action_type="flock_delete")
    assert entry.additional_information == {
        "name": "Cape Town",
        "memberships_removed": ["ann (watcher)"],
    }


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


# --- reading flocks -------------------------------------------------------------------------------


@pytest.fixture
def berlin(db) -> Flock:
    return Flock.objects.create(name="Berlin", note="Remote team")


def test_flocks_list_is_a_dict_of_every_flock(v1, flock, berlin):
    ok(
        v1.get("flocks/list"),
        {
            "flocks": {
                berlin.flock_id: "Berlin",
                flock.flock_id: "Cape Town",
                DEFAULT_FLOCK_ID: "Default Flock",
            },
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
    ok(
        v1.get("flocks/list", email="bob@example.com"),
        {"flocks": {DEFAULT_FLOCK_ID: "Default Flock"}, **SUCCESS},
    )
    everything = {
        berlin.flock_id: "Berlin",
        flock.flock_id: "Cape Town",
        DEFAULT_FLOCK_ID: "Default Flock",
    }
    ok(
        v1.get("flocks/list", email="admin@example.com"), {"flocks": everything, **SUCCESS}
    )  # an admin sees all


def test_flocks_list_refusals(v1, refused):
    refused(
        lambda: v1.get("flocks/list", email="ghost@example.com"),
        404,
        "User (ghost@example.com) does not exist.",
    )
    refused(
        lambda: v1.get("flocks/list", email="ghost"), 400, "Invalid email address in email: 'ghost'"
    )


def test_flocks_filter_matches_name_note_or_id(v1, flock, berlin):
    ok(
        v1.get("flocks/filter", filter_str="REMOTE"),
        {
            "flocks": [{"flock_id": berlin.flock_id, "name": "Berlin", "note": "Remote team"}],
            **SUCCESS,
        },
    )
    found = v1.get("flocks/filter", filter_str="o").json()[
        "flocks"
    ]  # Cape Town, Default Flock, Remote team
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
        {
            "managers": ["ann@example.com", "bob@example.com"],
            "watchers": ["carol@example.com"],
            **SUCCESS,
        },
    )
    ok(
        v1.get("flock/users", flock_id=DEFAULT_FLOCK_ID),
        {"managers": [], "watchers": [], **SUCCESS},
    )


def test_flock_users_refusals(v1, refused):
    refused(lambda: v1.get("flock/users", flock_id="flock:nope"), 404, NO_FLOCK)
    refused(lambda: v1.get("flock/users"), 400, "Missing parameter: flock_id")


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
