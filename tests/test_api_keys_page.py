"""The API keys page: admins only, after a recent check; the key shown once; removal confirmed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from helpers import signed_in

from flocks import api_keys
from flocks import services as flock_services
from flocks.models import ApiKey
from users.audit import Actor
from users.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_only_admins_open_it(make_user):
    ann = make_user("ann@example.com")
    assert signed_in(ann, checked_now=True).get(reverse("api_keys")).status_code == 403


def test_it_needs_a_recent_check(admin):
    url = reverse("api_keys")
    response = signed_in(admin).post(url, {"role": "admin", "note": "x"})
    assert response.status_code == 302 and response.url == f"{reverse('reauth')}?next={url}"
    assert not ApiKey.objects.exists()


def test_create_shows_the_key_once_and_lists_it(admin):
    client = signed_in(admin, checked_now=True)
    response = client.post(reverse("api_keys"), {"role": "analyst", "note": "SIEM", "expires": ""})
    body = response.content.decode()
    key = ApiKey.objects.get()
    token = re.search(r'id="token" type="text" class="secret-input" value="([^"]+)"', body)[1]
    assert api_keys.find_key(token=token) == key and key.role == "analyst"
    assert 'data-copy="token"' in body and "<script>" not in body
    listed = client.get(reverse("api_keys")).content.decode()
    assert key.key_id in listed and "SIEM" in listed and token not in listed


def test_refused_expiry_is_shown_on_the_form(admin):
    client = signed_in(admin, checked_now=True)
    response = client.post(
        reverse("api_keys"), {"role": "admin", "note": "x", "expires": "2000-01-01"}
    )
    assert response.status_code == 200
    assert "expires must be a day after today (UTC)" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_remove_asks_then_removes(admin):
    key, _ = api_keys.add_key(Actor.system("tests"), role="admin", note="old")
    url = reverse("api_key_remove", args=[key.key_id])
    # re-auth first
    assert signed_in(admin).post(url).status_code == 302 and ApiKey.objects.exists()
    client = signed_in(admin, checked_now=True)
    assert f"Remove API key {key.key_id} (old)?" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("api_keys")
    assert not ApiKey.objects.exists()
    assert AuditEntry.objects.get(action_type="api_key_remove").actor == admin


def test_a_flocks_keys_on_its_own_page(admin, flock):
    client = signed_in(admin, checked_now=True)
    assert (
        reverse("flock_api_keys", args=[flock.flock_id])
        in client.get(reverse("flock_detail", args=[flock.flock_id])).content.decode()
    )
    url = reverse("flock_api_keys", args=[flock.flock_id])
    response = client.post(url, {"role": "read-only", "note": "site"})
    key = ApiKey.objects.get()
    assert key.flock == flock and key.role == "read-only"
    assert f'href="{url}"' in response.content.decode()  # "Done" goes back to the flock's keys
    assert key.key_id in client.get(url).content.decode()
    assert key.key_id not in client.get(reverse("api_keys")).content.decode()
    response = client.post(reverse("api_key_remove", args=[key.key_id]))
    assert (response.status_code, response.url) == (302, url)
    assert not ApiKey.objects.exists()


def test_flock_members_do_not_see_its_keys(make_user, flock, system):
    ann = make_user("ann@example.com")
    flock_services.assign_user(system, ann, [flock], "manager")
    url = reverse("flock_api_keys", args=[flock.flock_id])
    assert signed_in(ann, checked_now=True).get(url).status_code == 403
