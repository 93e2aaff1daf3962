"""A first pass over the v1 contract: exact bodies of the main user and flock calls."""

import pytest
from django.core import mail

from flocks.models import Flock, FlockMembership
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db


def test_ping_needs_a_token(client, v1):
    assert v1.get("ping").json() == {"result": "success"}
    response = client.get("/api/v1/ping")
    assert response.status_code == 401
    assert response.json() == {"result": "error", "message": "Invalid auth_token"}


def test_user_add_sends_welcome_mail_and_audits(v1):
    response = v1.post("user/add", email="New@Example.com", access_level="user", note="hi")
    assert response.status_code == 200
    assert response.json() == {"msg": "User (new@example.com) successfully created.", "result": "success"}
    user = User.objects.get(email="new@example.com")
    assert user.username == "new@example.com" and user.note == "hi" and not user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(action_type="user_add", target_label="new@example.com").exists()


def test_duplicate_user_changes_nothing(v1, make_user):
    make_user("dup@example.com", note="original")
    before = AuditEntry.objects.count()
    response = v1.post("user/add", email="dup@example.com", access_level="admin", note="other")
    assert response.status_code == 409
    assert response.json() == {"result": "error", "message": "User (dup@example.com) already exists."}
    assert User.objects.get(email="dup@example.com").note == "original"
    assert AuditEntry.objects.count() == before


def test_assign_message_and_unknown_flock_assigns_nothing(v1, make_user):
    make_user("w@example.com")
    flock = Flock.objects.create(name="Cape Town")
    response = v1.post(
        "user/flock/assign",
        email="w@example.com",
        flock_id_list=f"flock:default,{flock.flock_id}",
        flock_access_level="watcher",
    )
    assert response.json() == {
        "msg": f"User w@example.com successfully assigned to watcher flock(s) ['flock:default', '{flock.flock_id}']",
        "result": "success",
    }
    FlockMembership.objects.all().delete()
    response = v1.post(
        "user/flock/assign",
        email="w@example.com",
        flock_id_list=f"{flock.flock_id},flock:nope",
        flock_access_level="watcher",
    )
    assert response.status_code == 404
    assert response.json() == {"result": "error", "message": "Flock does not exist."}
    assert not FlockMembership.objects.exists()


def test_last_admin_cannot_be_disabled(v1, admin):
    response = v1.post("user/disable", email=admin.email)
    assert response.status_code == 409
    assert response.json() == {"result": "error", "message": "Cannot disable the last active admin."}
    admin.refresh_from_db()
    assert admin.is_active


def test_note_delete_reads_the_delete_body(v1, make_user):
    make_user("n@example.com", note="keep me?")
    response = v1.delete("user/note/delete", email="n@example.com")
    assert response.json() == {"msg": "User (n@example.com) note successfully removed.", "result": "success"}
    assert User.objects.get(email="n@example.com").note == ""


def test_unknown_api_path_is_json(v1):
    response = v1.get("no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"result": "error", "message": "Not found."}
    response = v1.get("user/add")
    assert response.status_code == 405
    assert response.json()["result"] == "error"
