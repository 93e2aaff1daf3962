"""The flock pages: admins manage every flock, managers their own, watchers only look."""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import assert_sent_to_login, db_state, request_overhead, signed_in

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership
from users.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def flock(db):
    return Flock.objects.create(name="Cape Town", note="coastal")


@pytest.fixture
def manager(make_user, flock):
    user = make_user("manager@example.com")
    FlockMembership.objects.create(user=user, flock=flock, role="manager")
    return user


@pytest.fixture
def watcher(make_user, flock):
    user = make_user("watcher@example.com")
    FlockMembership.objects.create(user=user, flock=flock, role="watcher")
    return user


@pytest.fixture
def outsider(make_user):
    return make_user("outsider@example.com")


def roles(flock):
    return dict(FlockMembership.objects.filter(flock=flock).values_list("user__email", "role"))


def test_admin_lists_flocks_with_member_counts(admin, flock, manager, watcher):
    response = signed_in(admin).get(reverse("flock_list"))
    assert response.status_code == 200
    counts = {f.name: (f.manager_count, f.watcher_count) for f in response.context["page"]}
    assert counts == {"Cape Town": (1, 1), Flock.objects.get(pk=DEFAULT_FLOCK_ID).name: (0, 0)}


def test_flock_list_searches_and_paginates(admin, django_assert_num_queries):
    Flock.objects.bulk_create([Flock(name=f"Site {n:03}") for n in range(60)])
    client = signed_in(admin)
    response = client.get(reverse("flock_list"), {"q": "site"})
    assert len(response.context["page"]) == 50 and response.context["page"].paginator.count == 60
    with django_assert_num_queries(request_overhead(client) + 2):  # count, page with member counts
        second = client.get(reverse("flock_list"), {"q": "site", "page": 2})
    assert [f.name for f in second.context["page"]][-1] == "Site 059"
    assert "q=site&amp;page=1" in second.content.decode()


def test_users_list_only_their_flocks(watcher, outsider, flock):
    response = signed_in(watcher).get(reverse("flock_list"))
    assert [(f.name, f.my_role) for f in response.context["page"]] == [("Cape Town", "watcher")]
    assert list(signed_in(outsider).get(reverse("flock_list")).context["page"]) == []


def test_admin_creates_renames_notes_and_deletes(admin):
    client = signed_in(admin)
    response = client.post(reverse("flock_add"), {"name": " Lagos ", "note": "west"})
    flock = Flock.objects.get(name="Lagos")
    assert response.url == reverse("flock_detail", args=[flock.flock_id]) and flock.note == "west"
    client.post(reverse("flock_rename", args=[flock.flock_id]), {"name": "Lagos HQ"})
    client.post(reverse("flock_note", args=[flock.flock_id]), {"note": "new note"})
    flock.refresh_from_db()
    assert (flock.name, flock.note) == ("Lagos HQ", "new note")
    client.post(reverse("flock_note", args=[flock.flock_id]), {"remove": "1"})
    flock.refresh_from_db()
    assert flock.note == ""
    assert b"Delete flock" in client.get(reverse("flock_delete", args=[flock.flock_id])).content
    assert client.post(reverse("flock_delete", args=[flock.flock_id])).url == reverse("flock_list")
    assert not Flock.objects.filter(pk=flock.pk).exists()
    actions = list(
        AuditEntry.objects.filter(flock_id=flock.flock_id).values_list("action_type", flat=True)
    )
    assert actions == [
        "flock_delete",
        "flock_note_remove",
        "flock_note_add",
        "flock_rename",
        "flock_create",
    ]


def test_bad_names_are_shown_next_to_the_field(admin, flock):
    client = signed_in(admin)
    response = client.post(reverse("flock_add"), {"name": "   "})
    assert response.status_code == 400 and response.context["form"].errors["name"] == [
        "Flock name cannot be empty."
    ]
    response = client.post(reverse("flock_rename", args=[flock.flock_id]), {"name": "x" * 101})
    assert response.status_code == 400 and response.context["rename_form"].errors["name"]
    flock.refresh_from_db()
    assert flock.name == "Cape Town"


def test_taken_names_are_refused_next_to_the_field(admin, flock):
    other = Flock.objects.create(name="Durban")
    client = signed_in(admin)
    before = db_state()
    response = client.post(reverse("flock_add"), {"name": "cape TOWN", "note": "again"})
    assert response.status_code == 400 and response.context["form"].errors["name"] == [
        "A flock named Cape Town already exists."
    ]
    assert "A flock named Cape Town already exists." in response.content.decode()
    response = client.post(reverse("flock_rename", args=[other.flock_id]), {"name": "Cape Town"})
    assert response.status_code == 400 and response.context["rename_form"].errors["name"] == [
        "A flock named Cape Town already exists."
    ]
    assert db_state() == before


def test_default_flock_cannot_be_deleted(admin):
    client = signed_in(admin)
    page = client.get(reverse("flock_delete", args=[DEFAULT_FLOCK_ID])).content.decode()
    assert "The default flock cannot be deleted." in page and "Delete flock</button>" not in page
    response = client.post(reverse("flock_delete", args=[DEFAULT_FLOCK_ID]), follow=True)
    assert "Cannot delete default flock" in response.content.decode()
    assert Flock.objects.filter(pk=DEFAULT_FLOCK_ID).exists()


def test_admin_adds_changes_and_removes_members(admin, flock, watcher, outsider):
    client = signed_in(admin)
    url = reverse("flock_member_add", args=[flock.flock_id])
    client.post(url, {"email": "OUTSIDER@example.com", "role": "manager"})
    client.post(url, {"email": "watcher@example.com", "role": "manager"})
    assert roles(flock) == {"outsider@example.com": "manager", "watcher@example.com": "manager"}
    client.post(reverse("flock_member_remove", args=[flock.flock_id, outsider.pk]))
    assert roles(flock) == {"watcher@example.com": "manager"}
    response = client.post(url, {"email": "nobody@example.com", "role": "watcher"})
    assert response.status_code == 400
    assert response.context["member_form"].errors["__all__"] == [
        "User (nobody@example.com) does not exist."
    ]


def test_flock_page_shows_managers_and_watchers(admin, flock, manager, watcher):
    body = signed_in(admin).get(reverse("flock_detail", args=[flock.flock_id])).content.decode()
    assert (
        "manager@example.com" in body and "watcher@example.com" in body and "Add a member" in body
    )


def test_manager_renames_notes_and_manages_watchers(manager, watcher, outsider, flock):
    client = signed_in(manager)
    page = client.get(reverse("flock_detail", args=[flock.flock_id]))
    assert page.status_code == 200 and "role" not in page.context["member_form"].fields
    client.post(reverse("flock_rename", args=[flock.flock_id]), {"name": "Cape Town North"})
    client.post(reverse("flock_note", args=[flock.flock_id]), {"note": "by the manager"})
    client.post(
        reverse("flock_member_add", args=[flock.flock_id]),
        {"email": "outsider@example.com", "role": "manager"},
    )
    client.post(reverse("flock_member_remove", args=[flock.flock_id, watcher.pk]))
    flock.refresh_from_db()
    assert (flock.name, flock.note) == ("Cape Town North", "by the manager")
    assert roles(flock) == {"manager@example.com": "manager", "outsider@example.com": "watcher"}


def test_manager_cannot_touch_managers_or_delete(manager, make_user, flock):
    other = make_user("other@example.com")
    FlockMembership.objects.create(user=other, flock=flock, role="manager")
    client = signed_in(manager)
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("flock_member_add", args=[flock.flock_id]), {"email": "other@example.com"}
    )
    assert response.status_code == 400
    assert response.context["member_form"].errors["email"] == [
        "other@example.com is a manager of this flock."
    ]
    assert (
        client.post(reverse("flock_member_remove", args=[flock.flock_id, other.pk])).status_code
        == 403
    )
    assert client.post(reverse("flock_delete", args=[flock.flock_id])).status_code == 403
    assert client.post(reverse("flock_add"), {"name": "mine"}).status_code == 403
    assert roles(flock) == {"manager@example.com": "manager", "other@example.com": "manager"}
    assert AuditEntry.objects.count() == before


FLOCK_POSTS = [
    ("flock_rename", {"name": "hacked"}),
    ("flock_note", {"note": "hacked"}),
    ("flock_note", {"remove": "1"}),
    ("flock_member_add", {"email": "outsider@example.com", "role": "manager"}),
    ("flock_delete", {}),
]


@pytest.mark.parametrize(("name", "data"), FLOCK_POSTS)
def test_forged_posts_by_watchers_outsiders_and_visitors_change_nothing(
    client, watcher, outsider, manager, flock, name, data
):
    before = AuditEntry.objects.count()
    url = reverse(name, args=[flock.flock_id])
    assert signed_in(watcher).post(url, data).status_code == 403
    assert signed_in(outsider).post(url, data).status_code == 403
    assert_sent_to_login(client.post(url, data), url)
    flock.refresh_from_db()
    assert (flock.name, flock.note) == ("Cape Town", "coastal")
    assert roles(flock) == {"manager@example.com": "manager", "watcher@example.com": "watcher"}
    assert AuditEntry.objects.count() == before


def test_watcher_cannot_remove_members(watcher, manager, flock):
    client = signed_in(watcher)
    for member in (watcher, manager):
        url = reverse("flock_member_remove", args=[flock.flock_id, member.pk])
        assert client.post(url).status_code == 403
    assert len(roles(flock)) == 2


def test_watcher_sees_the_flock_read_only(watcher, manager, flock):
    response = signed_in(watcher).get(reverse("flock_detail", args=[flock.flock_id]))
    body = response.content.decode()
    assert (response.status_code == 200 and "read-only" not in body) or "not change it" in body
    assert "<form" not in body.split('id="content"')[1]
    assert "manager@example.com" in body
    assert reverse("user_detail", args=[manager.pk]) not in body  # member names, not their profiles


def test_outsiders_and_visitors_cannot_see_a_flock(client, outsider, flock):
    url = reverse("flock_detail", args=[flock.flock_id])
    assert signed_in(outsider).get(url).status_code == 403
    assert_sent_to_login(client.get(url), url)
    assert_sent_to_login(client.get(reverse("flock_list")), reverse("flock_list"))
    assert signed_in(outsider).get(reverse("flock_add")).status_code == 403
    assert (
        signed_in(outsider).get(reverse("flock_detail", args=["flock:" + "0" * 32])).status_code
        == 404
    )
