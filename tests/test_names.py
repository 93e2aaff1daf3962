"""Names are unambiguous (F15): no user is named after another user's e-mail, in any letter case,
on any face; audit entries keep the target's id and a user's page shows their history by id."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from helpers import PASSWORD, basic, db_state, read_whole, signed_in
from servers import LIVE_DB

from users import selectors, services
from users.audit import Actor
from users.models import AuditEntry, User

pytestmark = pytest.mark.django_db

SHADOW_PASSWORD = "Shadow-pass-phrase-1"


def v2_create(client, admin_token: str, name: str):
    return client.post(
        f"/api/v2/users/{name}",
        {"password": SHADOW_PASSWORD},
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin_token}"},
    )


@pytest.mark.parametrize("name", ["admin@example.com", "ADMIN@example.com", "Admin@Example.COM"])
def test_v2_refuses_a_user_name_that_is_another_users_email(client, admin, admin_token, name):
    before = db_state()
    response = v2_create(client, admin_token, name)
    assert (response.status_code, response.json()) == (403, {"user_exists": True})
    assert db_state() == before
    # The admin's e-mail still means the admin at sign-in and in Basic auth.
    credentials = basic("admin@example.com", PASSWORD)
    response = read_whole(client.get("/api/v2/users", headers={"Authorization": credentials}))
    assert response.status_code == 200


@pytest.fixture
def shadow(system) -> User:
    """A v2 user whose user name looks like an e-mail nobody has yet."""
    return services.create_named_user(
        system, username="Shadow@Example.com", password=SHADOW_PASSWORD
    )


@pytest.mark.parametrize("body", [b"{bad", b'{"password": "x"}'])
def test_a_taken_name_answers_403_whatever_the_body_holds(client, admin, admin_token, body):
    """The v2 order: user_exists before anything about the body, for an e-mail name too."""
    response = client.post(
        "/api/v2/users/admin@example.com",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {admin_token}",
    )
    assert (response.status_code, response.json()) == (403, {"user_exists": True})


@pytest.mark.parametrize("name", ["Admin", "ADMIN", "aDmIn"])
def test_v2_refuses_a_user_name_that_differs_only_in_case(client, admin, admin_token, name):
    before = db_state()
    response = v2_create(client, admin_token, name)
    assert (response.status_code, response.json()) == (403, {"user_exists": True})
    assert db_state() == before


@pytest.mark.parametrize(
    "email", ["shadow@example.com", "SHADOW@EXAMPLE.COM", "Shadow@Example.com"]
)
def test_v1_refuses_an_email_that_is_another_users_name(v1, shadow, refused, email):
    refused(
        lambda: v1.post("user/add", email=email, access_level="user"),
        409,
        "User (shadow@example.com) already exists.",
    )


def test_the_add_user_page_refuses_it_with_a_form_error(admin, shadow):
    staff = signed_in(admin, checked_now=True)
    response = staff.post(
        reverse("user_add"),
        {"email": "SHADOW@example.com", "access_level": "user", "send_welcome_mail": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "email": ["User (shadow@example.com) already exists."]
    }
    assert list(User.objects.order_by("pk").values_list("username", flat=True)) == [
        "admin",
        "Shadow@Example.com",
    ]


def test_the_django_admin_add_refuses_it(admin, shadow):
    staff = signed_in(admin, checked_now=True)
    url = reverse("admin:users_user_add")
    response = staff.post(url, {"email": "shadow@EXAMPLE.com", "access_level": "admin", "note": ""})
    assert (response.status_code, response.url) == (302, url)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "User (shadow@example.com) already exists."
    ]
    assert User.objects.count() == 2
    assert not AuditEntry.objects.filter(
        action_type="user_add", target_label="shadow@example.com"
    ).exists()


def test_a_user_name_equal_to_its_own_email_is_fine(v1):
    """v1 adds use the e-mail as the user name: that is one user, not two."""
    response = v1.post(
        "user/add", email="Solo@Example.com", access_level="user", send_welcome_mail="false"
    )
    assert response.status_code == 200
    assert User.objects.filter(username="solo@example.com", email="solo@example.com").count() == 1


# --- the audit log by id --------------------------------------------------------------------------


def test_audit_entries_keep_the_target_and_actor_ids(v1, admin, make_user):
    ann = make_user("ann@example.com")
    assert v1.post("user/note/add", email="ann@example.com", note="hello").status_code == 200
    entry = AuditEntry.objects.latest("id")
    assert (entry.action_type, entry.actor_id, entry.target_id, entry.target_label) == (
        "user_note_add",
        admin.pk,
        ann.pk,
        "ann@example.com",
    )


def test_a_users_page_shows_their_history_by_id_not_by_label(admin, make_user, system):
    """A user named like the admin's e-mail from before names were checked: their entries carry
    the same label, and must not show on the admin's page (nor the admin's on theirs)."""
    ann = make_user("ann@example.com")
    legacy = User.objects.create_user(
        username="admin@example.com", password=SHADOW_PASSWORD
    )  # no e-mail
    services.set_note(Actor(user=legacy), ann, "by the look-alike")
    services.set_note(Actor(user=admin), ann, "by the admin")
    services.set_summary_email(system, legacy, False)
    services.set_summary_email(system, admin, False)
    staff = signed_in(admin)

    def history(user: User) -> list[tuple[str, int | None, int | None]]:
        response = staff.get(reverse("user_detail", args=[user.pk]))
        assert response.status_code == 200
        return [
            (entry.action_type, entry.actor_id, entry.target_id)
            for entry in response.context["audit_entries"]
        ]

    assert history(admin) == [
        ("user_summary_email_disable", None, admin.pk),
        ("user_note_add", admin.pk, ann.pk),
    ]
    assert history(legacy) == [
        ("user_summary_email_disable", None, legacy.pk),
        ("user_note_add", legacy.pk, ann.pk),
    ]
    assert history(ann) == [
        ("user_note_add", admin.pk, ann.pk),
        ("user_note_add", legacy.pk, ann.pk),
        ("user_add", None, ann.pk),
    ]


def test_a_users_page_history_is_the_newest_ten_of_both_kinds(admin, make_user, system):
    ann = make_user("ann@example.com")
    for n in range(8):
        services.set_note(Actor(user=ann), admin, f"about the admin {n}")  # ann acts
        services.set_note(system, ann, f"about ann {n}")  # ann is the target
    ids = [entry.pk for entry in selectors.recent_audit_entries(ann)]
    assert AuditEntry.objects.count() == 17  # each about ann or by ann
    assert ids == list(AuditEntry.objects.order_by("-id").values_list("pk", flat=True)[:10])


# --- migration 0003 links existing entries to their users -----------------------------------------

BEFORE = [("users", "0002_page_indexes")]
AFTER = [("users", "0003_session_generation_audit_target")]


@LIVE_DB
def test_migration_links_existing_entries_unless_the_label_is_shared():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        OldUser, OldEntry = old.get_model("users", "User"), old.get_model("users", "AuditEntry")
        ann = OldUser.objects.create(username="ann@example.com", email="ann@example.com")
        bob = OldUser.objects.create(username="bob")  # no e-mail: the user name is the label
        OldUser.objects.create(username="carol@example.com", email="carol@example.com")
        OldUser.objects.create(username="x", email="shared@example.com")
        OldUser.objects.create(username="shared@example.com")  # a look-alike of x
        for label in ["ann@example.com", "bob", "shared@example.com", "gone@example.com", ""]:
            OldEntry.objects.create(action_type="user_add", message=label, target_label=label)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        links = dict(
            new.get_model("users", "AuditEntry").objects.values_list("message", "target_id")
        )
        assert links == {
            "ann@example.com": ann.pk,
            "bob": bob.pk,
            "shared@example.com": None,
            "gone@example.com": None,
            "": None,
        }
    finally:
        MigrationExecutor(connection).migrate(latest)
