"""Who may do what on the user pages: denials for users and visitors, own profile only, GET
refused, CSRF, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import assert_sent_to_login, signed_in

from flocks.models import Flock, FlockMembership
from users.models import AuditEntry, WebAuthnCredential

pytestmark = pytest.mark.django_db


ADMIN_ONLY_GET = ["user_list", "user_add", "audit_log", "org_settings"]
ADMIN_ONLY_USER_POST = [
    ("user_note", {"note": "pwned"}),
    ("user_access_level", {"access_level": "admin"}),
    ("user_active", {"active": "0"}),
    ("user_disable", {}),
    ("user_reset_password", {}),
    ("user_reset_totp", {}),
    ("user_reset_webauthn", {}),
    ("user_flocks_assign", {"flocks": ["flock:default"], "role": "manager"}),
    ("user_flocks_unassign", {"flocks": ["flock:default"]}),
    ("user_remove", {}),
]


@pytest.mark.parametrize("name", ADMIN_ONLY_GET)
def test_admin_pages_refuse_users_and_send_visitors_to_login(client, ann, name):
    url = reverse(name)
    assert signed_in(ann).get(url).status_code == 403
    assert_sent_to_login(client.get(url), url)


@pytest.mark.parametrize(("name", "data"), ADMIN_ONLY_USER_POST)
def test_forged_admin_actions_by_a_user_are_refused_and_change_nothing(
    client, ann, bob, name, data
):
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    FlockMembership.objects.create(user=bob, flock_id="flock:default", role="watcher")
    before = AuditEntry.objects.count()
    for target in (bob, ann):  # someone else, and themselves
        url = reverse(name, args=[target.pk])
        assert signed_in(ann).post(url, data).status_code == 403
        response = client.post(url, data)
        assert response.status_code == 302 and "next=" in response.url
    assert AuditEntry.objects.count() == before
    bob.refresh_from_db()
    assert bob.is_active and bob.note == "" and not bob.is_admin
    assert (
        TOTPDevice.objects.filter(user=bob).exists()
        and FlockMembership.objects.filter(user=bob).exists()
    )


def test_users_see_only_their_own_profile(ann, bob):
    client = signed_in(ann)
    response = client.get(reverse("user_detail", args=[ann.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Recent activity" not in body and "Remove user" not in body
    assert "night shift" not in body  # the note is the admins' own remark
    assert client.get(reverse("user_detail", args=[bob.pk])).status_code == 403
    assert client.get(reverse("user_detail", args=[99999])).status_code == 403
    assert (
        client.post(reverse("user_summary_email", args=[bob.pk]), {"enabled": "0"}).status_code
        == 403
    )
    assert client.post(reverse("token_create", args=[bob.pk])).status_code == 403
    assert client.post(reverse("token_revoke", args=[bob.pk])).status_code == 403
    bob.refresh_from_db()
    assert bob.summary_email_enabled


def test_actions_refuse_get(rechecked_admin, ann):
    assert rechecked_admin.get(reverse("user_active", args=[ann.pk])).status_code == 405
    assert rechecked_admin.get(reverse("user_flocks_assign", args=[ann.pk])).status_code == 405


def test_a_new_api_token_needs_a_recent_sign_in_check(admin_ann):
    ann = admin_ann
    url = reverse("token_create", args=[ann.pk])
    response = signed_in(ann).post(url)
    assert response.status_code == 302 and response.url == f"{reverse('reauth')}?next={url}"
    ann.refresh_from_db()
    assert not ann.api_token_hash


def test_forms_carry_csrf_tokens(ann, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("user_active", args=[ann.pk]), {"active": "0"}).status_code == 403
    ann.refresh_from_db()
    assert ann.is_active
    body = client.get(reverse("user_detail", args=[ann.pk])).content.decode()
    posts = body.count('<form method="post"')  # the flock search is a GET form: no token
    assert posts == body.count("csrfmiddlewaretoken") == body.count("<form") - 1


def test_profile_costs_the_same_queries_however_many_flocks_and_keys(
    rechecked_admin, ann, django_assert_num_queries
):
    url = reverse("user_detail", args=[ann.pk])
    with CaptureQueriesContext(connection) as bare:
        rechecked_admin.get(url)
    for n in range(5):
        FlockMembership.objects.create(
            user=ann, flock=Flock.objects.create(name=f"F{n}"), role="watcher"
        )
        WebAuthnCredential.objects.create(
            user=ann, name=f"Key {n}", credential_id=f"k{n}", public_key=b"x"
        )
    with django_assert_num_queries(len(bare)):
        body = rechecked_admin.get(url).content.decode()
    assert "F4" in body and "Key 4" in body
