"""A flock's manager adds watchers with a picker of the people who share a flock with them, or by
an exact e-mail, and the answer then says nothing of whether the address has an account."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from helpers import request_overhead, signed_in

from flocks.models import Flock, FlockMembership
from flocks.selectors import PICKER_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def flock(db) -> Flock:
    return Flock.objects.create(name="Cape Town")


@pytest.fixture
def other_flock(db) -> Flock:
    return Flock.objects.create(name="Durban")


@pytest.fixture
def manager(make_user, flock, other_flock):
    """Manager of Cape Town, watcher of Durban."""
    user = make_user("manager@example.com")
    FlockMembership.objects.create(user=user, flock=flock, role="manager")
    FlockMembership.objects.create(user=user, flock=other_flock, role="watcher")
    return user


@pytest.fixture
def colleague(make_user, other_flock):
    """Shares Durban with the manager, not Cape Town."""
    user = make_user("colleague@example.com")
    FlockMembership.objects.create(user=user, flock=other_flock, role="manager")
    return user


@pytest.fixture
def stranger(make_user):
    return make_user("stranger@example.com")


def people(client, flock, q: str = "") -> dict:
    return client.get(reverse("flock_people", args=[flock.flock_id]), {"q": q}).json()


def answer(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_manager_picks_from_people_sharing_a_flock_only(
    manager, colleague, stranger, flock, django_assert_num_queries
):
    client = signed_in(manager)
    with django_assert_num_queries(request_overhead(client) + 3):  # the flock; their role; people
        body = people(client, flock)
    assert body == {
        "results": [
            {"id": "colleague@example.com", "label": "colleague@example.com", "role": None},
            {"id": "manager@example.com", "label": "manager@example.com", "role": "manager"},
        ],
        "more": False,
    }
    assert people(client, flock, "stranger") == {"results": [], "more": False}
    page = client.get(reverse("flock_detail", args=[flock.flock_id]), {"people_q": "example"})
    body = page.content.decode()
    assert "colleague@example.com" in body and "stranger@example.com" not in body
    assert "Find people from your flocks" in body


def test_watchers_and_outsiders_get_no_people(manager, colleague, stranger, other_flock, flock):
    url = reverse("flock_people", args=[other_flock.flock_id])
    assert signed_in(manager).get(url).status_code == 403  # a watcher of Durban
    assert (
        signed_in(stranger).get(reverse("flock_people", args=[flock.flock_id])).status_code == 403
    )


def test_admins_pick_from_everyone_limited(admin, make_user, flock):
    for n in range(PICKER_LIMIT + 1):
        make_user(f"user{n:02}@example.com")
    body = people(signed_in(admin), flock, "user")
    assert len(body["results"]) == PICKER_LIMIT and body["more"] is True
    assert body["results"][0] == {
        "id": "user00@example.com",
        "label": "user00@example.com",
        "role": None,
    }


def test_a_picked_colleague_is_named_in_the_answer(manager, colleague, flock):
    response = signed_in(manager).post(
        reverse("flock_member_add", args=[flock.flock_id]), {"email": "Colleague@example.com"}
    )
    assert response.status_code == 302
    assert answer(response) == ["colleague@example.com is now a watcher of Cape Town."]
    assert FlockMembership.objects.get(user=colleague, flock=flock).role == "watcher"


def test_a_typed_address_gets_one_answer_whether_or_not_it_has_an_account(manager, stranger, flock):
    url = reverse("flock_member_add", args=[flock.flock_id])
    replies = {}
    for email in ("stranger@example.com", "nobody@example.com"):
        response = signed_in(manager).post(url, {"email": email})
        replies[email] = (
            response.status_code,
            response.url,
            [m.replace(email, "<e-mail>") for m in answer(response)],
        )
    assert (
        replies["stranger@example.com"]
        == replies["nobody@example.com"]
        == (
            302,
            reverse("flock_detail", args=[flock.flock_id]),
            ["If <e-mail> has an account here, it is now a watcher of Cape Town."],
        )
    )
    assert FlockMembership.objects.get(user=stranger, flock=flock).role == "watcher"
    bad = signed_in(manager).post(url, {"email": "not-an-address"})
    assert bad.status_code == 400
    assert bad.context["member_form"].errors == {
        "email": ["Invalid email address in email: 'not-an-address'"]
    }


def test_admins_keep_the_clear_answer(admin, flock, stranger):
    client = signed_in(admin)
    url = reverse("flock_member_add", args=[flock.flock_id])
    response = client.post(url, {"email": "nobody@example.com", "role": "watcher"})
    assert response.status_code == 400
    assert response.context["member_form"].errors == {
        "__all__": ["User (nobody@example.com) does not exist."]
    }
    response = client.post(url, {"email": "stranger@example.com", "role": "manager"})
    assert answer(response) == ["stranger@example.com is now a manager of Cape Town."]
    response = signed_in(admin).post(url, {"email": "stranger@example.com", "role": "watcher"})
    assert answer(response) == [
        "stranger@example.com is now a watcher of Cape Town (their role changed: was manager)."
    ]
