"""v1 audit trail: every action leaves an entry, and audit_trail/fetch pages and filters them."""

from datetime import UTC, datetime

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks.models import DEFAULT_FLOCK_ID, FlockMembership, FlockRole
from users.models import AuditEntry

pytestmark = pytest.mark.django_db

ADMIN = "admin@example.com"
ANN = "ann@example.com"


# (method, path, params, action_type, target, flock); "{flock}" is the Cape Town flock's id.
ACTIONS = [
    (
        "post",
        "settings/usermanagement/globally_enforce_2fa/enable",
        {},
        "globally_enforce_2fa_enable",
        "",
        "",
    ),
    (
        "post",
        "settings/usermanagement/globally_enforce_2fa/disable",
        {},
        "globally_enforce_2fa_disable",
        "",
        "",
    ),
    (
        "post",
        "user/add",
        {"email": "new@example.com", "access_level": "user"},
        "user_add",
        "new@example.com",
        "",
    ),
    ("post", "user/note/add", {"email": ANN, "note": "n"}, "user_note_add", ANN, ""),
    ("delete", "user/note/delete", {"email": ANN}, "user_note_remove", ANN, ""),
    ("post", "user/edit", {"email": ANN, "note": "n"}, "user_edit", ANN, ""),
    (
        "post",
        "user/edit/access_level",
        {"email": ANN, "access_level": "admin"},
        "user_access_level_change",
        ANN,
        "",
    ),
    ("post", "user/disable", {"email": ANN}, "user_disable", ANN, ""),
    ("post", "user/enable", {"email": ANN}, "user_enable", ANN, ""),
    ("post", "user/remove", {"email": ANN}, "user_remove", ANN, ""),
    ("post", "user/2fa/disable", {"email": ANN}, "user_2fa_disable", ANN, ""),
    ("post", "user/webauthn/disable", {"email": ANN}, "user_webauthn_disable", ANN, ""),
    ("post", "user/password/reset", {"email": ANN}, "user_password_reset", ANN, ""),
    ("post", "user/summary_email/enable", {"email": ANN}, "user_summary_email_enable", ANN, ""),
    ("post", "user/summary_email/disable", {"email": ANN}, "user_summary_email_disable", ANN, ""),
    (
        "post",
        "user/flock/assign",
        {"email": ANN, "flock_id_list": "{flock}", "flock_access_level": "watcher"},
        "user_assign_to_flock",
        ANN,
        "{flock}",
    ),
    (
        "post",
        "user/flock/unassign",
        {"email": ANN, "flock_id_list": "{flock}", "flock_access_level": "manager"},
        "user_unassign_from_flock",
        ANN,
        "{flock}",
    ),
    ("post", "flock/rename", {"flock_id": "{flock}", "name": "New"}, "flock_rename", "", "{flock}"),
    ("post", "flock/delete", {"flock_id": "{flock}"}, "flock_delete", "", "{flock}"),
    (
        "post",
        "users/flock/assign/managers",
        {"flock_id": "{flock}", "emails": ANN},
        "flock_managers_set",
        "",
        "{flock}",
    ),
    (
        "post",
        "users/flock/assign/watchers",
        {"flock_id": "{flock}", "emails": ANN},
        "flock_watchers_set",
        "",
        "{flock}",
    ),
    (
        "post",
        "flock/note/add",
        {"flock_id": "{flock}", "note": "n"},
        "flock_note_add",
        "",
        "{flock}",
    ),
    ("delete", "flock/note/delete", {"flock_id": "{flock}"}, "flock_note_remove", "", "{flock}"),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "action_type", "target", "flock_id"), ACTIONS, ids=lambda v: ""
)
def test_every_action_writes_one_audit_entry(
    v1, ann, flock, method, path, params, action_type, target, flock_id
):
    params = {key: value.format(flock=flock.flock_id) for key, value in params.items()}
    before = AuditEntry.objects.count()
    assert v1.send(method, path, **params).status_code == 200
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert (entry.action_type, entry.actor_label, entry.target_label, entry.flock_id) == (
        action_type,
        ADMIN,
        target,
        flock_id.format(flock=flock.flock_id),
    )
    assert (entry.actor.email, entry.user_ip, entry.user_agent) == (
        ADMIN,
        "127.0.0.1",
        v1.headers["User-Agent"],
    )


def test_flock_create_is_audited_with_its_new_id(v1, ann):
    flock_id = v1.post("flock/create", name="Cape Town", watchers=ANN).json()["flock_id"]
    entry = AuditEntry.objects.latest("id")
    assert (entry.action_type, entry.flock_id, entry.actor_label) == (
        "flock_create",
        flock_id,
        ADMIN,
    )
    assert entry.additional_information == {"name": "Cape Town", "managers": [], "watchers": [ANN]}


def test_assigning_several_flocks_writes_an_entry_per_flock(v1, ann, flock):
    v1.post(
        "user/flock/assign",
        email=ANN,
        flock_id_list=f"flock:default,{flock.flock_id}",
        flock_access_level="manager",
    )
    entries = AuditEntry.objects.filter(action_type="user_assign_to_flock")
    assert sorted(entries.values_list("flock_id", flat=True)) == sorted(
        [DEFAULT_FLOCK_ID, flock.flock_id]
    )


# --- audit_trail/fetch ----------------------------------------------------------------------------


def test_fetch_shape(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    AuditEntry.objects.all().delete()
    v1.post(
        "user/flock/assign", email=ANN, flock_id_list=flock.flock_id, flock_access_level="watcher"
    )
    entry = AuditEntry.objects.get()
    entry.timestamp = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    entry.save()
    assert v1.get("audit_trail/fetch").json() == {
        "audit_trail": [
            {
                "id": entry.id,
                "action_type": "user_assign_to_flock",
                "message": f"Assigned {ANN} to flock Cape Town as watcher",
                "timestamp": "2024-05-06 07:08:09 UTC+0000",
                "user": ADMIN,
                "target": ANN,
                "user_ip": "127.0.0.1",
                "user_browser_agent": v1.headers["User-Agent"],
                "flock_id": flock.flock_id,
                "additional_information": {"role": "watcher"},
            }
        ],
        "cursor": {"next": None, "prev": None},
        "page_count": 1,
        "page_number": 1,
        "result": "success",
    }


def test_fetch_of_an_org_action_has_nulls_not_empty_strings(v1, admin):
    TOTPDevice.objects.create(
        user=admin, confirmed=True
    )  # once enforced, a token works only for the enrolled
    v1.post("settings/usermanagement/globally_enforce_2fa/enable")
    (item,) = v1.get("audit_trail/fetch", action_filter="globally_enforce_2fa_enable").json()[
        "audit_trail"
    ]
    assert (item["target"], item["flock_id"], item["additional_information"]) == (None, None, None)


@pytest.fixture
def entries(admin_token) -> list[AuditEntry]:
    """Only these seven entries, one a day from 2024-03-01, oldest first."""
    AuditEntry.objects.all().delete()
    return [
        AuditEntry.objects.create(
            action_type="user_add" if n % 2 else "flock_create",
            message=f"entry {n}",
            actor_label=ADMIN,
            target_label=f"user{n}@example.com",
            timestamp=datetime(2024, 3, 1 + n, 12, tzinfo=UTC),
        )
        for n in range(7)
    ]


def fetched(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["message"] for item in response.json()["audit_trail"]]


def test_fetch_is_newest_first_with_integer_ids(v1, entries):
    body = v1.get("audit_trail/fetch").json()
    assert [item["id"] for item in body["audit_trail"]] == [e.id for e in reversed(entries)]
    assert all(type(item["id"]) is int for item in body["audit_trail"])


def test_fetch_limit_and_cursor_round_trip(v1, entries):
    first = v1.get("audit_trail/fetch", limit=3)
    assert fetched(first) == ["entry 6", "entry 5", "entry 4"]
    first = first.json()
    assert (first["page_number"], first["page_count"], first["cursor"]["prev"]) == (1, 3, None)
    second = v1.get("audit_trail/fetch", limit=3, cursor=first["cursor"]["next"]).json()
    third = v1.get("audit_trail/fetch", limit=3, cursor=second["cursor"]["next"]).json()
    assert [i["message"] for i in second["audit_trail"]] == ["entry 3", "entry 2", "entry 1"]
    assert [i["message"] for i in third["audit_trail"]] == ["entry 0"]
    assert (second["page_number"], third["page_number"], third["cursor"]["next"]) == (2, 3, None)
    back = v1.get("audit_trail/fetch", limit=3, cursor=third["cursor"]["prev"]).json()
    assert back == second
    assert v1.get("audit_trail/fetch", limit=3, cursor=second["cursor"]["prev"]).json() == first


def test_fetch_after_id(v1, entries):
    assert fetched(v1.get("audit_trail/fetch", after_id=entries[4].id)) == ["entry 6", "entry 5"]
    assert fetched(v1.get("audit_trail/fetch", after_id=entries[6].id)) == []


def test_fetch_action_filter_and_search_term(v1, entries):
    assert fetched(v1.get("audit_trail/fetch", action_filter="user_add")) == [
        "entry 5",
        "entry 3",
        "entry 1",
    ]
    assert fetched(v1.get("audit_trail/fetch", search_term="USER2@")) == ["entry 2"]
    assert (
        fetched(v1.get("audit_trail/fetch", action_filter="flock_create", search_term="entry 1"))
        == []
    )
    assert fetched(v1.get("audit_trail/fetch", action_filter="no_such_action")) == []


def test_fetch_dates_are_whole_utc_days(v1, entries):
    assert fetched(v1.get("audit_trail/fetch", start_date="2024-03-05")) == [
        "entry 6",
        "entry 5",
        "entry 4",
    ]
    assert fetched(v1.get("audit_trail/fetch", end_date="2024-03-02")) == ["entry 1", "entry 0"]
    assert fetched(v1.get("audit_trail/fetch", start_date="2024-03-03", end_date="2024-03-03")) == [
        "entry 2"
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_date": "2024-02-30"}, "Invalid start_date: use yyyy-mm-dd"),
        ({"start_date": "yesterday"}, "Invalid start_date: use yyyy-mm-dd"),
        ({"end_date": "03/01/2024"}, "Invalid end_date: use yyyy-mm-dd"),
        ({"start_date": "2024-03-05", "end_date": "2024-03-01"}, "start_date is after end_date"),
        ({"limit": "0"}, "limit out of range"),
        ({"limit": "1001"}, "limit out of range"),
        ({"limit": "ten"}, "Invalid integer for limit"),
        ({"after_id": "x"}, "Invalid integer for after_id"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "Invalid cursor"),
    ],
)
def test_fetch_refusals(v1, entries, refused, params, message):
    refused(lambda: v1.get("audit_trail/fetch", **params), 400, message)
