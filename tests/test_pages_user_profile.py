"""A user's page and every action on it: notes, access level, disable, resets, flocks, removal, API
tokens."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import signed_in

from flocks.models import Flock, FlockMembership
from users import services
from users.models import AuditEntry, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


def test_profile_shows_everything_to_admins(rechecked_admin, ann, system):
    services.set_note(system, ann, "night shift")  # an entry for "Recent activity"
    WebAuthnCredential.objects.create(
        user=ann, name="Blue YubiKey", credential_id="k1", public_key=b"x"
    )
    flock = Flock.objects.create(name="Cape Town")
    FlockMembership.objects.create(user=ann, flock=flock, role="manager")
    response = rechecked_admin.get(reverse("user_detail", args=[ann.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "night shift",
        "Blue YubiKey",
        "Cape Town",
        "manager",
        "Recent activity",
        f"Set the note of {ann.label}",
    ):
        assert text in body


def test_note_edit_and_remove(rechecked_admin, ann):
    url = reverse("user_note", args=[ann.pk])
    assert rechecked_admin.post(url, {"note": "day shift"}).status_code == 302
    ann.refresh_from_db()
    assert ann.note == "day shift"
    rechecked_admin.post(url, {"remove": "1"})
    ann.refresh_from_db()
    assert ann.note == ""
    assert list(
        AuditEntry.objects.filter(target_label=ann.label).values_list("action_type", flat=True)[:2]
    ) == [
        "user_note_remove",
        "user_note_add",
    ]


def test_note_with_nul_is_refused_next_to_the_field(rechecked_admin, ann):
    response = rechecked_admin.post(reverse("user_note", args=[ann.pk]), {"note": "a\x00b"})
    assert response.status_code == 400
    assert response.context["note_form"].errors["note"]
    ann.refresh_from_db()
    assert ann.note == "night shift"


def test_access_level_and_the_last_admin(rechecked_admin, admin, ann):
    rechecked_admin.post(reverse("user_access_level", args=[ann.pk]), {"access_level": "admin"})
    ann.refresh_from_db()
    assert ann.is_admin
    rechecked_admin.post(reverse("user_access_level", args=[ann.pk]), {"access_level": "user"})
    response = rechecked_admin.post(
        reverse("user_access_level", args=[admin.pk]), {"access_level": "user"}, follow=True
    )
    assert "Cannot demote the last active admin." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_admin
    response = rechecked_admin.post(
        reverse("user_access_level", args=[ann.pk]), {"access_level": "root"}
    )
    assert response.status_code == 400 and response.context["access_form"].errors["access_level"]


def test_disable_and_enable(rechecked_admin, admin, ann):
    url = reverse("user_active", args=[ann.pk])
    rechecked_admin.post(url, {"active": "0"})
    ann.refresh_from_db()
    assert not ann.is_active
    rechecked_admin.post(url, {"active": "1"})
    ann.refresh_from_db()
    assert ann.is_active
    response = rechecked_admin.post(
        reverse("user_active", args=[admin.pk]), {"active": "0"}, follow=True
    )  # the last active admin, and yourself: refused before the rule is asked
    assert "You cannot disable your own account" in response.content.decode()


@pytest.mark.parametrize("name", ["user_active", "user_summary_email"])
def test_malformed_switches_are_400_and_change_nothing(rechecked_admin, ann, name):
    before = AuditEntry.objects.count()
    for data in ({}, {"active": "yes", "enabled": "off"}):
        response = rechecked_admin.post(reverse(name, args=[ann.pk]), data)
        assert response.status_code == 400 and b"Bad request" in response.content
    ann.refresh_from_db()
    assert ann.is_active and ann.summary_email_enabled and AuditEntry.objects.count() == before


def test_reset_password_sends_mail(rechecked_admin, ann, sent_mail):
    response = rechecked_admin.post(reverse("user_reset_password", args=[ann.pk]), follow=True)
    assert "Queued a password reset mail to ann@example.com." in response.content.decode()
    sent = sent_mail()
    assert sent[0].to == ["ann@example.com"] and "/accounts/reset/" in sent[0].body


def test_reset_totp_confirms_first(rechecked_admin, ann):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    url = reverse("user_reset_totp", args=[ann.pk])
    response = rechecked_admin.get(url)
    assert response.status_code == 200
    assert b"Reset the authenticator app of ann@example.com?" in response.content
    assert TOTPDevice.objects.filter(user=ann).exists()
    rechecked_admin.post(url)
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert AuditEntry.objects.filter(
        action_type="user_2fa_disable", target_label=ann.label
    ).exists()


def test_reset_webauthn_lists_keys_by_name(rechecked_admin, ann):
    WebAuthnCredential.objects.create(
        user=ann, name="Blue YubiKey", credential_id="k1", public_key=b"x"
    )
    WebAuthnCredential.objects.create(user=ann, name="Laptop", credential_id="k2", public_key=b"x")
    url = reverse("user_reset_webauthn", args=[ann.pk])
    body = rechecked_admin.get(url).content.decode()
    assert "Blue YubiKey" in body and "Laptop" in body
    response = rechecked_admin.post(url, follow=True)
    assert "2 keys removed" in response.content.decode()
    assert not WebAuthnCredential.objects.filter(user=ann).exists()


def test_summary_email_toggle(rechecked_admin, ann):
    rechecked_admin.post(reverse("user_summary_email", args=[ann.pk]), {"enabled": "0"})
    ann.refresh_from_db()
    assert not ann.summary_email_enabled
    signed_in(ann).post(reverse("user_summary_email", args=[ann.pk]), {"enabled": "1"})
    ann.refresh_from_db()
    assert ann.summary_email_enabled


def test_assign_and_unassign_several_flocks(rechecked_admin, ann):
    north, south = Flock.objects.create(name="North"), Flock.objects.create(name="South")
    response = rechecked_admin.post(
        reverse("user_flocks_assign", args=[ann.pk]),
        {"flocks": [north.flock_id, south.flock_id], "role": "watcher"},
    )
    assert response.status_code == 302
    assert set(FlockMembership.objects.filter(user=ann).values_list("flock__name", "role")) == {
        ("North", "watcher"),
        ("South", "watcher"),
    }
    rechecked_admin.post(
        reverse("user_flocks_assign", args=[ann.pk]),
        {"flocks": [north.flock_id], "role": "manager"},
    )
    rechecked_admin.post(
        reverse("user_flocks_unassign", args=[ann.pk]), {"flocks": [north.flock_id, south.flock_id]}
    )
    assert not FlockMembership.objects.filter(user=ann).exists()
    assert AuditEntry.objects.filter(action_type="user_unassign_from_flock").count() == 2


def test_assign_to_unknown_flock_changes_nothing(rechecked_admin, ann):
    north = Flock.objects.create(name="North")
    response = rechecked_admin.post(
        reverse("user_flocks_assign", args=[ann.pk]),
        {"flocks": [north.flock_id, "flock:nope"], "role": "watcher"},
    )
    assert response.status_code == 400
    assert response.context["assign_form"].errors["flocks"]
    assert not FlockMembership.objects.filter(user=ann).exists()


@pytest.mark.parametrize("name", ["user_reset_totp", "user_reset_webauthn", "user_remove"])
def test_taking_access_away_needs_a_recent_sign_in_check(admin, ann, name):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    url = reverse(name, args=[ann.pk])
    client = signed_in(admin)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302 and response.url == f"{reverse('reauth')}?next={url}"
    assert User.objects.filter(pk=ann.pk).exists() and TOTPDevice.objects.filter(user=ann).exists()


def test_remove_user_after_confirmation(rechecked_admin, admin, ann):
    url = reverse("user_remove", args=[ann.pk])
    assert b"Remove user" in rechecked_admin.get(url).content
    assert User.objects.filter(pk=ann.pk).exists()
    response = rechecked_admin.post(url)
    assert response.url == reverse("user_list")
    assert not User.objects.filter(pk=ann.pk).exists()
    response = rechecked_admin.post(reverse("user_remove", args=[admin.pk]), follow=True)
    assert "You cannot remove your own account" in response.content.decode()


def test_api_token_create_shown_once_and_revoke(admin_ann):
    ann = admin_ann
    client = signed_in(ann, checked_now=True)
    assert b"Create an API token?" in client.get(reverse("token_create", args=[ann.pk])).content
    response = client.post(reverse("token_create", args=[ann.pk]))
    assert response.status_code == 200
    token = response.context["token"]
    ann.refresh_from_db()
    assert token not in ann.api_token_hash and ann.api_token_hash.startswith("$2")
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    profile = client.get(reverse("user_detail", args=[ann.pk])).content.decode()
    assert token not in profile and "Last used" in profile
    client.post(reverse("token_revoke", args=[ann.pk]))
    ann.refresh_from_db()
    assert ann.api_token_index is None


def test_plain_users_are_not_offered_a_token_no_endpoint_takes(ann):
    """Every API endpoint takes an admin's token or an API key: a plain user gets neither the
    button nor the page, and is pointed to API keys."""
    client = signed_in(ann, checked_now=True)
    profile = client.get(reverse("user_detail", args=[ann.pk])).content.decode()
    assert "Create API token" not in profile and "ask an admin for an API key" in profile
    assert client.post(reverse("token_create", args=[ann.pk])).status_code == 403
    ann.refresh_from_db()
    assert not ann.api_token_hash


def test_admins_see_and_revoke_tokens_but_cannot_create_them_for_others(
    rechecked_admin, admin, ann, system
):
    services.issue_api_token(system, ann)
    assert b"Revoke token" in rechecked_admin.get(reverse("user_detail", args=[ann.pk])).content
    assert (
        signed_in(admin, checked_now=True).post(reverse("token_create", args=[ann.pk])).status_code
        == 403
    )
    rechecked_admin.post(reverse("token_revoke", args=[ann.pk]))
    ann.refresh_from_db()
    assert not ann.api_token_hash
