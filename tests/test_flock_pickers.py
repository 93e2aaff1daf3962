"""Flocks at scale: the profile's "Assign to flocks" is a search (matches as choices, without
JavaScript) and a JSON search for the picker, limited, checked and constant in queries at 1,000
flocks; choosing a role a member already has says it changes it."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from helpers import assert_sent_to_login, request_overhead, signed_in

from flocks import services as flock_services
from flocks.models import Flock, FlockMembership
from flocks.selectors import PICKER_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_flocks(db) -> list[Flock]:
    """1,000 flocks, as in the README's scale (Site 0000 … Site 0999)."""
    return Flock.objects.bulk_create([Flock(name=f"Site {n:04}") for n in range(1000)])


def choices(body: str) -> int:
    return body.count('type="checkbox" name="flocks"')


def test_profile_costs_the_same_at_1000_flocks_and_lists_none_of_them(
    rechecked_admin, ann, django_assert_num_queries
):
    north = Flock.objects.create(name="North")
    FlockMembership.objects.create(user=ann, flock=north, role="manager")
    url = reverse("user_detail", args=[ann.pk])
    queries = request_overhead(rechecked_admin) + 10  # with the org switch (2FA required)
    with django_assert_num_queries(queries):
        small = rechecked_admin.get(url).content.decode()
    Flock.objects.bulk_create([Flock(name=f"Site {n:04}") for n in range(1000)])
    with django_assert_num_queries(queries):
        large = rechecked_admin.get(url).content.decode()
    assert choices(large) == choices(small) == 1  # the unassign box of North; no flock listed
    assert "Site 0" not in large and len(large) < len(small) + 200
    with django_assert_num_queries(queries + 1):  # the search: one limited query
        found = rechecked_admin.get(url, {"flock_q": "site 09"}).content.decode()
    assert choices(found) == 1 + PICKER_LIMIT and "Site 0900" in found and "Site 0919" in found
    assert "Site 0920" not in found and "type more of the name to narrow them" in found


def test_the_search_form_lists_matches_as_choices_with_the_role_they_have(rechecked_admin, ann):
    north, south = Flock.objects.create(name="North"), Flock.objects.create(name="Northwest")
    FlockMembership.objects.create(user=ann, flock=north, role="manager")
    body = rechecked_admin.get(
        reverse("user_detail", args=[ann.pk]), {"flock_q": "north"}
    ).content.decode()
    assert f'value="{north.flock_id}" data-role="manager" data-label="North"> North' in body
    assert "manager now" in body
    assert f'value="{south.flock_id}" data-role="" data-label="Northwest"> Northwest' in body
    assert '<details class="subform" id="assign" open>' in body
    assert "For a flock they already have, this changes their role." in body
    empty = rechecked_admin.get(reverse("user_detail", args=[ann.pk]), {"flock_q": "zzz"})
    assert "No flock matches “zzz”." in empty.content.decode()


def test_assigning_another_role_says_it_changes_it(rechecked_admin, ann):
    north, south = Flock.objects.create(name="North"), Flock.objects.create(name="South")
    FlockMembership.objects.create(user=ann, flock=north, role="manager")
    response = rechecked_admin.post(
        reverse("user_flocks_assign", args=[ann.pk]),
        {"flocks": [north.flock_id, south.flock_id], "role": "watcher"},
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Assigned ann@example.com as watcher to North, South. "
        "This changed their role in North (was manager)."
    ]
    assert set(FlockMembership.objects.filter(user=ann).values_list("flock__name", "role")) == {
        ("North", "watcher"),
        ("South", "watcher"),
    }


def test_flock_search_json_is_limited_and_says_the_role(
    admin, ann, many_flocks, django_assert_num_queries
):
    FlockMembership.objects.create(user=ann, flock=many_flocks[3], role="watcher")
    client = signed_in(admin)
    url = reverse("flock_search")
    with django_assert_num_queries(request_overhead(client) + 2):  # ann; the flocks
        body = client.get(url, {"q": "site 000", "user": ann.pk}).json()
    assert body == {
        "results": [
            {"id": f.flock_id, "label": f.name, "role": "watcher" if n == 3 else None}
            for n, f in enumerate(many_flocks[:10])
        ],
        "more": False,
    }
    with django_assert_num_queries(request_overhead(client) + 1):
        body = client.get(url, {"q": "SITE"}).json()
    assert len(body["results"]) == PICKER_LIMIT and body["more"] is True
    assert body["results"][0] == {"id": many_flocks[0].flock_id, "label": "Site 0000", "role": None}


def test_flock_search_shows_a_user_only_their_own_flocks(ann, many_flocks):
    FlockMembership.objects.create(user=ann, flock=many_flocks[5], role="manager")
    client = signed_in(ann)
    body = client.get(reverse("flock_search"), {"q": "site", "user": ann.pk}).json()
    assert body == {  # and ``user`` (whose role) is for admins only
        "results": [{"id": many_flocks[5].flock_id, "label": "Site 0005", "role": None}],
        "more": False,
    }


def test_flock_search_refusals(client, admin):
    url = reverse("flock_search")
    assert_sent_to_login(client.get(url), url)
    admin_client = signed_in(admin)
    assert admin_client.get(url, {"user": "9" * 19}).status_code == 400
    assert admin_client.get(url, {"user": "x"}).status_code == 400
    assert admin_client.get(url, {"user": "999"}).status_code == 404
    assert admin_client.post(url).status_code == 405


def test_audit_filter_takes_a_flock_name_in_any_case_or_an_id(admin, system, many_flocks):
    flock = flock_services.create_flock(system, "Cape Town")
    client = signed_in(admin)
    for value in ("cape TOWN", flock.flock_id):
        response = client.get(reverse("audit_log"), {"flock": value})
        assert [e.message for e in response.context["page"].items] == ["Created flock Cape Town"]
    body = response.content.decode()
    assert "Site 0001" not in body and 'data-picker="/flocks/search.json"' in body


def test_an_unknown_flock_name_suggests_the_flocks_that_have_it(admin, many_flocks):
    response = signed_in(admin).get(reverse("audit_log"), {"flock": "site 00", "q": "x"})
    assert response.status_code == 400
    assert response.context["form"].errors["flock"] == ["No flock is named “site 00”."]
    body = response.content.decode()
    assert "Flocks whose name has “site 00”" in body
    assert '<a href="?flock=Site+0000&amp;q=x">Site 0000</a>' in body and "Site 0009" in body
    assert "Site 0010" not in body  # ten suggestions at most
